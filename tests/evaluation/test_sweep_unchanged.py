"""The restructured evaluation computes what the code before it did: a sweep with a control and baselines on
the tiny Llama AV and the toy corpus, against the numbers the previous code (commit 26ba96d, evaluation/knob.py)
wrote for the same inputs (data/sweep-before-restructure.json). What the knob issue redefined on purpose is
left out: the recommended λ (now: closest to 0 where a level leads with its margin above 0 and fluency holds)
and the verdict's new keys (each level's recommendation, `holds`); every score, share, margin, interval,
dominance range and margin-order verdict must be the same."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from meav.evaluation.options import SweepOptions
from meav.evaluation.sweep import sweep

BEFORE = Path(__file__).parent / "data" / "sweep-before-restructure.json"
ROW_KEYS = ("lambda", "domains", "scores", "margins")
NEW_VERDICT_KEYS = ("recommended", "holds", "expert_rises", "avoidance_rises")
NEW_ROW_KEYS = ("fluency", "fluency_delta")


def test_sweep_numbers_equal_the_previous_codes(llama_pair, toy_corpus, tmp_path):
    base, _, av = llama_pair
    data = sweep(
        SweepOptions(base=str(base), av=str(av), dataset=str(toy_corpus), out=tmp_path / "run",
                     lambdas="-2,-0.5,0,1", control=True, baselines="default,prompting", resamples=200)
    )  # fmt: skip
    now = {
        k: data[k] for k in ("lambdas", "dominant", "ranges", "recommended_lambda", "verdict", "baselines")
    }
    now["results"] = [{k: r[k] for k in ROW_KEYS} for r in data["results"]]
    now["control"] = {
        "verdict": data["control"]["verdict"],
        "results": [{k: r[k] for k in ROW_KEYS} for r in data["control"]["results"]],
    }
    before = json.loads(BEFORE.read_text())
    del before["recommended_lambda"]
    now.pop("recommended_lambda", None)
    for run in (now, now["control"]):
        run["verdict"] = {
            d: {k: x for k, x in v.items() if k not in NEW_VERDICT_KEYS} for d, v in run["verdict"].items()
        }
    for b in now["baselines"]:
        for k in NEW_ROW_KEYS:
            b.pop(k, None)
    assert _differences(json.loads(json.dumps(now)), before) == []


def _differences(a, b, where: str = "") -> list[str]:
    """Paths where two JSON trees differ (numbers within 1e-9 relative count as equal)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{where}: keys {sorted(a)} vs {sorted(b)}"]
        return [x for k in a for x in _differences(a[k], b[k], f"{where}.{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{where}: {len(a)} vs {len(b)} items"]
        return [
            x for i, (p, q) in enumerate(zip(a, b, strict=True)) for x in _differences(p, q, f"{where}[{i}]")
        ]
    if isinstance(a, float | int) and isinstance(b, float | int) and not isinstance(a, bool):
        return [] if a == pytest.approx(b, rel=1e-9, abs=1e-12) else [f"{where}: {a} vs {b}"]
    return [] if a == b else [f"{where}: {a!r} vs {b!r}"]
