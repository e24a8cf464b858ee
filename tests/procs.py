"""Kill only the main process of a meav command (as the OOM killer or `kill -9 PID` would, not its group) and
see what it leaves: every process of its tree, snapshotted just before, must be gone within the grace period."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from meav.core.procs import alive, command_line


def children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        kids.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    return kids


def tree(pid: int) -> set[int]:
    """Every descendant of `pid` (not `pid` itself)."""
    kids, out, todo = children(), set(), [pid]
    while todo:
        for child in kids.get(todo.pop(), []):
            if child not in out:
                out.add(child)
                todo.append(child)
    return out


def kill_main_only(proc: subprocess.Popen, within: float = 15.0) -> tuple[int, list[str]]:
    """SIGKILL the main process only; (processes it had started, the command lines of those still alive
    after `within` seconds)."""
    started = tree(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and any(alive(p) for p in started):
        time.sleep(0.1)
    return len(started), [f"{p}: {command_line(p)}" for p in started if alive(p)]


def wait_for(check, timeout: float, what: str, proc: subprocess.Popen | None = None, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the command ended (code {proc.returncode}) before {what}")
        time.sleep(step)
    raise AssertionError(f"no {what} within {timeout:.0f} s")
