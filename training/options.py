"""Options of `meav train` / `meav.training.train`: a recipe file plus the values that override it.

Pydantic only (the CLI builds its flags from it without importing torch or TRL); every field described.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from meav.core.config import Options


class TrainOptions(Options):
    """One DPO (IPO) run: a recipe (training/recipe.py) and overrides of its fields (None keeps the recipe's)."""

    recipe: Path = Field(description="Recipe YAML (see recipes/README.md).")
    base: str | None = Field(
        None,
        description="Base model to train: folder, Hub id or 'embedded' (SmolLM2-135M-Instruct); overrides the "
        "recipe's `model`.",
    )
    dataset: str | None = Field(None, description="Corpus folder or Hub dataset repo id.")
    domain: str | None = Field(None, description="Corpus domain of a single-domain run.")
    target: str | None = Field(None, description="Preferred level: avoidance, generic or expert.")
    joint: str | dict[str, str] | None = Field(
        None, description="Joint baseline, e.g. medical=avoidance,financial=expert,legal=expert."
    )
    safety: str | None = Field(
        None,
        description="Train on PKU-SafeRLHF-format data (file, folder or dataset id) instead of the corpus.",
    )
    out: Path | None = Field(None, description="Final model folder (default runs/<model>/<run>).")
    max_steps: int | None = Field(None, ge=1, description="Step budget (overrides dpo.max_steps).")
    seed: int | None = Field(None, description="Seed (overrides the recipe's).")
