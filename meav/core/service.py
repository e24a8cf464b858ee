"""One service per state folder, and nothing left running by a killed one.

A service that keeps state in a folder (the Argilla data dir of `meav annotate serve`, the adapter cache of
`meav serve`) holds an exclusive `flock` on `<folder>/.<name>.lock` for its whole life, and records its
processes in `<folder>/<name>.pids.json`. The kernel releases the lock when the holder dies, however it dies,
so the next start knows whether the folder is in use (refused, naming the process) or was left by a killed
run, whose recorded processes are stopped if any still run (they normally died with it: core.procs).
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import time
from pathlib import Path

from meav.core import atomic
from meav.core.errors import MeavError
from meav.core.procs import alive, command_line, start_time


class ServiceLock:
    """`acquire()` before starting anything, `record()` each process started, `release()` when stopped."""

    def __init__(self, folder: str | Path, name: str):
        self.folder = Path(folder)
        self.name = name
        self.lock_path = self.folder / f".{name}.lock"
        self.pids_path = self.folder / f"{name}.pids.json"
        self._fd: int | None = None
        self._processes: dict[str, dict] = {}

    def acquire(self, grace_s: float = 5.0) -> list[str]:
        """Take the folder; returns the leftovers of a killed run that were stopped ('name pid')."""
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            holder = self._recorded().get("pid")
            who = f"process {holder} ({command_line(holder) or 'running'})" if holder else "another process"
            raise MeavError(
                f"{self.folder}: in use by {who}; stop it first (one {self.name} per folder)"
            ) from None
        self._fd = fd
        stopped = self._stop_leftovers(grace_s)
        self._processes = {}
        self._write()
        return stopped

    def _recorded(self) -> dict:
        try:
            return json.loads(self.pids_path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return {}

    def _stop_leftovers(self, grace_s: float) -> list[str]:
        """Processes a killed run recorded that still run: same pid, command and start time (not a reused pid)."""
        left = [
            (name, p["pid"])
            for name, p in self._recorded().get("processes", {}).items()
            if alive(p["pid"])
            and command_line(p["pid"]) == p["cmd"]
            and p.get("started") in (None, start_time(p["pid"]))
        ]
        for _, pid in left:
            _signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while any(alive(pid) for _, pid in left) and time.monotonic() < deadline:
            time.sleep(0.1)
        for _, pid in left:
            if alive(pid):
                _signal_group(pid, signal.SIGKILL)
        return [f"{name} {pid}" for name, pid in left]

    def record(self, name: str, pid: int) -> None:
        self._processes[name] = {"pid": pid, "cmd": command_line(pid), "started": start_time(pid)}
        self._write()

    def _write(self) -> None:
        atomic.write_json(
            self.pids_path,
            {"pid": os.getpid(), "cmd": command_line(os.getpid()), "processes": self._processes},
        )

    def release(self) -> None:
        if self._fd is not None:
            self.pids_path.unlink(missing_ok=True)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _signal_group(pid: int, sig: int) -> None:
    """The process and, when it leads one, its process group (services start children in own sessions)."""
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        pass
