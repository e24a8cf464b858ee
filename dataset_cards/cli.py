"""`meav card` and `meav publish`: thin adapters over `meav.dataset_cards` (datasets and huggingface_hub
are imported when a command runs, not at `meav --help`)."""

from __future__ import annotations

from pathlib import Path

import typer

from meav.core.flags import argument, flag, options
from meav.dataset_cards.options import CardOptions as C
from meav.dataset_cards.options import PublishOptions as P


def card(
    folder: Path = argument(C, "folder"), check: bool = flag(C, "check"), repo: str | None = flag(C, "repo"),
    license: str | None = flag(C, "license"), pretty_name: str | None = flag(C, "pretty_name"),
) -> None:  # fmt: skip
    """Write README.md (YAML metadata + statistics) for a corpus folder, or --check it offline."""
    o = options(C, **locals())
    from meav.dataset_cards.api import make_card  # datasets: imported when the command runs

    path = make_card(o)
    typer.echo(f"{path}: card OK" if o.check else f"wrote {path}")


def publish(
    folder: Path = argument(P, "folder"), repo: str = flag(P, "repo"), private: bool = flag(P, "private"),
    tag: str | None = flag(P, "tag"), revision: str | None = flag(P, "revision"),
    repo_type: str = flag(P, "repo_type"), message: str | None = flag(P, "message", "--message", "-m"),
) -> None:  # fmt: skip
    """Publish a folder in one commit (none when unchanged); datasets must pass `meav card --check` first."""
    o = options(P, **locals())
    from meav.dataset_cards.api import publish as run  # huggingface_hub: imported when the command runs

    result = run(o)
    state = f"commit {result.commit[:12]}" if result.changed else f"unchanged, still at {result.commit[:12]}"
    typer.echo(f"{result.url} ({state}{', tag ' + o.tag if o.tag else ''})")
