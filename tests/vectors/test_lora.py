"""`meav vectors to-lora`: a PEFT adapter that reproduces base + λ·AV (full rank) on the tiny models."""

from __future__ import annotations

import json

import pytest
import torch

from meav.core.errors import MeavError
from tests.av_helpers import logits
from tests.cli_runner import run_meav


@pytest.mark.parametrize("pair", ["llama_pair2", "qwen_pair"])
def test_full_rank_lora_reproduces_steered_logits(pair, request, tmp_path, capsys):
    from peft import PeftModel
    from peft.helpers import rescale_adapter_scale
    from transformers import AutoModelForCausalLM

    from meav.core.av import load, steer

    base, _, av_dir = request.getfixturevalue(pair)
    r = run_meav(capsys, "vectors", "to-lora", av_dir, "--out", tmp_path / "lora")
    assert r.code == 0, r.err
    assert (tmp_path / "lora" / "adapter_config.json").exists()
    assert (tmp_path / "lora" / "adapter_model.safetensors").exists()
    peft_model = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32), tmp_path / "lora"
    )
    steered = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    av = load(av_dir)
    plain = logits(steered)
    for lam in (1.0, 0.5, -1.0):
        steer(steered, {av: lam})
        with rescale_adapter_scale(peft_model, lam):
            got = logits(peft_model)
        want = logits(steered)
        torch.testing.assert_close(got, want, rtol=0, atol=1e-5)
        assert (want - plain).abs().max() > 1e-3  # the AV does move the logits


def test_low_rank_lora_reports_energy_and_strict_refuses_norms(llama_pair, tmp_path):
    from meav.vectors import LoraOptions, to_lora

    av = str(llama_pair[2])  # norms were moved too: they have no LoRA form
    report = to_lora(LoraOptions(av=av, out=tmp_path / "lora", rank=2))
    assert 0 < report["energy_kept"] < 1 and report["dropped_energy_share"] > 0
    assert "model.norm.weight" in report["dropped_tensors"]
    cfg = json.loads((tmp_path / "lora" / "adapter_config.json").read_text())
    assert cfg["r"] == 2 and cfg["lora_alpha"] == 2
    with pytest.raises(MeavError, match="no LoRA form"):
        to_lora(LoraOptions(av=av, out=tmp_path / "strict", strict=True))
    assert not (tmp_path / "strict").exists()
