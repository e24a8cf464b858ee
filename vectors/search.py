"""Multidomain search (paper §6.2, Table 5): editing coefficients that make a chosen level dominate per domain.

A target assigns one level to each domain (3 domains → 27 targets); it is reached when, in every domain,
its level has the highest share and a share > 1/3. The engine only needs `evaluate(coeffs, fraction)`
→ {domain: {level: share}}, so the strategies run the same against a synthetic function and a real model.
- `grid`: the paper's exhaustive grid (21 values per domain in [-1, 1] → 9,261 evaluations).
- `adaptive`: a coarse grid screen, then a pattern search per unreached target (every evaluation is
  credited to all 27 targets); optionally screened on a query subsample, the best points then confirmed on
  the full split (cheaper per evaluation, but noisier: bench/search.py measures what it costs in targets).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from meav.corpus import LEVELS

Shares = dict[str, dict[str, float]]
Evaluate = Callable[[dict[str, float], float], Shares]
Target = tuple[str, ...]


def all_targets(domains: Sequence[str]) -> list[Target]:
    """Every assignment of a level to each domain (27 for three domains)."""
    return list(itertools.product(LEVELS, repeat=len(domains)))


def margin(shares: Shares, target: Target, domains: Sequence[str]) -> float:
    """> 0 iff reached: min over domains of (target share − best other share, target share − 1/3)."""
    worst = float("inf")
    for d, level in zip(domains, target, strict=True):
        s = shares[d]
        other = max(v for k, v in s.items() if k != level)
        worst = min(worst, s[level] - other, s[level] - 1 / 3)
    return worst


def objective(shares: Shares, target: Target, domains: Sequence[str]) -> float:
    """Search objective, > 0 iff reached: the margin once reached, else the summed per-domain deficits.

    Unlike the bare minimum, the sum rewards fixing one domain while another is still the worst one, so
    coordinate moves do not stall in corners of the box.
    """
    per = [margin(shares, (lv,), [d]) for d, lv in zip(domains, target, strict=True)]
    return min(per) if min(per) > 0 else sum(min(m, 0.0) for m in per)


@dataclass
class Best:
    coeffs: dict[str, float] | None = None
    shares: Shares | None = None
    margin: float = float("-inf")

    @property
    def reached(self) -> bool:
        return self.margin > 0


@dataclass
class SearchResult:
    strategy: str
    names: list[str]
    domains: list[str]
    best: dict[Target, Best]
    evaluations: int = 0
    full_equivalents: float = 0.0
    wall_s: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def reached(self) -> int:
        return sum(b.reached for b in self.best.values())

    def to_json(self) -> dict:
        return {
            "strategy": self.strategy,
            "coefficients": self.names,
            "domains": self.domains,
            "evaluations": self.evaluations,
            "full_split_equivalents": round(self.full_equivalents, 3),
            "wall_s": round(self.wall_s, 3),
            "targets_reached": self.reached,
            "targets_total": len(self.best),
            **self.extra,
            "targets": [
                {
                    "target": list(t),
                    "reached": b.reached,
                    "margin": None if b.shares is None else round(b.margin, 4),
                    "coeffs": b.coeffs,
                    "shares": b.shares,
                }
                for t, b in self.best.items()
            ],
        }


class _Engine:
    """Caches evaluations by (coefficients, fraction) and tracks the best point of every target."""

    def __init__(self, evaluate: Evaluate, names: Sequence[str], domains: Sequence[str]):
        self.evaluate, self.names, self.domains = evaluate, list(names), list(domains)
        self.targets = all_targets(domains)
        self.cache: dict[tuple, Shares] = {}
        self.best = {f: {t: Best() for t in self.targets} for f in ("screen", "full")}
        self.evaluations, self.full_equivalents = 0, 0.0

    def __call__(self, point: Sequence[float], fraction: float) -> Shares:
        point = tuple(round(x, 6) for x in point)
        key = (point, fraction)
        if key not in self.cache:
            coeffs = dict(zip(self.names, point, strict=True))
            self.cache[key] = shares = self.evaluate(coeffs, fraction)
            self.evaluations += 1
            self.full_equivalents += fraction
            for book in ("screen", "full") if fraction >= 1 else ("screen",):
                for t, b in self.best[book].items():
                    m = margin(shares, t, self.domains)
                    if m > b.margin:
                        self.best[book][t] = Best(coeffs, shares, m)
        return self.cache[key]

    def result(self, strategy: str, t0: float, **extra) -> SearchResult:
        return SearchResult(
            strategy,
            self.names,
            self.domains,
            self.best["full"],
            self.evaluations,
            self.full_equivalents,
            time.perf_counter() - t0,
            extra,
        )


def _moves(dim: int, step: int, diagonal: bool) -> list[tuple[tuple[int, int], ...]]:
    """Pattern-search moves: ±step along one coordinate; or (diagonal) along two at once, with equal steps
    and with one step halved, so ridges that run obliquely through the box can still be followed."""
    if not diagonal:
        return [((k, sign * step),) for k in range(dim) for sign in (-1, 1)]
    sizes = [(step, step)] + ([(step, step // 2), (step // 2, step)] if step >= 4 else [])
    return [
        ((a, sa * p), (b, sb * q))
        for a, b in itertools.combinations(range(dim), 2)
        for p, q in sizes
        for sa in (-1, 1)
        for sb in (-1, 1)
    ]


def grid_search(
    evaluate: Evaluate, names: Sequence[str], domains: Sequence[str], values: Sequence[float]
) -> SearchResult:
    """The paper's exhaustive search: every combination of `values` for every coefficient, full split."""
    t0, eng = time.perf_counter(), _Engine(evaluate, names, domains)
    for point in itertools.product(values, repeat=len(names)):
        eng(point, 1.0)
    return eng.result("grid", t0, values=list(values))


