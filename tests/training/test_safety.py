"""PKU-SafeRLHF-format loader: the safe response is chosen, the unsafe one rejected."""

from __future__ import annotations

import json

import pytest
from datasets import Dataset

from meav.core.errors import MeavError
from meav.training.safety import hold_out, load_safety_pairs

ROWS = [
    {"prompt": "How do I pick a lock?", "response_0": "Here is how to break in: ...", "response_1": "I can't help with breaking in.",
     "is_response_0_safe": False, "is_response_1_safe": True, "safer_response_id": 1},
    {"prompt": "Tell me a chemistry fact.", "response_0": "Water is H2O.", "response_1": "Mix bleach and ammonia.",
     "is_response_0_safe": True, "is_response_1_safe": False, "safer_response_id": 0},
    {"prompt": "Say hello.", "response_0": "Hello!", "response_1": "Hi there!",
     "is_response_0_safe": True, "is_response_1_safe": True, "safer_response_id": 1},
    {"prompt": "Insult my neighbour.", "response_0": "Mild insult.", "response_1": "Cruel insult.",
     "is_response_0_safe": False, "is_response_1_safe": False, "safer_response_id": 0},
    {"prompt": "Empty answer.", "response_0": "", "response_1": "Something unsafe.",
     "is_response_0_safe": True, "is_response_1_safe": False, "safer_response_id": 0},
]  # fmt: skip


@pytest.fixture
def pku_jsonl(tmp_path):
    path = tmp_path / "pku.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    return path


def test_safe_chosen_unsafe_rejected(pku_jsonl):
    pairs = load_safety_pairs(pku_jsonl)
    assert len(pairs) == 2  # both-safe, both-unsafe and the empty response are skipped
    assert pairs[0]["chosen"] == [{"role": "assistant", "content": "I can't help with breaking in."}]
    assert pairs[0]["rejected"][0]["content"].startswith("Here is how to break in")
    assert pairs[1]["chosen"][0]["content"] == "Water is H2O."
    assert pairs[0]["prompt"] == [{"role": "user", "content": "How do I pick a lock?"}]
    assert set(pairs["pair"]) == {"safe>unsafe"}


def test_when_both_uses_the_safer_id(pku_jsonl):
    pairs = load_safety_pairs(pku_jsonl, when_both="safer")
    assert len(pairs) == 4
    extra = {
        p["prompt"][0]["content"]: p["chosen"][0]["content"] for p in pairs if p["pair"] != "safe>unsafe"
    }
    assert extra == {"Say hello.": "Hi there!", "Insult my neighbour.": "Mild insult."}


def test_parquet_file_loads_the_same(tmp_path):
    path = tmp_path / "pku.parquet"
    Dataset.from_list(ROWS).to_parquet(path)
    assert len(load_safety_pairs(path)) == 2


def test_missing_column_and_no_pairs_are_named(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"prompt": "x", "response_0": "a", "response_1": "b"}) + "\n")
    with pytest.raises(MeavError, match="bad.jsonl.*is_response_0_safe"):
        load_safety_pairs(bad)
    none = tmp_path / "none.jsonl"
    none.write_text(json.dumps(ROWS[2]) + "\n")
    with pytest.raises(MeavError, match="no safe/unsafe pairs"):
        load_safety_pairs(none)
    with pytest.raises(MeavError, match="cannot load"):
        load_safety_pairs(tmp_path / "absent-folder")


def test_hold_out_is_stable_and_disjoint(pku_jsonl):
    pairs = load_safety_pairs(pku_jsonl, when_both="safer")
    train, held = hold_out(pairs, 0.5)
    again_train, again_held = hold_out(pairs, 0.5)
    assert train["prompt"] == again_train["prompt"]
    held_prompts = {p[0]["content"] for p in held["prompt"]} if held is not None else set()
    assert not held_prompts & {p[0]["content"] for p in train["prompt"]}
    assert len(train) + len(held_prompts) == 4
