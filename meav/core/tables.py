"""The one markdown table writer of every page meav writes (dataset cards, sweeps, searches, the demo,
annotation reports).

Cells: floats as 0.00, ints with thousands separators, anything else as str() with pipes escaped and line
breaks flattened. A column whose cells are all numbers is right-aligned.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def _cell(v: Any) -> str:
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float):
        return f"{v:.2f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v).replace("|", "\\|").replace("\n", " ")


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub-flavoured markdown table."""
    numeric = [
        bool(rows) and all(isinstance(r[i], int | float) and not isinstance(r[i], bool) for r in rows)
        for i in range(len(header))
    ]
    lines = [
        "| " + " | ".join(str(h) for h in header) + " |",
        "|" + "".join("---:|" if n else "---|" for n in numeric),
    ]
    lines += ["| " + " | ".join(_cell(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)
