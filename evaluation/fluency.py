"""Fluency beside preference: how likely the model still finds text at each λ, in absolute terms.

A margin can grow while both sides collapse. So every sweep row also carries each level's mean per-token
log-prob on its held-out responses and, where a neutral text set (general text outside the domains) is given,
that set's mean; each as a change Δ against λ = 0 (paired per query or text, with a 95% bootstrap interval)
and, for the neutral set, as a perplexity ratio exp(−Δ). The fluency rule: a level's own responses lose at
most `max_own_drop` nats/token and the neutral texts at most `max_neutral_drop`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from meav.core.corpus import LEVELS
from meav.evaluation.verdict import bootstrap_indices, interval


@dataclass(frozen=True)
class FluencyRule:
    max_own_drop: float = 0.1
    max_neutral_drop: float = 0.25

    def holds(self, delta: dict, domain: str, level: str) -> tuple[bool, str]:
        """(holds, why not) for `level` of `domain` at a row's fluency Δ. Without neutral texts only the level's
        own responses are checked (the verdict then says general fluency was not measured)."""
        own = delta["levels"][domain][level]["mean"]
        if own < -self.max_own_drop:
            return False, f"its own responses lose {-own:.2f} nats/token (> {self.max_own_drop:g})"
        neutral = delta.get("neutral")
        if neutral is None:
            return True, ""
        if neutral["mean"] < -self.max_neutral_drop:
            return (
                False,
                f"neutral texts lose {-neutral['mean']:.2f} nats/token (> {self.max_neutral_drop:g})",
            )
        return True, ""


def _per_level(scores: Sequence[Sequence[float]]) -> np.ndarray:
    return np.asarray(scores, dtype=float).reshape(-1, len(LEVELS))


def add_fluency(results: list[dict], resamples: int, seed: int = 0) -> None:
    """Fill each row's `fluency` (absolute means) and `fluency_delta` (against the λ = 0 row, when present)."""
    zero = next((r for r in results if r["lambda"] == 0.0), None)
    for r in results:
        r["fluency"] = {
            "levels": {
                d: {lv: round(float(m), 5) for lv, m in zip(LEVELS, _per_level(s).mean(axis=0), strict=True)}
                for d, s in r["scores"].items()
            },
            **({"neutral": round(float(np.mean(r["neutral"])), 5)} if r.get("neutral") else {}),
        }
        if zero is not None:
            r["fluency_delta"] = fluency_delta(r, zero, resamples, seed)


def fluency_delta(row: dict, zero: dict, resamples: int, seed: int = 0) -> dict:
    """Paired Δ (row − λ = 0) per domain and level over queries, and over neutral texts, with 95% intervals."""
    out: dict = {"levels": {}}
    for d, s in row["scores"].items():
        diff = _per_level(s) - _per_level(zero["scores"][d])
        idx = bootstrap_indices(len(diff), resamples, seed)
        out["levels"][d] = {lv: interval(diff[:, i], idx) for i, lv in enumerate(LEVELS)}
    if row.get("neutral") and zero.get("neutral"):
        diff = np.asarray(row["neutral"]) - np.asarray(zero["neutral"])
        out["neutral"] = interval(diff, bootstrap_indices(len(diff), resamples, seed))
        out["neutral_ppl_ratio"] = round(math.exp(-out["neutral"]["mean"]), 4)
    return out
