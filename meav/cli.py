"""The `meav` command (orchestration): one sub-command or group per stage, in data-flow order.

Each stage's CLI module is a thin adapter that imports only typer and its options models at start-up, so
`meav --help` and `meav --version` stay fast; the stage's Python API is imported when a command runs.
Exit codes: 0 done; **2 a usage error**: click's own (an unknown flag, a missing or ill-typed value) and an
`OptionError` (a value its option refuses: a malformed grid, an out-of-range number, a `NAME=PATH` without a
name), shown as one `error:` line under the flag or argument that fed it (`lambda_` → `--lambda`, `folder` →
`FOLDER`); **1 a runtime failure**: any other `MeavError` (a missing or malformed file, a model that does not
load, an AV of another base, an unreachable service), one `error:` line.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings

import typer

import meav
from meav.annotation.cli import app as annotate_app
from meav.core import flags
from meav.core.errors import MeavError, OptionError
from meav.core.procs import die_with_parent_on_fork
from meav.dataset_cards.cli import card, publish
from meav.demo.cli import demo
from meav.evaluation.cli import app as eval_app
from meav.evaluation.cli import report
from meav.reference.cli import app as reference_app
from meav.serving.cli import serve
from meav.synth.cli import synth
from meav.training.cli import train
from meav.vectors.cli import app as vectors_app

os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
# distilabel's workers import pydantic models that warn at import time; keep their stderr readable.
os.environ.setdefault("PYTHONWARNINGS", "ignore:The 'default' attribute with value None")


RUNTIME_ERROR = 1  # a MeavError while the command runs
USAGE_ERROR = 2  # click's code for a bad command line; an OptionError is one


def _version(value: bool) -> None:
    if value:
        typer.echo(f"meav {meav.__version__}")
        raise typer.Exit()


app = typer.Typer(
    name="meav",
    help="Inference-time alignment with Alignment Vectors: synth → card/publish → annotate → train → vectors → eval.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Inference-time alignment with Alignment Vectors."""


app.add_typer(
    reference_app, name="reference", help="The authored reference corpus (gold level content): check, build."
)
app.command("synth", help="Generate the three-level preference corpus with a distilabel pipeline.")(synth)
app.command("card", help="Write (or --check) the dataset card of a corpus folder.")(card)
app.command("publish", help="Publish a dataset or model folder to the Hugging Face Hub.")(publish)
app.add_typer(annotate_app, name="annotate", help="Three-annotator review in Argilla, with agreement.")
app.command("train", help="DPO (IPO) training with TRL, per domain / target, or the joint baseline.")(train)
app.add_typer(vectors_app, name="vectors", help="Alignment vectors: extract, apply, to-lora, publish, info.")
app.add_typer(eval_app, name="eval", help="Evaluation: λ sweeps with a verdict, multidomain search, judge.")
app.command(
    "serve", help="Serve one base with its AVs, λ chosen per request, behind an OpenAI-compatible API."
)(serve)
app.command("report", help="Render a run folder's tables and curves in the paper's layouts.")(report)
app.command("demo", help="The whole paper end to end on the embedded model: corpus → AVs → report.")(demo)


def main() -> None:
    """Entry point: expected failures become one line on stderr, exit code 2 (usage) or 1 (runtime)."""
    die_with_parent_on_fork()  # every process a meav command forks (distilabel's workers) dies with it
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    warnings.filterwarnings("ignore", message=".*'default' attribute with value None.*")  # from distilabel
    flags.reset()
    try:
        app()
    except OptionError as e:
        print(f"error: {e.for_flag(flags.flag_for(e.field))}", file=sys.stderr)
        sys.exit(USAGE_ERROR)
    except MeavError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(RUNTIME_ERROR)


if __name__ == "__main__":
    main()
