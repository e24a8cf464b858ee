"""The README's "Use it" snippets run as written (paths swapped for test fixtures): the TRL DPO pairs of a
corpus folder, and a mergekit task_arithmetic merge that equals steering by the same λ."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.av_helpers import state
from tests.cli_runner import run_meav

README = Path(__file__).resolve().parents[2] / "README.md"


def use_it() -> str:
    text = README.read_text()
    return text.split("## Use it", 1)[1].split("\n## ", 1)[0]


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", use_it(), re.S)


def test_dataset_consumer_snippet_trains_trl_dpo_on_a_corpus_folder(reference_corpus, tiny_llama, tmp_path):
    from transformers import AutoModelForCausalLM

    code = next(b for b in blocks("python") if "load_dataset" in b)
    code = code.replace('"runs/reference"', repr(str(reference_corpus)))
    code = code.replace('"HuggingFaceTB/SmolLM2-135M-Instruct"', repr(str(tiny_llama)))
    code = code.replace('"runs/dpo-medical"', repr(str(tmp_path / "dpo")))
    code = code.replace("max_steps=8", "max_steps=1")
    ns: dict = {"__name__": "__snippet__"}
    exec(compile(code, "README dataset snippet", "exec"), ns)
    train = ns["corpus"]["train"]
    assert ns["pairs"].column_names == ["prompt", "chosen", "rejected"]
    assert (
        len(ns["pairs"]) == 3 * len(train) and ns["pairs"][0]["chosen"][0]["content"] == train[0]["generic"]
    )
    before = AutoModelForCausalLM.from_pretrained(tiny_llama, dtype=torch.float32).state_dict()
    moved = [k for k, v in ns["model"].state_dict().items() if not torch.equal(v, before[k])]
    assert moved  # one IPO step was taken


def test_mergekit_task_arithmetic_config_equals_steer(llama_pair, tmp_path, capsys):
    pytest.importorskip("mergekit")
    from transformers import AutoModelForCausalLM

    from meav.core.av import load, steer

    base, _, av_dir = llama_pair
    shell = next(b for b in blocks("bash") if "mergekit-yaml" in b)
    config = next(b for b in blocks("yaml") if "task_arithmetic" in b)

    def local(text: str) -> str:
        text = text.replace("runs/av-med-model", str(tmp_path / "av-med-model")).replace(
            "runs/av-med", str(av_dir)
        )
        return text.replace("BASE", str(base)).replace("runs/merged", str(tmp_path / "merged"))

    (tmp_path / "merge.yml").write_text(local(config))
    for line in local(shell).splitlines():
        args = shlex.split(line.split(" #")[0])
        if args[0] == "meav":
            r = run_meav(capsys, *args[1:])
            assert r.code == 0, r.err
        else:
            exe = Path(sys.executable).parent / args[0]
            subprocess.run([str(exe), *args[1:]], cwd=tmp_path, check=True, capture_output=True)
    lam = float(re.search(r"weight: ([-\d.]+)", config).group(1))
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    steer(model, {load(av_dir): lam})
    merged, want = state(tmp_path / "merged"), model.state_dict()
    assert set(want) <= set(merged) and lam == 0.5
    for k, v in want.items():
        torch.testing.assert_close(merged[k].float(), v, rtol=0, atol=2e-7)
