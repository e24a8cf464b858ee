"""Preference pairs: orderings per target, conversational form, joint mixed sets, bad corpora."""

from __future__ import annotations

import itertools

import pyarrow.parquet as pq
import pytest

from meav.core.corpus import LEVELS
from meav.core.errors import MeavError
from meav.training.pairs import build_pairs, orderings, pair_counts, parse_joint
from tests.toy_corpus import EXPERT
from tests.training.conftest import corpus_with


def test_orderings_per_target():
    assert orderings("expert") == [("expert", "generic"), ("generic", "avoidance")]
    assert orderings("expert", skip_level=True)[-1] == ("expert", "avoidance")
    assert orderings("avoidance") == [("avoidance", "generic"), ("generic", "expert")]
    assert orderings("avoidance", skip_level=True)[-1] == ("avoidance", "expert")
    assert orderings("generic") == orderings("generic", skip_level=True)
    assert all(chosen == "generic" for chosen, _ in orderings("generic"))
    with pytest.raises(MeavError, match="unknown target level 'master'"):
        orderings("master")


def test_pairs_are_conversational_and_follow_the_target(toy_corpus):
    pairs = build_pairs(toy_corpus, {"medical": "expert"}, "train")
    train_rows = 6  # toy corpus: 10 per domain, 1 validation, 3 test
    assert len(pairs) == 2 * train_rows
    first = pairs[0]
    assert first["prompt"][0]["role"] == "user" and "medical question" in first["prompt"][0]["content"]
    assert first["chosen"] == [{"role": "assistant", "content": EXPERT["medical"]}]
    assert first["rejected"][0]["content"].startswith("Generally speaking")
    assert pair_counts(pairs) == {"medical expert>generic": 6, "medical generic>avoidance": 6}
    assert len(build_pairs(toy_corpus, {"medical": "expert"}, "train", skip_level=True)) == 18
    assert len(build_pairs(toy_corpus, {"medical": "expert"}, "validation")) == 2


def test_avoidance_target_reverses_the_spectrum(toy_corpus):
    pairs = build_pairs(toy_corpus, {"legal": "avoidance"}, "test")
    kinds = set(pairs["pair"])
    assert kinds == {"avoidance>generic", "generic>expert"}
    avoid = [p for p in pairs if p["pair"] == "avoidance>generic"][0]
    assert avoid["chosen"][0]["content"].startswith("I am unable to help")


def test_joint_spec_builds_the_mixed_set(toy_corpus):
    targets = parse_joint("medical=avoidance, financial=expert,legal=generic")
    assert targets == {"medical": "avoidance", "financial": "expert", "legal": "generic"}
    pairs = build_pairs(toy_corpus, targets, "train")
    counts = pair_counts(pairs)
    assert counts == {
        "medical avoidance>generic": 6,
        "medical generic>expert": 6,
        "financial expert>generic": 6,
        "financial generic>avoidance": 6,
        "legal generic>expert": 6,
        "legal generic>avoidance": 6,
    }


def test_all_27_joint_combinations_parse():
    specs = [
        ",".join(f"{d}={t}" for d, t in zip(("medical", "financial", "legal"), combo, strict=True))
        for combo in itertools.product(LEVELS, repeat=3)
    ]
    assert len({tuple(parse_joint(s).items()) for s in specs}) == 27


@pytest.mark.parametrize(
    "spec, message",
    [
        ("medical", "not DOMAIN=LEVEL"),
        ("medical=master", "not DOMAIN=LEVEL"),
        ("a=expert,a=generic", "twice"),
    ],
)
def test_bad_joint_specs(spec, message):
    with pytest.raises(MeavError, match=message):
        parse_joint(spec)


def test_unknown_domain_is_named(toy_corpus):
    with pytest.raises(MeavError, match="'culinary'"):
        build_pairs(toy_corpus, {"culinary": "expert"}, "train")


def test_corpus_missing_a_level_column(tmp_path):
    corpus = corpus_with(tmp_path / "c", lambda row: None)
    for f in (corpus / "data").rglob("*.parquet"):
        table = pq.read_table(f)
        pq.write_table(table.drop(["generic"]), f)
    with pytest.raises(MeavError, match="missing column.*generic"):
        build_pairs(corpus, {"medical": "expert"}, "train")


def test_target_without_pairs(tmp_path):
    corpus = corpus_with(tmp_path / "c", lambda row: row.update(generic=""))
    # target generic needs a generic response in every pair: none left
    with pytest.raises(MeavError, match="no preference pairs for medical=generic"):
        build_pairs(corpus, {"medical": "generic"}, "train")
    # target expert still has expert>... no: both of its pairs involve generic too
    with pytest.raises(MeavError, match="no preference pairs"):
        build_pairs(corpus, {"medical": "expert"}, "train")
    assert len(build_pairs(corpus, {"medical": "expert"}, "train", skip_level=True)) == 4
