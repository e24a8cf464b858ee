"""The verdict's arithmetic, the control vector and the search log on constructed inputs (fast, no model)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from meav.core.av import AlignmentVector
from meav.core.av.controls import norm_matched_random
from meav.core.av.folders import save_av
from meav.evaluation.fluency import FluencyRule, add_fluency
from meav.evaluation.scoring import shares
from meav.evaluation.search.report import confirmed_text, search_seconds
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
    assert v == {"visible": False, "holds": False, "reason": "λ = 0 and both sides of it must be on the grid"}


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


def test_search_time_counts_every_session_and_names_untimed_evaluations():
    resumed = {"evaluation_s": 1357.4, "evaluations_untimed": 106, "wall_s": 12.0}
    assert search_seconds(resumed) == "1357 s of evaluation (+106 untimed)"  # not the resuming process's 12 s
    assert search_seconds({"evaluation_s": 80.0, "evaluations_untimed": 0}) == "80 s of evaluation"


def test_confirmed_counts_say_when_confirmation_was_off_and_what_the_unedited_model_holds():
    assert (
        confirmed_text({"targets_confirmed": None}) == "not confirmed (confirmation off)"
    )  # not "0 confirmed"
    both = {"targets_confirmed": 3, "targets_confirmed_beyond_unedited": 2}
    assert confirmed_text(both) == "3 confirmed (2 beyond what the unedited model holds)"
    expected = {
        **both,
        "targets_confirmed_expected": 2.4,
        "targets_confirmed_beyond_unedited_bounds": [1.5, 1.6],
    }
    assert confirmed_text(expected).endswith(
        "holds) — over bootstrap resamples of the confirmation queries: 2.4 expected (1.5–1.6 expected beyond the unedited model)"
    )
    joint = {**expected, "targets_confirmed_beyond_unedited_expected": 1.55}
    joint |= {"targets_confirmed_interval": [1, 3], "targets_confirmed_beyond_unedited_interval": [0, 3]}
    assert confirmed_text(joint).endswith(
        "queries: 2.4 expected, 95% of resamples within 1–3 (1.55 expected, 95% of resamples within 0–3 beyond "
        "the unedited model)"
    )


def _fluent_sweep(expert_shift: dict[float, float], damage: dict[float, float], n: int = 30) -> list[dict]:
    """Rows as `_sweep` gives, with every text (levels and neutral) losing `damage[λ]` nats/token."""
    rows = _sweep(expert_shift, 0.05, n)
    neutral = np.random.default_rng(3).normal(-2.5, 0.2, 32)
    for r in rows:
        s = np.asarray(r["scores"]["medical"]) - damage[r["lambda"]]
        r["scores"]["medical"] = s.tolist()
        r["domains"] = {"medical": shares(r["scores"]["medical"])}
        r["neutral"] = (neutral - damage[r["lambda"]]).tolist()
    add_margins(rows, 500)
    add_fluency(rows, 500)
    return rows


def test_a_damaging_knob_orders_its_margins_but_does_not_hold_with_fluency():
    grid = [-2.0, -1.0, 0.0, 0.5, 1.0]
    shift = {-2.0: -0.6, -1.0: -0.3, 0.0: 0.0, 0.5: 0.3, 1.0: 0.6}
    rule = FluencyRule(max_own_drop=0.1, max_neutral_drop=0.25)
    clean = knob_verdict(grid, _fluent_sweep(shift, dict.fromkeys(grid, 0.0)), "medical", rule)
    assert clean["visible"] and clean["holds"]
    assert clean["recommended"]["expert"]["lambda"] == 0.5  # the fluent λ closest to 0 where expert leads
    assert clean["recommended"]["avoidance"]["lambda"] == -1.0
    damaged = {-2.0: 0.5, -1.0: 0.3, 0.0: 0.0, 0.5: 0.3, 1.0: 0.5}  # every text loses ≥ 0.3 away from 0
    broken = knob_verdict(grid, _fluent_sweep(shift, damaged), "medical", rule)
    assert broken["visible"] and not broken["holds"]  # the margins still order: the rule alone would pass it
    assert broken["recommended"]["expert"]["lambda"] is None
    assert broken["recommended"]["expert"]["fluent_at"] == [] and broken["recommended"]["expert"]["why"]
    unmeasured = _fluent_sweep(shift, dict.fromkeys(grid, 0.0))
    for r in unmeasured:  # no neutral texts: only the own-responses rule, and no claim on general fluency
        del r["neutral"]
    add_fluency(unmeasured, 500)
    v = knob_verdict(grid, unmeasured, "medical", rule)
    assert v["holds"] is None and v["recommended"]["expert"]["lambda"] == 0.5


def test_fluency_delta_is_paired_against_lambda_zero_and_reports_perplexity():
    rows = _fluent_sweep({-1.0: 0.0, 0.0: 0.0, 1.0: 0.0}, {-1.0: 0.2, 0.0: 0.0, 1.0: 0.05})
    at = {r["lambda"]: r["fluency_delta"] for r in rows}
    assert at[0.0]["neutral"]["mean"] == 0.0 and at[0.0]["neutral_ppl_ratio"] == 1.0
    assert at[-1.0]["neutral"]["mean"] == pytest.approx(-0.2, abs=1e-6)
    assert at[-1.0]["neutral_ppl_ratio"] == pytest.approx(np.exp(0.2), abs=1e-3)
    lo, hi = at[1.0]["levels"]["medical"]["expert"]["ci95"]
    assert lo <= at[1.0]["levels"]["medical"]["expert"]["mean"] <= hi
