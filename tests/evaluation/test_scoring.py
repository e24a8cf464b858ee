"""Scorer mechanics on a tiny model: batched scores = a direct per-sample computation; shares sum to 1."""

from __future__ import annotations

import pytest

from meav.evaluation.scoring import encode_groups, prompt_text, score_groups, score_one, shares


@pytest.fixture(scope="module")
def tiny(tiny_llama):
    from meav.core.models import load_for_inference as load_model

    return load_model(tiny_llama)


GROUPS = [
    (
        "What should I do about my knee?",
        ["I cannot help.", "Generally, rest.", "Take 200 mg of ibuprofen twice daily."],
    ),
    (
        "Index funds?",
        ["No.", "It depends on your situation; ask an advisor.", "Put 15% of income into a fund."],
    ),
    (
        "Deposit back?",
        ["I am unable to help with legal questions.", "Maybe.", "Send a demand letter within 30 days."],
    ),
]


def test_batched_scores_equal_per_sample(tiny):
    model, tok = tiny
    batched = score_groups(model, tok, GROUPS, max_tokens=64)  # small budget: several padded batches
    for (query, responses), row in zip(GROUPS, batched, strict=True):
        for response, got in zip(responses, row, strict=True):
            assert got == pytest.approx(score_one(model, tok, query, response), abs=1e-5)


def test_one_batch_equals_many(tiny):
    model, tok = tiny
    a = score_groups(model, tok, GROUPS, max_tokens=10_000)
    b = score_groups(model, tok, GROUPS, max_tokens=1)
    assert sum(a, []) == pytest.approx(sum(b, []), abs=1e-5)


def test_shares_sum_to_one_and_pick_argmax():
    s = shares([[0.0, -1.0, -2.0], [-3.0, -1.0, -2.0], [-3.0, -2.0, -1.0], [-3.0, -2.0, -0.5]])
    assert sum(s.values()) == pytest.approx(1.0)
    assert s == {"avoidance": 0.25, "generic": 0.25, "expert": 0.5}


def test_each_response_is_scored_after_the_prompt_alone(tiny):
    """log p(response | query), the paper's: the same context for every level (no level-specific opener), and
    the response's first token starts the response (no lone-space token at the boundary)."""
    model, tok = tiny
    items = encode_groups(tok, [("Q?", ["Generally it depends.", "Take 200 mg now."])])
    prompt = tok(prompt_text(tok, "Q?"), add_special_tokens=False)["input_ids"]
    assert [i.context for i in items] == [prompt, prompt]
    for item, text in zip(items, ["Generally it depends.", "Take 200 mg now."], strict=True):
        assert item.target == tok(text, add_special_tokens=False)["input_ids"]
        assert tok.decode(item.target[:1]).strip()
