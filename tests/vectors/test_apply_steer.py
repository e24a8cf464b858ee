"""Linearity, mergekit as an oracle, in-place steering without drift, and the base-fingerprint check."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from meav.core.errors import MeavError
from tests.av_helpers import apply_avs, extract_av, state


def test_several_avs_are_linear(llama_pair, llama_pair2, tmp_path):
    from meav.core.av import load

    base, a1, av1 = llama_pair
    _, a2, av2 = llama_pair2
    apply_avs(base, [(load(av1), 0.3), (load(av2), -1.2)], tmp_path / "out")
    b, x1, x2, out = state(base), state(a1), state(a2), state(tmp_path / "out")
    eps = torch.finfo(torch.float32).eps
    for k in b:
        b64 = b[k].double()
        expected = b64 + 0.3 * (x1[k].double() - b64) + -1.2 * (x2[k].double() - b64)
        # summed in float64, rounded once to float32: within half a float32 step of the exact value
        assert ((out[k].double() - expected).abs() <= eps / 2 * expected.abs() + 1e-30).all(), k
    # the in-memory path computes exactly the same weights
    from transformers import AutoModelForCausalLM

    from meav.core.av import steer

    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    steer(model, {load(av1): 0.3, load(av2): -1.2})
    assert all(torch.equal(model.state_dict()[k], out[k]) for k in out)


@pytest.mark.parametrize("arch", ["llama", "qwen"])
def test_equals_mergekit_task_arithmetic(arch, request, tmp_path, llama_pair2):
    """mergekit (LGPL, used only as an oracle through its CLI): task_arithmetic, normalize false, float32."""
    from meav.core.av import load
    from tests.av_helpers import make_aligned

    base, a1, av1 = request.getfixturevalue(f"{arch}_pair")
    a2 = make_aligned(base, tmp_path / "a2", seed=11)
    extract_av(base, a2, tmp_path / "av2")
    (tmp_path / "merge.yml").write_text(
        f"merge_method: task_arithmetic\nbase_model: {base}\nmodels:\n"
        f"  - model: {a1}\n    parameters: {{weight: 0.7}}\n"
        f"  - model: {a2}\n    parameters: {{weight: -0.4}}\n"
        "parameters: {normalize: false}\ndtype: float32\n"
    )
    subprocess.run(
        [
            str(Path(sys.executable).parent / "mergekit-yaml"),
            str(tmp_path / "merge.yml"),
            str(tmp_path / "mk"),
        ],
        check=True,
        capture_output=True,
    )
    apply_avs(base, [(load(av1), 0.7), (load(tmp_path / "av2"), -0.4)], tmp_path / "ours")
    mk, ours = state(tmp_path / "mk"), state(tmp_path / "ours")
    b, x1, x2 = state(base), state(a1), state(a2)
    assert set(ours) <= set(mk)
    eps = torch.finfo(torch.float32).eps
    for k in ours:
        # mergekit evaluates base + Σ w·(m − base) in float32 (a few roundings on operands of size |m|);
        # we sum in float64 and round once: equal within float32 evaluation error of the same formula
        scale = b[k].abs() + 0.7 * x1[k].abs() + 0.4 * x2[k].abs()
        assert ((ours[k] - mk[k]).abs() <= 4 * eps * scale).all(), k


@pytest.mark.parametrize("pair", ["llama_pair", "qwen_pair"])
def test_steer_switches_without_drift_and_resets_bit_exactly(pair, request, tmp_path, llama_pair2):
    from transformers import AutoModelForCausalLM

    from meav.vectors import current_weights, load, steer

    base, aligned, av_dir = request.getfixturevalue(pair)
    av, av_again = load(av_dir), load(av_dir)
    assert av == av_again and hash(av) == hash(av_again) and len({av: 1, av_again: 2}) == 1
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    original = {k: v.clone() for k, v in model.state_dict().items()}
    steer(model, {av: 1.0})
    a = state(aligned)
    assert all(torch.equal(model.state_dict()[k], a[k]) for k in a)
    for lam in [0.3, -1.2, 2.0, 0.1, -0.7] * 4:
        steer(model, {av: lam})
    steer(model, {av: 0.5})
    assert current_weights(model) == {av: 0.5}
    apply_avs(base, [(av, 0.5)], tmp_path / "half")
    half = state(tmp_path / "half")
    assert all(torch.equal(model.state_dict()[k], half[k]) for k in half)
    steer(model, {})
    assert all(torch.equal(model.state_dict()[k], original[k]) for k in original)
    assert current_weights(model) == {}


def test_steer_refuses_another_model_unless_forced(llama_pair, qwen_pair):
    from transformers import AutoModelForCausalLM

    from meav.core.av import load, steer

    base, aligned, av_dir = llama_pair
    av = load(av_dir)
    other = AutoModelForCausalLM.from_pretrained(aligned, dtype=torch.float32)  # same shapes, other weights
    with pytest.raises(MeavError, match="fingerprint"):
        steer(other, {av: 0.5})
    steer(other, {av: 0.5}, force=True)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    with pytest.raises(MeavError, match="embed_tokens|not a floating-point parameter|shape"):
        steer(model, {load(qwen_pair[2]): 1.0})


def test_fast_mode_is_within_float32_rounding(llama_pair):
    from transformers import AutoModelForCausalLM

    from meav.core.av import load, steer

    base, aligned, av_dir = llama_pair
    av = load(av_dir)
    exact = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    fast = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    steer(exact, {av: 0.7})
    steer(fast, {av: 0.7}, exact=False)
    eps = torch.finfo(torch.float32).eps
    b, a = state(base), state(aligned)
    for k in a:  # float32 rounding of the delta (size of the operands) and of the sum
        bound = 2 * eps * (b[k].abs() + a[k].abs())
        assert ((fast.state_dict()[k] - exact.state_dict()[k]).abs() <= bound).all(), k
    steer(fast, {av: 0.7})  # switching mode re-reads the deltas in the wider dtype
    assert all(torch.equal(fast.state_dict()[k], v) for k, v in exact.state_dict().items())


def test_a_bf16_base_loaded_in_float32_is_still_fingerprinted(tiny_llama, tmp_path):
    """Most Hub bases are bf16 and CPU inference loads them in float32: the check must still refuse a wrong base."""
    from transformers import AutoModelForCausalLM

    from meav.core.av import load, steer
    from tests.av_helpers import extract_av, make_aligned

    base = tmp_path / "base-bf16"
    AutoModelForCausalLM.from_pretrained(tiny_llama, dtype=torch.bfloat16).save_pretrained(base)
    for f in Path(tiny_llama).glob("tokenizer*"):
        shutil.copy(f, base / f.name)
    aligned = make_aligned(base, tmp_path / "aligned-bf16", seed=3)
    extract_av(base, aligned, tmp_path / "av", domain="medical", target="expert")
    av = load(tmp_path / "av")
    assert av.config["base_dtype"] == "bfloat16"
    steer(
        AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32), {av: 1.0}
    )  # the right base: accepted
    with pytest.raises(MeavError, match="fingerprint"):
        steer(AutoModelForCausalLM.from_pretrained(aligned, dtype=torch.float32), {av: 1.0})
