"""The CLI: `serve` in the foreground until Ctrl-C; bad input and faults give one line and exit ≠ 0."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
import urllib.request

import pytest

from meav.annotation.local_argilla import _reachable, free_port
from meav.cli import main


def run_cli(args: list[str], monkeypatch, capsys) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["meav", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


def assert_one_line_error(result: tuple[int, str, str], *needles: str) -> None:
    code, _, err = result
    lines = err.strip().splitlines()
    assert code != 0 and len(lines) == 1 and lines[0].startswith("error: "), err
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_push_refuses_fewer_than_two_annotators(toy_corpus, monkeypatch, capsys):
    args = [
        "annotate",
        "push",
        str(toy_corpus),
        "--url",
        "http://127.0.0.1:9",
        "--api-key",
        "k",
        "--annotators",
        "solo",
    ]
    assert_one_line_error(run_cli(args, monkeypatch, capsys), "at least 2 annotators")


def test_push_to_unreachable_server(toy_corpus, monkeypatch, capsys):
    url = f"http://127.0.0.1:{free_port()}"
    args = ["annotate", "push", str(toy_corpus), "--url", url, "--api-key", "k", "--annotators", "a,b"]
    args += ["--queries-per-annotator", "2", "--min-shared", "1"]
    assert_one_line_error(run_cli(args, monkeypatch, capsys), url, "unreachable")


@pytest.mark.slow
def test_push_and_report_faults_against_the_server(
    argilla, pushed, toy_corpus, monkeypatch, capsys, tmp_path
):
    import argilla as rg
    import httpx

    base = ["annotate", "push", str(toy_corpus), "--url", argilla.url, "--annotators", "ann1,ann2,ann3"]
    small = ["--queries-per-annotator", "4", "--min-shared", "2", "--seed", "1"]
    wrong_key = run_cli(base + small + ["--api-key", "not-a-key"], monkeypatch, capsys)
    assert_one_line_error(wrong_key, argilla.url, "API key was refused")
    key = ["--api-key", argilla.api_key()]
    impossible = run_cli(base + key, monkeypatch, capsys)  # 30 each, 15 shared: the toy test split has 9
    assert_one_line_error(impossible, "test split has 9 queries", "need at least")
    more_shared = run_cli(
        base + key + ["--queries-per-annotator", "2", "--min-shared", "3"], monkeypatch, capsys
    )
    assert_one_line_error(more_shared, "--min-shared: 3 exceeds")

    client = rg.Argilla(api_url=argilla.url, api_key=argilla.api_key(), retries=0)
    other = rg.Settings(fields=[rg.TextField(name="text")], questions=[rg.TextQuestion(name="comment")])
    rg.Dataset(name="clash", workspace="meav", settings=other, client=client).create()
    clash = run_cli(base + small + key + ["--argilla-dataset", "clash"], monkeypatch, capsys)
    assert_one_line_error(clash, "'clash'", "other settings")
    reseeded = run_cli(
        base + key + ["--queries-per-annotator", "4", "--min-shared", "2", "--seed", "2"], monkeypatch, capsys
    )
    assert_one_line_error(reseeded, "another assignment")

    shared = run_cli(base + small + key + ["--workspace", "meav-ann1"], monkeypatch, capsys)
    assert_one_line_error(shared, "--workspace: meav-ann1", "are members")

    report = ["annotate", "report", "--url", argilla.url, "--out", str(tmp_path / "r")]
    assert_one_line_error(
        run_cli(report + key + ["--argilla-dataset", "nope"], monkeypatch, capsys), "no dataset 'nope'"
    )
    assert not (tmp_path / "r").exists()
    ann1 = client.users(username="ann1")
    owner = {"X-Argilla-Api-Key": argilla.api_key()}
    ann1_key = httpx.get(f"{argilla.url}/api/v1/users/{ann1.id}", headers=owner).json()["api_key"]
    assert_one_line_error(
        run_cli(report + ["--api-key", ann1_key], monkeypatch, capsys), "an owner key is needed"
    )


def _children(pid: int) -> list[int]:
    out = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as f:
            out += [int(p) for p in f.read().split()]
    return out


@pytest.mark.slow
def test_serve_runs_until_ctrl_c_and_stops_everything(tmp_path):
    port, data = free_port(), tmp_path / "data"
    cmd = [
        sys.executable,
        "-m",
        "meav.cli",
        "annotate",
        "serve",
        "--port",
        str(port),
        "--data-dir",
        str(data),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        while not any(line.startswith("Ctrl-C") for line in lines):
            line = proc.stdout.readline()
            assert line, f"serve exited: {''.join(lines)}"
            lines.append(line)
        assert f"Argilla: http://127.0.0.1:{port}\n" in lines
        creds = data / "owner_credentials.json"
        assert stat.S_IMODE(creds.stat().st_mode) == 0o600 and str(creds) in "".join(lines)
        secret = json.loads(creds.read_text())
        assert secret["api_key"] not in "".join(lines) and secret["password"] not in "".join(lines)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/version") as r:
            assert json.loads(r.read())["version"] == "2.8.0"
        children = _children(proc.pid)
        assert len(children) >= 3  # redis, worker, server
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
        assert not _reachable("127.0.0.1", port, 1.0)
        deadline = time.monotonic() + 10
        while any(os.path.exists(f"/proc/{c}") for c in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [c for c in children if os.path.exists(f"/proc/{c}")] == []
    finally:
        if proc.poll() is None:
            proc.kill()
