"""Compression: low-rank SVD (Eckart–Young error), TIES trim, DARE; stats reported and applied correctly."""

from __future__ import annotations

import math

import pytest
import torch

from meav.core.errors import MeavError
from tests.av_helpers import apply_avs, extract_av, state
from tests.cli_runner import run_meav


def _true_delta(base, aligned):
    b, a = state(base), state(aligned)
    return {k: a[k].double() - b[k].double() for k in b}


def test_low_rank_rank_matches_eckart_young(llama_pair, tmp_path, capsys):
    base, aligned, _ = llama_pair
    r = run_meav(
        capsys,
        "vectors",
        "extract",
        "--base",
        base,
        "--aligned",
        aligned,
        "--out",
        tmp_path / "av",
        "--rank",
        "4",
    )
    assert r.code == 0, r.err
    assert "overall: size ratio" in r.out
    from meav.core.av import load

    av = load(tmp_path / "av")
    comp = av.config["compression"]
    assert comp["method"] == "lowrank" and comp["rank"] == 4 and comp["size_ratio"] < 0.5
    delta = _true_delta(base, aligned)
    name = "model.layers.0.mlp.down_proj.weight"  # 32 × 64
    s = torch.linalg.svdvals(delta[name])
    predicted = math.sqrt(float((s[4:] ** 2).sum() / (s**2).sum()))
    assert comp["per_tensor"][name]["rel_frobenius_error"] == pytest.approx(predicted, rel=1e-6)
    assert av.tensor(name).shape == delta[name].shape and not av.is_dense(name)
    assert torch.linalg.matrix_rank(av.tensor(name)) == 4
    # 1-D tensors stay dense and exact
    assert comp["per_tensor"]["model.norm.weight"]["rel_frobenius_error"] == 0.0
    overall = math.sqrt(
        sum(
            v["rel_frobenius_error"] ** 2 * float((delta[k] ** 2).sum())
            for k, v in comp["per_tensor"].items()
        )
        / sum(float((d**2).sum()) for d in delta.values())
    )
    assert comp["rel_frobenius_error"] == pytest.approx(overall, rel=1e-6)


def test_energy_one_is_lossless_and_apply_uses_decoded_tensors(llama_pair, tmp_path):
    from meav.core.av import load, steer

    base, aligned, _ = llama_pair
    config = extract_av(base, aligned, tmp_path / "av", energy=0.5)
    assert 0 < config["compression"]["rel_frobenius_error"] < 1
    av = load(tmp_path / "av")
    apply_avs(base, [(av, 1.0)], tmp_path / "out")
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    steer(model, {av: 1.0})
    out = state(tmp_path / "out")
    for k in out:  # disk and memory paths decode the same way
        torch.testing.assert_close(model.state_dict()[k], out[k], rtol=0, atol=1e-7)
    lossless = extract_av(base, aligned, tmp_path / "av1", energy=1.0)
    assert lossless["compression"]["rel_frobenius_error"] < 1e-12


def test_trim_keeps_top_magnitudes(llama_pair, tmp_path):
    from meav.core.av import load

    base, aligned, _ = llama_pair
    config = extract_av(base, aligned, tmp_path / "av", trim=10)
    av = load(tmp_path / "av")
    delta = _true_delta(base, aligned)
    name = "model.embed_tokens.weight"
    kept = av.tensor(name)
    n_kept = int((kept != 0).sum())
    assert n_kept == math.ceil(delta[name].numel() * 0.10)
    threshold = delta[name].abs().flatten().kthvalue(delta[name].numel() - n_kept).values
    assert bool((delta[name].abs()[kept != 0] >= threshold).all())
    assert torch.equal(kept[kept != 0], delta[name][kept != 0])
    assert config["compression"]["size_ratio"] == pytest.approx(0.1 * (4 + 8) / 8, rel=0.05)


def test_dare_is_seeded_unbiased_and_rescaled(llama_pair, tmp_path):
    from meav.core.av import load

    base, aligned, _ = llama_pair
    extract_av(base, aligned, tmp_path / "a", dare=0.9, seed=3)
    extract_av(base, aligned, tmp_path / "b", dare=0.9, seed=3)
    extract_av(base, aligned, tmp_path / "c", dare=0.9, seed=4)
    a, b, c = load(tmp_path / "a"), load(tmp_path / "b"), load(tmp_path / "c")
    delta = _true_delta(base, aligned)
    name = "model.embed_tokens.weight"
    ta = a.tensor(name)
    assert torch.equal(ta, b.tensor(name)) and not torch.equal(ta, c.tensor(name))
    mask = ta != 0
    assert abs(float(mask.double().mean()) - 0.1) < 0.02
    torch.testing.assert_close(ta[mask], delta[name][mask] / 0.1, rtol=1e-12, atol=0)
    # unbiased: the kept-and-rescaled sum estimates the full sum
    assert abs(float(ta.sum() - delta[name].sum())) < 4 * math.sqrt(9 * float((delta[name] ** 2).sum()))


def test_conflicting_compression_options_refused(llama_pair, tmp_path, capsys):
    base, aligned, _ = llama_pair
    args = ["vectors", "extract", "--base", base, "--aligned", aligned, "--out", tmp_path / "av"]
    r = run_meav(capsys, *args, "--rank", "2", "--trim", "10")
    assert (
        r.code == 2
        and "choose one compression, not rank and trim" in r.err
        and not (tmp_path / "av").exists()
    )
    with pytest.raises(MeavError, match=r"energy: 1.5: must be in \(0, 1\]"):
        from meav.core.av.codecs import Compression

        Compression(energy=1.5)
