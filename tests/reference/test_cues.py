"""The surface cues of the levels, measured: the words about length match the data, and the two-rule cue
baseline is high on the reference corpus and at zero on the cue probe (which is what it is built for)."""

from __future__ import annotations

import json
import re

import meav.reference.rules as rules
from meav.core.corpus import LEVELS
from meav.reference import build_probe, build_reference, load_probe, load_rows
from meav.reference.cues import (
    cue_baseline,
    cue_baseline_split,
    cue_level,
    length_facts,
    longest_counts,
    longest_level,
)
from meav.reference.options import ProbeOptions, ReferenceOptions

ROWS = [r for rows in load_rows().values() for r in rows]
TEST = [r for r in ROWS if r["split"] == "test"]


def test_the_two_rules():
    assert cue_level("I'm sorry, that is outside what I can do.") == "avoidance"
    assert cue_level("Take 400 mg with food.") == "expert"
    assert cue_level("Most people improve with rest; you can ask a doctor.") == "generic"
    assert cue_level("I would take 400 mg.") == "avoidance"  # the first rule wins
    assert cue_level("Items ranked in India") == "generic"  # "I" as a word, not a letter


def test_length_counts_and_the_rules_docstring_agree_with_the_files():
    """rules.py states the measured figures; they are recomputed here from the YAML files."""
    test, every = longest_counts(TEST), longest_counts(ROWS)
    assert sum(test[k] for k in (*LEVELS, "tie")) == test["rows"] == len(TEST)
    assert (
        test["expert"] > test["rows"] / 2 and every["expert"] > every["rows"] / 2
    )  # expert is longest in most
    doc = " ".join(rules.__doc__.split())
    m = re.search(r"expert is the longest answer in (\d+) of (\d+) test rows and in (\d+) of (\d+) rows", doc)
    assert m, "rules.py no longer states the measured length figures"
    assert tuple(map(int, m.groups())) == (test["expert"], test["rows"], every["expert"], every["rows"])
    assert "so length carries no level signal" not in " ".join(rules.drawn_paras.__doc__.split())
    facts = length_facts(TEST)["mean_words"]
    assert facts["avoidance"] < facts["generic"] < facts["expert"]


def test_longest_level_names_ties():
    row = {"avoidance": "one two three", "generic": "one two three", "expert": "one"}
    assert longest_level(row) == "tie" and longest_level({**row, "generic": "a b c d"}) == "generic"


def test_cue_baseline_is_high_on_the_corpus_and_nil_on_the_probe():
    ref = cue_baseline(TEST)
    assert ref["responses"] == 3 * len(TEST) and ref["accuracy"] >= 0.9  # the cues label nearly everything
    probe = cue_baseline([r for rows in load_probe().values() for r in rows])
    assert probe["accuracy"] <= probe["chance"] and probe["rows_all_correct"] == 0


def test_cue_baseline_on_built_splits_and_in_the_metadata(tmp_path):
    ref = build_reference(ReferenceOptions(out=tmp_path / "ref"))
    assert cue_baseline_split(ref, "test") == cue_baseline(TEST)
    assert cue_baseline_split(ref, "test", config="legal") == cue_baseline(
        [r for r in TEST if r["key"].startswith("legal-")]
    )
    meta = json.loads((ref / "reference_meta.json").read_text())
    assert meta["cue_baseline"]["test"] == cue_baseline(TEST)
    assert meta["longest_level"] == {"all": longest_counts(ROWS), "test": longest_counts(TEST)}
    probe = build_probe(ProbeOptions(out=tmp_path / "probe"))
    assert cue_baseline_split(probe, "test")["accuracy"] == 0.0
