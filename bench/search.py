"""Multidomain search strategies at equal budgets, on a synthetic evaluator shaped like a real test split.

Each query keeps its own noise and shares move in steps of 1/n (`query_evaluator`): a strategy searches on
n_search queries per domain, a target it finds counts only if its coefficients also reach it on n_confirm fresh
queries (another seed), and "reachable" is what a dense grid reaches on a large population of queries. The
paper's 21³ grid (9,261 evaluations) runs on the same search queries as the reference.

    .venv/bin/python bench/search.py [--seeds 5] [--budget 125] [--search 15] [--confirm 15]
"""

from __future__ import annotations

import argparse
import statistics
import time
from types import SimpleNamespace

from meav.core.grid import parse_grid
from meav.evaluation.search.engine import all_targets, margin
from meav.evaluation.search.strategies import Grid, strategy_from
from meav.testing.synthetic import query_evaluator

DOMAINS = ["medical", "financial", "legal"]


def confirmed(result, fresh) -> int:
    return sum(b.reached and margin(fresh(b.coeffs, 1.0), t, DOMAINS) > 0 for t, b in result.best.items())


def run(args) -> None:
    paper = parse_grid("-1:1:0.1")
    population = query_evaluator(DOMAINS, 400, spill=args.spill, noise=args.noise, seed=10_000)
    dense = Grid()(population, DOMAINS, DOMAINS, parse_grid("-1:1:0.2"))
    reachable = dense.reached
    plans = {
        "grid 5³": ("grid", parse_grid("-1:1:0.5"), {}),
        "random": ("random", paper, {"budget": args.budget}),
        "adaptive": ("adaptive", paper, {"budget": args.budget, "coarse": 3}),
        "optuna": ("optuna", paper, {"budget": args.budget}),
        "paper grid 21³": ("grid", paper, {}),
    }
    rows = {name: [] for name in plans}
    for seed in range(args.seeds):
        search = query_evaluator(DOMAINS, args.search, spill=args.spill, noise=args.noise, seed=seed)
        fresh = query_evaluator(DOMAINS, args.confirm, spill=args.spill, noise=args.noise, seed=1000 + seed)
        for name, (strategy, values, kw) in plans.items():
            t0 = time.perf_counter()
            result = strategy_from(strategy, SimpleNamespace(seed=seed, **kw))(
                search, DOMAINS, DOMAINS, values
            )
            rows[name].append(
                (result.evaluations, result.reached, confirmed(result, fresh), time.perf_counter() - t0)
            )
    print(
        f"{len(all_targets(DOMAINS))} targets; reachable in the population (11³ grid, 400 queries/domain): {reachable}"
    )
    print(f"{args.seeds} seeds; search on {args.search} queries/domain, confirmation on {args.confirm} fresh ones; "
          f"spill {args.spill}, per-query noise {args.noise}")  # fmt: skip
    print(f"{'strategy':<16}{'evaluations':>12}{'found':>14}{'confirmed':>14}")
    for name, r in rows.items():
        ev, found, conf = (statistics.mean(x[i] for x in r) for i in range(3))
        sd = statistics.pstdev(x[2] for x in r)
        print(f"{name:<16}{ev:>12.0f}{found:>14.1f}{conf:>10.1f} ± {sd:.1f}")
    grid_conf = statistics.mean(x[2] for x in rows["paper grid 21³"])
    for name in ("random", "adaptive", "optuna"):
        conf = statistics.mean(x[2] for x in rows[name])
        ratio = statistics.mean(x[0] for x in rows[name]) / statistics.mean(
            x[0] for x in rows["paper grid 21³"]
        )
        print(f"{name}: {ratio:.3f}× the paper grid's evaluations, confirmed targets {conf:.1f} vs {grid_conf:.1f} "
              f"({conf / grid_conf:.2f}×)")  # fmt: skip


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--budget", type=int, default=125)
    p.add_argument("--search", type=int, default=15)
    p.add_argument("--confirm", type=int, default=15)
    p.add_argument("--spill", type=float, default=0.3)
    p.add_argument("--noise", type=float, default=1.0)
    run(p.parse_args())
