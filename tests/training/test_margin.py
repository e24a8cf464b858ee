"""The held-out margin helper: right padding changes nothing, and a model compared with itself moved 0."""

from __future__ import annotations

import pytest

from meav.training.margin import completion_logps, heldout_margin
from meav.training.pairs import build_pairs


def test_batched_scores_equal_one_by_one(tiny_llama, toy_corpus):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    pairs = build_pairs(toy_corpus, {"financial": "avoidance"}, "test")
    model, tokenizer = (
        AutoModelForCausalLM.from_pretrained(tiny_llama),
        AutoTokenizer.from_pretrained(tiny_llama),
    )
    items = list(zip(pairs["prompt"], pairs["chosen"], strict=True)) + list(
        zip(pairs["prompt"], pairs["rejected"], strict=True)
    )  # completions of different lengths: padding is exercised
    one_by_one = completion_logps(model, tokenizer, items, batch_size=1)
    batched = completion_logps(model, tokenizer, items, batch_size=8)
    assert batched == pytest.approx(one_by_one, abs=1e-4)
    assert all(v < 0 for v in batched)


def test_base_against_itself_has_zero_margin(tiny_llama, toy_corpus):
    pairs = build_pairs(toy_corpus, {"legal": "expert"}, "validation")
    result = heldout_margin(str(tiny_llama), str(tiny_llama), pairs, beta=0.1)
    assert result["pairs"] == 2 and result["reward_margin"] == pytest.approx(0.0, abs=1e-6)
    assert result["logp_margin_base"] == pytest.approx(result["logp_margin_trained"], abs=1e-5)
