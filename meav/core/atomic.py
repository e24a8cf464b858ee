"""Outputs appear complete or not at all: write under a temporary name in the same folder, then rename.

Temporary files and folders are created private (mkstemp: 0600, mkdtemp: 0700); before they are renamed into
place they get the permissions a plain `open()` / `mkdir()` would have given them: the umask's (0644 and 0755
under umask 022), or, for a file that is being replaced, the permissions it already had.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process umask, read without changing it (Linux: /proc/self/status; elsewhere set and restored)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def file_mode(path: str | Path) -> int:
    """The mode `open(path, "w")` would leave: the existing file's, else 0666 minus the umask."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return 0o666 & ~current_umask()


def dir_mode() -> int:
    """The mode `mkdir` gives a new folder: 0777 minus the umask."""
    return 0o777 & ~current_umask()


def write_bytes(path: str | Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), file_mode(path))  # mkstemp's 0600 would make cards and configs private
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: str | Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_json(path: str | Path, obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")


def figure_png(fig, **savefig_kwargs: Any) -> bytes:
    """A matplotlib Figure as PNG bytes (figures are built with `matplotlib.figure.Figure`: no pyplot state,
    no GUI backend, nothing to close)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", **savefig_kwargs)
    return buf.getvalue()


def write_figure(path: str | Path, fig, dpi: int = 110) -> Path:
    write_bytes(path, figure_png(fig, dpi=dpi))
    return Path(path)


@contextmanager
def staging_dir(final: str | Path, *, overwrite: bool = True) -> Iterator[Path]:
    """Yield an empty sibling folder; on success it replaces `final`, on failure it is removed.

    Readers never see a half-written `final`: it is either the previous complete version or the new one.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.", suffix=".partial"))
    try:
        os.chmod(tmp, dir_mode())  # mkdtemp's 0700 would make the output folder private
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if final.exists() and not overwrite:
        shutil.rmtree(tmp, ignore_errors=True)
        raise FileExistsError(final)
    replace_dir(tmp, final)


def replace_dir(staged: str | Path, final: str | Path) -> None:
    """Rename the finished folder `staged` into place; a previous `final` is replaced, never half-overwritten
    (it is moved aside first and removed only once the new one is in place)."""
    staged, final = Path(staged), Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    if not final.exists():
        os.replace(staged, final)
        return
    old = final.with_name(f".{final.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    os.replace(final, old)
    os.replace(staged, final)
    shutil.rmtree(old, ignore_errors=True)
