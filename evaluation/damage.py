"""The damage-matched control: a random direction scaled until it costs the neutral texts as much as the AV
does at its top λ. A knob that works only by damaging the model would pass beside it too; a real one must
not see it pass.

Damage from a random direction grows about quadratically with its size (its first-order effect averages out),
so the scale is found by a few neutral-only evaluations: k ← k·sqrt(target / Δ(k)), until Δ is within 10% of
the target.
"""

from __future__ import annotations

import math

import numpy as np

from meav.core.av import steer


def match_damage(ev, vec, lam: float, target: float, tolerance: float = 0.1, tries: int = 8) -> dict:
    """The factor k for which λ·k·`vec` changes the neutral texts' mean log-prob by `target` (< 0), and the
    trace of (k, Δ) tried. `ev` holds the neutral texts; the model is reset to its base at the end."""
    if (
        target > -0.01
    ):  # the AV costs the neutral texts nothing: its norm-matched control is already as damaging
        return {"factor": 1.0, "target_neutral_delta": round(target, 5), "trace": [], "matched": True}
    steer(ev.model, {})  # measured from the base, whatever the model held on entry
    base = float(np.mean(ev.neutral_scores()))
    k, trace = 1.0, []
    try:
        for _ in range(tries):
            steer(ev.model, {vec: lam * k}, force=True)
            delta = float(np.mean(ev.neutral_scores())) - base
            trace.append({"factor": round(k, 6), "neutral_delta": round(delta, 5)})
            if abs(delta - target) <= tolerance * abs(target):
                break
            k = k * 10 if delta > -1e-4 else k * min(max(math.sqrt(target / delta), 0.1), 10.0)
    finally:
        steer(ev.model, {})
    best = min(trace, key=lambda t: abs(t["neutral_delta"] - target))
    return {"factor": best["factor"], "target_neutral_delta": round(target, 5), "trace": trace,
            "matched": abs(best["neutral_delta"] - target) <= tolerance * abs(target)}  # fmt: skip
