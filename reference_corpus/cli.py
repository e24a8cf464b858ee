"""`meav reference build | check`: the authored reference corpus (a thin adapter over `meav.reference`)."""

from __future__ import annotations

from pathlib import Path

import typer

from meav.core.flags import flag, options
from meav.reference.options import ReferenceOptions as R

app = typer.Typer(no_args_is_help=True, help="The authored reference corpus: check its rules, build it.")


@app.command("build")
def build(out: Path = flag(R, "out"), domains: list[str] = flag(R, "domains", "--domain")) -> None:
    """Check every rule, then write the corpus folder (run `meav card OUT` for its card)."""
    o = options(R, **locals())
    from meav.reference.build import build_reference  # datasets: imported when the command runs

    typer.echo(f"wrote {build_reference(o)}")


@app.command("check")
def check() -> None:
    """Check every rule of the authored files (reference_corpus/*.yaml); list what is broken."""
    from meav.reference.build import load_rows
    from meav.reference.rules import check_rows

    problems = check_rows(load_rows())
    for p in problems:
        typer.echo(p, err=True)
    if problems:
        raise typer.Exit(2)
    typer.echo("reference corpus: every rule holds")
