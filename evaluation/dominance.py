"""Which level dominates and where (the paper's rule: the highest share, > 1/3)."""

from __future__ import annotations

from collections.abc import Sequence

from meav.core.corpus import LEVELS

DOMINANCE = 1 / 3


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


def peak_lambda(results: list[dict], domain: str) -> dict[str, float | None]:
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
