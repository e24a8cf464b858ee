"""The multidomain search measured on real AVs: the three SmolLM2-135M expert AVs the demo trains on
the reference corpus, each strategy at the same budget, found on search queries and confirmed on others, with
an orthogonal decomposition and a null (norm-matched random vectors).

Hours on 2 CPU cores: every evaluation is appended to <out>/search-*.evaluations.jsonl as it completes, so a
killed run continues where it stopped (rerun the same command); finished runs are skipped. The comparison table
is written to <out>/report.md (`meav report <out>`).

    .venv/bin/python experiments/search_smollm2.py --demo runs/demo --out docs/search [--budget 125] [--search 5] [--confirm 10]
        [--only grid,null] [--replay]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from meav.core.embedded import embedded_model_path
from meav.evaluation.evalset import open_evaluator
from meav.evaluation.report import render_run
from meav.evaluation.search.options import SearchOptions
from meav.evaluation.search.report import confirmed_text, search_seconds
from meav.evaluation.search.run import run_stem, search

# (label, strategy, decompose, null, extra options): every run gets the same budget. Order: what the issue's
# verdict needed first (the grid, the adaptive strategy against it, the null), then the decomposition (does it
# change what is reachable?), the maintained optimiser, and random search last (the synthetic bench already
# places it below adaptive).
RUNS = [
    ("grid", "grid 5³", "grid", "none", False, {"grid_step": 0.75}),
    ("adaptive", "adaptive", "adaptive", "none", False, {"coarse": 2}),
    ("null", "random, null (random vectors)", "random", "none", True, {}),
    ("orthogonal", "adaptive, orthogonal decomposition", "adaptive", "orthogonal", False, {"coarse": 2}),
    ("optuna", "optuna (TPE)", "optuna", "none", False, {}),
    ("random", "random", "random", "none", False, {}),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--demo", type=Path, default=Path("runs/demo"), help="a finished `meav demo` run (its AVs and corpus)"
    )
    ap.add_argument("--out", type=Path, default=Path("docs/search"))
    ap.add_argument("--budget", type=int, default=125)
    ap.add_argument("--search", type=int, default=5, help="search queries per domain")
    ap.add_argument(
        "--confirm", type=int, default=10, help="the next queries per domain, where a found target must hold"
    )
    ap.add_argument("--lambdas", default="-2:1:0.25", help="λ grid (box and lattice) of every strategy")
    ap.add_argument("--only", default=None, help=f"comma list of runs ({', '.join(r[0] for r in RUNS)})")
    ap.add_argument(
        "--replay",
        action="store_true",
        help="rewrite finished runs' tables from their logs (scores only what the log lacks)",
    )
    args = ap.parse_args()
    only = set(args.only.split(",")) if args.only else {r[0] for r in RUNS}
    unknown = only - {r[0] for r in RUNS}
    if unknown:
        raise SystemExit(f"error: --only: unknown run(s) {', '.join(sorted(unknown))}")
    base, corpus = str(embedded_model_path()), str(args.demo / "corpus")
    avs = [f"{d}={args.demo / 'avs' / d}" for d in ("medical", "financial", "legal")]
    n = args.search + args.confirm  # the first n test queries by id: search set, then confirmation set
    evaluator = open_evaluator(base, corpus, "test", n, None, domains=["medical", "financial", "legal"])
    for name, label, strategy, decompose, null, extra in RUNS:
        if name not in only:
            continue
        o = SearchOptions(base=base, av=avs, dataset=corpus, out=args.out, strategy=strategy, decompose=decompose,
                          null=null, lambdas=args.lambdas, budget=args.budget, search_queries=args.search,
                          **extra)  # fmt: skip
        stem = run_stem(o)
        if (args.out / f"{stem}.json").is_file() and not args.replay:
            print(f"{label}: done already ({stem}.json)")
            continue
        data = search(o, evaluator).to_json()
        print(f"{label}: {data['targets_reached']} found, {confirmed_text(data)}, "
              f"{data['evaluations']} evaluations, {search_seconds(data)}", flush=True)  # fmt: skip
    print(render_run(args.out))
    print(json.dumps({"runs": [p.name for p in sorted(args.out.glob("search-*.json"))]}))


if __name__ == "__main__":
    main()
