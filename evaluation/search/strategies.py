"""Search strategies by name (mergekit's REGISTERED_MERGE_METHODS pattern). Each registered strategy is a
dataclass that describes itself: its typed parameters (the `SearchOptions` fields of the same names), the fewest
evaluations it can run meaningfully and how many it plans, so no code outside it branches on its name.

- `grid`: the paper's exhaustive grid (21 values per domain in [-1, 1] → 9,261 evaluations).
- `random`: `budget` points drawn uniformly in the coefficient box (seeded).
- `adaptive`: a coarse grid screen, then a pattern search per unreached target (every evaluation is credited
  to all 27 targets); optionally screened on a query subsample, the best points then confirmed on the full
  split.
- `optuna`: a maintained optimiser (Optuna's TPE): unreached targets in turn (fewest turns first, then the
  closest), each turn a study warm-started with every evaluation made so far and ~budget/27 new evaluations.
Every strategy but `grid` (whose size is its lattice: give the lattice step that matches the budget) is given
the same `budget`, and every evaluation is credited to all 27 targets (the Engine).
"""

from __future__ import annotations

import dataclasses
import itertools
import random
import time
from collections.abc import Sequence
from typing import ClassVar

import optuna

from meav.core.errors import OptionError
from meav.evaluation.search.engine import Engine, Evaluate, SearchResult, Target, objective

CONFIRM_TOP = 2  # candidates per target re-checked on the full search set after screening on a subsample

REGISTERED_STRATEGIES: dict[str, type[Strategy]] = {}


def register_strategy(cls: type[Strategy]) -> type[Strategy]:
    REGISTERED_STRATEGIES[cls.name] = cls
    return cls


def strategy_from(name: str, settings: object) -> Strategy:
    """The registered strategy `name` with its parameters taken from `settings` (e.g. SearchOptions) by name."""
    if name not in REGISTERED_STRATEGIES:
        raise OptionError("strategy", f"{name!r}: choose from {', '.join(REGISTERED_STRATEGIES)}")
    cls = REGISTERED_STRATEGIES[name]
    return cls(
        **{f.name: getattr(settings, f.name) for f in dataclasses.fields(cls) if hasattr(settings, f.name)}
    )


@dataclasses.dataclass
class Strategy:
    """A search strategy: `explore` spends evaluations through the engine; calling it runs a whole search."""

    name: ClassVar[str]
    budget: int = 300

    def min_budget(self, n_knobs: int, n_values: int, n_targets: int) -> int:
        """The fewest evaluations it can run meaningfully (below: refused, not silently truncated)."""
        return 1

    def planned(self, n_knobs: int, n_values: int) -> int:
        """How many evaluations it will run (the progress bar's total)."""
        return self.budget

    def check_budget(self, n_knobs: int, n_values: int, n_targets: int) -> None:
        need = self.min_budget(n_knobs, n_values, n_targets)
        if self.budget < need:
            raise OptionError(
                "budget", f"{self.budget}: the {self.name} strategy needs at least {need} evaluations here"
            )

    def explore(self, eng: Engine, values: list[float]) -> dict:
        """Spend evaluations through `eng`; returns the parameters to record with the result."""
        raise NotImplementedError

    def __call__(
        self, evaluate: Evaluate, names: Sequence[str], domains: Sequence[str], values: Sequence[float]
    ) -> SearchResult:
        t0, eng = time.perf_counter(), Engine(evaluate, names, domains)
        extra = self.explore(eng, list(values))
        return eng.result(self.name, t0, **extra)


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


@register_strategy
@dataclasses.dataclass
class Grid(Strategy):
    """The paper's exhaustive search: every combination of `values` for every coefficient, full split."""

    name: ClassVar[str] = "grid"

    def min_budget(self, n_knobs: int, n_values: int, n_targets: int) -> int:
        return n_values**n_knobs

    def planned(self, n_knobs: int, n_values: int) -> int:
        return n_values**n_knobs

    def check_budget(self, n_knobs: int, n_values: int, n_targets: int) -> None:
        """Equal budgets: the lattice must fit, and the advice says which lattice would."""
        size = n_values**n_knobs
        if size <= self.budget:
            return
        fit = int(self.budget ** (1 / n_knobs) + 1e-9)
        advice = (
            f"a coefficient grid (range, grid_step) with at most {fit} values per coefficient, or a larger budget"
            if fit >= 2
            else f"a budget of at least {2**n_knobs} (a grid needs two values per coefficient)"
        )
        raise OptionError(
            "budget",
            f"{self.budget}: the grid {n_values}^{n_knobs} = {size} evaluations exceeds it; give {advice}",
        )

    def explore(self, eng: Engine, values: list[float]) -> dict:
        for point in itertools.product(values, repeat=len(eng.names)):
            eng(point, 1.0)
        return {"values": values}


