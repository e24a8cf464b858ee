"""The embedded SmolLM2-135M-Instruct: a short run of the shipped CPU recipe moves held-out preferences."""

from __future__ import annotations

from pathlib import Path

import pytest

from meav.training import TrainOptions, train
from meav.training.meta import read_meta

RECIPE = Path(__file__).resolve().parents[2] / "recipes/smollm2-135m-instruct/medical/ipo.yaml"


@pytest.mark.slow
def test_smollm2_short_run_has_positive_heldout_margin(embedded_model, toy_corpus, tmp_path):
    # The shipped recipe for one epoch (3 steps of 4 over the 12 medical toy training pairs; the demo runs
    # its full 10 steps), then the held-out margin on the 6 test pairs, which the model never saw.
    out = train(TrainOptions(recipe=RECIPE, dataset=str(toy_corpus), out=tmp_path / "smol", max_steps=3))
    meta = read_meta(out)
    held = meta["reward_margins"]["heldout"]
    print(f"\nSmolLM2 held-out reward margin: {held}")
    assert meta["base_model"]["id"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert meta["training"]["global_step"] == 3
    assert held["pairs"] == 6
    assert held["reward_margin"] > 0
    assert held["logp_margin_trained"] > held["logp_margin_base"]
