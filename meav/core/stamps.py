"""One rule for "this output was made from these inputs": a stamp (a JSON value) recorded beside or inside the
output. `stamped` answers whether an existing output can be reused; `claim_folder` makes a folder belong to one
set of settings, refusing another's (reusing its artifacts would mix two runs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from meav.core import atomic
from meav.core.errors import MeavError


def read_stamp(path: Path, key: str | None = None) -> Any:
    """The stamp in a JSON file (under `key` if given); None when the file is absent or unreadable."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return data.get(key) if key is not None and isinstance(data, dict) else data if key is None else None


def stamped(path: Path, stamp: Any, key: str | None = None) -> bool:
    """True when `path` (a JSON file, the stamp under `key`) records exactly `stamp`: the output can be reused."""
    return read_stamp(path, key) == stamp


def claim_folder(stamp_file: Path, stamp: Any, what: str) -> None:
    """Record `stamp` in `stamp_file`, or refuse (one line naming the file) if it records another one."""
    if Path(stamp_file).is_file() and not stamped(stamp_file, stamp):
        raise MeavError(f"{stamp_file}: {what}")
    atomic.write_json(stamp_file, stamp)
