"""Scorer mechanics on a tiny model: batched scores = a direct per-sample computation; shares sum to 1."""

from __future__ import annotations

import pytest

from meav.corpus import LEVELS
from vectors.scoring import detect_openers, score_groups, score_one, shares


@pytest.fixture(scope="module")
def tiny(tiny_llama):
    from vectors.evalset import load_model

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


def test_openers_detected_and_excluded(tiny):
    model, tok = tiny
    rows = [{lv: f"Fixed opener here: {i} {lv} body." for lv in LEVELS} for i in range(3)]
    ops = detect_openers(rows)
    assert ops["expert"] == "Fixed opener here: "
    query, response = "Q?", rows[0]["expert"]
    with_opener = score_groups(model, tok, [(query, [response])])[0][0]
    without = score_groups(model, tok, [(query, [response])], openers=[ops["expert"]])[0][0]
    assert with_opener != pytest.approx(without, abs=1e-6)
    assert detect_openers([{"expert": "a b c"}, {"expert": "x y z"}])["expert"] is None
