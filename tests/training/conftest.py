"""Fixtures for the training tests: a fast recipe for the tiny models and small corpora with defects."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

TINY_RECIPE = {
    "model": "embedded",
    "domain": "medical",
    "target": "expert",
    "early_stopping_patience": None,
    "dpo": {
        "learning_rate": 1.0e-3,
        "max_steps": 20,
        "eval_steps": 5,
        "save_steps": 5,
        "max_length": 128,
        "dataloader_pin_memory": False,
    },
}


def write_recipe(path: Path, **changes) -> Path:
    """TINY_RECIPE with top-level changes (a `dpo` change is merged into the dpo section)."""
    recipe = {**TINY_RECIPE, **{k: v for k, v in changes.items() if k != "dpo"}}
    recipe["dpo"] = {**TINY_RECIPE["dpo"], **changes.get("dpo", {})}
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    return path


@pytest.fixture
def tiny_recipe(tmp_path) -> Path:
    return write_recipe(tmp_path / "tiny.yaml")


def corpus_with(tmp: Path, edit) -> Path:
    """A small corpus (6 queries per domain) whose rows are changed in place by `edit(row)`.

    The folder gets a unique name: `datasets` caches a local folder under its *name* and config (not its
    content), so two corpora both called `c` would share one cache entry.
    """
    import uuid

    from meav.core.corpus import SPLITS, write_corpus
    from tests.toy_corpus import DOMAINS, toy_rows

    tmp = tmp.with_name(f"{tmp.name}-{uuid.uuid4().hex[:12]}")

    by_split = {s: [] for s in SPLITS}
    for domain in DOMAINS:
        rows = toy_rows(domain, 6)
        for row in rows:
            edit(row)
        by_split["validation"] += rows[:1]
        by_split["test"] += rows[1:2]
        by_split["train"] += rows[2:]
    write_corpus(by_split, tmp, DOMAINS)
    return tmp
