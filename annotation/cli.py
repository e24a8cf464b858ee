"""`meav annotate serve | push | report`: thin adapters over `meav.annotation` (argilla is imported when a
command runs, not at `meav --help`)."""

from __future__ import annotations

from pathlib import Path

import typer

from meav.annotation.options import PushOptions as P
from meav.annotation.options import ReportOptions as R
from meav.annotation.options import ServeOptions as S
from meav.core.flags import argument, flag, options

app = typer.Typer(no_args_is_help=True, help="Three-annotator review in Argilla, with agreement.")


@app.command("serve")
def serve(
    port: int = flag(S, "port"), data_dir: Path = flag(S, "data_dir"), redis_url: str | None = flag(S, "redis_url"),
) -> None:  # fmt: skip
    """Run a local argilla-server 2.8.0 (web UI included) with our SQL search engine, until Ctrl-C."""
    o = options(S, **locals())
    from meav.annotation.api import serve as run  # argilla: imported when the command runs

    run(o, say=lambda s: print(s, flush=True))


@app.command("push")
def push(
    corpus_dir: Path = argument(P, "corpus_dir"), url: str = flag(P, "url"),
    api_key: str = flag(P, "api_key", envvar="ARGILLA_API_KEY"), annotators: str = flag(P, "annotators"),
    queries_per_annotator: int = flag(P, "queries_per_annotator"), min_shared: int = flag(P, "min_shared"),
    seed: int = flag(P, "seed"), argilla_dataset: str = flag(P, "argilla_dataset"), workspace: str = flag(P, "workspace"),
    credentials: Path | None = flag(P, "credentials"),
) -> None:  # fmt: skip
    """Create annotator users and datasets and assign the test queries (idempotent)."""
    o = options(P, **locals())
    from meav.annotation.records import print_summary  # argilla: imported when the command runs
    from meav.annotation.records import push as run

    print_summary(run(o))


@app.command("report")
def report(
    url: str = flag(R, "url"), api_key: str = flag(R, "api_key", envvar="ARGILLA_API_KEY"),
    argilla_dataset: str = flag(R, "argilla_dataset"), out: Path = flag(R, "out"), workspace: str = flag(R, "workspace"),
    resamples: int = flag(R, "resamples"), seed: int = flag(R, "seed"),
) -> None:  # fmt: skip
    """Cohen's kappa per pair and mean, Fleiss' kappa, Krippendorff's alpha, Table 7, progress."""
    o = options(R, **locals())
    from meav.annotation.reporting import fmt  # argilla: imported when the command runs
    from meav.annotation.reporting import report as run

    rep = run(o)
    for pair, k in rep["kappa_pairs"].items():
        print(f"Cohen's kappa {pair}: {fmt(k)} on {rep['kappa_items'][pair]} items")
    print(
        f"mean {fmt(rep['kappa_mean'])}; Fleiss {fmt(rep['fleiss_kappa'])}; alpha {fmt(rep['krippendorff_alpha'])}"
    )
    print(f"wrote {o.out / 'report.json'}, {o.out / 'report.md'}, {o.out / 'confusion.png'}")
