"""The damage curve of each demo AV: neutral-text Δ and each level's Δ (nats/token against λ = 0) over a fine λ
grid, so a sweep's recommended λ can be read off against what it costs the model.

    .venv/bin/python bench/fluency.py --demo runs/demo [--lambdas -2:1:0.25] [--queries 30] > docs/bench/fluency.txt

Prints one table per AV: λ, the neutral texts' Δ with its 95% interval over texts and the perplexity ratio, then
each level's Δ on the AV domain's held-out test responses (the first `--queries` by id).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from meav.core.av import load
from meav.core.corpus import PAPER_ORDER
from meav.core.embedded import embedded_model_path
from meav.core.grid import parse_grid
from meav.evaluation.evalset import open_evaluator
from meav.evaluation.fluency import add_fluency
from meav.evaluation.sweep import run_sweep
from meav.reference.neutral import NEUTRAL_FILE


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--demo", type=Path, default=Path("runs/demo"), help="a `meav demo` run (its AVs and corpus)"
    )
    ap.add_argument("--lambdas", default="-2:1:0.25")
    ap.add_argument("--queries", type=int, default=30, help="test queries per domain")
    ap.add_argument("--resamples", type=int, default=2000)
    args = ap.parse_args()
    grid = sorted({*parse_grid(args.lambdas), 0.0})
    domains = sorted(p.name for p in (args.demo / "avs").iterdir() if (p / "av_config.json").is_file())
    base = str(embedded_model_path())
    ev = open_evaluator(
        base, str(args.demo / "corpus"), "test", args.queries, domains=domains, neutral=NEUTRAL_FILE
    )
    print(f"neutral texts: {len(ev.neutral)}; test queries per domain: {args.queries}; λ grid {args.lambdas}")
    for d in domains:
        ev_d = type(ev)(ev.model, ev.tokenizer, {d: ev.rows[d]}, neutral=ev.neutral)
        data = run_sweep(ev_d, ev.model, load(args.demo / "avs" / d), grid)
        add_fluency(data["results"], args.resamples)
        print(f"\n{d} AV on {d} test queries (Δ nats/token against λ = 0, 95% interval)")
        print(
            f"{'λ':>6}  {'neutral Δ':>26}  {'ppl':>6}  " + "  ".join(f"{lv + ' Δ':>26}" for lv in PAPER_ORDER)
        )
        for r in data["results"]:
            delta = r["fluency_delta"]
            n = delta["neutral"]
            cells = [_cell(delta["levels"][d][lv]) for lv in PAPER_ORDER]
            print(
                f"{r['lambda']:>6g}  {_cell(n):>26}  {delta['neutral_ppl_ratio']:>6.3f}  "
                + "  ".join(f"{c:>26}" for c in cells)
            )


def _cell(stat: dict) -> str:
    lo, hi = stat["ci95"]
    return f"{stat['mean']:+.3f} [{lo:+.3f}, {hi:+.3f}]"


if __name__ == "__main__":
    main()
