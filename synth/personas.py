"""Persona sources: a seeded sample of a PersonaHub-format collection, and CreatePersona's JSON outputs."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

from datasets import load_dataset
from pydantic import BaseModel, Field, ValidationError

from meav.core.errors import MeavError
from meav.synth.recipe import PersonaHubSource

_LOCAL_LOADERS = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet"}


def sample_personahub(source: PersonaHubSource, seed: int) -> list[str]:
    """Load the collection (Hub id or local file) and draw a seeded sample of `source.sample` personas."""

    path = Path(source.dataset)
    try:
        if path.suffix.lower() in _LOCAL_LOADERS or path.exists():
            if not path.is_file():
                raise MeavError(f"{path}: persona file not found")
            loader = _LOCAL_LOADERS.get(path.suffix.lower())
            if loader is None:
                raise MeavError(
                    f"{path}: unsupported persona file type (use .jsonl, .json, .csv or .parquet)"
                )
            ds = load_dataset(loader, data_files=str(path), split="train")
        else:
            ds = load_dataset(source.dataset, source.config, split=source.split)
    except MeavError:
        raise
    except Exception as e:  # datasets raises many types for unreadable files / unreachable hubs
        raise MeavError(
            f"{source.dataset}: cannot read personas ({type(e).__name__}: {str(e).splitlines()[0]})"
        ) from e
    if source.column not in ds.column_names:
        raise MeavError(
            f"{source.dataset}: persona column {source.column!r} missing (columns: {', '.join(ds.column_names)})"
        )
    rng = random.Random(seed)
    indices = rng.sample(range(len(ds)), min(source.sample, len(ds)))
    texts = ds.select(indices)[source.column]
    return [" ".join(str(t).split()) for t in texts if t and str(t).strip()]


class PersonaQueryPair(BaseModel):
    persona: str = Field(min_length=3)
    query: str = Field(min_length=3)


class PersonaQueryPairs(BaseModel):
    pairs: list[PersonaQueryPair] = Field(min_length=1)


PAIRS_PREFILL = '{"pairs": [{"persona": "'


def parse_pairs(text: str | None, limit: int) -> list[PersonaQueryPair] | None:
    """Parse a CreatePersona answer; None when it holds no valid pair (the caller retries once).

    The whole answer is tried as the JSON object asked for; failing that, every well-formed
    {"persona": ..., "query": ...} object inside it is kept (small models often break the outer list).
    """
    if not text:
        return None
    start = text.find("{")
    if start >= 0:
        try:
            data, _ = json.JSONDecoder().raw_decode(text[start:])
            if isinstance(data, list):
                data = {"pairs": data}
            return PersonaQueryPairs.model_validate(data).pairs[:limit]
        except (json.JSONDecodeError, ValidationError):
            pass
    pairs = []
    for match in re.finditer(r"\{", text):
        try:
            obj, _ = json.JSONDecoder().raw_decode(text[match.start() :])
            pairs.append(PersonaQueryPair.model_validate(obj))
        except (json.JSONDecodeError, ValidationError):
            continue
    return pairs[:limit] or None
