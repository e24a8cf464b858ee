"""`kill -9` of the main `meav annotate serve` process: Redis, the Argilla server and its worker die with it,
the same command on the same port and data dir starts again, and every submitted annotation is still there.
A second server on the same data dir, meanwhile, is refused, naming the first."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from meav.annotation import PushOptions, push
from meav.annotation.local_argilla import free_port
from tests.annotation.rest import Annotator
from tests.procs import kill_main_only, wait_for


def _serve(port: int, data: str) -> tuple[subprocess.Popen, str]:
    cmd = [sys.executable, "-m", "meav.cli", "annotate", "serve", "--port", str(port), "--data-dir", data]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines = []

    def ready():
        line = proc.stdout.readline()
        lines.append(line)
        return line.split("Argilla: ", 1)[1].strip() if line.startswith("Argilla: ") else None

    return proc, wait_for(ready, 180, f"Argilla on port {port} ({''.join(lines)[-500:]})", proc, step=0)


@pytest.mark.slow
def test_kill_9_leaves_nothing_running_and_annotations_survive(toy_corpus, tmp_path):
    port, data = free_port(), str(tmp_path / "argilla")
    proc, url = _serve(port, data)
    try:
        key = json.loads((tmp_path / "argilla" / "owner_credentials.json").read_text())["api_key"]
        creds = tmp_path / "annotators.json"
        push(PushOptions(corpus_dir=toy_corpus, url=url, api_key=key, annotators=["ka", "kb"], queries_per_annotator=2,
                         min_shared=1, credentials=creds))  # fmt: skip
        ka = Annotator(url, "ka", json.loads(creds.read_text())["users"]["ka"]["password"])
        record = ka.queue()[0][0]
        assert ka.submit(record["id"], "expert").status_code in (200, 201)

        second = subprocess.run([sys.executable, "-m", "meav.cli", "annotate", "serve", "--port", str(free_port()),
                                 "--data-dir", data], capture_output=True, text=True, timeout=120)  # fmt: skip
        assert second.returncode == 1 and f"in use by process {proc.pid}" in second.stderr, second.stderr

        started, survivors = kill_main_only(proc)
        assert started >= 3 and survivors == [], survivors  # redis, server, worker
    finally:
        if proc.poll() is None:
            proc.kill()
    again, url2 = _serve(port, data)  # same port and data dir
    try:
        assert url2 == url
        ka = Annotator(url, "ka", json.loads(creds.read_text())["users"]["ka"]["password"])
        answered = [r for r in ka.records() if r["id"] == record["id"]]
        assert ka.queue()[1] == 5 and answered  # 6 records, the submitted one is no longer pending
    finally:
        again.send_signal(signal.SIGINT)
        again.wait(timeout=60)
