"""The synth stage's Python API: `run_synth(SynthOptions)` writes a corpus, `estimate_synth` prices one."""

from __future__ import annotations

from rich.console import Console

from meav.core.llm.specs import parse_backend
from meav.synth.options import SynthOptions
from meav.synth.recipe import load_recipe, scale_recipe
from meav.synth.report import estimate
from meav.synth.run import SynthRun


def run_synth(options: SynthOptions, console: Console | None = None) -> dict:
    """Generate the corpus into `options.out` (resumable: rerun the same call after a kill); the summary."""
    recipe = scale_recipe(load_recipe(options.recipe), options.scale)
    return SynthRun(recipe, options.out, options.backend, console).run()


def estimate_synth(options: SynthOptions) -> dict:
    """Calls per stage, tokens and cost of a run, without calling anything."""
    recipe = scale_recipe(load_recipe(options.recipe), options.scale)
    return estimate(recipe, parse_backend(options.backend or recipe.backend), personas_available=None)
