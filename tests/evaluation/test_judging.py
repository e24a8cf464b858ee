"""The level classifier judge (issue 23, item 5): real scikit-learn trained on a corpus's train split, scored on
its test split and on the cue probe beside the two-rule cue baseline."""

from __future__ import annotations

import json


def _rows(corpus, split):
    from meav.core.corpus import load_corpus

    return load_corpus(corpus, "all", split=split).to_list()


def test_classifier_trained_on_toy_train_beats_chance_on_its_test(toy_corpus):
    from meav.evaluation.classifier import CS, NGRAMS, TOKEN_PATTERNS, train_classifier

    clf = train_classifier(toy_corpus)
    assert clf.train_rows == len(_rows(toy_corpus, "train")) == 18
    assert len(clf.candidates) == len(NGRAMS) * len(TOKEN_PATTERNS) * len(CS)  # every setting cross-validated
    assert clf.settings["C"] in CS and clf.cv["grouped_by"] == "row"
    test = _rows(toy_corpus, "test")
    assert clf.accuracy(test) > 1 / 3
    conf = clf.confusion(test)
    assert sum(sum(c.values()) for c in conf.values()) == 3 * len(test)
    assert clf.label([("any query", test[0]["avoidance"]), ("q", test[0]["expert"])]) == [
        "avoidance",
        "expert",
    ]


def test_classifier_report_on_the_reference_test_split_and_the_cue_probe(reference_corpus, tmp_path):
    from meav.evaluation.classifier import classifier_report
    from meav.reference import ProbeOptions
    from meav.reference.cues import cue_baseline_split, cue_level
    from meav.reference.probe import build_probe

    probe = build_probe(ProbeOptions(out=tmp_path / "probe"))
    rep = classifier_report(reference_corpus, probe, baseline=cue_level)
    print(json.dumps({k: rep[k] for k in ("settings", "cv", "train_size")}))
    for key in ("test", "probe"):
        print(key, "classifier", rep[key]["accuracy"], "cue baseline", rep[key]["baseline"]["accuracy"])
        assert 0.0 <= rep[key]["accuracy"] <= 1.0 and 0.0 <= rep[key]["baseline"]["accuracy"] <= 1.0
        assert sum(rep[key]["confusion"][lv][lv] for lv in rep[key]["confusion"]) == round(
            rep[key]["accuracy"] * rep[key]["responses"]
        )
    assert rep["train_rows"] == len(_rows(reference_corpus, "train"))
    assert rep["test"]["rows"] == len(_rows(reference_corpus, "test")) and rep["probe"]["rows"] >= 24
    # the baseline passed in is scored on the same rows as the reference stage scores it
    assert rep["test"]["baseline"]["accuracy"] == cue_baseline_split(reference_corpus)["accuracy"]
    assert rep["probe"]["baseline"]["accuracy"] == cue_baseline_split(probe)["accuracy"]
