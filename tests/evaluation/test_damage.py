"""The damage-matched control on the tiny model: a random direction scaled until its neutral-text damage
equals a target, and the sweep that carries it."""

from __future__ import annotations

from pathlib import Path

import pytest

from meav.core.av import load, steer
from meav.core.av.controls import norm_matched_random
from meav.evaluation.damage import match_damage
from meav.evaluation.evalset import open_evaluator

NEUTRAL = Path(__file__).resolve().parents[2] / "reference_corpus" / "neutral.yaml"


def test_a_random_direction_is_scaled_to_the_target_damage(llama_pair, toy_corpus, tmp_path):
    base, _, av_dir = llama_pair
    ev = open_evaluator(str(base), str(toy_corpus), max_queries=1, domains=["medical"], neutral=NEUTRAL)
    direction = load(norm_matched_random(load(av_dir), tmp_path / "control", seed=0))
    before = ev.neutral_scores()
    steer(ev.model, {direction: 5.0}, force=True)  # a model left steered (the previous end's row) on entry
    m = match_damage(ev, direction, 1.0, -0.05)
    assert m["matched"] and m["trace"], m
    best = min(m["trace"], key=lambda t: abs(t["neutral_delta"] + 0.05))
    assert best["factor"] == m["factor"] and best["neutral_delta"] == pytest.approx(-0.05, rel=0.1)
    assert ev.neutral_scores() == before  # the model is back at its base
    assert match_damage(ev, direction, 1.0, -0.001)["trace"] == []  # no damage to match: factor 1, no search
