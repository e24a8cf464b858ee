"""Run `meav ...` in-process through meav.cli.main, so its error handling (one line, exit 2) is what is tested."""

from __future__ import annotations

import sys
from dataclasses import dataclass


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_meav(capsys, *args: str) -> Result:
    from meav.cli import main

    argv = sys.argv
    sys.argv = ["meav", *map(str, args)]
    try:
        main()
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        sys.argv = argv
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)
