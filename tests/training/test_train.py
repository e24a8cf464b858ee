"""Training on a tiny random model (mechanics): it learns the separable toy preferences and records it all."""

from __future__ import annotations

import json
import sys

import pytest

from meav.training import TrainOptions, train
from meav.training.meta import read_meta
from tests.training.conftest import write_recipe

META_KEYS = {
    "run", "base_model", "dataset", "pairs", "recipe", "recipe_file", "dpo_config", "seed", "versions",
    "device", "training", "losses", "reward_margins", "created",
}  # fmt: skip


def test_tiny_run_learns_and_records_everything(tiny_llama, toy_corpus, tiny_recipe, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = train(
        TrainOptions(
            recipe=tiny_recipe, base=str(tiny_llama), dataset=str(toy_corpus), out=tmp_path / "run", seed=7
        )
    )
    assert out == tmp_path / "run"
    meta = read_meta(out)
    assert META_KEYS <= set(meta)
    losses = [v for _, v in meta["losses"]["train_loss"]]
    margins = [v for _, v in meta["losses"]["train_reward_margin"]]
    assert len(losses) == 20
    assert losses[0] == pytest.approx(25.0, abs=1e-3)  # IPO with β = 0.1 before any update: (0 − 1/(2β))²
    assert sum(losses[-5:]) / 5 < losses[0] - 1.0  # loss falls
    assert margins[0] == pytest.approx(0.0, abs=1e-4) and sum(margins[-5:]) / 5 > 0.2  # margin rises
    evals = [v for _, v in meta["losses"]["eval_loss"]]
    assert len(evals) == 4 and evals[-1] < 25.0
    held = meta["reward_margins"]["heldout"]
    assert held["pairs"] == 6 and held["reward_margin"] > 0 and held["share_improved"] == 1.0
    assert meta["seed"] == 7 and meta["recipe"]["seed"] == 7
    assert (
        meta["base_model"]["id"] == str(tiny_llama.resolve()) and len(meta["base_model"]["fingerprint"]) == 64
    )
    assert meta["dataset"]["configs"] == ["medical"] and meta["dataset"]["fingerprint"]
    assert meta["pairs"]["train"] == 12 and meta["pairs"]["eval"] == 2
    assert meta["pairs"]["orderings"] == {"medical": ["expert>generic", "generic>avoidance"]}
    assert set(meta["versions"]) >= {"trl", "transformers", "torch"}
    assert meta["training"]["global_step"] == 20 and meta["training"]["resumed_from"] is None
    assert meta["dpo_config"]["loss_type"] == ["ipo"] and meta["dpo_config"]["bf16"] is False
    assert (out / "loss_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "model.safetensors").is_file()
    tokenizer = AutoTokenizer.from_pretrained(out)
    assert tokenizer.chat_template and AutoModelForCausalLM.from_pretrained(out).config.model_type == "llama"
    assert not (tmp_path / "run.work").exists()  # checkpoints are removed once the final folder is in place


def test_joint_run_from_the_command_line(tiny_qwen, toy_corpus, tiny_recipe, tmp_path, monkeypatch):
    """Also covers a model with tied input/output embeddings (tiny Qwen2)."""
    import torch
    from transformers import AutoModelForCausalLM

    from meav.cli import main

    out = tmp_path / "joint"
    argv = ["meav", "train", "--recipe", str(tiny_recipe), "--base", str(tiny_qwen), "--dataset",
            str(toy_corpus), "--joint", "medical=avoidance,financial=expert,legal=expert", "--out", str(out),
            "--max-steps", "2"]  # fmt: skip
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as done:
        main()
    assert done.value.code in (0, None)
    meta = read_meta(out)
    assert meta["run"] == "joint-medical-avoidance_financial-expert_legal-expert"
    assert meta["pairs"]["train"] == 36 and meta["training"]["global_step"] == 2
    assert meta["pairs"]["orderings"]["medical"] == ["avoidance>generic", "generic>expert"]
    assert meta["dataset"]["configs"] == ["medical", "financial", "legal"]
    trained, base = AutoModelForCausalLM.from_pretrained(out), AutoModelForCausalLM.from_pretrained(tiny_qwen)
    assert trained.lm_head.weight.data_ptr() == trained.model.embed_tokens.weight.data_ptr()
    assert not torch.equal(trained.model.embed_tokens.weight, base.model.embed_tokens.weight)


def test_safety_run_with_precomputed_reference(tiny_llama, tmp_path):
    rows = [
        {"prompt": f"Question {i}?", "response_0": f"Unsafe answer {i}.", "response_1": "I am unable to help.",
         "is_response_0_safe": False, "is_response_1_safe": True, "safer_response_id": 1}
        for i in range(12)
    ]  # fmt: skip
    data = tmp_path / "pku.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    recipe = write_recipe(
        tmp_path / "safety.yaml",
        safety={"source": str(data), "eval_fraction": 0.25},
        dpo={"max_steps": 3, "precompute_ref_log_probs": True},
    )
    out = train(TrainOptions(recipe=recipe, base=str(tiny_llama), out=tmp_path / "safety"))
    meta = read_meta(out)
    assert meta["run"] == "safety" and meta["dataset"]["format"] == "PKU-SafeRLHF"
    assert meta["pairs"]["train"] + meta["pairs"]["eval"] == 12 and meta["pairs"]["eval"] > 0
    assert meta["dpo_config"]["precompute_ref_log_probs"] is True
    assert meta["losses"]["train_loss"][0][1] == pytest.approx(25.0, abs=1e-3)
