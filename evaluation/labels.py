"""How levels and domains are written in every table (the paper's column order and abbreviations)."""

from __future__ import annotations

from meav.core.corpus import PAPER_ORDER as ORDER  # noqa: F401  (re-exported under its display name)

SHORT = {"expert": "Exp", "generic": "Gen", "avoidance": "Avd", None: "mixed"}


def abbrev(domain: str) -> str:
    return domain[:3].capitalize()


def num(x: float | None) -> str:
    """A table cell: two decimals, or '–' for nothing measured."""
    return "–" if x is None else f"{x:.2f}"


def share_cells(shares: dict[str, float]) -> list[str]:
    """A level's shares as cells, in the paper's column order."""
    return [num(shares.get(level)) for level in ORDER]
