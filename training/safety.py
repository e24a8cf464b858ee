"""Safety preference pairs from PKU-SafeRLHF-format data: the safe response is chosen, the unsafe rejected.

PKU-SafeRLHF rows hold one prompt and two responses with per-response safety labels
(`prompt`, `response_0`, `response_1`, `is_response_0_safe`, `is_response_1_safe`, `safer_response_id`, ...).
A row gives a pair when exactly one response is safe. When both or neither are safe the labels say nothing
about safety as such; `when_both="safer"` then falls back on the annotators' `safer_response_id` (a relative
judgement), the default `"skip"` drops the row. The output has the same conversational columns as the corpus
pairs, so a safety AV is trained by exactly the same machinery.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from datasets import Dataset, load_dataset

from meav.core.errors import MeavError
from meav.training.pairs import conversational_pair

REQUIRED = ("prompt", "response_0", "response_1", "is_response_0_safe", "is_response_1_safe")
LOCAL_FORMATS = {".jsonl": "json", ".json": "json", ".parquet": "parquet", ".csv": "csv"}


def _load_rows(source: str, split: str, revision: str | None):
    """A local jsonl/json/parquet/csv file (one split, named `split`) or a dataset id / folder for `datasets`."""

    path = Path(source)
    try:
        if path.is_file():
            builder = LOCAL_FORMATS.get(path.suffix)
            if builder is None:
                raise MeavError(f"{source}: unsupported file type (use {', '.join(LOCAL_FORMATS)})")
            return load_dataset(builder, data_files={split: str(path)}, split=split)
        return load_dataset(source, split=split, revision=revision)
    except (ValueError, FileNotFoundError, OSError) as e:
        raise MeavError(f"{source}: cannot load split {split!r}: {str(e).splitlines()[0]}") from e


def safety_pairs_from_rows(rows: list[dict[str, Any]], when_both: str = "skip") -> list[dict[str, Any]]:
    """Safe ≻ unsafe pairs (see module docstring for rows where both or neither response is safe)."""
    if when_both not in ("skip", "safer"):
        raise MeavError(f"safety.when_both: {when_both!r} is not 'skip' or 'safer'")
    out = []
    for i, row in enumerate(rows):
        prompt = (row.get("prompt") or "").strip()
        responses = [(row.get("response_0") or "").strip(), (row.get("response_1") or "").strip()]
        safe = [bool(row.get("is_response_0_safe")), bool(row.get("is_response_1_safe"))]
        if not prompt or not all(responses) or responses[0] == responses[1]:
            continue
        if safe[0] != safe[1]:
            chosen = 0 if safe[0] else 1
        elif when_both == "safer" and row.get("safer_response_id") in (0, 1):
            chosen = int(row["safer_response_id"])
        else:
            continue
        pair = conversational_pair(prompt, responses[chosen], responses[1 - chosen])
        kind = "safe>unsafe" if safe[0] != safe[1] else "safer>less-safe"
        pair.update(domain="safety", id=str(row.get("id", i)), pair=kind)
        out.append(pair)
    return out


def load_safety_pairs(
    source: str | Path,
    split: str = "train",
    *,
    revision: str | None = None,
    when_both: str = "skip",
    max_pairs: int | None = None,
    required: bool = True,
):
    """Safety pairs of one split as a `datasets.Dataset` (None if empty and not `required`)."""

    ds = _load_rows(str(source), split, revision)
    missing = [c for c in REQUIRED if c not in ds.column_names]
    if missing:
        raise MeavError(f"{source} [{split}]: missing PKU-SafeRLHF column(s) {', '.join(missing)}")
    pairs = safety_pairs_from_rows(ds.to_list(), when_both)
    if max_pairs is not None:
        pairs = pairs[:max_pairs]
    if not pairs:
        if not required:
            return None
        raise MeavError(f"{source} [{split}]: no safe/unsafe pairs (no row has exactly one safe response)")
    return Dataset.from_list(pairs)


def hold_out(pairs, fraction: float):
    """Split pairs into (train, eval) by a hash of the prompt: stable when rows are added, no prompt in both."""

    def is_eval(prompt: list[dict[str, str]]) -> bool:
        digest = hashlib.sha256(prompt[0]["content"].encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64 < fraction

    flags = [is_eval(p) for p in pairs["prompt"]]
    train = pairs.select([i for i, f in enumerate(flags) if not f])
    held = pairs.select([i for i, f in enumerate(flags) if f])
    return train, (held if len(held) else None)
