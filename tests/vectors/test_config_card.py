"""The AV contract used by the evaluation code: load, config, update_av_config, save_av, the card."""

from __future__ import annotations

import shutil

import pytest
import torch
from huggingface_hub import ModelCard

from meav.core.errors import MeavError


def test_update_av_config_rewrites_card(llama_pair, tmp_path):
    from meav.core.av import load
    from meav.core.av.folders import update_av_config

    av_dir = shutil.copytree(llama_pair[2], tmp_path / "av")
    update_av_config(
        av_dir, recommended_lambda={"expert": 0.4, "generic": -0.6, "avoidance": -1.3}, hub_repo="org/med-av"
    )
    av = load(av_dir)
    assert av.config["recommended_lambda"]["avoidance"] == -1.3 and av.path == av_dir.resolve()
    card = ModelCard.load(av_dir / "README.md")
    assert "alignment-vector" in card.data.tags and "medical" in card.data.tags
    assert "| avoidance | -1.3 |" in card.text and 'load("org/med-av")' in card.text
    how_to = card.text.split("```python")[1].split("```")[0]
    compile(how_to, "<card snippet>", "exec")  # runs as written: tests/vectors/test_cards.py executes one
    assert "from meav.core.av import load, steered" in how_to and "with steered(model, {av: 0.4}):" in how_to


def test_save_av_round_trip_and_steer(llama_pair, tmp_path):
    from transformers import AutoModelForCausalLM

    from meav.core.av import load, steer
    from meav.core.av.folders import save_av

    base, _, av_dir = llama_pair
    src = load(av_dir)
    half = {k: (v * 0.5).float() for k, v in src.state_dict().items()}
    save_av(half, {**src.config, "decomposition": {"part": "half"}}, tmp_path / "half", max_shard_size="10KB")
    derived = load(tmp_path / "half")
    assert derived.config["dtype"] == "float32" and derived.config["decomposition"] == {"part": "half"}
    assert len(list((tmp_path / "half").glob("av-*.safetensors"))) > 1
    assert all(torch.equal(derived.tensor(k), half[k]) for k in half)
    a = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    b = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    steer(a, {derived: 1.0})  # fingerprint carried over: same base accepted
    steer(b, {src: 0.5})
    for k, v in a.state_dict().items():
        torch.testing.assert_close(v, b.state_dict()[k], rtol=0, atol=1e-7)
    with pytest.raises(MeavError, match="base"):
        save_av(half, {}, tmp_path / "nobase")


def test_load_refuses_non_av_folder_and_bad_ids(tiny_llama, tmp_path):
    from meav.core.av import load

    with pytest.raises(MeavError, match="av_config.json"):
        load(tiny_llama)
    with pytest.raises(MeavError, match="no such"):
        load(tmp_path / "missing" / "deeper" / "x")
