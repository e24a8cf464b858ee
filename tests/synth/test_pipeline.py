"""`meav synth` end to end through the real distilabel pipelines and the real Anthropic SDK (test server)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from meav.core.corpus import LEVELS, SPLITS, load_corpus
from tests.cli_runner import run_meav
from tests.fakes.anthropic import AnthropicTestServer
from tests.synth.conftest import write_recipe


def run_synth(recipe: Path, out: Path, *extra: str, env: dict | None = None, timeout: int = 300):
    cmd = [sys.executable, "-m", "meav.cli", "synth", "--recipe", str(recipe), "--out", str(out), *extra]
    return subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}
    )


def test_corpus_end_to_end(anthropic_server, tmp_path):
    recipe = write_recipe(tmp_path, response_prefill={"expert": "Specifically for you:"})
    out = tmp_path / "corpus"
    proc = run_synth(recipe, out)
    assert proc.returncode == 0, proc.stderr[-2000:]
    meta = json.loads((out / "synth_meta.json").read_text())
    assert meta["response_prefill"] == {"expert": "Specifically for you:"}
    ds = load_corpus(out)
    assert set(ds) == set(SPLITS)
    rows = [r for split in SPLITS for r in ds[split]]
    # three non-empty levels, unique ids, disjoint splits
    assert all(r[level].strip() for r in rows for level in LEVELS)
    assert len({r["id"] for r in rows}) == len(rows)
    ids = {s: {r["id"] for r in ds[s]} for s in SPLITS}
    assert not (ids["train"] & ids["test"]) and not (ids["train"] & ids["validation"])
    assert not (ids["validation"] & ids["test"])
    # counts match the summary, in Table 6 layout
    counts = meta["rows_by_domain_source"]
    for domain in ("medical", "financial", "legal"):
        for source in ("personahub", "createpersona"):
            n = sum(1 for r in rows if r["domain"] == domain and r["source"] == source)
            assert counts[domain][source] == n and n > 0
    assert meta["rows_total"] == len(rows) == sum(meta["rows_by_split"].values())
    # CreatePersona lineage: 2 seeds x (2 roots + 2x2 children) per domain, depth 0 and 1
    cp = [r for r in rows if r["source"] == "createpersona"]
    assert {r["lineage_seed"] for r in cp} == {0, 1} and {r["lineage_depth"] for r in cp} == {0, 1}
    assert all(r["lineage_root"] for r in cp)
    # responses hold at most the paragraphs asked for, and the random length was recorded
    for r in rows:
        for level in LEVELS:
            assert 1 <= len(r[level].split("\n\n")) <= r[f"num_paras_{level}"]
    assert len({r["num_paras_expert"] for r in rows}) > 1
    # the answer continued the opener, but the corpus holds only what the model wrote: no level opener is
    # seen by training or scoring
    assert not any(r["expert"].startswith("Specifically for you") for r in rows)
    assert meta["response_prefill"]["expert"] == "Specifically for you:" and meta["responses_exclude_prefill"]
    assert meta["tokens"]["input_tokens"] > 0 and meta["tokens"]["cost_usd"] > 0
    assert "Table 6" in proc.stderr and "PersonaHub" in proc.stderr
    # per-domain config loads with the three splits
    legal = load_corpus(out, "legal")
    assert set(legal) == set(SPLITS) and all(r["domain"] == "legal" for s in SPLITS for r in legal[s])


def test_malformed_createpersona_json_is_retried_once_then_dropped(anthropic_server, tmp_path):
    flaky = {
        "name": "veterinary",
        "portal": "MALFORMED pet health portal",
        "domain_expert": "veterinarian",
        "solution_lingo": "diagnosis",
        "domain_lingo": "symptoms",
    }
    broken = {**flaky, "name": "tax", "portal": "ALWAYSBAD tax portal"}
    recipe = write_recipe(tmp_path, domains=[flaky, broken])
    out = tmp_path / "corpus"
    proc = run_synth(recipe, out)
    assert proc.returncode == 0, proc.stderr[-2000:]
    meta = json.loads((out / "synth_meta.json").read_text())
    # tax: both root calls (2 seeds) fail twice -> dropped and counted (its rows come from PersonaHub only);
    # veterinary: each first answer is malformed and each retry succeeds
    assert meta["drops"]["createpersona_malformed_json"] == 2
    assert meta["rows_by_domain_source"]["tax"]["createpersona"] == 0
    assert meta["rows_by_domain_source"]["veterinary"]["createpersona"] > 0
    retried = [p for p, n in anthropic_server.attempts.items() if "could not be parsed" in p]
    assert len(retried) == 2 + 2 + 2 * 2  # tax roots + veterinary roots + veterinary children


def test_resume_after_kill(tmp_path):
    """kill -9 mid-run, rerun: same corpus as an uninterrupted run, and no completed call made again."""
    with AnthropicTestServer(latency=0.05) as server:
        env = {"ANTHROPIC_BASE_URL": server.url, "ANTHROPIC_API_KEY": "k"}
        recipe = write_recipe(tmp_path, max_concurrency=2)
        out = tmp_path / "corpus"
        cmd = [sys.executable, "-m", "meav.cli", "synth", "--recipe", str(recipe), "--out", str(out)]
        proc = subprocess.Popen(
            cmd, env={**os.environ, **env}, start_new_session=True, stderr=subprocess.DEVNULL
        )
        calls = tmp_path / "corpus.work" / "calls"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(list(calls.glob("*/*.json"))) < 30:
            time.sleep(0.1)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        completed_before = len(list(calls.glob("*/*.json")))
        assert 30 <= completed_before and not out.exists()
        # as if killed while distilabel wrote its state (it rereads it despite use_cache=False)
        for state in (tmp_path / "corpus.work" / "distilabel").rglob("pipeline.yaml"):
            state.write_text("")
        requests_before = server.requests
        resumed = run_synth(recipe, out, env=env)
        assert resumed.returncode == 0, resumed.stderr[-2000:]
        total_calls = len(list(calls.glob("*/*.json")))
        assert server.requests - requests_before == total_calls - completed_before

        clean_dir = tmp_path / "clean"
        clean_dir.mkdir()
        clean = run_synth(write_recipe(clean_dir, max_concurrency=2), clean_dir / "corpus", env=env)
        assert clean.returncode == 0
    resumed_rows = sorted((r["id"], r["expert"]) for s in SPLITS for r in load_corpus(out)[s])
    clean_rows = sorted((r["id"], r["expert"]) for s in SPLITS for r in load_corpus(clean_dir / "corpus")[s])
    assert resumed_rows == clean_rows and len(resumed_rows) > 20


def test_dry_run_counts_calls_without_calling(anthropic_server, tmp_path):
    proc = run_synth(write_recipe(tmp_path), tmp_path / "corpus", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    est = json.loads(proc.stdout.strip().splitlines()[-1])
    # 6 personas x 3 domains; CreatePersona: 3 domains x 2 seeds x (1 root call + 2 child calls)
    assert est["calls"] == {"queries": 18, "createpersona": 18, "responses": 3 * (18 + 3 * 2 * 6)}
    assert est["cost_usd"] > 0 and est["input_tokens"] > 0
    assert anthropic_server.requests == 0 and not (tmp_path / "corpus").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"domains": ["medical", "astrology"]}, "unknown domain 'astrology'"),
        ({"personahub": {"dataset": "personas.jsonl", "column": "text"}}, "persona column 'text' missing"),
        ({"personahub": {"dataset": "missing.jsonl"}}, "missing.jsonl: persona file not found"),
        ({"temprature": 0.3}, "temprature: unknown field"),
        ({"backend": "anthropic:claude-sonnet-5-5"}, "call(s) to anthropic:claude-sonnet-5-5 failed"),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path, change, message, monkeypatch, capsys):
    recipe = write_recipe(tmp_path)
    data = yaml.safe_load(recipe.read_text())
    data.update(change)
    recipe.write_text(yaml.safe_dump(data))
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")  # nothing listens on port 9
    monkeypatch.setenv("ANTHROPIC_API_KEY", "k")
    result = run_meav(capsys, "synth", "--recipe", recipe, "--out", tmp_path / "corpus")
    assert result.code == 1  # a bad recipe or an unreachable backend: a runtime failure
    last = result.err.strip().splitlines()[-1]
    assert last.startswith("error: ") and message in last, result.err[-1500:]
    assert not (tmp_path / "corpus").exists()
