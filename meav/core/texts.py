"""Prompt/response text sets (e.g. the neutral set that measures general fluency): one YAML reader for every
stage that scores them."""

from __future__ import annotations

from pathlib import Path

from meav.core.config import read_yaml
from meav.core.errors import MeavError

FIELDS = ("id", "prompt", "response")


def load_prompt_texts(path: str | Path) -> list[dict[str, str]]:
    """`[{id, prompt, response}, ...]` from a YAML file with a `rows:` list, in file order (text stripped).

    A missing file, a missing `rows:` list, a row without a non-empty string `id`, `prompt` or `response`,
    or a repeated id is one `MeavError` line naming the file, the row and the field.
    """
    path = Path(path)
    data = read_yaml(path)
    rows = data.get("rows")
    if not isinstance(rows, list) or not rows:
        raise MeavError(f"{path}: rows: expected a non-empty list of {{id, prompt, response}}")
    out, seen = [], set()
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise MeavError(f"{path}: rows[{i}]: expected a mapping with {', '.join(FIELDS)}")
        for field in FIELDS:
            value = row.get(field)
            if not isinstance(value, str) or not value.strip():
                name = row.get("id") if isinstance(row.get("id"), str) else f"rows[{i}]"
                raise MeavError(f"{path}: {name}: {field}: missing or not a non-empty string")
        unknown = sorted(set(row) - set(FIELDS))
        if unknown:
            raise MeavError(f"{path}: {row['id']}: {unknown[0]}: unknown field (have {', '.join(FIELDS)})")
        if row["id"] in seen:
            raise MeavError(f"{path}: {row['id']}: id: used twice")
        seen.add(row["id"])
        out.append({f: row[f].strip() for f in FIELDS})
    return out
