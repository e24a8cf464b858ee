"""Options of `meav reference build` (pydantic only: the CLI builds its flags from it)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from meav.core.config import Options


class ReferenceOptions(Options):
    """Build the authored reference corpus into a corpus folder."""

    out: Path = Field(description="Corpus folder to write (Hub layout); replaced atomically.")
    domains: list[str] = Field(["medical", "financial", "legal"], description="Domains to include.")
