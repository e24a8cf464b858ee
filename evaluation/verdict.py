"""Whether the knob shows: per-query log-prob margins with bootstrap intervals over queries, and the rule.

Shares (preference accuracy) move in steps of 1/n and hide how far a level wins by. The margin of level L on
one query is its mean per-token log-prob minus the best other level's: > 0 iff L wins that query. Per domain
and λ we report its mean over queries with a 95% percentile-bootstrap interval (queries resampled with one
seeded set of indices for every λ, so intervals of one sweep are comparable).

Knob visible (the rule fixed before any result, never tuned): the expert margin's interval at the top of the grid lies wholly
above its interval at λ = 0, which lies wholly above the one at the bottom of the grid; and the avoidance
margin's intervals are ordered the other way round. Each λ's interval is computed on its own; asking
separate 95% intervals not to overlap is stricter than a paired test of the difference would be, which is
the side to err on for a headline. A random vector with the AV's per-tensor norms goes through the same
sweep as a control; it must not pass.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from meav.core.corpus import LEVELS, PAPER_ORDER
from meav.evaluation.dominance import dominant

MARGIN_LEVELS = PAPER_ORDER


def margins(scores: Sequence[Sequence[float]], level: str) -> np.ndarray:
    """Per query: the level's score minus the best other level's (scores in LEVELS order)."""
    s = np.asarray(scores, dtype=float).reshape(-1, len(LEVELS))
    i = LEVELS.index(level)
    others = np.delete(s, i, axis=1).max(axis=1)
    return s[:, i] - others


def bootstrap_indices(n: int, resamples: int, seed: int) -> np.ndarray:
    """`resamples` × n query indices drawn with replacement (one set reused for every λ of a sweep)."""
    return np.random.default_rng(seed).integers(0, n, size=(resamples, n))


def interval(values: np.ndarray, idx: np.ndarray) -> dict:
    """Mean with its 95% percentile-bootstrap interval over the resampled index sets."""
    means = values[idx].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return {"mean": round(float(values.mean()), 5), "ci95": [round(float(lo), 5), round(float(hi), 5)]}


def margin_stats(scores: Sequence[Sequence[float]], resamples: int = 2000, seed: int = 0) -> dict:
    """Per level: mean margin over queries and its bootstrap interval; `n` queries."""
    idx = bootstrap_indices(len(scores), resamples, seed)
    return {lv: interval(margins(scores, lv), idx) for lv in MARGIN_LEVELS} | {"n": len(scores)}


def add_margins(results: list[dict], resamples: int, seed: int = 0) -> None:
    """Fill `margins[domain]` of every sweep row from its per-query `scores`."""
    for r in results:
        r["margins"] = {d: margin_stats(s, resamples, seed) for d, s in r.get("scores", {}).items()}


def _above(a: dict, b: dict) -> bool:
    return a["ci95"][0] > b["ci95"][1]


def grid_carries_verdict(lambdas: Sequence[float]) -> bool:
    """The rule needs λ = 0 and a value on each side of it."""
    return 0.0 in lambdas and min(lambdas) < 0.0 < max(lambdas)


def knob_verdict(lambdas: Sequence[float], results: Sequence[dict], domain: str, rule=None) -> dict:
    """The rule above, for one domain of one sweep; says why when it cannot be applied. With a fluency `rule`:
    each level's recommended λ, and whether the knob *holds with fluency*: visible, and both ends reachable
    without damage (expert leads fluently at some λ > 0, avoidance at some λ < 0); None without neutral texts.
    `expert_rises` / `avoidance_rises` judge each end alone (top above 0 for expert, bottom above 0 for
    avoidance): a control passes if it reproduces either end."""
    if not grid_carries_verdict(lambdas):
        return {"visible": False, "holds": False, "reason": "λ = 0 and both sides of it must be on the grid"}
    by_lam = {r["lambda"]: r["margins"][domain] for r in results}
    lo, mid, hi = by_lam[min(lambdas)], by_lam[0.0], by_lam[max(lambdas)]
    expert = _above(hi["expert"], mid["expert"]) and _above(mid["expert"], lo["expert"])
    avoidance = _above(lo["avoidance"], mid["avoidance"]) and _above(mid["avoidance"], hi["avoidance"])
    verdict = {
        "visible": expert and avoidance,
        # each end on its own: what a control must not reproduce either
        "expert_rises": _above(hi["expert"], mid["expert"]),
        "avoidance_rises": _above(lo["avoidance"], mid["avoidance"]),
        "expert_ordered": expert,
        "avoidance_ordered": avoidance,
        "bottom": min(lambdas),
        "top": max(lambdas),
        "expert": {"bottom": lo["expert"], "zero": mid["expert"], "top": hi["expert"]},
        "avoidance": {"bottom": lo["avoidance"], "zero": mid["avoidance"], "top": hi["avoidance"]},
    }
    if rule is not None:
        rec = recommend(results, domain, rule)
        verdict["recommended"] = rec
        neutral = all("neutral" in r.get("fluency_delta", {}) for r in results)
        verdict["holds"] = (
            bool(
                verdict["visible"]
                and any(x > 0 for x in rec["expert"]["fluent_at"])
                and any(x < 0 for x in rec["avoidance"]["fluent_at"])
            )
            if neutral
            else None  # general fluency not measured: no claim either way
        )
    return verdict


def recommend(results: Sequence[dict], domain: str, rule) -> dict[str, dict]:
    """Per level: every grid λ where it leads (the highest share, > 1/3) with its margin's interval above 0
    and `rule` (fluency) holding (`fluent_at`), and the recommended λ, the one of those closest to 0 (ties: the
    positive one); None with the reason of the λ closest to 0 where it leads."""
    out = {}
    order = sorted(results, key=lambda r: (abs(r["lambda"]), -r["lambda"]))
    for level in MARGIN_LEVELS:
        why, fluent = None, []
        for r in order:
            if dominant(r["domains"][domain]) != level:
                continue
            if r["margins"][domain][level]["ci95"][0] <= 0:
                why = why or f"leads at λ {r['lambda']:g}, but its margin's interval is not above 0"
                continue
            ok, reason = (
                rule.holds(r["fluency_delta"], domain, level)
                if "fluency_delta" in r
                else (False, "no fluency measured")
            )
            if ok:
                fluent.append(r["lambda"])
            else:
                why = why or f"leads at λ {r['lambda']:g} with its margin above 0, but {reason}"
        out[level] = {"lambda": fluent[0] if fluent else None, "fluent_at": sorted(fluent),
                      "why": "" if fluent else why or "never leads on the grid"}  # fmt: skip
    return out


def best_share(results: Sequence[dict], domain: str, level: str) -> tuple[float, float]:
    """(highest share of `level` over the grid, the λ where it is reached; ties: the smallest |λ|)."""
    best = max(results, key=lambda r: (r["domains"][domain][level], -abs(r["lambda"])))
    return best["domains"][domain][level], best["lambda"]
