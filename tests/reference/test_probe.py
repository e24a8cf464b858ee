"""The cue probe: its rules hold and catch what they are for, and it builds into the corpus contract."""

from __future__ import annotations

import copy
import json

import pytest

from meav.core.corpus import SPLITS, load_corpus
from meav.core.errors import MeavError, OptionError
from meav.reference import ProbeOptions, build_probe, load_probe, load_rows, probe_problems
from meav.reference.build import contract_row
from meav.reference.probe import overlap_problems, rotation_problems, row_problems

PROBE = load_probe()
CORPUS = load_rows()


def test_every_probe_rule_holds_for_the_shipped_files():
    assert probe_problems(PROBE, CORPUS) == []
    assert {d: len(rows) for d, rows in PROBE.items()} == {"medical": 8, "financial": 8, "legal": 8}


def test_the_probe_rules_catch_what_they_are_for():
    row = copy.deepcopy(PROBE["medical"][0])
    assert row_problems("medical", row) == []
    bad = dict(
        row,
        avoidance="Sorry, I can't help. " + row["avoidance"],
        expert=row["expert"] + " Take 200 mg.",
        generic=row["generic"].replace("you", "one").replace("You", "One").replace("1 to 2", "one or two"),
    )
    problems = " | ".join(row_problems("medical", bad))
    assert "first person" in problems and "expert contains a digit" in problems
    assert "'you'" in problems and "no general figure" in problems
    long = dict(row, expert=row["expert"] + " " + row["expert"])
    assert any("differ by more than" in p for p in row_problems("medical", long))
    assert any("key must start" in p for p in row_problems("medical", dict(row, key="medical-test-99")))
    same = [
        dict(r, expert=r["expert"] + " " + r["expert"]) for r in PROBE["medical"]
    ]  # expert always longest
    assert any("expert is the longest in 8 of 8" in p for p in rotation_problems("medical", same))
    train = next(r for r in CORPUS["medical"] if r["split"] == "train")
    copied = dict(row, generic=row["generic"] + " " + train["generic"])
    assert overlap_problems([copied], [train])


def test_missing_probe_domain_is_an_option_error():
    with pytest.raises(OptionError, match="no probe file"):
        load_probe(["astrology"])


def test_built_probe_loads_through_the_corpus_contract(tmp_path):
    out = build_probe(ProbeOptions(out=tmp_path / "probe"))
    ds = load_corpus(out, "all")
    assert {s: len(ds[s]) for s in ds} == {s: 24 for s in SPLITS}  # every split the same rows
    assert sorted(ds["train"]["id"]) == sorted(ds["test"]["id"])
    legal = load_corpus(out, "legal", split="test")
    assert len(legal) == 8 and set(legal["domain"]) == {"legal"} and set(legal["source"]) == {"authored"}
    assert set(legal["persona_collection"]) == {"meav-cue-probe"}
    assert {f"num_paras_{lv}" for lv in ("avoidance", "generic", "expert")} <= set(legal.column_names)
    reference_ids = {contract_row(d, r)["id"] for d, rows in CORPUS.items() for r in rows}
    assert not set(ds["test"]["id"]) & reference_ids  # no probe query is a corpus query
    meta = json.loads((out / "probe_meta.json").read_text())
    assert meta["kind"] == "cue-probe" and meta["license"] == "cc-by-4.0"
    assert meta["cue_baseline"]["accuracy"] == 0.0
    assert meta["longest_level"] == {"avoidance": 8, "generic": 8, "expert": 8, "tie": 0, "rows": 24}


def test_a_broken_probe_is_not_built(tmp_path, monkeypatch):
    import meav.reference.probe as probe

    broken = copy.deepcopy(PROBE)
    broken["legal"][0]["avoidance"] = "I cannot help with this."
    monkeypatch.setattr(probe, "load_probe", lambda domains: broken)
    with pytest.raises(MeavError, match="cue probe: .* rule"):
        probe.build_probe(ProbeOptions(out=tmp_path / "probe"))
    assert not (tmp_path / "probe").exists()


def test_cli_check_and_build_probe(tmp_path):
    from typer.testing import CliRunner

    from meav.reference.cli import app

    runner = CliRunner()
    checked = runner.invoke(app, ["check"])
    assert checked.exit_code == 0, checked.output
    assert "cue probe and neutral text: every rule holds" in checked.output
    built = runner.invoke(app, ["build-probe", "--out", str(tmp_path / "probe"), "--domain", "financial"])
    assert built.exit_code == 0, built.output
    assert len(load_corpus(tmp_path / "probe", "financial", split="test")) == 8