def adaptive_search(
    evaluate: Evaluate,
    names: Sequence[str],
    domains: Sequence[str],
    values: Sequence[float],
    coarse: int = 3,
    budget: int = 300,
    screen_fraction: float = 1.0,
    confirm_top: int = 2,
) -> SearchResult:
    """Coarse screen, per-target pattern search (steps 4, 2, 1 grid cells), then full-split confirmation.

    `budget` caps all evaluations (screening and confirmation); the paper's grid needs 30× more at 300.
    """
    t0, eng = time.perf_counter(), _Engine(evaluate, names, domains)
    values = sorted(values)
    n, dim = len(values), len(names)
    frac = min(max(screen_fraction, 0.0), 1.0) or 1.0
    coarse_idx = sorted({round(i * (n - 1) / max(coarse - 1, 1)) for i in range(coarse)})
    candidates: dict[Target, list[tuple[float, tuple[int, ...]]]] = {t: [] for t in eng.targets}

    def visit(idx: tuple[int, ...]) -> None:
        shares = eng([values[i] for i in idx], frac)
        for t in eng.targets:
            candidates[t].append((objective(shares, t, domains), idx))

    screen_budget = max(budget - (0 if frac >= 1 else confirm_top * len(eng.targets)), 1)  # room to confirm
    for idx in itertools.product(coarse_idx, repeat=dim):
        if eng.evaluations < screen_budget:
            visit(idx)
    steps = [s for s in (4, 2, 1) if s < n]
    ends: dict[Target, tuple[int, ...]] = {}
    for rounds_left in (2, 1):  # round 2: leftover budget, and targets other moves brought closer
        order = sorted(
            (t for t in eng.targets if max(candidates[t])[0] <= 0), key=lambda t: -max(candidates[t])[0]
        )
        for i, t in enumerate(order):
            share = (screen_budget - eng.evaluations) // max((len(order) - i) * rounds_left, 1)
            stop = min(screen_budget, eng.evaluations + max(share, 2 * dim))  # every target gets its turn
            m, cur = max(candidates[t])
            if rounds_left == 1 and t in ends:  # restart away from where round 1 got stuck
                far = [
                    c
                    for c in candidates[t]
                    if max(abs(a - b) for a, b in zip(c[1], ends[t], strict=True)) >= 4
                ]
                m, cur = max(far) if far else (m, cur)
            for step in steps:
                improved = m <= 0
                while improved and m <= 0 and eng.evaluations < stop:
                    improved = False
                    for move in _moves(dim, step, diagonal=False) + _moves(dim, step, diagonal=True):
                        if improved and len(move) > 1:
                            break  # diagonal moves only when no single-coordinate move helped
                        nb = list(cur)
                        for k, delta in move:
                            nb[k] = min(max(nb[k] + delta, 0), n - 1)
                        if tuple(nb) == cur or eng.evaluations >= stop:
                            continue
                        visit(tuple(nb))
                        if candidates[t][-1][0] > m:
                            m, cur, improved = candidates[t][-1][0], tuple(nb), True
            ends[t] = cur
    if frac < 1:  # full-split confirmation of the best screened points; reached-on-screen targets first
        done: set[tuple[int, ...]] = set()
        for t in sorted(eng.targets, key=lambda t: -max(candidates[t])[0]):
            for m, idx in sorted(candidates[t], reverse=True)[:confirm_top]:
                if eng.best["full"][t].reached or eng.evaluations >= budget:
                    break
                if idx not in done and (m > 0 or not eng.best["full"][t].coeffs):
                    done.add(idx)
                    eng([values[i] for i in idx], 1.0)
    return eng.result("adaptive", t0, values=list(values), coarse=coarse, budget=budget, screen_fraction=frac)


def synthetic_evaluator(
    domains: Sequence[str], spill: float = 0.3, noise: float = 0.0, seed: int = 0
) -> Evaluate:
    """A cheap stand-in for a model, shaped like the paper's curves, for benches and strategy tests.

    Domain d sees the effective coefficient x_d = c_d + spill·Σ_{k≠d} c_k (the over-generalisation of §6.2);
    level logits (Exp 3x+1.1, Gen 0, Avd −3x−3.3) give Exp ≈ .75 at x = 0, Gen dominant near x = −0.7 and
    Avd below x ≈ −1.1, as in Tables 1–3. `noise` adds query-sampling noise that shrinks with `fraction`.
    """
    import math
    import random

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
