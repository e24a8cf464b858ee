"""Multidomain targets (paper §6.2, Table 5) and the evaluation engine every search strategy runs on.

A target assigns one level to each domain (3 domains → 27 targets); it is reached when, in every domain, its
level has the highest share and a share > 1/3. The engine caches evaluations by (coefficients, fraction),
credits every evaluation to all 27 targets, and keeps each target's best point.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from meav.core.corpus import LEVELS
from meav.evaluation.dominance import dominant

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


class Engine:
    """Caches evaluations by (coefficients, fraction) and tracks the best point of every target."""

    def __init__(self, evaluate: Evaluate, names: Sequence[str], domains: Sequence[str]):
        self.evaluate, self.names, self.domains = evaluate, list(names), list(domains)
        self.targets = all_targets(domains)
        self.cache: dict[tuple, Shares] = {}
        self.best = {f: {t: Best() for t in self.targets} for f in ("screen", "full")}
        self.evaluations, self.full_equivalents = 0, 0.0
        # per domain, how many full evaluations each level dominated (`dominant`: the highest share, > 1/3,
        # the rule a target's levels must meet): what a search could combine at all, whichever target it was after
        self.level_holds = {d: dict.fromkeys(LEVELS, 0) for d in self.domains}
        self.full_evaluations = 0

    def __call__(self, point: Sequence[float], fraction: float) -> Shares:
        point = tuple(round(x, 6) for x in point)
        key = (point, fraction)
        if key not in self.cache:
            coeffs = dict(zip(self.names, point, strict=True))
            self.cache[key] = shares = self.evaluate(coeffs, fraction)
            self.evaluations += 1
            self.full_equivalents += fraction
            if fraction >= 1:
                self._count_holds(shares)
            for book in ("screen", "full") if fraction >= 1 else ("screen",):
                for t, b in self.best[book].items():
                    m = margin(shares, t, self.domains)
                    if m > b.margin:
                        self.best[book][t] = Best(coeffs, shares, m)
        return self.cache[key]

    def _count_holds(self, shares: Shares) -> None:
        self.full_evaluations += 1
        for d in self.domains:
            if (level := dominant(shares[d])) is not None:
                self.level_holds[d][level] += 1

    def result(self, strategy: str, t0: float, **extra) -> SearchResult:
        holds = {d: dict(counts) for d, counts in self.level_holds.items()}  # a copy: evaluations may go on
        extra = {"level_holds": {"evaluations": self.full_evaluations, "per_domain": holds}, **extra}
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
