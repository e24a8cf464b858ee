"""Synthetic evaluators: cheap stand-ins for a model, for benches and tests of the search strategies."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence

Shares = dict[str, dict[str, float]]  # per domain, level → share (the search engine's shape)
Evaluate = Callable[[dict[str, float], float], Shares]


def synthetic_evaluator(
    domains: Sequence[str], spill: float = 0.3, noise: float = 0.0, seed: int = 0
) -> Evaluate:
    """A cheap stand-in for a model, shaped like the paper's curves, for benches and strategy tests.

    Domain d sees the effective coefficient x_d = c_d + spill·Σ_{k≠d} c_k (the over-generalisation of §6.2);
    level logits (Exp 3x+1.1, Gen 0, Avd −3x−3.3) give Exp ≈ .75 at x = 0, Gen dominant near x = −0.7 and
    Avd below x ≈ −1.1, as in Tables 1–3. `noise` adds query-sampling noise that shrinks with `fraction`.
    """

    def evaluate(coeffs: dict[str, float], fraction: float = 1.0) -> Shares:
        rng = random.Random(f"{seed}|{sorted(coeffs.items())}|{fraction}")  # deterministic across runs
        out = {}
        for d in domains:
            x = coeffs[d] + spill * sum(coeffs[k] for k in domains if k != d)
            logits = {"avoidance": -3 * x - 3.3, "generic": 0.0, "expert": 3 * x + 1.1}
            if noise:
                logits = {k: v + rng.gauss(0, noise / math.sqrt(fraction)) for k, v in logits.items()}
            z = sum(math.exp(v) for v in logits.values())
            out[d] = {k: math.exp(v) / z for k, v in logits.items()}
        return out

    return evaluate


def query_evaluator(
    domains: Sequence[str], n_queries: int, spill: float = 0.3, noise: float = 1.0, seed: int = 0
) -> Evaluate:
    """Like `synthetic_evaluator`, but shares are counted over `n_queries` queries per domain, each with its own
    fixed offsets per level (drawn once from `seed`): shares move in steps of 1/n and carry sampling noise, as
    a real test split's do. Another `seed` gives fresh queries of the same population (a confirmation set);
    a large `n_queries` approaches the population shares (what is reachable at all)."""
    rng = random.Random(seed)
    offsets = {d: [[rng.gauss(0, noise) for _ in range(3)] for _ in range(n_queries)] for d in domains}
    levels = ("avoidance", "generic", "expert")

    def evaluate(coeffs: dict[str, float], fraction: float = 1.0) -> Shares:
        out = {}
        for d in domains:
            x = coeffs[d] + spill * sum(coeffs[k] for k in domains if k != d)
            base = (-3 * x - 3.3, 0.0, 3 * x + 1.1)
            queries = offsets[d][: max(1, round(n_queries * fraction))]
            wins = [max(range(3), key=lambda i, q=q: base[i] + q[i]) for q in queries]
            out[d] = {lv: wins.count(i) / len(wins) for i, lv in enumerate(levels)}
        return out

    return evaluate
