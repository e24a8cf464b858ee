"""Options of `meav reference build` (pydantic only: the CLI builds its flags from it)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from meav.core.config import Options


class ReferenceOptions(Options):
    """Build the authored reference corpus into a corpus folder."""

    out: Path = Field(description="Corpus folder to write (Hub layout); replaced atomically.")
    domains: list[str] = Field(["medical", "financial", "legal"], description="Domains to include.")


class ProbeOptions(Options):
    """Build the authored cue probe (reference_corpus/cue_probe_<domain>.yaml) into a corpus folder."""

    out: Path = Field(
        description="Corpus folder to write (Hub layout); replaced atomically. Every split holds the same "
        "probe rows (the contract needs three splits): score its `test` split."
    )
    domains: list[str] = Field(["medical", "financial", "legal"], description="Domains to include.")
