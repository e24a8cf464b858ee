"""`meav train`: one DPO (IPO) run from a recipe, with command-line overrides."""

from __future__ import annotations

from pathlib import Path

import typer


def train(
    recipe: Path = typer.Option(..., "--recipe", help="Recipe YAML (see recipes/README.md)."),
    model: str | None = typer.Option(None, "--model", help="Model folder or Hub id ('embedded' = SmolLM2)."),
    dataset: str | None = typer.Option(None, "--dataset", help="Corpus folder or Hub dataset repo id."),
    domain: str | None = typer.Option(None, "--domain", help="Corpus domain of a single-domain run."),
    target: str | None = typer.Option(
        None, "--target", help="Preferred level: avoidance, generic or expert."
    ),
    joint: str | None = typer.Option(
        None, "--joint", help="Joint baseline, e.g. medical=avoidance,financial=expert,legal=expert."
    ),
    safety: str | None = typer.Option(
        None, "--safety", help="Train on PKU-SafeRLHF-format data (file, folder or dataset id) instead."
    ),
    out: Path | None = typer.Option(None, "--out", help="Final model folder (default runs/<model>/<run>)."),
    max_steps: int | None = typer.Option(None, "--max-steps", help="Step budget (overrides dpo.max_steps)."),
    seed: int | None = typer.Option(None, "--seed", help="Seed (overrides the recipe's)."),
) -> None:
    """Train a preference-aligned model; `kill -9` and the same command resumes from the last checkpoint."""
    from training.meta import read_meta
    from training.run import train as run_train

    final = run_train(
        recipe, model=model, dataset=dataset, domain=domain, target=target, joint=joint, safety=safety,
        out=out, max_steps=max_steps, seed=seed,
    )  # fmt: skip
    if not (final / "training_meta.json").is_file():
        return  # a non-zero rank of a multi-process launch
    meta = read_meta(final)
    margins = meta["reward_margins"]
    held = (margins.get("heldout") or {}).get("reward_margin")
    typer.echo(
        f"{final}: {meta['training']['global_step']} steps, eval loss "
        f"{meta['training']['best_eval_loss']}, held-out reward margin {held}"
    )
