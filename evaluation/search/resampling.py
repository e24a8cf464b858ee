"""How firmly a search's verdicts hold: the confirmation queries resampled with replacement.

A verdict is a plurality over 10 or so queries per domain, so one query more or less can flip it. Two views:
`support` needs only the logged shares (each query is won by one level, so shares × n are the outcome
counts) and gives each target's probability exactly; `confirmed_interval` needs which level won each query
(logged since per-query outcomes were recorded) and resamples every point and the unedited model on the same
queries, which gives the confirmed count an interval and counts "beyond the unedited model" jointly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from meav.core.corpus import LEVELS
from meav.evaluation.scoring import shares_of
from meav.evaluation.search.engine import Shares, Target, margin

Won = dict[str, list[int]]  # per domain, the index in LEVELS of the level that won each query, in query order


def support(shares: Shares, target: Target, domains: Sequence[str], n: dict[str, int]) -> float:
    """Probability that `target` still holds when each domain's n queries are resampled with replacement:
    a multinomial draw from the counts, summed exactly over every count vector with the verdict of `margin`
    (the domains' queries are disjoint, so the probability is the product over domains)."""
    from scipy.stats import multinomial  # here: the search's importers need no scipy at start-up

    p = 1.0
    for d, level in zip(domains, target, strict=True):
        if n[d] < 1:
            raise ValueError(f"{d}: no queries to resample")
        counts = np.array([shares[d][lv] * n[d] for lv in LEVELS])
        if not np.allclose(counts, np.round(counts), atol=1e-6):
            raise ValueError(f"{d}: shares {shares[d]} are not counts over {n[d]} queries")
        draws = [(a, g, n[d] - a - g) for a in range(n[d] + 1) for g in range(n[d] + 1 - a)]
        holds = [
            margin({d: dict(zip(LEVELS, np.divide(x, n[d]), strict=True))}, (level,), [d]) > 0 for x in draws
        ]
        pmf = multinomial.pmf(np.array(draws)[holds], n[d], np.round(counts) / n[d]) if any(holds) else [0.0]
        p *= float(np.sum(pmf))
    return p


def confirmed_interval(
    points: Sequence[tuple[Target, Won]],
    unedited: Won,
    domains: Sequence[str],
    draws: int = 2000,
    seed: int = 0,
) -> dict:
    """The middle 95% of resamples of the confirmation queries (a percentile interval), and the mean, of the
    targets confirmed and of those confirmed where the unedited model, judged on the same resampled queries,
    does not hold them. `points`: each found target with the winners at its coefficients on the confirmation
    queries. It holds the found coefficients fixed: the search set's sampling is not in it."""
    rng = np.random.default_rng(seed)
    n = {d: len(unedited[d]) for d in domains}
    if any(len(w[d]) != n[d] for _, w in points for d in domains):
        raise ValueError("per-query winners of different lengths: not the same confirmation queries")
    arrays = [(target, {d: np.asarray(won[d]) for d in domains}) for target, won in points]
    base_won = {d: np.asarray(unedited[d]) for d in domains}
    confirmed, beyond = np.zeros(draws, dtype=int), np.zeros(draws, dtype=int)
    for b in range(draws):
        idx = {d: rng.integers(0, n[d], n[d]) for d in domains}
        base = shares_of({d: w[idx[d]].tolist() for d, w in base_won.items()})
        for target, won in arrays:
            if margin(shares_of({d: w[idx[d]].tolist() for d, w in won.items()}), target, domains) > 0:
                confirmed[b] += 1
                beyond[b] += margin(base, target, domains) <= 0
    return {
        name: {
            "interval": [int(np.quantile(x, q, method="inverted_cdf")) for q in (0.025, 0.975)],
            "mean": round(float(x.mean()), 2),
        }
        for name, x in (("confirmed", confirmed), ("beyond_unedited", beyond))
    }
