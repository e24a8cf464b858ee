"""The search log: resumable, one writer at a time, refusing another search's evaluations (no model)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from meav.core.errors import MeavError, OptionError
from meav.evaluation.search.log import EvalLog, hold


def test_the_search_log_drops_a_cut_line_and_refuses_another_search(tmp_path):
    path = tmp_path / "evals.jsonl"
    log = EvalLog(path, {"search": 1})
    log.put("0,0", {"medical": {"expert": 0.5}})
    log.put("1,0", {"medical": {"expert": 0.7}})
    with open(path, "ab") as f:
        f.write(b'{"key": "2,0", "sha')  # a kill in the middle of an append
    again = EvalLog(path, {"search": 1})
    assert again.get("1,0") == {"medical": {"expert": 0.7}} and again.get("2,0") is None
    again.put("2,0", {"medical": {"expert": 0.9}})
    lines = path.read_text().splitlines()
    assert len(lines) == 4 and json.loads(lines[-1])["key"] == "2,0"
    with pytest.raises(OptionError, match="another search"):
        EvalLog(path, {"search": 2})
    with open(path, "a") as f:
        f.write("{not json}\n")  # a complete but corrupt line: named, not a traceback
    with pytest.raises(MeavError, match=r"evals.jsonl line 5: not JSON"):
        EvalLog(path, {"search": 1})


def test_the_search_log_counts_seconds_over_sessions_and_resumes_from_another_checkout(tmp_path):
    path = tmp_path / "evals.jsonl"
    first = EvalLog(
        path, {"avs": {"medical": "/a/av"}, "dataset": "/a/corpus", "av_files": {"medical": "f1"}}
    )
    first.put("0", {"medical": {"expert": 0.5}}, seconds=2.0)
    first.put("1", {"medical": {"expert": 0.5}})  # a log written before per-evaluation times were recorded
    first.put("9", {"medical": {"expert": 0.1}}, seconds=100.0)  # another run's point, never asked for again
    moved = {"avs": {"medical": "/b/av"}, "dataset": "/b/corpus", "av_files": {"medical": "f1"}}
    again = EvalLog(path, moved)  # the same AV content elsewhere: the same search
    assert again.get("0") and again.get("0") and again.get("1")  # asked twice, counted once
    again.put("2", {"medical": {"expert": 0.9}}, seconds=3.5)
    assert again.timing() == (5.5, 1) and again.reused == 2  # "0" and "1", each counted once
    with pytest.raises(OptionError, match="another search"):
        EvalLog(path, {**moved, "av_files": {"medical": "f2"}})  # other AV content: refused


def test_one_search_per_log_at_a_time(tmp_path):
    log = tmp_path / "search-grid.evaluations.jsonl"
    holder = subprocess.Popen(  # another process holding the run, then killed with kill -9
        [sys.executable, "-c", "import sys, time\nfrom pathlib import Path\n"
         "from meav.evaluation.search.log import hold\nwith hold(Path(sys.argv[1])):\n"
         "    print('held', flush=True)\n    time.sleep(600)", str(log)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(OptionError, match="being written by another running search"), hold(log):
            pass
    finally:
        holder.kill()
        holder.wait()
    with hold(log):  # the kernel dropped the dead holder's lock
        pass


def test_the_search_log_names_what_differs_and_fingerprints_the_knobs(tmp_path):
    path = tmp_path / "evals.jsonl"
    legacy = {"av_files": {"medical": "f1"}, "decompose": "orthogonal"}
    path.write_text(json.dumps(legacy) + "\n")  # a log of the first format: refused, not matched on a subset
    with pytest.raises(MeavError, match=r"format_version None.*migrate_search_format"):
        EvalLog(path, {**legacy, "knob_files": {"medical": "k1"}})
    new = tmp_path / "new.jsonl"
    EvalLog(new, {**legacy, "knob_files": {"medical": "k1"}}).put("0", {"medical": {"expert": 0.5}})
    with pytest.raises(OptionError, match=r"another search \(knob_files differ\)"):
        EvalLog(new, {**legacy, "knob_files": {"medical": "k2"}})  # the decomposition changed: refused
    with pytest.raises(OptionError, match=r"\(decompose, knob_files differ\)"):
        EvalLog(new, {"av_files": {"medical": "f1"}, "decompose": "svd", "knob_files": {"medical": "k2"}})
