"""`kill -9` of `meav serve`: nothing of it keeps running, the same command on the same port serves again, and
one state folder never has two servers (the second is refused, naming the first)."""

from __future__ import annotations

import subprocess
import sys

import httpx

from tests.procs import kill_main_only
from tests.serving.conftest import start_server


def test_kill_9_then_the_same_command_serves_again(serve_models, tmp_path):
    state = tmp_path / "state"
    first = start_server("--base", serve_models["base"], "--cache-dir", state)
    port = first.url.rsplit(":", 1)[1].split("/")[0]
    assert httpx.get(first.url.removesuffix("/v1") + "/health").status_code == 200
    _, survivors = kill_main_only(first.proc)
    assert survivors == []
    again = start_server("--base", serve_models["base"], "--cache-dir", state, "--port", port)
    try:
        assert again.url == first.url  # the same port, free again
        assert httpx.get(again.url.removesuffix("/v1") + "/health").json()["status"] == "ok"
        second = subprocess.run(
            [sys.executable, "-m", "meav.cli", "serve", "--base", str(serve_models["base"]), "--cache-dir", str(state), "--port", "0"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        lines = [x for x in second.stderr.splitlines() if x.startswith("error:")]
        assert (
            second.returncode == 1 and len(lines) == 1 and f"in use by process {again.proc.pid}" in lines[0]
        ), second.stderr
    finally:
        again.stop()
