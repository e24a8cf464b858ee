"""`meav vectors publish` through the shared publisher and the real huggingface_hub client (Hub test server)."""

from __future__ import annotations

import shutil

import torch

from tests.av_helpers import state
from tests.cli_runner import run_meav


def test_publish_then_load_and_steer_from_the_hub(hub, llama_pair, tmp_path, capsys):
    from huggingface_hub import ModelCard
    from transformers import AutoModelForCausalLM

    from meav.core.av import load, steer

    base, aligned, av_src = llama_pair
    av_dir = shutil.copytree(av_src, tmp_path / "av")
    repo = hub.repo_name("av")
    before = {f.name: f.read_bytes() for f in av_dir.iterdir()}
    r = run_meav(
        capsys, "vectors", "publish", av_dir, "--repo", repo, "--tag", "v1", "--dtype", "exact",
        "--base-id", "org/tiny-llama",
    )  # fmt: skip
    assert r.code == 0, r.err
    assert repo in r.out and hub.token not in r.out + r.err
    assert {f.name: f.read_bytes() for f in av_dir.iterdir()} == before  # the release is a copy
    av = load(repo)  # snapshot_download from the server
    assert av.source == repo and av.name == repo and av.config["hub_repo"] == repo
    assert av.config["base_id"] == "org/tiny-llama" and av.config["dtype"] == "float64"
    card = ModelCard.load(av.path / "README.md")
    assert f'load("{repo}")' in card.text and "medical" in card.data.tags
    assert load(repo, revision="v1").config["base_fingerprint"] == av.config["base_fingerprint"]
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    steer(model, {av: 1.0})
    a = state(aligned)
    assert all(torch.equal(model.state_dict()[k], a[k]) for k in a)


def test_publish_refuses_a_folder_that_is_not_an_av(hub, tiny_llama, capsys):
    r = run_meav(capsys, "vectors", "publish", tiny_llama, "--repo", hub.repo_name("x"))
    assert r.code == 1 and "av_config.json" in r.err and len(r.err.strip().splitlines()) == 1


def test_failed_publish_leaves_the_folder_as_it_was(hub, llama_pair, tmp_path, capsys, monkeypatch):
    _, _, av_src = llama_pair
    av_dir = shutil.copytree(av_src, tmp_path / "av")
    before = {f.name: f.read_bytes() for f in av_dir.iterdir()}
    monkeypatch.setenv("HF_TOKEN", "hf_wrong")  # the test server answers 401
    r = run_meav(capsys, "vectors", "publish", av_dir, "--repo", hub.repo_name("denied"), "--base-id", "o/b")
    assert r.code == 1 and len(r.err.strip().splitlines()) == 1, r.err
    assert {f.name: f.read_bytes() for f in av_dir.iterdir()} == before


def test_release_defaults_to_the_base_dtype_with_its_measured_error(llama_pair, tmp_path, capsys):
    """A float32 base's AV is stored exactly in float64; the default release is float32 (half the bytes),
    bfloat16 a quarter, each with its max abs and relative Frobenius error in the config, card and output."""
    from huggingface_hub import ModelCard

    from meav.core.av import load

    _, _, av_dir = llama_pair
    exact = load(av_dir)
    assert exact.config["dtype"] == "float64" and exact.config["base_dtype"] == "float32"
    sizes, errors = {}, {}
    for dtype in ("base", "exact", "bfloat16"):
        out = tmp_path / dtype
        args = ["--dtype", dtype] if dtype != "base" else []
        r = run_meav(
            capsys, "vectors", "publish", av_dir, "--repo", "org/av", "--base-id", "org/base", "--out", out, *args
        )  # fmt: skip
        assert r.code == 0, r.err
        released = load(out)
        rel = released.config["release"]
        sizes[dtype] = sum(f.stat().st_size for f in out.glob("av-*.safetensors"))
        errors[dtype] = rel["rel_frobenius_error"]
        measured = max(
            float((released.tensor(n, torch.float64) - exact.tensor(n, torch.float64)).abs().max())
            for n in exact.names()
        )
        assert rel["max_abs_error"] == measured  # what the card says is what a consumer gets
        if dtype == "exact":
            assert "the exact AV" in r.out and measured == 0.0
        else:
            assert f"relative Frobenius error {rel['rel_frobenius_error']:.3e}" in r.out
            assert f"max abs error {rel['max_abs_error']:.3e}" in ModelCard.load(out / "README.md").text
    assert load(tmp_path / "base").config["dtype"] == "float32"
    assert sizes["base"] < 0.51 * sizes["exact"] and sizes["bfloat16"] < 0.26 * sizes["exact"]
    assert 0 < errors["base"] < 1e-6 < errors["bfloat16"] < 1e-2


def test_publish_refuses_an_unknown_dtype_naming_the_flag(llama_pair, tmp_path, capsys):
    r = run_meav(
        capsys,
        "vectors",
        "publish",
        llama_pair[2],
        "--repo",
        "o/a",
        "--dtype",
        "int8",
        "--out",
        tmp_path / "r",
    )
    assert r.code == 2 and "--dtype" in r.err and len(r.err.strip().splitlines()) == 1, r.err
