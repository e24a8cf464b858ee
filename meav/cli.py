"""The `meav` command: one sub-command (group) per package, in data-flow order."""

from __future__ import annotations

import logging
import os
import sys
import warnings

import typer

from meav.errors import MeavError

app = typer.Typer(
    name="meav",
    help="Inference-time alignment with Alignment Vectors: synth → card/publish → annotate → train → vectors.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _register() -> None:
    # Each package owns its CLI module; heavy imports (torch, transformers, distilabel) happen inside commands.
    from annotation.cli import app as annotate_app
    from dataset_cards.cli import card, publish
    from meav.demo import demo
    from synth.cli import synth
    from training.cli import train
    from vectors.cli import app as vectors_app
    from vectors.eval_cli import report_command

    app.command("synth", help="Generate the three-level preference corpus with a distilabel pipeline.")(synth)
    app.command("card", help="Write (or --check) the dataset card of a corpus folder.")(card)
    app.command("publish", help="Publish a dataset or model folder to the Hugging Face Hub.")(publish)
    app.add_typer(annotate_app, name="annotate", help="Three-annotator review in Argilla, with agreement.")
    app.command("train", help="DPO (IPO) training with TRL, per domain / target, or the joint baseline.")(
        train
    )
    app.add_typer(
        vectors_app, name="vectors", help="Alignment vectors: extract, apply, steer, sweep, search."
    )
    app.command("report", help="Render a run folder's tables and curves in the paper's layouts.")(
        report_command
    )
    app.command("demo", help="The whole paper end to end on the embedded model: corpus → AVs → report.")(demo)


_register()


os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
# distilabel's workers import pydantic models that warn at import time; keep their stderr readable.
os.environ.setdefault("PYTHONWARNINGS", "ignore:The 'default' attribute with value None")


def main() -> None:
    """Entry point: expected failures become one line on stderr and exit code 2."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    warnings.filterwarnings("ignore", message=".*'default' attribute with value None.*")  # from distilabel
    try:
        app()
    except MeavError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
