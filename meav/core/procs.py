"""Children die with the meav process that started them, however it dies (kill -9, the OOM killer).

Linux's PR_SET_PDEATHSIG makes the kernel send a signal to a process when its parent exits. meav sets it:
- in every child forked by a meav process (`die_with_parent_on_fork`, installed by the CLI): distilabel's
  Manager and Pool workers and torch's data-loader workers are forked from the main thread, so the at-fork
  hook covers them without patching distilabel;
- in every subprocess meav spawns (`popen`: redis, the Argilla server and its worker), through `preexec_fn`,
  which runs in the child between fork and exec (the setting survives exec).
A child checks, right after setting it, that its parent is still the one that forked it: a parent that died
in between would otherwise never signal it. Elsewhere (not Linux) these are no-ops.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
from typing import Any

PR_SET_PDEATHSIG = 1
_installed = False
_forking_parent = [0]


# Resolved once, at import: a forked child must not look libc up (find_library runs ldconfig in a
# subprocess, which is not safe between fork and exec in a process with threads).
_PRCTL = (
    ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True).prctl
    if sys.platform.startswith("linux")
    else None
)


def set_pdeathsig(sig: int = signal.SIGKILL, parent: int | None = None) -> None:
    """In the calling process: receive `sig` when the parent dies; exit now if it already has."""
    if _PRCTL is None:
        return
    if _PRCTL(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
        return  # not allowed here (seccomp): the pid files of services still catch leftovers
    if parent is not None and os.getppid() != parent:
        os._exit(1)


def _before_fork() -> None:
    _forking_parent[0] = os.getpid()


def _after_fork_in_child() -> None:
    set_pdeathsig(signal.SIGKILL, _forking_parent[0])


def die_with_parent_on_fork() -> None:
    """Every process forked from now on by this process dies when this process dies (installed once)."""
    global _installed
    if not _installed and sys.platform.startswith("linux"):
        os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)
        _installed = True


def popen(cmd: list[str], **kwargs: Any) -> subprocess.Popen:
    """`subprocess.Popen` whose child gets SIGKILL when this process dies."""
    parent = os.getpid()
    return subprocess.Popen(cmd, preexec_fn=lambda: set_pdeathsig(signal.SIGKILL, parent), **kwargs)  # noqa: PLW1509


def alive(pid: int) -> bool:
    """Whether a process with this pid exists (and is not a zombie)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def command_line(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def start_time(pid: int) -> int | None:
    """When the process started (clock ticks since boot, /proc/PID/stat field 22): with the pid, it names one
    process for good, as a pid alone does not once the kernel reuses it."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None
