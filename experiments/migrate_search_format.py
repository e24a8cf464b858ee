"""Migrate committed search runs to the current typed format, once (the library reads only that format).

    .venv/bin/python experiments/migrate_search_format.py docs/search [docs/...]

Format 1 → 2: each search-*.json gains `format_version` and is validated as a `SearchRecord`; each
*.evaluations.jsonl log's first line (what its evaluations are of) gains `format_version` and, where the run
searched the AVs themselves (no decomposition, not the null), `knob_files` (then the AVs' own fingerprints:
the knobs are the AV folders). A null or decomposed run logged without `knob_files` keeps none: its knobs were
built outside the repository, so resuming it is refused rather than matched on a guess. Files already at the
current format are left as they are; every write is atomic.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from meav.core import atomic
from meav.evaluation.search.results import FORMAT_VERSION, SearchRecord


def migrate_record(path: Path) -> bool:
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("format_version") == FORMAT_VERSION:
        return False
    record = SearchRecord.model_validate({"format_version": FORMAT_VERSION, **data})
    atomic.write_json(path, record.to_json())
    return True


def migrate_log(path: Path) -> bool:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    identity = json.loads(lines[0])
    if identity.get("format_version") == FORMAT_VERSION:
        return False
    if "knob_files" not in identity and identity["decompose"] == "none" and not identity["null"]:
        identity["knob_files"] = identity["av_files"]
    lines[0] = json.dumps({"format_version": FORMAT_VERSION, **identity}) + "\n"
    atomic.write_text(path, "".join(lines))
    return True


def main(folders: list[str]) -> None:
    for folder in map(Path, folders):
        for f in sorted(folder.glob("search-*.evaluations.jsonl")):
            print(f"{f}: {'migrated' if migrate_log(f) else 'already current'}")
        for f in sorted(p for p in folder.glob("search-*.json")):
            print(f"{f}: {'migrated' if migrate_record(f) else 'already current'}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["docs/search"])
