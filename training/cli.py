"""`meav train`: one DPO (IPO) run from a recipe, with command-line overrides (a thin adapter over
`meav.training.train(TrainOptions)`; TRL is imported when the command runs, not at `meav --help`)."""

from __future__ import annotations

from pathlib import Path

import typer

from meav.core.flags import flag, options
from meav.training.options import TrainOptions as T


def train(
    recipe: Path = flag(T, "recipe"), base: str | None = flag(T, "base"), dataset: str | None = flag(T, "dataset"),
    domain: str | None = flag(T, "domain"), target: str | None = flag(T, "target"), joint: str | None = flag(T, "joint"),
    safety: str | None = flag(T, "safety"), out: Path | None = flag(T, "out"),
    max_steps: int | None = flag(T, "max_steps"), seed: int | None = flag(T, "seed"),
) -> None:  # fmt: skip
    """Train a preference-aligned model; `kill -9` and the same command resumes from the last checkpoint."""
    o = options(T, **locals())
    from meav.training.meta import read_meta  # TRL and torch: imported when the command runs
    from meav.training.run import train as run

    final = run(o)
    if not (final / "training_meta.json").is_file():
        return  # a non-zero rank of a multi-process launch
    meta = read_meta(final)
    held = (meta["reward_margins"].get("heldout") or {}).get("reward_margin")
    typer.echo(
        f"{final}: {meta['training']['global_step']} steps, eval loss "
        f"{meta['training']['best_eval_loss']}, held-out reward margin {held}"
    )
