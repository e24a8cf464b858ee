"""Single-domain λ sweep (paper §6.1, Tables 1–4, the "tunable knob" figure): `sweep(SweepOptions)`.

For each λ the model is steered in place (θ = θ_base + λ·AV, recomputed from the base values, no reload),
the held-out queries of every domain are scored, and each level's share and margin (with a bootstrap interval
over queries) are recorded. A level "dominates" at λ when its share is the highest and > 1/3 (the paper's
rule); the λ values where it dominates in the AV's own domain give its range and recommended λ. With
`control`, a norm-matched random vector goes through the same grid (evaluation/control.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from meav.core import atomic
from meav.core.av import load, steer
from meav.core.av.folders import update_av_config
from meav.core.errors import OptionError
from meav.core.progress import track
from meav.evaluation.baselines import BASELINES, prompting_rows
from meav.evaluation.control import norm_matched_random
from meav.evaluation.dominance import dominance_ranges, dominant, parse_grid, recommend
from meav.evaluation.evalset import Evaluator, open_evaluator
from meav.evaluation.options import SweepOptions
from meav.evaluation.report import plot_knob, sweep_csv, sweep_markdown
from meav.evaluation.verdict import add_margins, knob_verdict


def run_sweep(
    evaluator: Callable[[], dict],
    model,
    av,
    lambdas: Sequence[float],
    progress=None,
    known: dict[float, dict] | None = None,
    **steer_kw,
) -> dict:
    """Shares and scores per λ per domain (and general pairs), steering in place; reset to base at the end.

    `known`: rows already scored for some λ (λ = 0 is the base model whatever the vector: a control sweep
    reuses the AV sweep's row, bit for bit)."""
    results = []
    t0 = time.perf_counter()
    try:
        for lam in track(lambdas, f"sweep {av.name}"):
            if known and lam in known:
                results.append({**known[lam], "lambda": lam})
                continue
            steer(model, {av: lam}, **steer_kw)
            results.append({"lambda": lam, **evaluator()})
            if progress:
                progress(results[-1])
    finally:
        steer(model, {})
    return summarize(results, av.config.get("domain"), time.perf_counter() - t0)


def summarize(results: list[dict], av_domain: str | None, wall_s: float) -> dict:
    """Dominant level per λ per domain, dominance ranges and recommended λ in the AV's domain."""
    domains = list(results[0]["domains"]) if results else []
    lambdas = [r["lambda"] for r in results]
    dominants = {d: [dominant(r["domains"][d]) for r in results] for d in domains}
    summary = {
        "lambdas": lambdas,
        "results": results,
        "dominant": dominants,
        "ranges": {d: dominance_ranges(lambdas, dominants[d]) for d in domains},
        "av_domain": av_domain,
        "wall_s": round(wall_s, 3),
    }
    if av_domain in domains:
        summary["recommended_lambda"] = recommend(results, av_domain)
    return summary


def parse_baselines(text: str) -> list[str]:
    wanted = [b.strip() for b in text.split(",") if b.strip()]
    for b in wanted:
        if b not in BASELINES:
            raise OptionError("baselines", f"unknown baseline {b!r} ({', '.join(BASELINES)})")
    return wanted


def sweep(
    options: SweepOptions,
    evaluator: Evaluator | None = None,
    progress=None,
    known: dict[float, dict] | None = None,
) -> dict:
    """Level shares and margins per λ in every domain, the verdict, and (optionally) the control sweep.

    Writes sweep.json/.csv/.md and the knob PNG into `options.out`, and (unless forced) the recommended λ
    per level into the AV's config. `evaluator` reuses a loaded model and its encodings (the demo's sweeps);
    `known` holds rows already scored on the same queries for some λ (λ = 0: the base model, any AV).
    """
    o = options
    grid = parse_grid(o.lambdas)
    wanted = parse_baselines(o.baselines)
    vec = load(o.av)
    ev = evaluator or open_evaluator(
        o.base, o.dataset, o.split, o.max_queries, o.device, o.safety_data, o.max_pairs, o.domains
    )
    model = ev.model
    steer(model, {vec: 0.0}, force=o.force)  # fingerprint check before any scoring
    prompting = prompting_rows(ev) if "prompting" in wanted else []
    data = run_sweep(ev, model, vec, grid, progress, known=known, force=o.force)
    add_margins(data["results"], o.resamples)
    baselines = []
    if "default" in wanted:  # λ = 0 restores the base bit for bit: that row is the default baseline
        at_zero = next((r for r in data["results"] if r["lambda"] == 0.0), None)
        if at_zero is None:
            steer(model, {})
            at_zero = ev()
            add_margins([at_zero], o.resamples)
        baselines.append({"name": "default", **at_zero, "lambda": 0.0})
    baselines += prompting
    domains = list(ev.rows)
    data |= {
        "kind": "sweep",
        "base": o.base,
        "av": str(o.av),
        "dataset": o.dataset,
        "split": o.split,
        "forced": o.force,
        "n_queries": {d: len(r) for d, r in ev.rows.items()},
        "baselines": baselines,
        "verdict": {d: knob_verdict(grid, data["results"], d) for d in domains},
    }
    if o.control:
        control = load(norm_matched_random(vec, o.out / "control-av", o.control_seed))
        at_zero = {r["lambda"]: r for r in data["results"] if r["lambda"] == 0.0}
        ctrl = run_sweep(ev, model, control, grid, progress, known=at_zero, force=True)
        add_margins(ctrl["results"], o.resamples)
        ctrl["verdict"] = {d: knob_verdict(grid, ctrl["results"], d) for d in domains}
        data["control"] = ctrl
    o.out.mkdir(parents=True, exist_ok=True)
    atomic.write_text(o.out / "sweep.csv", sweep_csv(data))
    plot_knob(data, o.out / "sweep-knob.png")
    atomic.write_text(o.out / "sweep.md", sweep_markdown(data, "sweep-knob.png"))
    if o.write_back and data.get("recommended_lambda") and not o.force:
        update_av_config(
            vec.path,
            recommended_lambda=data["recommended_lambda"],
            lambda_ranges=data["ranges"][data["av_domain"]],
        )
    # last: a resumed demo takes sweep.json as "this sweep is complete", outputs and write-back included
    atomic.write_json(o.out / "sweep.json", data)
    return data
