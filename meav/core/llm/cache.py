"""Content-addressed store of LLM call results: the resume mechanism of `meav synth`.

A call's key hashes everything that determines its answer (backend, model, messages, generation parameters).
Each result is one small JSON file written atomically, so a run killed at any moment keeps every completed
call and never keeps a half-written one; a rerun looks calls up before making them.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from meav.core import atomic


def call_key(backend: str, model: str, messages: list[dict], params: dict[str, Any]) -> str:
    payload = json.dumps(
        {"backend": backend, "model": model, "messages": messages, "params": params},
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class CallCache:
    """One JSON file per completed call under `root/<key[:2]>/<key>.json`."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        path = self._path(key)
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except json.JSONDecodeError:  # cannot happen with atomic writes; treat as a miss
            return None

    def put(self, key: str, entry: dict) -> None:
        atomic.write_json(self._path(key), entry)

    def __len__(self) -> int:
        return sum(1 for _ in self.root.glob("*/*.json")) if self.root.exists() else 0

    def entries(self):
        if not self.root.exists():
            return
        for path in self.root.glob("*/*.json"):
            try:
                yield json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                continue
