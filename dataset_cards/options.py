"""Options of `meav card` and `meav publish` (pydantic only: the CLI builds its flags from them)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from meav.core.config import Options


class CardOptions(Options):
    """Write (or only check) the dataset card of a corpus folder."""

    folder: Path = Field(description="Corpus folder (Hub layout: data/<domain>/<split>-*.parquet).")
    check: bool = Field(False, description="Only validate the existing card against the data.")
    repo: str | None = Field(None, description="Repo id (ORG/NAME) shown in the card's load examples.")
    license: str | None = Field(
        None,
        description="License id for the card. Default: the corpus's own (an authored corpus records it), else "
        "cc-by-nc-sa-4.0, PersonaHub's license, which data derived from its personas inherits.",
    )
    pretty_name: str | None = Field(None, description="Human-readable dataset name.")


class PublishOptions(Options):
    """Publish a folder to the Hub in one commit (none when unchanged)."""

    folder: Path = Field(description="Folder to publish (a corpus with its card, or a model/AV folder).")
    repo: str = Field(description="Target repo id, ORG/NAME.")
    private: bool = Field(False, description="Create the repo private (when it does not exist).")
    tag: str | None = Field(None, description="Tag the published commit (e.g. v1); tags are never moved.")
    revision: str | None = Field(None, description="Branch to publish to (created if missing).")
    repo_type: Literal["dataset", "model"] = Field("dataset", description="dataset or model.")
    message: str | None = Field(None, description="Commit message.")
