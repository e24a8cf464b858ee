"""A local Argilla: Redis (unless given), the real argilla-server 2.8.0 with our SQL search engine, a worker.

Everything lives under one data dir: `argilla/` (SQLite database), `logs/`, `redis/`, the owner credentials
(`owner_credentials.json`, 0600) and the token-signing key (`auth_secret_key`, 0600: kept so logins survive
a restart). Stopping stops every process this object started. The data dir is held by one server at a time
(core.service: a lock, and the processes recorded beside it), and every process started here dies with the
meav process that started it (core.procs), even after `kill -9`.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

from meav.annotation.server_venv import ensure_server_venv
from meav.core.errors import MeavError, OptionError
from meav.core.procs import popen
from meav.core.service import ServiceLock

LAUNCHER = Path(__file__).resolve().parent / "argilla_launch.py"
ENGINE_NAME = "meav-sql"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _reachable(host: str, port: int, timeout: float = 2.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _secret_file(path: Path, make) -> str:
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(make())
    return path.read_text().strip()


class LocalArgilla:
    """Start/stop the processes of a local Argilla; `url` and `credentials` are set once started."""

    def __init__(
        self, data_dir: str | Path, port: int = 6900, redis_url: str | None = None, host: str = "127.0.0.1"
    ):
        self.data_dir = Path(data_dir).resolve()
        self.port, self.host, self.redis_url = port, host, redis_url
        self.url = f"http://{host}:{port}"
        self.credentials = self.data_dir / "owner_credentials.json"
        self._procs: list[tuple[str, subprocess.Popen]] = []
        self.lock = ServiceLock(self.data_dir, "argilla")
        self.leftovers: list[str] = []  # processes of a killed earlier run on this data dir, stopped at start

    # -- processes ---------------------------------------------------------------------------------------
    def _spawn(self, name: str, cmd: list[str], env: dict | None = None) -> subprocess.Popen:
        log = open(self.data_dir / "logs" / f"{name}.log", "ab")  # noqa: SIM115 (closed with the process)
        proc = popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        log.close()
        self._procs.append((name, proc))
        self.lock.record(name, proc.pid)
        return proc

    def _log_tail(self, name: str) -> str:
        path = self.data_dir / "logs" / f"{name}.log"
        lines = path.read_text(errors="replace").strip().splitlines() if path.exists() else []
        return lines[-1] if lines else "(no output)"

    def _start_redis(self) -> str:
        exe = shutil.which("redis-server")
        if exe is None:
            raise MeavError("redis-server not found: install Debian's redis-server or pass --redis-url")
        port = free_port()
        (self.data_dir / "redis").mkdir(exist_ok=True)
        cmd = [
            exe,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--dir",
            str(self.data_dir / "redis"),
            "--save",
            "",
        ]
        proc = self._spawn("redis", cmd + ["--appendonly", "no", "--protected-mode", "yes"])
        for _ in range(100):
            if _reachable("127.0.0.1", port, 0.2):
                return f"redis://127.0.0.1:{port}/0"
            if proc.poll() is not None:
                break
            time.sleep(0.1)
        raise MeavError(f"redis-server did not start: {self._log_tail('redis')}")

    def _env(self, redis_url: str) -> dict:
        key = _secret_file(self.data_dir / "auth_secret_key", lambda: secrets.token_hex(32))
        env = dict(os.environ)
        env.update(
            ARGILLA_HOME_PATH=str(self.data_dir / "argilla"),
            ARGILLA_REDIS_URL=redis_url,
            ARGILLA_SEARCH_ENGINE=ENGINE_NAME,
            ARGILLA_AUTH_SECRET_KEY=key,
            HF_HUB_DISABLE_TELEMETRY="1",
            HF_HUB_OFFLINE="1",
            PYTHONUNBUFFERED="1",
        )
        return env

    def start(self, timeout_s: float = 120.0) -> LocalArgilla:
        self.leftovers = self.lock.acquire()  # refuses a data dir in use; stops what a killed run left
        try:
            self._start(timeout_s)
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self, timeout_s: float) -> None:
        if _reachable(self.host, self.port, 0.5):
            raise MeavError(f"port {self.port} on {self.host} is already in use: pick another with --port")
        python = str(ensure_server_venv())
        (self.data_dir / "logs").mkdir(parents=True, exist_ok=True)
        if self.redis_url:
            parsed = urlparse(self.redis_url)
            if parsed.scheme not in ("redis", "rediss") or not _reachable(
                parsed.hostname or "", parsed.port or 6379
            ):
                raise OptionError("redis_url", f"{self.redis_url}: no Redis answers there")
            redis_url = self.redis_url
        else:
            redis_url = self._start_redis()
        env = self._env(redis_url)
        init = self._spawn("init", [python, str(LAUNCHER), "init", str(self.credentials)], env)
        if init.wait(timeout=timeout_s) != 0:
            raise MeavError(f"argilla database migration failed: {self._log_tail('init')}")
        self._spawn("worker", [python, str(LAUNCHER), "worker"], env)
        server = self._spawn("server", [python, str(LAUNCHER), "server", self.host, str(self.port)], env)
        self._wait_ready(server, timeout_s)

    def _wait_ready(self, server: subprocess.Popen, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise MeavError(f"argilla-server exited ({server.returncode}): {self._log_tail('server')}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/v1/version", timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.3)
        raise MeavError(f"argilla-server did not answer on {self.url} within {timeout_s:.0f} s")

    def api_key(self) -> str:
        return json.loads(self.credentials.read_text())["api_key"]

    def alive(self) -> bool:
        return all(p.poll() is None for name, p in self._procs if name != "init")

    def stop(self, grace_s: float = 10.0) -> None:
        """SIGTERM to every process at once, one shared grace period, then SIGKILL to what is left (with its
        process group: each was started in its own session). Bounded by `grace_s`, not by the slowest child."""
        running = [proc for _, proc in self._procs if proc.poll() is None]
        for proc in running:
            proc.terminate()
        deadline = time.monotonic() + grace_s
        for proc in running:
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), 0.01))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self._procs.clear()
        self.lock.release()

    def __enter__(self) -> LocalArgilla:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
