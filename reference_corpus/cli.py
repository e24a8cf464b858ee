"""`meav reference build | build-probe | check`: the authored reference corpus, its cue probe and neutral text
(a thin adapter over `meav.reference`)."""

from __future__ import annotations

from pathlib import Path

import typer

from meav.core.flags import flag, options
from meav.reference.options import ProbeOptions as P
from meav.reference.options import ReferenceOptions as R

app = typer.Typer(no_args_is_help=True, help="The authored reference corpus: check its rules, build it.")


@app.command("build")
def build(out: Path = flag(R, "out"), domains: list[str] = flag(R, "domains", "--domain")) -> None:
    """Check every rule, then write the corpus folder (run `meav card OUT` for its card)."""
    o = options(R, **locals())
    from meav.reference.build import build_reference  # datasets: imported when the command runs

    typer.echo(f"wrote {build_reference(o)}")


@app.command("build-probe")
def build_probe(out: Path = flag(P, "out"), domains: list[str] = flag(P, "domains", "--domain")) -> None:
    """Check the cue probe's rules, then write it as a corpus folder (every split the same rows: score test)."""
    o = options(P, **locals())
    from meav.reference.probe import build_probe as build  # datasets: imported when the command runs

    typer.echo(f"wrote {build(o)}")


@app.command("check")
def check() -> None:
    """Check every rule of the authored files (corpus, cue probe, neutral text); list what is broken."""
    from meav.reference.build import load_rows
    from meav.reference.neutral import load_neutral, neutral_problems
    from meav.reference.probe import load_probe, probe_problems
    from meav.reference.rules import check_rows

    rows = load_rows()
    corpus = [r for rs in rows.values() for r in rs]
    problems = check_rows(rows) + probe_problems(load_probe(), rows)
    problems += neutral_problems(load_neutral(), corpus)
    for p in problems:
        typer.echo(p, err=True)
    if problems:
        raise typer.Exit(1)  # a check that fails is a runtime failure (exit 1), not a usage error
    typer.echo("reference corpus, cue probe and neutral text: every rule holds")
