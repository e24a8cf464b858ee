"""`meav synth --recipe FILE --out DIR [--backend SPEC] [--dry-run]`."""

from __future__ import annotations

import json
from pathlib import Path

import typer


def synth(
    recipe: Path = typer.Option(..., "--recipe", help="Synth recipe (YAML), e.g. recipes/synth/demo.yaml."),
    out: Path = typer.Option(..., "--out", help="Corpus folder to write (Hub layout); replaced atomically."),
    backend: str | None = typer.Option(
        None,
        "--backend",
        help="anthropic:<model> | openai:<model>@<base_url> | local[:<path>] (default: the recipe's).",
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print calls, tokens and cost; call nothing."),
) -> None:
    from rich.console import Console

    from synth.backends import parse_backend
    from synth.recipe import load_recipe
    from synth.report import estimate, print_estimate

    console = Console(stderr=True)
    spec_recipe = load_recipe(recipe)
    if dry_run:
        spec = parse_backend(backend or spec_recipe.backend)
        est = estimate(spec_recipe, spec, personas_available=None)
        print_estimate(est, console)
        print(json.dumps(est))
        return
    from synth.run import SynthRun

    SynthRun(spec_recipe, out, backend, console).run()
    console.print(f"corpus written to {out}")
