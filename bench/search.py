"""Bench: the paper's 21³ grid vs our adaptive search, in evaluations, wall time and targets reached.

Two settings: the synthetic evaluator (paper-shaped curves, over-generalisation `spill`), where the full
grid is affordable; and optionally a tiny real model with two perturbed AVs (--tiny), where each evaluation
scores the toy corpus and the grid is subsampled (--grid-step) to keep the run short.
Usage: python bench/search.py [--spill 0.3] [--tiny --grid-step 0.5]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.* helpers

import argparse
import tempfile
import time
from pathlib import Path


def synthetic(spill: float, noise: float, frac: float = 1.0) -> None:
    from meav.evaluation.knob import parse_grid
    from meav.evaluation.multidomain import adaptive_search, grid_search, margin, synthetic_evaluator

    domains = ["medical", "financial", "legal"]
    values = parse_grid("-1.0:1.0:0.1")
    ev = synthetic_evaluator(domains, spill=spill, noise=noise)
    g = grid_search(ev, domains, domains, values)
    a = adaptive_search(ev, domains, domains, values, screen_fraction=frac)
    print(f"synthetic spill={spill} noise={noise} (adaptive screens on {frac:.0%} of the queries):")
    print(f"  grid     {g.evaluations:6d} evaluations {g.wall_s:7.2f} s  targets {g.reached}/27")
    print(
        f"  adaptive {a.evaluations:6d} evaluations {a.wall_s:7.2f} s  targets {a.reached}/27 "
        f"({a.full_equivalents:.0f} full-split equivalents)"
    )
    print(f"  evaluations ratio grid/adaptive: {g.evaluations / a.evaluations:.1f}x")
    if noise:  # do the reported points still reach their targets on a fresh draw of the noise?
        fresh = synthetic_evaluator(domains, spill=spill, noise=noise, seed=1)
        for r in (g, a):
            ok = sum(margin(fresh(b.coeffs, 1.0), t, domains) > 0 for t, b in r.best.items() if b.reached)
            print(f"  {r.strategy}: {ok}/{r.reached} reached targets replicate on fresh noise")


def tiny(grid_step: float) -> None:
    from meav.core.av import load, steer
    from meav.core.tiny import build_tiny_model
    from meav.evaluation.evalset import Evaluator, load_eval_rows, load_model
    from meav.evaluation.knob import parse_grid
    from meav.evaluation.multidomain import adaptive_search, grid_search
    from meav.vectors.extraction import extract
    from tests.av_helpers import make_aligned
    from tests.toy_corpus import write_toy_corpus

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        base = build_tiny_model(root / "base", hidden_size=64)
        corpus = write_toy_corpus(root / "corpus", per_domain=10)
        avs = {}
        for i, d in enumerate(("medical", "financial", "legal")):
            extract(
                base, make_aligned(base, root / f"al-{d}", seed=i + 1, scale=0.2), root / f"av-{d}", domain=d
            )
            avs[d] = load(root / f"av-{d}")
        model, tok = load_model(base)
        ev = Evaluator(model, tok, load_eval_rows(corpus))
        domains = list(avs)

        def evaluate(coeffs, fraction):
            steer(model, {avs[n]: c for n, c in coeffs.items()})
            return ev.domain_shares(fraction=fraction)

        values = parse_grid(f"-1.0:1.0:{grid_step}")
        t = time.perf_counter()
        g = grid_search(evaluate, domains, domains, values)
        a = adaptive_search(evaluate, domains, domains, parse_grid("-1.0:1.0:0.1"), screen_fraction=1.0)
        print(
            f"tiny model (hidden 64, 3 perturbed AVs, {sum(map(len, ev.rows.values()))} queries), {time.perf_counter() - t:.1f} s:"
        )
        print(
            f"  grid step {grid_step}: {g.evaluations:5d} evaluations {g.wall_s:6.1f} s  targets {g.reached}/27"
        )
        print(
            f"  adaptive (0.1 grid): {a.evaluations:5d} evaluations {a.wall_s:6.1f} s  targets {a.reached}/27"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--spill", type=float, nargs="*", default=[0.2, 0.3, 0.4])
    ap.add_argument("--tiny", action="store_true", help="also run on a tiny real model")
    ap.add_argument("--grid-step", type=float, default=0.25)
    args = ap.parse_args()
    for s in args.spill:
        synthetic(s, 0.0)
    synthetic(0.3, 0.1, 1.0)
    synthetic(0.3, 0.1, 0.5)
    if args.tiny:
        tiny(args.grid_step)


if __name__ == "__main__":
    main()
