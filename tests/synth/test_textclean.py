import pytest

from meav.core.corpus import row_id
from meav.core.errors import MeavError
from meav.synth.split import assign_split, split_rows
from meav.synth.textclean import (
    level_mismatch,
    near_duplicates,
    normalize_query,
    normalize_response,
    truncate_paragraphs,
)


def test_normalize_response_removes_markdown_and_preamble():
    raw = "Sure, here is my answer:\n# Advice\n- **Take** rest.\n- Drink water.\n\n\n1. See a doctor."
    assert normalize_response(raw) == "Take rest. Drink water.\n\nSee a doctor."


def test_normalize_query_strips_labels_and_quotes():
    assert normalize_query('Query: "I am 41 and have migraines."') == "I am 41 and have migraines."


def test_truncate_keeps_whole_paragraphs_and_drops_a_cut_tail():
    text = "One two three.\n\nFour five six.\n\nSeven eight nine.\n\nTen eleven and then the token budget ran"
    assert truncate_paragraphs(text, max_paras=2, max_words=100) == "One two three.\n\nFour five six."
    assert truncate_paragraphs(text, max_paras=9, max_words=100) == (
        "One two three.\n\nFour five six.\n\nSeven eight nine."
    )
    assert truncate_paragraphs(text, max_paras=9, max_words=4) == "One two three."


def test_level_mismatch_detects_the_easy_cases():
    assert level_mismatch("expert", "I'm sorry, I am unable to assist with that.") == "expert_only_refuses"
    assert (
        level_mismatch("avoidance", "Take 200 mg of ibuprofen twice a day.") == "avoidance_gives_no_refusal"
    )
    assert level_mismatch("avoidance", "I am unable to help; please consult a doctor.") is None
    assert level_mismatch("expert", "Take 200 mg of ibuprofen twice a day with food.") is None


def test_near_duplicates_finds_exact_and_near_copies():
    texts = [
        "I have had a persistent pain in my left knee for three weeks after running the city marathon in May",
        "I have had a persistent pain in my left knee for three weeks after running the city marathon in June",
        "i have had a persistent pain in my left knee for three weeks after running the city marathon in may!",
        "My landlord kept the deposit of 1200 dollars although I left the flat clean and on time",
    ]
    assert near_duplicates(texts, threshold=0.7) == [None, 0, 0, None]


def test_split_is_stable_and_close_to_the_fractions():
    ids = [row_id("medical", f"query number {i}") for i in range(4000)]
    splits = [assign_split(i, 0.2, 0.03) for i in ids]
    assert splits == [assign_split(i, 0.2, 0.03) for i in ids]  # a pure function of the id
    share = {s: splits.count(s) / len(splits) for s in ("train", "validation", "test")}
    assert abs(share["test"] - 0.2) < 0.03
    assert abs(share["validation"] - 0.8 * 0.03) < 0.01
    assert row_id("medical", "Hello,  World") == row_id("medical", "hello world")


def test_a_tiny_domain_still_gets_every_split_whatever_the_hashes():
    for seed in range(200):  # ids hash anywhere: all into test, none into train, ...
        rows = [{"id": f"{seed}-{i}", "domain": "medical"} for i in range(3)]
        by_split = split_rows(rows, ["medical"], 0.34, 0.03)
        assert {s: len(r) for s, r in by_split.items()} == {"train": 1, "validation": 1, "test": 1}
    with pytest.raises(MeavError, match="'medical': too few rows"):
        split_rows(rows[:2], ["medical"], 0.34, 0.03)
