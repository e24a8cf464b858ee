"""The authored reference corpus: its rules hold, the test split is unseen text, it builds into the corpus
contract, its card says what it is, and it publishes and loads through the real Hub clients."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from meav.core.corpus import LEVELS, load_corpus
from meav.dataset_cards import CardOptions, PublishOptions, make_card, publish
from meav.reference import ReferenceOptions, build_reference, check_rows, load_rows
from meav.reference.rules import drawn_paras, heldout_problems, ngrams, opener_problems, row_problems

ROWS = load_rows()


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = build_reference(ReferenceOptions(out=tmp_path_factory.mktemp("reference") / "corpus"))
    make_card(CardOptions(folder=out))
    return out


def test_every_rule_holds_for_the_shipped_files():
    assert check_rows(ROWS) == []


def test_no_test_text_shares_a_word_8gram_with_train_or_validation():
    """Written out here, not through the rule under test: every field of every test row against every field
    of every train and validation row of every domain."""
    fields = ("persona", "query", *LEVELS)
    seen = set().union(
        *(ngrams(r[f]) for rows in ROWS.values() for r in rows if r["split"] != "test" for f in fields)
    )
    for rows in ROWS.values():
        for r in rows:
            if r["split"] == "test":
                for f in fields:
                    assert not ngrams(r[f]) & seen, (r["key"], f)


def test_sizes_per_domain_and_paragraph_counts_drawn_before_writing():
    for domain, rows in ROWS.items():
        splits = [r["split"] for r in rows]
        assert splits.count("train") >= 16 and splits.count("validation") >= 6 and splits.count("test") >= 30
        for r in rows:
            assert r["paras"] == drawn_paras(domain, r["key"])  # a function of the key, not of the text
    draws = [drawn_paras(d, r["key"])[lv] for d, rows in ROWS.items() for r in rows for lv in LEVELS]
    assert set(draws) == {1, 2, 3}


def test_the_rules_catch_what_they_are_for():
    domain, rows = "medical", copy.deepcopy(ROWS["medical"])
    train = next(r for r in rows if r["split"] == "train")
    test = next(r for r in rows if r["split"] == "test")
    test["expert"] = test["expert"] + " " + train["expert"].split(".")[0] + "."  # a copied sentence
    assert any(test["key"] in p for p in heldout_problems(rows))
    bad = dict(
        train, avoidance="Take 400 mg of ibuprofen.", paras={"avoidance": 9, "generic": 1, "expert": 1}
    )
    problems = row_problems(domain, bad)
    assert any("figure" in p for p in problems) and any("draw" in p for p in problems)
    fixed = [dict(r, generic="It is important to note things. " + r["generic"]) for r in rows]
    assert opener_problems(domain, fixed) and not opener_problems(domain, rows)


def test_built_corpus_follows_the_contract(built):
    ds = load_corpus(built, "all")
    assert {s: len(ds[s]) for s in ds} == {"train": 60, "validation": 18, "test": 90}
    assert set(ds["test"]["source"]) == {"authored"}
    medical = load_corpus(built, "medical", split="test")
    assert len(medical) == 30 and len(set(medical["id"])) == 30
    assert not set(ds["train"]["id"]) & set(ds["test"]["id"])
    meta = json.loads((built / "reference_meta.json").read_text())
    assert meta["kind"] == "authored" and meta["license"] == "cc-by-4.0"


def test_card_says_authored_purpose_and_license(built):
    make_card(CardOptions(folder=built, check=True))  # the offline check passes
    card = (built / "README.md").read_text()
    assert "license: cc-by-4.0" in card and "authored for meav" in card
    assert "expert-generated" in card and "no PersonaHub text" in card
    assert "trains the demo's alignment vectors and measures the knob" in card
    longest = json.loads((built / "reference_meta.json").read_text())["longest_level"]
    t = longest["test"]
    assert (
        f"test rows ({t['rows']}): expert {t['expert']}, generic {t['generic']}" in card
    )  # measured, not prose
    assert "expert is the longest response in" in " ".join(card.split())


def test_publish_and_load_from_the_hub(built, hub):
    from datasets import load_dataset

    repo = hub.repo_name("reference")
    result = publish(PublishOptions(folder=built, repo=repo, tag="v1"))
    assert result.changed
    legal = load_dataset(repo, "legal", split="test")
    assert len(legal) == 30 and set(legal["domain"]) == {"legal"}
