"""Options of `meav synth` / `meav.synth.run_synth` (pydantic only: the CLI builds its flags from it)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from meav.core.config import Options


class SynthOptions(Options):
    """One corpus run: a recipe, where to write, and what may override the recipe."""

    recipe: Path = Field(description="Synth recipe (YAML), e.g. recipes/synth/demo.yaml.")
    out: Path = Field(description="Corpus folder to write (Hub layout); replaced atomically.")
    backend: str | None = Field(
        None,
        description="anthropic:<model> | openai:<model>@<base_url> | local[:<path>] (default: the recipe's).",
    )
    scale: float = Field(
        1.0, gt=0, description="Grow the persona sources (PersonaHub sample, CreatePersona roots)."
    )
    dry_run: bool = Field(False, description="Print calls, tokens and cost; call nothing.")
