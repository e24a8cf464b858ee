"""The dataset_cards stage's Python API: `make_card(CardOptions)`, `publish(PublishOptions)`."""

from __future__ import annotations

from pathlib import Path

from meav.core import hub
from meav.core.errors import OptionError
from meav.dataset_cards.card import write_card
from meav.dataset_cards.check import assert_card_ok
from meav.dataset_cards.options import CardOptions, PublishOptions

# core.hub names its own arguments; the options (and the CLI flags) call them differently
_FIELDS = {"repo_id": "repo"}


def make_card(options: CardOptions) -> Path:
    """Write README.md for the corpus folder and check it (with `check`, only check); returns its path."""
    o = options
    if not o.folder.is_dir():
        raise OptionError("folder", f"{o.folder}: no such folder")
    if not o.check:
        write_card(o.folder, repo_id=o.repo, license=o.license, pretty_name=o.pretty_name)
    assert_card_ok(o.folder)
    return o.folder / "README.md"


def publish(options: PublishOptions) -> hub.PublishResult:
    """Publish the folder in one commit; a dataset must pass the card check first (nothing is sent if not)."""
    o = options
    if o.repo_type == "dataset":
        assert_card_ok(o.folder)
    try:
        return hub.publish(o.folder, o.repo, o.repo_type, o.private, o.tag, o.revision, o.message)
    except OptionError as e:
        raise OptionError(_FIELDS.get(e.field, e.field), e.message) from None
