"""The embedded SmolLM2-135M-Instruct trained with the shipped CPU recipe (4 of its 8 steps: CI time) on the
reference corpus: the paper's loss (IPO, β = 0.1, whose first value on per-token averaged log-probs is exactly
25), every pair whole (no response cut at max_length), and the run recorded. What it learned is measured on
unseen queries by tests/evaluation/test_knob.py, from the same model."""

from __future__ import annotations

import pytest

from meav.training.meta import read_meta


@pytest.mark.slow
def test_smollm2_trains_on_whole_reference_pairs(reference_medical_model):
    meta = read_meta(reference_medical_model)
    assert meta["training"]["global_step"] == meta["recipe"]["dpo"]["max_steps"] == 4
    assert meta["losses"]["train_loss"][0][1] == pytest.approx(25.0)
    assert meta["pairs"]["train"] == 40 and meta["pairs"]["truncated"]["pairs"] == 0
    assert (
        meta["dataset"]["configs"] == ["medical"]
        and meta["base_model"]["id"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    )
