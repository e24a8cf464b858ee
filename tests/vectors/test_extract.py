"""Extraction and application on disk: exactness at λ = 0 and 1, the AV folder format, shards, dtypes."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from tests.av_helpers import apply_avs, extract_av, make_aligned, state
from tests.cli_runner import run_meav


@pytest.mark.parametrize("pair", ["llama_pair", "qwen_pair"])
def test_lambda_zero_is_base_and_one_is_aligned_bit_exactly(pair, request, tmp_path, capsys):
    base, aligned, av = request.getfixturevalue(pair)
    for lam in ("0", "1"):
        r = run_meav(
            capsys,
            "vectors",
            "apply",
            "--base",
            base,
            "--av",
            f"a={av}",
            "--lambda",
            f"a={lam}",
            "--out",
            tmp_path / lam,
        )
        assert r.code == 0, r.err
    b, a = state(base), state(aligned)
    out0, out1 = state(tmp_path / "0"), state(tmp_path / "1")
    assert set(out0) == set(b) == set(out1)
    assert all(torch.equal(out0[k], b[k]) for k in b)
    assert all(torch.equal(out1[k], a[k]) for k in a)
    assert any(not torch.equal(a[k], b[k]) for k in a)
    assert (tmp_path / "1" / "tokenizer.json").exists() and (tmp_path / "1" / "config.json").exists()
    steering = json.loads((tmp_path / "1" / "meav_steering.json").read_text())
    assert steering["alignment_vectors"][0]["lambda"] == 1.0


def test_av_folder_format_config_and_card(llama_pair, qwen_pair):
    _, _, av = llama_pair
    files = sorted(p.name for p in av.iterdir())
    assert files == [
        "README.md",
        "av-00001-of-00001.safetensors",
        "av.safetensors.index.json",
        "av_config.json",
    ]
    config = json.loads((av / "av_config.json").read_text())
    for key in (
        "base",
        "base_fingerprint",
        "aligned",
        "domain",
        "target",
        "dtype",
        "compression",
        "versions",
    ):
        assert config[key] is not None, key
    assert config["dtype"] == "float64" and config["recommended_lambda"] == {}
    assert set(config["versions"]) == {"meav", "torch", "safetensors"}
    index = json.loads((av / "av.safetensors.index.json").read_text())
    with safe_open(av / "av-00001-of-00001.safetensors", "pt") as f:
        assert set(f.keys()) == set(index["weight_map"])
        assert all(f.get_tensor(k).dtype == torch.float64 for k in f.keys())
    card = (av / "README.md").read_text()
    assert "medical" in card and "expert" in card and "steered(model" in card
    # tied embeddings: recorded once, not stored twice
    _, _, qav = qwen_pair
    qconfig = json.loads((qav / "av_config.json").read_text())
    assert qconfig["tied_weights"] == {"lm_head.weight": "model.embed_tokens.weight"}
    assert "lm_head.weight" not in json.loads((qav / "av.safetensors.index.json").read_text())["weight_map"]


def test_sharded_model_streamed_in_chunks(sharded_pair, tmp_path, monkeypatch):
    from meav.core.av import load
    from meav.core.av import safetensors_stream as ss

    monkeypatch.setattr(ss, "CHUNK_BYTES", 256)  # many chunks per tensor
    base, aligned = sharded_pair
    assert len(list(base.glob("model-*.safetensors"))) > 2
    extract_av(base, aligned, tmp_path / "av", max_shard_size="30KB")
    assert len(list((tmp_path / "av").glob("av-*.safetensors"))) > 1
    av = load(tmp_path / "av")
    apply_avs(base, [(av, 1.0)], tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").glob("*.safetensors")) == sorted(
        p.name for p in base.glob("*.safetensors")
    )
    assert (tmp_path / "out" / "model.safetensors.index.json").read_text() == (
        base / "model.safetensors.index.json"
    ).read_text()
    a, o = state(aligned), state(tmp_path / "out")
    assert all(torch.equal(a[k], o[k]) for k in a)

    # a compressed AV stored in bf16 decodes to float32: its chunks must still line up with the base's

    extract_av(base, aligned, tmp_path / "lr", dtype="bfloat16", rank=2)
    low_rank = load(tmp_path / "lr")
    apply_avs(base, [(low_rank, 0.5)], tmp_path / "lr-out")
    b, o = state(base), state(tmp_path / "lr-out")
    for k in b:
        delta = low_rank.tensor(k).double() if k in low_rank.names() else 0.0
        assert torch.equal(o[k], (b[k].double() + 0.5 * delta).to(b[k].dtype)), k


def test_stored_dtype_bfloat16_is_close(llama_pair, tmp_path):
    from meav.core.av import load

    base, aligned, _ = llama_pair
    config = extract_av(base, aligned, tmp_path / "av", dtype="bfloat16")
    assert config["dtype"] == "bfloat16"
    av = load(tmp_path / "av")
    b, a = state(base), state(aligned)
    for name in av.names():
        d = av.tensor(name)
        assert d.dtype == torch.bfloat16
        torch.testing.assert_close(d.double(), (a[name].double() - b[name].double()), rtol=1e-2, atol=1e-4)


def test_bfloat16_inputs_and_non_float_tensors(tiny_llama, tmp_path):
    """bf16 models: AV in float32; an integer tensor is skipped (recorded) and copied unchanged by apply."""
    from meav.core.av import load

    base = tmp_path / "base"
    base.mkdir()
    for f in tiny_llama.iterdir():
        (base / f.name).write_bytes(f.read_bytes())
    tensors = {k: v.to(torch.bfloat16) for k, v in load_file(base / "model.safetensors").items()}
    tensors["extra.position_ids"] = torch.arange(8)
    save_file(tensors, base / "model.safetensors", metadata={"format": "pt"})
    aligned = make_aligned(base, tmp_path / "aligned", seed=7)
    config = extract_av(base, aligned, tmp_path / "av")
    assert config["dtype"] == "float32" and config["skipped_tensors"] == ["extra.position_ids"]
    apply_avs(base, [(load(tmp_path / "av"), 1.0)], tmp_path / "out")
    a, o = state(aligned), state(tmp_path / "out")
    assert torch.equal(o["extra.position_ids"], torch.arange(8))
    assert all(o[k].dtype == a[k].dtype for k in a)
    # bf16 → the float32 difference of two bf16 values is exact, so λ = 1 is exact here too
    assert all(torch.equal(a[k], o[k]) for k in a)


def test_tied_checkpoint_storing_both_embeddings(tiny_qwen, tmp_path):
    """Some tied checkpoints store lm_head.weight too: the AV keeps one copy, apply fills both."""
    from meav.core.av import load

    folders = {}
    for name, seed in (("base", None), ("aligned", 9)):
        folder = make_aligned(
            tiny_qwen, tmp_path / f"{name}-src", seed=seed or 0, scale=0.0 if seed is None else 0.02
        )
        tensors = load_file(folder / "model.safetensors")
        tensors["lm_head.weight"] = tensors["model.embed_tokens.weight"].clone()
        save_file(tensors, folder / "model.safetensors", metadata={"format": "pt"})
        folders[name] = folder
    config = extract_av(folders["base"], folders["aligned"], tmp_path / "av")
    assert config["tied_weights"] == {"lm_head.weight": "model.embed_tokens.weight"}
    av = load(tmp_path / "av")
    assert "lm_head.weight" not in av.names()
    apply_avs(folders["base"], [(av, 1.0)], tmp_path / "out")
    out, aligned = state(tmp_path / "out"), state(folders["aligned"])
    assert torch.equal(out["lm_head.weight"], aligned["model.embed_tokens.weight"])
    assert all(torch.equal(out[k], aligned[k]) for k in aligned)