@register_strategy
@dataclasses.dataclass
class Adaptive(Strategy):
    """Coarse screen, per-target pattern search (steps 4, 2, 1 grid cells), then full-split confirmation.

    `budget` caps all evaluations (screening and, on a subsample, the full-split re-check of candidates).
    """

    name: ClassVar[str] = "adaptive"
    coarse: int = 3
    screen_fraction: float = 1.0
    confirm_top: int = CONFIRM_TOP

    def min_budget(self, n_knobs: int, n_values: int, n_targets: int) -> int:
        """The coarse lattice, plus room to re-check candidates on the full split when screening a subsample."""
        reserve = self.confirm_top * n_targets if self.screen_fraction < 1 else 0
        return min(self.coarse, n_values) ** n_knobs + reserve

    def explore(self, eng: Engine, values: list[float]) -> dict:
        values = sorted(values)
        n, dim, domains = len(values), len(eng.names), eng.domains
        frac = min(max(self.screen_fraction, 0.0), 1.0) or 1.0
        coarse_idx = sorted({round(i * (n - 1) / max(self.coarse - 1, 1)) for i in range(self.coarse)})
        candidates: dict[Target, list[tuple[float, tuple[int, ...]]]] = {t: [] for t in eng.targets}

        def visit(idx: tuple[int, ...]) -> None:
            shares = eng([values[i] for i in idx], frac)
            for t in eng.targets:
                candidates[t].append((objective(shares, t, domains), idx))

        screen_budget = max(
            self.budget - (0 if frac >= 1 else self.confirm_top * len(eng.targets)), 1
        )  # room to confirm
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
                for m, idx in sorted(candidates[t], reverse=True)[: self.confirm_top]:
                    if eng.best["full"][t].reached or eng.evaluations >= self.budget:
                        break
                    if idx not in done and (m > 0 or not eng.best["full"][t].coeffs):
                        done.add(idx)
                        eng([values[i] for i in idx], 1.0)
        return {"values": values, "coarse": self.coarse, "budget": self.budget, "screen_fraction": frac}


@register_strategy
@dataclasses.dataclass
class Random(Strategy):
    """`budget` uniform points in [min(values), max(values)]^dim (3 decimals), seeded."""

    name: ClassVar[str] = "random"
    budget: int = 125
    seed: int = 0

    def explore(self, eng: Engine, values: list[float]) -> dict:
        rng = random.Random(self.seed)
        lo, hi = min(values), max(values)
        while eng.evaluations < self.budget:
            eng([round(rng.uniform(lo, hi), 3) for _ in eng.names], 1.0)
        return {"low": lo, "high": hi, "budget": self.budget, "seed": self.seed}


@register_strategy
@dataclasses.dataclass
class Optuna(Strategy):
    """Optuna TPE, one unreached target per turn, each study warm-started with all evaluations so far (told as
    finished trials with that target's objective), ~budget/27 new evaluations per turn. Targets take turns
    (fewest turns first, the closest first among those): a target's best objective only rises, so "closest
    next" alone would hand one unreachable target the whole budget."""

    name: ClassVar[str] = "optuna"
    budget: int = 125
    seed: int = 0

    def min_budget(self, n_knobs: int, n_values: int, n_targets: int) -> int:
        return n_targets  # every target a turn

    def explore(self, eng: Engine, values: list[float]) -> dict:
        lo, hi = min(values), max(values)
        dists = {n: optuna.distributions.FloatDistribution(lo, hi) for n in eng.names}
        per_target = max(2, self.budget // len(eng.targets))
        turns = dict.fromkeys(eng.targets, 0)
        idle_turns = 0  # turns in a row whose proposals were all evaluated already: stop rather than spin
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        while eng.evaluations < self.budget and idle_turns < len(eng.targets):
            history = [
                (dict(zip(eng.names, point, strict=True)), shares)
                for (point, f), shares in eng.cache.items()
                if f >= 1
            ]
            open_targets = [t for t in eng.targets if not eng.best["full"][t].reached]
            if not open_targets:
                break
            target = max(
                open_targets,
                key=lambda t, h=history: (
                    -turns[t],
                    max((objective(s, t, eng.domains) for _, s in h), default=0.0),
                ),
            )
            turns[target] += 1
            study = optuna.create_study(
                direction="maximize",
                sampler=optuna.samplers.TPESampler(seed=self.seed + sum(turns.values()), n_startup_trials=4),
            )
            for params, shares in history:
                study.add_trial(
                    optuna.trial.create_trial(
                        params=params, distributions=dists, value=objective(shares, target, eng.domains)
                    )
                )
            before = eng.evaluations
            for _ in range(min(per_target, self.budget - eng.evaluations)):
                trial = study.ask(dists)
                shares = eng([round(trial.params[n], 3) for n in eng.names], 1.0)
                study.tell(trial, objective(shares, target, eng.domains))
                if eng.best["full"][target].reached:
                    break
            idle_turns = idle_turns + 1 if eng.evaluations == before else 0
        tried = sum(n > 0 for n in turns.values())
        return {"low": lo, "high": hi, "budget": self.budget, "seed": self.seed, "targets_tried": tried}
