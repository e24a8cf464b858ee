"""`kill -9` of the main `meav demo` process in the middle of a stage that has workers (the smoke run's
distilabel processes): nothing of it keeps running, and the same command finishes the demo."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import yaml

from tests.demo.conftest import tiny_config
from tests.procs import kill_main_only, tree, wait_for


def test_kill_9_mid_stage_then_the_same_command_finishes(tiny_llama, smoke_recipe, train_recipe, tmp_path):
    config = tmp_path / "demo.yaml"
    config.write_text(yaml.safe_dump(tiny_config(tiny_llama, smoke_recipe, train_recipe).model_dump()))
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "meav.cli", "demo", "--config", str(config), "--out", str(out)]
    env = {**os.environ, "MEAV_PROGRESS": "0"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: len(tree(proc.pid)) >= 2, 240, "the smoke run's workers", proc)
    started, survivors = kill_main_only(proc)
    assert started >= 2 and survivors == [], survivors
    assert not (out / "report.md").exists()
    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1200)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    stages = json.loads((out / "timings.json").read_text())["stages"]
    assert (out / "report.md").is_file() and stages["smoke (synth + card)"]["status"] == "ran"
