"""The vllm engine's adapters, checked on CPU with PEFT: one combined LoRA adapter per λ-vector (A's stacked,
B's scaled by λ) reproduces the steered model's logits, is cached, and AVs without a LoRA form are refused."""

from __future__ import annotations

import pytest
import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer

from meav.core.av import load, steer
from meav.core.errors import MeavError
from meav.serving.adapters import check_lora_form, combined_adapter
from meav.serving.alignment import AlignmentSet


def _alignments(models, suffix: str) -> AlignmentSet:
    return AlignmentSet("base", {n: load(models[n + suffix]) for n in ("medical", "legal")}, (-3.0, 3.0))


def _logits(model, tok) -> torch.Tensor:
    text = tok.apply_chat_template(
        [{"role": "user", "content": "I have a question about my health."}],
        tokenize=False,
        add_generation_prompt=True,
    )
    with torch.inference_mode():
        return model(**tok(text, return_tensors="pt", add_special_tokens=False)).logits[0]


@pytest.mark.parametrize("key", [(("legal", -1.3), ("medical", 0.7)), (("medical", 1.0),)])
def test_combined_adapter_reproduces_the_steered_logits(serve_models, tmp_path, key):
    alignments = _alignments(serve_models, "-2d")
    check_lora_form(alignments)
    adapter = combined_adapter(alignments, key, tmp_path / "cache")
    assert combined_adapter(alignments, key, tmp_path / "cache") == adapter  # built once, then cached
    base = serve_models["base"]
    tok = AutoTokenizer.from_pretrained(base)
    steered = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float64)
    steer(steered, alignments.weights(key))
    peft = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(base, dtype=torch.float64), str(adapter)
    )
    want, got = _logits(steered, tok), _logits(peft, tok)
    plain = _logits(AutoModelForCausalLM.from_pretrained(base, dtype=torch.float64), tok)
    assert (want - plain).abs().max() > 1e-3  # the λ-vector does move the logits
    assert torch.allclose(got, want, atol=1e-5), (got - want).abs().max()  # adapters hold float32 factors


def test_avs_without_a_lora_form_are_refused(serve_models):
    with pytest.raises(MeavError, match="stored dense"):
        check_lora_form(_alignments(serve_models, ""))
    with pytest.raises(MeavError, match="no LoRA form"):
        check_lora_form(_alignments(serve_models, "-lr"))  # norms moved too
