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
    r = run_meav(capsys, "vectors", "publish", av_dir, "--repo", repo, "--tag", "v1")
    assert r.code == 0, r.err
    assert repo in r.out and hub.token not in r.out + r.err
    av = load(repo)  # snapshot_download from the server
    assert av.source == repo and av.name == repo and av.config["hub_repo"] == repo
    card = ModelCard.load(av.path / "README.md")
    assert f'load("{repo}")' in card.text and "medical" in card.data.tags
    assert load(repo, revision="v1").config["base_fingerprint"] == av.config["base_fingerprint"]
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    steer(model, {av: 1.0})
    a = state(aligned)
    assert all(torch.equal(model.state_dict()[k], a[k]) for k in a)


def test_publish_refuses_a_folder_that_is_not_an_av(hub, tiny_llama, capsys):
    r = run_meav(capsys, "vectors", "publish", tiny_llama, "--repo", hub.repo_name("x"))
    assert r.code == 2 and "av_config.json" in r.err and len(r.err.strip().splitlines()) == 1


def test_failed_publish_leaves_the_folder_as_it_was(hub, llama_pair, tmp_path, capsys, monkeypatch):
    _, _, av_src = llama_pair
    av_dir = shutil.copytree(av_src, tmp_path / "av")
    before = {f.name: f.read_bytes() for f in av_dir.iterdir()}
    monkeypatch.setenv("HF_TOKEN", "hf_wrong")  # the test server answers 401
    r = run_meav(capsys, "vectors", "publish", av_dir, "--repo", hub.repo_name("denied"))
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1, r.err
    assert {f.name: f.read_bytes() for f in av_dir.iterdir()} == before
