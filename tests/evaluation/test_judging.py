"""The level classifier judge (issue 23, item 5): real scikit-learn trained on a corpus's train split, scored on
its test split and on the cue probe beside the two-rule cue baseline; judged greedy generations per λ through
the CLI and for a caller holding the model (the demo); the judged columns beside preference in the report."""

from __future__ import annotations

import json

import pytest

from tests.cli_runner import run_meav


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

    from meav.evaluation.report import classifier_markdown

    md = classifier_markdown(rep)
    assert "classifier accuracy" in md and "baseline accuracy" in md and "Confusion on probe" in md


def test_judge_cli_with_the_classifier_writes_shares_per_lambda(llama_pair, toy_corpus, tmp_path, capsys):
    base, _, av = llama_pair
    run = tmp_path / "run"
    r = run_meav(capsys, "eval", "judge", "--base", base, "--av", av, "--dataset", toy_corpus, "--out", run,
                 "--judge", "classifier", "--lambdas", "-1,0,1", "--n", "3", "--max-new-tokens", "8")  # fmt: skip
    assert r.code == 0, r.err
    data = json.loads((run / "judge.json").read_text())
    assert data["decoding"] == "greedy" and data["judge_model"].startswith("classifier")
    assert [j["lambda"] for j in data["judge"]] == [-1.0, 0.0, 1.0]
    test_ids = [row["id"] for row in sorted(_rows(toy_corpus, "test"), key=lambda x: x["id"]) if
                row["domain"] == "medical"]  # fmt: skip
    for j in data["judge"]:
        assert j["n"] == 3 and j["unparsed"] == 0
        assert sum(j["shares"].values()) == pytest.approx(1.0)
        assert [s["id"] for s in j["samples"]] == test_ids[:3]
        assert all(s["label"] in j["shares"] and isinstance(s["response"], str) for s in j["samples"])
    info = data["judge_info"]
    assert info["train_rows"] == 18 and 0.0 <= info["gold_accuracy"]["test"] <= 1.0
    assert "judged Exp" in r.out and "Example answers" in r.out


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ("classifier:/no/such/corpus", "cannot train"),
        ("nosuch:thing", "not a judge"),
        ("model:", "model:<folder>"),
    ],
)
def test_a_bad_judge_spec_is_one_line_naming_judge(llama_pair, toy_corpus, tmp_path, capsys, spec, needle):
    base, _, av = llama_pair
    r = run_meav(capsys, "eval", "judge", "--base", base, "--av", av, "--dataset", toy_corpus,
                 "--out", tmp_path / "run", "--judge", spec)  # fmt: skip
    assert r.code == 2, (r.code, r.out, r.err)
    lines = [x for x in r.err.strip().splitlines() if x.startswith("error:")]
    assert len(lines) == 1 and lines[0].startswith("error: --judge:") and needle in lines[0], r.err
    assert not (tmp_path / "run" / "judge.json").exists()


def test_judge_generations_on_a_loaded_model_leaves_it_at_base(llama_pair, toy_corpus):
    import torch

    from meav.core.av import load
    from meav.core.models import load_for_inference
    from meav.evaluation.classifier import train_classifier
    from meav.evaluation.judging import judge_generations

    base, _, av_dir = llama_pair
    model, tok = load_for_inference(base)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rows = _rows(toy_corpus, "test")[:2]
    clf = train_classifier(toy_corpus)
    out = judge_generations(model, tok, load(av_dir), [0.0, 0.5], rows, clf, 6)
    assert [j["lambda"] for j in out] == [0.0, 0.5]
    assert all([s["id"] for s in j["samples"]] == [r["id"] for r in rows] for j in out)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # θ_base again
    again = judge_generations(model, tok, load(av_dir), [0.0], rows, clf, 6)
    assert again[0]["samples"] == out[0]["samples"]  # greedy: the same answers at the same λ


def test_judge_markdown_puts_judged_beside_preference_with_short_examples():
    from meav.evaluation.report import judge_markdown, preference_shares

    long = " ".join(f"w{i}" for i in range(100))
    samples = [{"id": f"q{i}", "query": "Q?", "response": long, "label": "expert"} for i in range(3)]
    judged = {
        "judge_model": "classifier",
        "judge": [
            {"lambda": lam, "n": 3, "shares": {"avoidance": 0.0, "generic": 0.0, "expert": 1.0}, "unparsed": 0,
             "samples": samples}
            for lam in (0.0, 1.0)
        ],
    }  # fmt: skip
    sweep = {
        "results": [
            {"lambda": 0.0, "domains": {"medical": {"expert": 0.2, "generic": 0.5, "avoidance": 0.3}}}
        ]
    }
    md = judge_markdown(judged, preference_shares(sweep, "medical"))
    table = [line for line in md.splitlines() if line.startswith("| ")]
    assert "pref Exp" in table[0] and "judged Exp" in table[0]
    assert table[1].split(" | ")[2:6] == ["0.20", "0.50", "0.30", "1.00"]  # λ 0: preference, then judged
    assert table[2].split(" | ")[2:5] == ["–", "–", "–"]  # λ 1: no preference row
    examples = [line for line in md.splitlines() if line.startswith("- λ")]
    assert len(examples) == 4 and all(
        len(line.split(": ", 1)[1].split()) == 61 for line in examples
    )  # 60 + …
    assert "pref" not in judge_markdown(judged).splitlines()[2]  # no preference given: no such columns
