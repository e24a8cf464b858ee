"""Named values on the command line, one syntax everywhere: `NAME=VALUE`, repeated.

`--av NAME=PATH` wherever a named AV is given (serve, search, vectors apply; a bare path where a command takes
only one AV), and `--lambda NAME=λ` for a named AV's λ (vectors apply). Errors are `OptionError`s naming the
field (the CLI shows its flag).
"""

from __future__ import annotations

import math

from meav.core.errors import OptionError

RESERVED = (
    "@,:="  # a name is used in model ids ('BASE@medical=0.5,legal=-1') and level presets ('medical:expert')
)


def parse_named_avs(specs: list[str], field: str = "av") -> dict[str, str]:
    """['medical=PATH', ...] → {name: path} (a folder or Hub id), each name once, in the given order."""
    out: dict[str, str] = {}
    for spec in specs:
        name, sep, path = (s.strip() for s in spec.partition("="))
        if not sep or not name or not path or any(c in name for c in RESERVED):
            raise OptionError(
                field,
                f"{spec!r}: expected NAME=PATH (a name without '@', ',' or ':', then an AV folder or Hub id)",
            )
        if name in out:
            raise OptionError(field, f"{spec!r}: name {name!r} given twice")
        out[name] = path
    return out


def parse_named_lambdas(
    specs: list[str], names: list[str] | None = None, field: str = "lambda_"
) -> dict[str, float]:
    """['medical=0.5', ...] → {name: λ}; with `names` (the AVs given), every name must be one of them."""
    out: dict[str, float] = {}
    for spec in specs:
        name, sep, value = (s.strip() for s in spec.partition("="))
        try:
            if not sep or not name:
                raise ValueError
            lam = float(value)
        except ValueError:
            raise OptionError(field, f"{spec!r}: expected NAME=λ (e.g. medical=0.5)") from None
        if not math.isfinite(lam):
            raise OptionError(field, f"{spec!r}: λ must be finite")
        if name in out:
            raise OptionError(field, f"{spec!r}: name {name!r} given twice")
        if names is not None and name not in names:
            known = ", ".join(names) or "none"
            raise OptionError(field, f"{spec!r}: no AV named {name!r} (given: {known})")
        out[name] = lam
    return out
