"""Which level dominates, where, and the λ grids it is read on (the paper's rule: the highest share, > 1/3)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from meav.core.corpus import LEVELS
from meav.core.errors import OptionError

DOMINANCE = 1 / 3


def parse_grid(text: str, field: str = "lambdas") -> list[float]:
    """'start:stop:step' (inclusive, e.g. -2.0:1.0:0.1) or a comma list '-1,0,0.5'; rounded to 6 decimals.
    Errors name `field`, the option the text came from."""
    t = text.strip()
    try:
        if ":" not in t:
            values = [float(x) for x in t.split(",") if x.strip()]
            if not values:
                raise ValueError
            return values
        parts = [float(x) for x in t.split(":")]
    except ValueError:
        raise OptionError(field, f"{text!r}: expected start:stop:step (e.g. -2.0:1.0:0.1) or a,b,c") from None
    if len(parts) != 3:
        raise OptionError(field, f"{text!r}: expected three numbers start:stop:step, got {len(parts)}")
    start, stop, step = parts
    if not all(math.isfinite(x) for x in parts):
        raise OptionError(field, f"{text!r}: values must be finite")
    if step <= 0:
        raise OptionError(field, f"{text!r}: step must be > 0")
    if stop < start:
        raise OptionError(field, f"{text!r}: stop {stop} is below start {start}")
    n = math.floor((stop - start) / step + 1e-9)
    if n > 10_000:
        raise OptionError(field, f"{text!r}: {n + 1} values, more than 10,000")
    return [round(start + i * step, 6) for i in range(n + 1)]


def dominant(shares: dict[str, float]) -> str | None:
    """The level with the strictly highest share, if that share is > 1/3; else None (mixed)."""
    best = max(shares, key=shares.get)
    others = [v for k, v in shares.items() if k != best]
    return best if shares[best] > DOMINANCE and all(shares[best] > v for v in others) else None


def dominance_ranges(
    lambdas: Sequence[float], dominants: Sequence[str | None]
) -> dict[str, list[list[float]]]:
    """Per level, the contiguous λ intervals (on the grid) where it dominates."""
    ranges: dict[str, list[list[float]]] = {level: [] for level in LEVELS}
    prev = None
    for lam, dom in zip(lambdas, dominants, strict=True):
        if dom is not None:
            if dom == prev:
                ranges[dom][-1][1] = lam
            else:
                ranges[dom].append([lam, lam])
        prev = dom
    return ranges


def recommend(results: list[dict], domain: str) -> dict[str, float | None]:
    """Per level, the λ where it dominates in `domain` with its highest share (ties: the smallest |λ|)."""
    out: dict[str, float | None] = {}
    for level in LEVELS:
        cands = [
            (r["domains"][domain][level], -abs(r["lambda"]), r["lambda"])
            for r in results
            if dominant(r["domains"][domain]) == level
        ]
        out[level] = max(cands)[2] if cands else None
    return out
