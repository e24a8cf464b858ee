"""The argilla-server venv: created on first use, outside meav's own venv.

Why a separate venv: argilla-server 2.8.0 pins pydantic 2.9 / fastapi 0.115, which conflict with meav's
stack. Location: `$MEAV_ARGILLA_VENV`, default `~/.cache/meav/argilla-server-2.8.0` (shared by checkouts;
`bin/setup.d/annotation.sh` pre-creates it for CI with `python -m meav.annotation.server_venv`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from meav.core.errors import MeavError

ARGILLA_SERVER_VERSION = "2.8.0"


def venv_dir() -> Path:
    default = Path.home() / ".cache" / "meav" / f"argilla-server-{ARGILLA_SERVER_VERSION}"
    return Path(os.environ.get("MEAV_ARGILLA_VENV", default))


def venv_python(venv: Path | None = None) -> Path:
    return (venv or venv_dir()) / "bin" / "python"


def _ready(venv: Path) -> bool:
    return (venv / ".meav-ready").exists() and venv_python(venv).exists()


def ensure_server_venv(quiet: bool = False) -> Path:
    """Return the venv's python, installing argilla-server into a sibling temp folder first if needed."""
    venv = venv_dir()
    if _ready(venv):
        return venv_python(venv)
    if not quiet:
        print(
            f"creating the argilla-server {ARGILLA_SERVER_VERSION} venv in {venv} (first use, ~40 s)",
            flush=True,
        )
    # A venv's scripts hard-code its path, so it is built in place and marked ready (.meav-ready) only once
    # the install succeeded; a failed or interrupted build is removed or rebuilt on the next use.
    if venv.exists():
        shutil.rmtree(venv)
    venv.parent.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run([_base_python(), "-m", "venv", str(venv)], check=True, capture_output=True, text=True)
        subprocess.run(
            [
                str(venv_python(venv)),
                "-m",
                "pip",
                "install",
                "-q",
                f"argilla-server=={ARGILLA_SERVER_VERSION}",
            ],
            check=True,
            capture_output=True,
            text=True,
        )
    except subprocess.CalledProcessError as e:
        shutil.rmtree(venv, ignore_errors=True)
        last = (e.stderr or e.stdout or "").strip().splitlines()
        raise MeavError(
            f"{venv}: cannot install argilla-server=={ARGILLA_SERVER_VERSION}: {last[-1] if last else e}"
        ) from e
    (venv / ".meav-ready").write_text(ARGILLA_SERVER_VERSION + "\n")
    return venv_python(venv)


def _base_python() -> str:
    """The interpreter meav's venv was made from (a venv made from a venv would inherit nothing anyway)."""
    base = getattr(sys, "_base_executable", None) or sys.executable
    return base if Path(base).exists() else sys.executable


if __name__ == "__main__":
    print(ensure_server_venv())
