"""AV and LoRA cards: YAML from huggingface_hub's card classes, the base named by its Hub id (never a local
path), its licence carried over, the embedded base named for what it is, and snippets that run as written."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import stat
from pathlib import Path

import torch
from huggingface_hub import ModelCard, ModelCardData

from tests.av_helpers import extract_av, make_aligned
from tests.cli_runner import run_meav


def python_block(text: str) -> str:
    return re.search(r"```python\n(.*?)```", text, re.S).group(1)


def run_snippet(code: str) -> dict:
    """Execute a card's snippet as a user would paste it; its variables come back."""
    namespace: dict = {"__name__": "__snippet__"}
    with contextlib.redirect_stdout(io.StringIO()) as out:
        exec(compile(code, "<card snippet>", "exec"), namespace)
    namespace["_stdout"] = out.getvalue()
    return namespace


def licensed_pair(tiny_llama: Path, root: Path) -> tuple[Path, Path]:
    """A copy of the tiny base whose own model card says `license: mit`, its aligned copy and their AV."""
    base = shutil.copytree(tiny_llama, root / "base")
    card = ModelCard(f"---\n{ModelCardData(license='mit').to_yaml()}\n---\n# tiny base\n")
    card.save(base / "README.md")
    aligned = make_aligned(base, root / "aligned", seed=7, only_2d=True)
    extract_av(base, aligned, root / "av", domain="legal", target="expert")
    return base, root / "av"


def test_av_card_carries_the_base_licence_and_never_a_local_path(tiny_llama, tmp_path, capsys):
    base, av = licensed_pair(tiny_llama, tmp_path)
    capsys.readouterr()
    card = ModelCard.load(av / "README.md")
    assert card.data.license == "mit" and card.data.base_model is None  # a local base has no Hub id yet
    assert str(tmp_path) not in card.content and "meav vectors sweep" not in card.content

    r = run_meav(capsys, "vectors", "publish", av, "--repo", "org/tiny-av", "--out", tmp_path / "release")
    assert r.code == 2 and "--base-id" in r.err and len(r.err.strip().splitlines()) == 1, r.err
    r = run_meav(
        capsys, "vectors", "publish", av, "--repo", "org/tiny-av", "--out", tmp_path / "release",
        "--base-id", "org/tiny-base",
    )  # fmt: skip
    assert r.code == 0, r.err
    released = ModelCard.load(tmp_path / "release" / "README.md")
    assert released.data.base_model == "org/tiny-base" and released.data.base_model_relation == "adapter"
    assert released.data.license == "mit" and released.data.library_name == "meav"
    assert str(tmp_path) not in released.content and 'load("org/tiny-av")' in released.content

    r = run_meav(capsys, "vectors", "to-lora", av, "--out", tmp_path / "lora", "--base-id", "org/tiny-base")
    assert r.code == 0, r.err
    lora = ModelCard.load(tmp_path / "lora" / "README.md")
    assert lora.data.base_model == "org/tiny-base" and lora.data.base_model_relation == "adapter"
    assert lora.data.license == "mit" and lora.data.library_name == "peft"
    assert str(base) not in lora.content
    adapter_config = (tmp_path / "lora" / "adapter_config.json").read_text()
    assert '"base_model_name_or_path": "org/tiny-base"' in adapter_config


def test_embedded_base_is_named_for_what_it_is(tmp_path):
    from meav.core.av.card import render_card
    from meav.core.av.lora import render_lora_card
    from meav.core.embedded import GGUF_SHA256, MODEL_ID, cache_root

    cache_path = str(cache_root() / "models" / "smollm2-135m-instruct")  # what the demo's AVs record
    config = {"base": cache_path, "domain": "medical", "target": "expert", "dtype": "float32"}
    report = {"rank": "full", "energy_kept": 1.0, "dropped_tensors": [], "dropped_energy_share": 0.0}
    for text in (render_card(config, "org/av"), render_lora_card(config, report, "org/av-lora", "org/av")):
        card = ModelCard(text)
        assert card.data.base_model == MODEL_ID and card.data.license == "apache-2.0"
        assert card.data.base_model_relation == "adapter"
        assert GGUF_SHA256 in card.text and "dequantised" in card.text and "Q4_1" in card.text
        assert cache_path not in card.content and str(Path.home()) not in card.content
        snippet = python_block(card.text)
        assert (
            'load_for_inference("embedded")' in snippet and "from_pretrained" not in snippet.split("Peft")[0]
        )
        compile(snippet, "<card snippet>", "exec")


def test_embedded_folder_records_its_provenance(embedded_model):
    import json

    from meav.core.embedded import GGUF_SHA256, PROVENANCE_FILE, embedded_provenance

    recorded = json.loads((embedded_model / PROVENANCE_FILE).read_text())
    assert recorded["gguf_sha256"] == GGUF_SHA256 and recorded["license"] == "apache-2.0"
    assert "dequantised" in recorded["description"] and embedded_provenance(embedded_model) == recorded
    assert stat.S_IMODE(os.stat(embedded_model / PROVENANCE_FILE).st_mode) & 0o044 == 0o044


def test_card_snippets_run_as_written_against_a_hub_base(hub, tiny_llama, llama_pair2, tmp_path, capsys):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from meav.core.av import load, steer
    from meav.core.hub import publish

    base_repo, av_repo = hub.repo_name("tiny-base"), hub.repo_name("tiny-av")
    publish(tiny_llama, base_repo, "model")
    _, _, av_dir = llama_pair2
    r = run_meav(capsys, "vectors", "publish", av_dir, "--repo", av_repo, "--base-id", base_repo)
    assert r.code == 0, r.err
    card = ModelCard.load(load(av_repo).path / "README.md")
    assert card.data.base_model == base_repo
    steered_run = run_snippet(python_block(card.text))
    model = steered_run["model"]
    base = AutoModelForCausalLM.from_pretrained(tiny_llama, dtype=torch.float32)
    assert all(torch.equal(v, base.state_dict()[k]) for k, v in model.state_dict().items())  # restored
    steer(base, {load(av_repo): 0.5})
    inputs = steered_run["inputs"]
    want = base.generate(**inputs, max_new_tokens=40, do_sample=False)
    assert torch.equal(steered_run["out"], want)
    tok = AutoTokenizer.from_pretrained(tiny_llama)
    assert (
        steered_run["_stdout"].strip()
        == tok.decode(want[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True).strip()
    )

    r = run_meav(capsys, "vectors", "to-lora", av_repo, "--out", tmp_path / "lora")
    assert r.code == 0, r.err  # the base's Hub id comes from the released AV's config
    lora_run = run_snippet(python_block((tmp_path / "lora" / "README.md").read_text()))
    assert torch.equal(lora_run["out"], want)  # PEFT at scale 0.5 = the AV at λ 0.5 (exact LoRA form)
