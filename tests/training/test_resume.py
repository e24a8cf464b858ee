"""`kill -9` of the main process mid-training: nothing of it keeps running, and the same command resumes from
the last checkpoint and finishes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from meav.training.meta import read_meta
from meav.training.run import last_checkpoint
from tests.procs import kill_main_only
from tests.training.conftest import write_recipe

STEPS = 30


def test_kill_9_then_same_command_resumes(tiny_llama, toy_corpus, tmp_path):
    recipe = write_recipe(tmp_path / "r.yaml", dpo={"max_steps": STEPS, "save_steps": 5, "eval_steps": 5})
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "meav.cli", "train", "--recipe", str(recipe), "--base", str(tiny_llama),
           "--dataset", str(toy_corpus), "--out", str(out)]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    checkpoints = tmp_path / "run.work" / "checkpoints"
    first = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while last_checkpoint(checkpoints) is None:
        assert first.poll() is None, "training ended before its first checkpoint"
        assert time.monotonic() < deadline, "no checkpoint within 120 s"
        time.sleep(0.02)
    _, survivors = kill_main_only(first)  # the main process only, as the OOM killer would
    assert first.returncode == -signal.SIGKILL and survivors == []
    assert not out.exists(), "a killed run must not leave a final folder"
    resume_from = last_checkpoint(checkpoints)
    step = int(resume_from.name.split("-")[1])
    assert 5 <= step < STEPS

    second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr[-2000:]
    meta = read_meta(out)
    assert meta["training"]["resumed_from"] == resume_from.name
    assert meta["training"]["global_step"] == STEPS
    logged = [s for s, _ in meta["losses"]["train_loss"]]
    assert logged == list(range(1, STEPS + 1))  # history before the kill is carried over, no step twice
    assert not (tmp_path / "run.work").exists()
