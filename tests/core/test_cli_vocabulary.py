"""One CLI vocabulary (issue 26): every command's options walked through typer's click tree, each checked
against the words meav uses: `--base` for a base model (accepting 'embedded'), `--dataset` for a corpus, `--av`
for an AV (`NAME=PATH` where named, a bare path where a command takes one), `--lambda NAME=λ`, one grid syntax
(`--lambdas`, parsed by `meav.core.grid.parse_grid`; a range `low:high` by `parse_interval`), `--max-new-tokens`
for generation length; and the exit codes: 2 for a usage error naming the real flag or argument, 1 for a
runtime failure."""

from __future__ import annotations

import re

import pytest
import typer.main

from meav.cli import app
from meav.core.grid import parse_grid, parse_interval
from tests.cli_runner import run_meav

# --model where the model is not a base: `meav eval evaluate` scores a model as it is (a joint-trained one)
NOT_A_BASE = {("eval", "evaluate"): "--model"}
GONE = {"--corpus", "--max-tokens", "--default-max-tokens", "--coef-range", "--range", "--folder"}


def _commands(group=None, path=()):
    group = group or typer.main.get_command(app)
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, (*path, name))
        else:
            yield (*path, name), cmd


COMMANDS = dict(_commands())


def _options(cmd):
    return [p for p in cmd.params if p.param_type_name == "option"]


def _help(p) -> str:
    return p.help or ""


def test_every_stage_is_walked():
    assert {("train",), ("serve",), ("demo",), ("vectors", "apply"), ("vectors", "extract"), ("eval", "search"),
            ("eval", "sweep"), ("eval", "judge"), ("annotate", "push"), ("card",), ("synth",)} <= set(COMMANDS)  # fmt: skip


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=" ".join)
def test_vocabulary(path):
    cmd = COMMANDS[path]
    flags = {o: p for p in _options(cmd) for o in p.opts + p.secondary_opts}
    assert not GONE & set(flags), (path, GONE & set(flags))
    if "--model" in flags:
        assert NOT_A_BASE.get(path) == "--model", f"{' '.join(path)}: --model where --base is meant"
    for p in _options(cmd):
        text, long = _help(p), p.opts[0]
        # a base model is --base, and 'embedded' names the embedded one wherever a base is taken
        if re.match(r"Base model", text) or long == "--base":
            assert long == "--base", (path, long, text)
            assert "embedded" in text, (path, "--base without 'embedded'", text)
        # an AV is --av (NAME=PATH where several are named, a bare path where one is)
        if (re.search(r"\bAV folder|NAME=PATH|\bAV=", text) and long != "--out") or p.name == "av":
            assert long == "--av", (path, long, text)
            assert "NAME=PATH" in text if p.multiple else "NAME=PATH" not in text, (path, text)
        # a corpus is --dataset
        if re.search(r"\b[Cc]orpus folder\b", text) and long != "--out":  # a corpus read, not written
            assert long == "--dataset", (path, long, text)
        if long == "--dataset":
            assert re.search(r"[Cc]orpus", text), (path, "--dataset that is not a corpus", text)
        # generation length is --max-new-tokens
        if "token" in long:
            assert long in ("--max-new-tokens", "--default-max-new-tokens"), (path, long)
        # grids: one syntax, one parser; a λ range is low:high
        if long.endswith("lambdas") or (re.search(r"λ grid", text) and long != "--grid-step"):  # a step
            assert long.endswith("lambdas"), (path, long, "a grid option not named --lambdas")
            assert "start:stop:step" in text and "a,b,c" in text, (path, long, text)
            if isinstance(p.default, str):
                assert parse_grid(p.default, p.name)
        if long == "--lambda-range":
            assert parse_interval(p.default) == (-3.0, 3.0)


def test_named_avs_and_lambdas_in_apply():
    apply = {o for p in _options(COMMANDS[("vectors", "apply")]) for o in p.opts}
    assert {"--av", "--lambda", "--base"} <= apply


def test_card_on_a_missing_folder_is_a_usage_error_naming_its_argument(capsys):
    r = run_meav(capsys, "card", "/nonexistent")
    assert r.code == 2 and r.err == "error: FOLDER: /nonexistent: no such folder\n", r
    assert "--folder" not in r.err


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (("vectors", "apply", "--base", "embedded", "--av", "nameless", "--out", "x"), "--av"),
        (
            ("vectors", "apply", "--base", "embedded", "--av", "a=x", "--lambda", "b=1", "--out", "x"),
            "--lambda",
        ),
        (("reference", "build", "--out", "x", "--domain", "nope"), "--domain"),
        (
            ("annotate", "push", "corpus", "--url", "u", "--api-key", "k", "--annotators", "one"),
            "--annotators",
        ),
    ],
    ids=["av", "lambda", "custom-flag", "validator"],
)
def test_a_refused_value_is_exit_2_naming_the_real_flag(args, flag, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = run_meav(capsys, *args)
    assert r.code == 2 and r.err.startswith(f"error: {flag}: ") and r.err.count("\n") == 1, r


def test_the_demo_names_its_flags_not_its_config_keys(capsys, tmp_path):
    """The demo config keeps its keys (`model`, `corpus`); the CLI's words are --base and --dataset."""
    (tmp_path / "notacorpus").mkdir()
    r = run_meav(capsys, "demo", "--dataset", tmp_path / "notacorpus", "--out", tmp_path / "run")
    assert r.code == 2 and r.err.startswith("error: --dataset: ") and "not a corpus folder" in r.err, r
    assert not (tmp_path / "run").exists()


def test_a_click_usage_error_is_exit_2(capsys):
    assert run_meav(capsys, "eval", "sweep", "--no-such-flag").code == 2


def test_a_runtime_failure_is_exit_1(capsys, tmp_path):
    missing = tmp_path / "nope.yaml"
    r = run_meav(capsys, "train", "--recipe", missing)
    assert r.code == 1 and r.err == f"error: {missing}: file not found\n", r
    r = run_meav(capsys, "vectors", "info", tmp_path / "no-av")
    assert r.code == 1 and r.err.startswith(f"error: {tmp_path / 'no-av'}: "), r
