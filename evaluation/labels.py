"""How levels and domains are written in every table (the paper's column order and abbreviations)."""

from __future__ import annotations

ORDER = ("expert", "generic", "avoidance")  # the paper's column order
SHORT = {"expert": "Exp", "generic": "Gen", "avoidance": "Avd", None: "mixed"}


def abbrev(domain: str) -> str:
    return domain[:3].capitalize()
