"""`meav annotate serve | push | report`: three-annotator review in Argilla, with agreement."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import typer

from meav.errors import MeavError

app = typer.Typer(no_args_is_help=True, help="Three-annotator review in Argilla, with agreement.")


def _interrupt(*_) -> None:
    raise KeyboardInterrupt


@app.command("serve")
def serve(
    port: int = typer.Option(6900, help="Port of the Argilla server (127.0.0.1)."),
    data_dir: Path = typer.Option(
        Path.home() / ".local" / "share" / "meav" / "argilla",
        help="Database, logs, owner credentials (0600); kept across restarts.",
    ),
    redis_url: str = typer.Option(None, help="Use this Redis instead of starting a local redis-server."),
) -> None:
    """Run a local argilla-server 2.8.0 (web UI included) with our SQL search engine, until Ctrl-C."""
    from annotation.serve import LocalArgilla

    server = LocalArgilla(data_dir, port=port, redis_url=redis_url)
    # Both set explicitly: a process started in the background of a non-interactive shell inherits SIGINT
    # ignored, and Python then installs no Ctrl-C handler of its own.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    try:
        server.start()
        print(f"Argilla: {server.url}", flush=True)
        print(f"owner credentials (username, password, api_key; mode 0600): {server.credentials}", flush=True)
        print("Ctrl-C stops it.", flush=True)
        while server.alive():
            time.sleep(0.5)
        raise MeavError(f"a server process stopped; see {server.data_dir / 'logs'}")
    except KeyboardInterrupt:
        print("stopping", flush=True)
    finally:
        server.stop()


def _annotators(value: str) -> list[str]:
    names = [a.strip() for a in value.split(",") if a.strip()]
    if len(names) < 2:
        raise MeavError(f"--annotators: need at least 2 annotators to measure agreement, got {len(names)}")
    return names


@app.command("push")
def push(
    corpus_dir: Path = typer.Argument(..., help="Corpus folder (Hub layout); its test split is annotated."),
    url: str = typer.Option(..., help="Argilla server URL."),
    api_key: str = typer.Option(..., envvar="ARGILLA_API_KEY", help="Owner API key."),
    annotators: str = typer.Option(..., help="Comma-separated annotator usernames (at least 2)."),
    queries_per_annotator: int = typer.Option(30, help="Queries per annotator (3 responses each)."),
    min_shared: int = typer.Option(15, help="Queries every pair of annotators must share, at least."),
    seed: int = typer.Option(0, help="Seed of query choice and record order."),
    dataset: str = typer.Option("meav-levels", help="Dataset name (key dataset and each annotator's)."),
    workspace: str = typer.Option("meav", help="Owner workspace; annotator a works in '<workspace>-a'."),
    credentials: Path = typer.Option(
        None, help="Annotator passwords file (0600); default ~/.config/meav/argilla/."
    ),
) -> None:
    """Create annotator users and datasets and assign the test queries (idempotent)."""
    from annotation.push import print_summary
    from annotation.push import push as do_push

    if not corpus_dir.exists():
        raise MeavError(f"{corpus_dir}: no such corpus folder")
    result = do_push(
        corpus_dir,
        url,
        api_key,
        _annotators(annotators),
        n=queries_per_annotator,
        m=min_shared,
        seed=seed,
        dataset=dataset,
        workspace=workspace,
        credentials=credentials,
    )
    print_summary(result)


@app.command("report")
def report(
    url: str = typer.Option(..., help="Argilla server URL."),
    api_key: str = typer.Option(..., envvar="ARGILLA_API_KEY", help="Owner API key."),
    dataset: str = typer.Option("meav-levels", help="Dataset name given to push."),
    out: Path = typer.Option(..., help="Folder for report.json, report.md and confusion.png."),
    workspace: str = typer.Option("meav", help="Owner workspace given to push."),
    resamples: int = typer.Option(1000, help="Bootstrap resamples for the 95% intervals."),
    seed: int = typer.Option(0, help="Bootstrap seed."),
) -> None:
    """Cohen's kappa per pair and mean, Fleiss' kappa, Krippendorff's alpha, Table 7, progress."""
    from annotation.report import _fmt
    from annotation.report import report as do_report

    rep = do_report(url, api_key, dataset, out, workspace=workspace, resamples=resamples, seed=seed)
    for pair, k in rep["kappa_pairs"].items():
        print(f"Cohen's kappa {pair}: {_fmt(k)} on {rep['kappa_items'][pair]} items")
    print(
        f"mean {_fmt(rep['kappa_mean'])}; Fleiss {_fmt(rep['fleiss_kappa'])}; alpha {_fmt(rep['krippendorff_alpha'])}"
    )
    print(f"wrote {out / 'report.json'}, {out / 'report.md'}, {out / 'confusion.png'}")
