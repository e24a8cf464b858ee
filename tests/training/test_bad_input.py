"""Bad input: one line on stderr, exit code 2, and no output or work folder left behind."""

from __future__ import annotations

import sys

import pyarrow.parquet as pq
import pytest

from tests.training.conftest import corpus_with, write_recipe


def run_cli(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    from meav.cli import main

    monkeypatch.setattr(sys, "argv", ["meav", "train", *args])
    with pytest.raises(SystemExit) as done:
        main()
    return done.value.code, capsys.readouterr().err


def train_args(recipe, model, dataset, out) -> list[str]:
    return ["--recipe", str(recipe), "--base", str(model), "--dataset", str(dataset), "--out", str(out)]


def drop_column(corpus, column):
    for f in (corpus / "data").rglob("*.parquet"):
        pq.write_table(pq.read_table(f).drop([column]), f)
    return corpus


@pytest.fixture
def not_a_causal_lm(tmp_path):
    from transformers import ViTConfig

    folder = tmp_path / "vit"
    ViTConfig(
        hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64
    ).save_pretrained(folder)
    return folder


CASES = {
    "model folder missing": (lambda t: {"base": str(t / "no-such-model")}, "model folder not found"),
    "not a causal LM": (lambda t: {"base": "VIT"}, "model type 'vit' is not a causal language model"),
    "corpus missing a level": (
        lambda t: {"dataset": str(drop_column(corpus_with(t / "c", lambda r: None), "expert"))},
        "missing column(s) expert",
    ),
    "corpus missing a column": (
        lambda t: {"dataset": str(drop_column(corpus_with(t / "c", lambda r: None), "query"))},
        "missing column(s) query",
    ),
    "no pairs for the target": (
        lambda t: {"dataset": str(corpus_with(t / "c", lambda r: r.update(generic=""))), "target": "generic"},
        "no preference pairs for medical=generic",
    ),
    "unknown domain": (lambda t: {"domain": "culinary"}, "'culinary'"),
    "unknown target": (lambda t: {"target": "master"}, "target: Input should be"),
    "bad joint spec": (lambda t: {"joint": "medical=guru"}, "--joint: 'medical=guru' is not DOMAIN=LEVEL"),
}


USAGE = {"unknown target", "bad joint spec"}


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_one_line_and_leaves_nothing(
    case, tiny_llama, toy_corpus, not_a_causal_lm, tmp_path, monkeypatch, capsys
):
    make, message = CASES[case]
    options = {"base": str(tiny_llama), "dataset": str(toy_corpus), **make(tmp_path)}
    if options["base"] == "VIT":
        options["base"] = str(not_a_causal_lm)
    out = tmp_path / "out"
    args = ["--recipe", str(write_recipe(tmp_path / "r.yaml")), "--out", str(out)]
    for key, value in options.items():
        args += [f"--{key}", value]
    code, err = run_cli(monkeypatch, capsys, *args)
    assert code == (2 if case in USAGE else 1), (code, err)  # 2: a value its flag refuses; 1: the run failed
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and err.rstrip("\n").endswith(errors[0]), err  # progress bars may precede it
    assert message in errors[0]
    assert not out.exists() and not (tmp_path / "out.work").exists()


def test_unknown_recipe_field_names_file_and_field(tmp_path, monkeypatch, capsys):
    recipe = write_recipe(tmp_path / "r.yaml", dpo={"beta": 0.1, "ipo_tau": 0.1})
    code, err = run_cli(monkeypatch, capsys, "--recipe", str(recipe), "--out", str(tmp_path / "out"))
    assert code == 1 and err.endswith(f"error: {recipe}: dpo: dpo.ipo_tau is not a trl.DPOConfig field\n")
    assert not (tmp_path / "out").exists()


def test_missing_dataset_is_reported(tiny_llama, tmp_path, monkeypatch, capsys):
    recipe = write_recipe(tmp_path / "r.yaml")
    code, err = run_cli(monkeypatch, capsys, "--recipe", str(recipe), "--base", str(tiny_llama))
    assert code == 1 and "no dataset: give --dataset" in err


def test_foreign_output_folder_is_never_replaced(tiny_llama, toy_corpus, tmp_path, monkeypatch, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    args = train_args(write_recipe(tmp_path / "r.yaml"), tiny_llama, toy_corpus, out)
    code, err = run_cli(monkeypatch, capsys, *args)
    assert code == 1 and "is not a meav training output" in err
    assert (out / "notes.txt").read_text() == "keep me"


def test_work_folder_of_another_run_is_not_resumed(tiny_llama, toy_corpus, tmp_path, monkeypatch, capsys):
    work = tmp_path / "out.work"
    work.mkdir()
    (work / "run.json").write_text('{"recipe": "something else"}')
    args = train_args(write_recipe(tmp_path / "r.yaml"), tiny_llama, toy_corpus, tmp_path / "out")
    code, err = run_cli(monkeypatch, capsys, *args)
    assert code == 1 and "holds checkpoints of a different run" in err
    assert not (tmp_path / "out").exists()


def test_prompts_longer_than_max_length_are_named(tiny_llama, toy_corpus, tmp_path, monkeypatch, capsys):
    """TRL drops pairs whose prompt fills max_length; all dropped must not surface as a KeyError on eval_loss."""
    out = tmp_path / "out"
    recipe = write_recipe(tmp_path / "r.yaml", dpo={"max_length": 4})
    code, err = run_cli(monkeypatch, capsys, *train_args(recipe, tiny_llama, toy_corpus, out))
    assert code == 1
    assert "every train pair's prompt is at least dpo.max_length=4 tokens" in err.strip().splitlines()[-1]
    assert not out.exists() and not (tmp_path / "out.work").exists()
