"""How levels and domains are written in every table (the paper's column order and abbreviations)."""

from __future__ import annotations

from meav.core.corpus import PAPER_ORDER as ORDER  # noqa: F401  (re-exported under its display name)

SHORT = {"expert": "Exp", "generic": "Gen", "avoidance": "Avd", None: "mixed"}


def abbrev(domain: str) -> str:
    return domain[:3].capitalize()
