"""Single-domain λ sweep (paper §6.1, Tables 1–4, the "tunable knob" figure).

For each λ on the grid the model is steered in place (θ = θ_base + λ·AV, recomputed from the base values,
no reload), the held-out queries of every domain are scored, and each level's share is recorded. A level
"dominates" at λ when its share is the highest and > 1/3 (the paper's rule); the λ values where it dominates
in the AV's own domain give its range and recommended λ.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

from meav.corpus import LEVELS
from meav.errors import MeavError

DOMINANCE = 1 / 3


def parse_grid(text: str, flag: str = "--lambdas") -> list[float]:
    """'start:stop:step' (inclusive, e.g. -2.0:1.0:0.1) or a comma list '-1,0,0.5'; rounded to 6 decimals.
    Errors name `flag`, the option the text came from."""
    t = text.strip()
    try:
        if ":" not in t:
            values = [float(x) for x in t.split(",") if x.strip()]
            if not values:
                raise ValueError
            return values
        parts = [float(x) for x in t.split(":")]
    except ValueError:
        raise MeavError(f"{flag} {text!r}: expected start:stop:step (e.g. -2.0:1.0:0.1) or a,b,c") from None
    if len(parts) != 3:
        raise MeavError(f"{flag} {text!r}: expected three numbers start:stop:step, got {len(parts)}")
    start, stop, step = parts
    if not all(math.isfinite(x) for x in parts):
        raise MeavError(f"{flag} {text!r}: values must be finite")
    if step <= 0:
        raise MeavError(f"{flag} {text!r}: step must be > 0")
    if stop < start:
        raise MeavError(f"{flag} {text!r}: stop {stop} is below start {start}")
    n = math.floor((stop - start) / step + 1e-9)
    if n > 10_000:
        raise MeavError(f"{flag} {text!r}: {n + 1} values, more than 10,000")
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


def run_sweep(evaluator, steer, model, av, lambdas: Sequence[float], progress=None, **steer_kw) -> dict:
    """Shares per λ per domain (and general pairs), steering in place; the model is reset to base at the end."""
    results = []
    t0 = time.perf_counter()
    try:
        for lam in lambdas:
            steer(model, {av: lam}, **steer_kw)
            results.append({"lambda": lam, **evaluator()})
            if progress:
                progress(results[-1])
    finally:
        steer(model, {})
    return summarize(results, av.config.get("domain"), time.perf_counter() - t0)


def summarize(results: list[dict], av_domain: str | None, wall_s: float) -> dict:
    """Dominant level per λ per domain, dominance ranges and recommended λ in the AV's domain."""
    domains = list(results[0]["domains"]) if results else []
    lambdas = [r["lambda"] for r in results]
    dominants = {d: [dominant(r["domains"][d]) for r in results] for d in domains}
    in_domain = av_domain if av_domain in domains else None
    summary = {
        "lambdas": lambdas,
        "results": results,
        "dominant": dominants,
        "ranges": {d: dominance_ranges(lambdas, dominants[d]) for d in domains},
        "av_domain": av_domain,
        "wall_s": round(wall_s, 3),
    }
    if in_domain:
        summary["recommended_lambda"] = recommend(results, in_domain)
    return summary
