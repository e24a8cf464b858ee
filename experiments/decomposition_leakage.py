"""Does a domain-specific knob move only its own domain? Each plain domain AV and its orthogonal residual
(evaluation/decompose.py: the AV minus, per tensor, its projection on the other AVs' span) steered alone at
λ −2 and 1, scored in every domain on the same queries, with bootstrap intervals over queries.

Why: the search on real AVs reaches few multidomain targets because each AV moves every domain. The residual
is orthogonal in weight space to the other domains' AVs; the share of the AV's cross-domain movement it keeps
says how much of the entanglement this split removes (0: a one-domain knob; 1: none). The movement of a domain
under a knob is the paired per-query change of the expert margin from λ −2 to λ 1 (mean over queries, 95%
percentile bootstrap interval; with 5 queries such intervals run narrow, so the per-query signs are given too).

Each knob's rows are saved as they complete (<out>/leakage/<knob>.json, with the queries and the knob's weight
fingerprint: other settings or another AV are recomputed, not reused), so a killed run resumes. The
decomposition is written to <out>/leakage/decomposed, apart from the search's own.

    .venv/bin/python bench/decomposition_leakage.py --demo runs/demo8 --out docs/search [--queries 5]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from meav.core import atomic
from meav.core.av import load
from meav.core.av.decompose import decompose_folders
from meav.core.av.folders import weights_stamp
from meav.core.embedded import embedded_model_path
from meav.core.tables import markdown_table
from meav.evaluation.evalset import open_evaluator
from meav.evaluation.labels import abbrev
from meav.evaluation.sweep import run_sweep
from meav.evaluation.sweep_report import interval_text
from meav.evaluation.verdict import bootstrap_indices, interval, margins

LAMBDAS = (-2.0, 1.0)
RESAMPLES = 2000


def movement(low: list, high: list) -> dict:
    """Paired per-query change of the expert margin from the lowest to the highest λ, with its interval and
    how many queries moved up."""
    delta = margins(high, "expert") - margins(low, "expert")
    return interval(delta, bootstrap_indices(len(delta), RESAMPLES, 0)) | {
        "up": int((delta > 0).sum()),
        "n": len(delta),
    }


def cached(path: Path, stamp: dict, compute) -> dict:
    """The JSON at `path` if it was computed with these settings (`stamp`), else `compute()` saved there."""
    if path.is_file():
        data = json.loads(path.read_text())
        if data.get("stamp") == stamp:
            return data
    data = {"stamp": stamp, **compute()}
    atomic.write_json(path, data)
    return data


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--demo", type=Path, default=Path("runs/demo"), help="a finished `meav demo` run")
    ap.add_argument("--out", type=Path, default=Path("docs/search"))
    ap.add_argument("--queries", type=int, default=5, help="first test queries per domain (the search set)")
    args = ap.parse_args()
    domains = ["medical", "financial", "legal"]
    avs = {d: load(args.demo / "avs" / d) for d in domains}
    cache = args.out / "leakage"
    residuals = decompose_folders(avs, "orthogonal", cache / "decomposed")
    knobs = {f"AV {d}": avs[d].path for d in domains} | {f"residual {d}": residuals[d] for d in domains}
    base = str(embedded_model_path())
    ev = open_evaluator(base, str(args.demo / "corpus"), "test", args.queries, None, domains=domains)
    digest = {"queries": args.queries, "ids": {d: [r["id"] for r in ev.rows[d]] for d in domains}}
    known = {0.0: cached(cache / "base.json", {**digest, "base": base}, lambda: {"lambda": 0.0, **ev()})}
    rows = {
        name: cached(
            cache / f"{name.replace(' ', '-')}.json",
            {**digest, "weights": weights_stamp(path)},
            lambda path=path: run_sweep(ev, ev.model, load(path), LAMBDAS, force=True),
        )
        for name, path in knobs.items()
    }
    table, summary = [], {}
    for name, data in rows.items():
        by_lam = {r["lambda"]: r for r in [known[0.0], *data["results"]]}
        own = name.split()[1]
        for d in domains:
            move = movement(by_lam[LAMBDAS[0]]["scores"][d], by_lam[LAMBDAS[-1]]["scores"][d])
            summary.setdefault(name, {})[d] = move
            cells = [
                f"{by_lam[lam]['domains'][d]['expert']:.1f}/{by_lam[lam]['domains'][d]['avoidance']:.1f}"
                for lam in sorted(by_lam)
            ]
            table.append([name, abbrev(d) + (" (own)" if d == own else ""), *cells, interval_text(move),
                          f"{move['up']}/{move['n']}"])  # fmt: skip
    ratio_rows = []
    for d in domains:
        for other in domains:
            av_move = summary[f"AV {d}"][other]["mean"]
            res_move = summary[f"residual {d}"][other]["mean"]
            ratio = res_move / av_move if av_move else float("nan")
            ratio_rows.append([d, abbrev(other) + (" (own)" if d == other else ""), f"{av_move:+.3f}",
                               f"{res_move:+.3f}", f"{ratio:.2f}"])  # fmt: skip
    lam_heads = [f"λ {lam:g}: Exp/Avd share" for lam in sorted({0.0, *LAMBDAS})]
    text = "\n".join(
        [
            "# Does a domain-specific knob move only its own domain?",
            "",
            f"Written by `.venv/bin/python bench/decomposition_leakage.py --demo {args.demo} --out {args.out}`"
            f" (SmolLM2-135M, the demo's AVs; the first {args.queries} test queries per domain, the search set).",
            "Movement: the paired per-query change of the expert margin from λ −2 to λ 1, mean and 95% bootstrap"
            " interval over queries.",
            "",
            markdown_table(
                ["knob", "scored on", *lam_heads, "movement (Exp margin, λ −2 → 1)", "queries moved up"],
                table,
            ),
            "",
            "Residual against AV: the movement each causes in each domain, and their ratio (1: the residual moves"
            " that domain as much as the whole AV; 0: not at all).",
            "",
            markdown_table(
                ["domain knob", "scored on", "AV movement", "residual movement", "ratio"], ratio_rows
            ),
            "",
        ]
    )
    atomic.write_text(args.out / "leakage.md", text)
    atomic.write_json(args.out / "leakage.json", {"queries": args.queries, "lambdas": [0.0, *LAMBDAS],
                                                  "movement": summary})  # fmt: skip
    print(text)


if __name__ == "__main__":
    main()
