"""`meav demo`: a thin adapter over `meav.demo.run_demo(DemoConfig, out)` (every stage's heavy imports happen
when the command runs, not at `meav --help`).

The flags follow meav's vocabulary (`--base`, `--dataset`); the config's keys keep their names (`model`,
`corpus`), so `--base` sets `model` and `--dataset` sets `corpus`."""

from __future__ import annotations

from pathlib import Path

import typer

from meav.core.flags import flag, track_command
from meav.demo.config import DEFAULT_CONFIG, load_config
from meav.demo.config import DemoConfig as D


def demo(
    out: Path = typer.Option(Path("runs/demo"), "--out", help="Run folder: every stage's artifact goes here."),
    config: Path | None = typer.Option(None, "--config", help="Demo config YAML (default recipes/demo/demo.yaml)."),
    scale: float | None = flag(D, "scale", default=None), backend: str | None = flag(D, "backend"),
    model: str | None = flag(D, "model", "--base", default=None), corpus: str | None = flag(D, "corpus", "--dataset"),
    max_steps: int | None = flag(D, "max_steps"), lambdas: str | None = flag(D, "lambdas", default=None),
    max_queries: int | None = flag(D, "max_queries", default=None),
) -> None:  # fmt: skip
    """Corpus → card → one expert AV per domain → λ sweeps → multidomain search → report; rerun continues."""
    track_command()
    path = config or (DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None)
    cfg = load_config(
        path, scale=scale, backend=backend, model=model, corpus=corpus, max_steps=max_steps, lambdas=lambdas,
        max_queries=max_queries,
    )  # fmt: skip
    from meav.demo.run import run_demo  # every stage: imported when the command runs

    run_demo(cfg, out, echo=lambda s: typer.echo(s, err=True))
