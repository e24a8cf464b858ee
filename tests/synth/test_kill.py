"""`kill -9` of the main `meav synth` process only, mid-generation with the local backend: its distilabel
workers die with it, and the rerun finishes with the uninterrupted run's corpus without redoing a call."""

from __future__ import annotations

import os
import subprocess
import sys

from meav.core.corpus import SPLITS, load_corpus
from tests.procs import kill_main_only, tree, wait_for
from tests.synth.conftest import write_recipe


def _recipe(folder, model):
    return write_recipe(
        folder, backend=f"local:{model}", batch_size=2, createpersona=None, personahub={"dataset": "personas.jsonl", "sample": 4},
        generation={"max_new_tokens_query": 24, "max_new_tokens_response": 48},
        cleanup={"min_query_words": 1, "drop_level_mismatch": False},  # random text: keep every row
    )  # fmt: skip


def _synth(recipe, out):
    cmd = [sys.executable, "-m", "meav.cli", "synth", "--recipe", str(recipe), "--out", str(out)]
    return cmd, {**os.environ, "MEAV_PROGRESS": "0"}


def test_kill_9_of_the_main_process_leaves_no_worker_and_the_rerun_recovers(tiny_llama, tmp_path):
    recipe = _recipe(tmp_path, tiny_llama)
    out = tmp_path / "corpus"
    cmd, env = _synth(recipe, out)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    calls = tmp_path / "corpus.work" / "calls"
    wait_for(
        lambda: len(tree(proc.pid)) >= 2 and list(calls.glob("*/*.json")),
        180,
        "workers and a cached call",
        proc,
    )
    started, survivors = kill_main_only(proc)
    assert started >= 2 and survivors == [], survivors
    before = {p: p.stat().st_mtime_ns for p in calls.glob("*/*.json")}
    assert before and not out.exists()

    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert all(p.stat().st_mtime_ns == t for p, t in before.items())  # no completed call made again

    clean = tmp_path / "clean"
    clean.mkdir()
    ccmd, _ = _synth(_recipe(clean, tiny_llama), clean / "corpus")
    assert subprocess.run(ccmd, env=env, capture_output=True, timeout=600).returncode == 0

    def rows(folder):
        return sorted((r["id"], r["query"], r["expert"]) for s in SPLITS for r in load_corpus(folder)[s])

    assert rows(out) == rows(clean / "corpus") and len(rows(out)) >= 6
