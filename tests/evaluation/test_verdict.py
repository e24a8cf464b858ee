"""The verdict's arithmetic, the control vector and the search log on constructed inputs (fast, no model)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from meav.core.av import AlignmentVector
from meav.core.av.folders import save_av
from meav.core.errors import MeavError, OptionError
from meav.evaluation.control import norm_matched_random
from meav.evaluation.multidomain import EvalLog, hold
from meav.evaluation.report import confirmed_text, search_seconds
from meav.evaluation.verdict import add_margins, interval, knob_verdict, margins

# LEVELS order is avoidance, generic, expert


def test_margin_is_the_level_minus_the_best_other():
    scores = [[-1.0, -2.0, -0.5], [-0.2, -3.0, -0.9]]
    assert margins(scores, "expert").tolist() == pytest.approx([0.5, -0.7])
    assert margins(scores, "avoidance").tolist() == pytest.approx([-0.5, 0.7])
    assert margins(scores, "generic").tolist() == pytest.approx([-1.5, -2.8])


def test_the_bootstrap_interval_holds_the_mean_and_narrows_with_more_queries():
    rng = np.random.default_rng(1)
    widths = []
    for n in (10, 1000):
        values = rng.normal(0.3, 1.0, n)
        idx = np.random.default_rng(0).integers(0, n, size=(2000, n))
        stats = interval(values, idx)
        lo, hi = stats["ci95"]
        assert lo < stats["mean"] < hi
        widths.append(hi - lo)
    assert widths[1] < widths[0] / 5  # ~1/sqrt(n): 10× narrower for 100× the queries


def _sweep(expert_shift: dict[float, float], noise: float, n: int = 30) -> list[dict]:
    """Sweep rows whose expert score moves by `expert_shift[λ]` and avoidance by minus that."""
    rng = np.random.default_rng(0)
    base = rng.normal(-2.0, 0.1, size=(n, 3))
    rows = []
    for lam, shift in expert_shift.items():
        s = base + rng.normal(0, noise, size=base.shape)
        s[:, 2] += shift
        s[:, 0] -= shift
        rows.append({"lambda": lam, "scores": {"medical": s.tolist()}})
    add_margins(rows, 500)
    return rows


def test_a_clear_monotone_effect_is_visible_and_noise_is_not():
    grid = [-2.0, 0.0, 1.0]
    visible = knob_verdict(grid, _sweep({-2.0: -0.6, 0.0: 0.0, 1.0: 0.6}, 0.05), "medical")
    assert visible["visible"] and visible["expert_ordered"] and visible["avoidance_ordered"]
    flat = knob_verdict(grid, _sweep({-2.0: 0.0, 0.0: 0.0, 1.0: 0.0}, 0.05), "medical")
    assert not flat["visible"]
    one_sided = knob_verdict(grid, _sweep({-2.0: 0.0, 0.0: 0.0, 1.0: 0.6}, 0.05), "medical")
    assert not one_sided["visible"] and not one_sided["expert_ordered"]


@pytest.mark.parametrize("grid", [[0.0, 1.0, 2.0], [-1.0, 1.0], [-2.0, -1.0, 0.0]])
def test_the_verdict_says_why_when_the_grid_cannot_carry_it(grid):
    rows = _sweep(dict.fromkeys(grid, 0.0), 0.05)
    v = knob_verdict(grid, rows, "medical")
    assert v == {"visible": False, "reason": "λ = 0 and both sides of it must be on the grid"}


def test_the_control_keeps_every_tensor_norm_and_is_redone_for_a_new_av(tmp_path):
    gen = torch.Generator().manual_seed(0)
    tensors = {"a.weight": torch.randn(8, 4, generator=gen), "b.weight": 3 * torch.randn(5, generator=gen)}
    av = AlignmentVector(save_av(tensors, {"base": "toy", "domain": "medical"}, tmp_path / "av"))
    control = AlignmentVector(norm_matched_random(av, tmp_path / "control", seed=7))
    for name, t in tensors.items():
        c = control.tensor(name, torch.float32)
        assert c.shape == t.shape and torch.isclose(c.norm(), t.norm(), rtol=1e-5)
        assert torch.nn.functional.cosine_similarity(c.flatten(), t.flatten(), dim=0).abs() < 0.9
    first = control.tensor("a.weight", torch.float32)
    save_av({k: -v for k, v in tensors.items()}, {"base": "toy", "domain": "medical"}, tmp_path / "av2")
    (tmp_path / "av").rename(tmp_path / "old")
    (tmp_path / "av2").rename(tmp_path / "av")  # retrained in place: the marker no longer matches
    again = AlignmentVector(
        norm_matched_random(AlignmentVector(tmp_path / "av"), tmp_path / "control", seed=7)
    )
    assert again.config["control"]["weights"] != control.config["control"]["weights"]
    assert torch.equal(again.tensor("a.weight", torch.float32), first)  # same seed, same norms: same draw


def test_the_search_log_drops_a_cut_line_and_refuses_another_search(tmp_path):
    path = tmp_path / "evals.jsonl"
    log = EvalLog(path, {"search": 1})
    log.put("0,0", {"medical": {"expert": 0.5}})
    log.put("1,0", {"medical": {"expert": 0.7}})
    with open(path, "ab") as f:
        f.write(b'{"key": "2,0", "sha')  # a kill in the middle of an append
    again = EvalLog(path, {"search": 1})
    assert again.get("1,0") == {"medical": {"expert": 0.7}} and again.get("2,0") is None
    again.put("2,0", {"medical": {"expert": 0.9}})
    lines = path.read_text().splitlines()
    assert len(lines) == 4 and json.loads(lines[-1])["key"] == "2,0"
    with pytest.raises(OptionError, match="another search"):
        EvalLog(path, {"search": 2})
    with open(path, "a") as f:
        f.write("{not json}\n")  # a complete but corrupt line: named, not a traceback
    with pytest.raises(MeavError, match=r"evals.jsonl line 5: not JSON"):
        EvalLog(path, {"search": 1})


def test_the_search_log_counts_seconds_over_sessions_and_resumes_from_another_checkout(tmp_path):
    path = tmp_path / "evals.jsonl"
    first = EvalLog(
        path, {"avs": {"medical": "/a/av"}, "dataset": "/a/corpus", "av_files": {"medical": "f1"}}
    )
    first.put("0", {"medical": {"expert": 0.5}}, seconds=2.0)
    first.put("1", {"medical": {"expert": 0.5}})  # a log written before per-evaluation times were recorded
    first.put("9", {"medical": {"expert": 0.1}}, seconds=100.0)  # another run's point, never asked for again
    moved = {"avs": {"medical": "/b/av"}, "dataset": "/b/corpus", "av_files": {"medical": "f1"}}
    again = EvalLog(path, moved)  # the same AV content elsewhere: the same search
    assert again.get("0") and again.get("0") and again.get("1")  # asked twice, counted once
    again.put("2", {"medical": {"expert": 0.9}}, seconds=3.5)
    assert again.timing() == (5.5, 1) and again.reused == 2  # "0" and "1", each counted once
    with pytest.raises(OptionError, match="another search"):
        EvalLog(path, {**moved, "av_files": {"medical": "f2"}})  # other AV content: refused


def test_one_search_per_log_at_a_time(tmp_path):
    log = tmp_path / "search-grid.evaluations.jsonl"
    holder = subprocess.Popen(  # another process holding the run, then killed with kill -9
        [sys.executable, "-c", "import sys, time\nfrom pathlib import Path\n"
         "from meav.evaluation.multidomain import hold\nwith hold(Path(sys.argv[1])):\n"
         "    print('held', flush=True)\n    time.sleep(600)", str(log)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(OptionError, match="being written by another running search"), hold(log):
            pass
    finally:
        holder.kill()
        holder.wait()
    with hold(log):  # the kernel dropped the dead holder's lock
        pass


def test_the_search_log_names_what_differs_and_fingerprints_the_knobs(tmp_path):
    path = tmp_path / "evals.jsonl"
    legacy = {"av_files": {"medical": "f1"}, "decompose": "orthogonal"}  # written before knob fingerprints
    EvalLog(path, legacy).put("0", {"medical": {"expert": 0.5}}, seconds=1.0)
    resumed = EvalLog(path, {**legacy, "knob_files": {"medical": "k1"}})  # matched on what it records
    assert resumed.get("0") == {"medical": {"expert": 0.5}}
    new = tmp_path / "new.jsonl"
    EvalLog(new, {**legacy, "knob_files": {"medical": "k1"}}).put("0", {"medical": {"expert": 0.5}})
    with pytest.raises(OptionError, match=r"another search \(knob_files differ\)"):
        EvalLog(new, {**legacy, "knob_files": {"medical": "k2"}})  # the decomposition changed: refused
    with pytest.raises(OptionError, match=r"\(decompose, knob_files differ\)"):
        EvalLog(new, {"av_files": {"medical": "f1"}, "decompose": "svd", "knob_files": {"medical": "k2"}})


def test_search_time_counts_every_session_and_names_untimed_evaluations():
    resumed = {"evaluation_s": 1357.4, "evaluations_untimed": 106, "wall_s": 12.0}
    assert search_seconds(resumed) == "1357 s of evaluation (+106 untimed)"  # not the resuming process's 12 s
    assert search_seconds({"evaluation_s": 80.0, "evaluations_untimed": 0}) == "80 s of evaluation"
    assert search_seconds({"wall_s": 190.3}) == "190 s wall"  # a table written before evaluations were timed


def test_confirmed_counts_say_when_confirmation_was_off_and_what_the_unedited_model_holds():
    assert (
        confirmed_text({"targets_confirmed": None}) == "not confirmed (confirmation off)"
    )  # not "0 confirmed"
    both = {"targets_confirmed": 3, "targets_confirmed_beyond_unedited": 2}
    assert confirmed_text(both) == "3 confirmed (2 beyond what the unedited model holds)"
    assert confirmed_text({"targets_confirmed": 3}) == "3 confirmed"  # a run logged before the reference
    expected = {
        **both,
        "targets_confirmed_expected": 2.4,
        "targets_confirmed_beyond_unedited_expected": [1.5, 1.6],
    }
    assert confirmed_text(expected).endswith(
        "holds) — expected over bootstrap resamples of the confirmation queries: 2.4 (1.5–1.6 beyond the unedited model)"
    )
