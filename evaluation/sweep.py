"""Single-domain λ sweep (paper §6.1, Tables 1–4, the "tunable knob" figure): `sweep(SweepOptions)`.

For each λ the model is steered in place (θ = θ_base + λ·AV, recomputed from the base values, no reload),
the held-out queries of every domain are scored, and each level's share and margin (with a bootstrap interval
over queries) are recorded. A level "dominates" at λ when its share is the highest and > 1/3 (the paper's
rule); the λ values where it dominates in the AV's own domain give its range and recommended λ. With
`control`, a norm-matched random vector goes through the same grid (meav.core.av.controls).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from meav.core import atomic
from meav.core.av import load, steer
from meav.core.av.controls import norm_matched_random
from meav.core.av.folders import weights_stamp
from meav.core.corpus import LEVELS
from meav.core.errors import OptionError
from meav.core.grid import parse_grid
from meav.core.progress import track
from meav.core.texts import load_prompt_texts
from meav.evaluation.baselines import BASELINES, prompting_rows
from meav.evaluation.damage import match_damage
from meav.evaluation.dominance import dominance_ranges, dominant
from meav.evaluation.evalset import Evaluator, open_evaluator
from meav.evaluation.fluency import FluencyRule, add_fluency
from meav.evaluation.options import SweepOptions
from meav.evaluation.sweep_report import sweep_csv, sweep_figure, sweep_markdown
from meav.evaluation.verdict import add_margins, grid_carries_verdict, knob_verdict


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
    """Dominant level per λ per domain and the dominance ranges."""
    domains = list(results[0]["domains"]) if results else []
    lambdas = [r["lambda"] for r in results]
    dominants = {d: [dominant(r["domains"][d]) for r in results] for d in domains}
    return {
        "lambdas": lambdas,
        "results": results,
        "dominant": dominants,
        "ranges": {d: dominance_ranges(lambdas, dominants[d]) for d in domains},
        "av_domain": av_domain,
        "wall_s": round(wall_s, 3),
    }


def measure(run: dict, grid: Sequence[float], domains: Sequence[str], o: SweepOptions) -> dict:
    """Margins, fluency and the verdict (with each level's recommended λ) of one swept vector."""
    add_margins(run["results"], o.resamples)
    add_fluency(run["results"], o.resamples)
    rule = FluencyRule(o.max_own_drop, o.max_neutral_drop)
    run["verdict"] = {d: knob_verdict(grid, run["results"], d, rule) for d in domains}
    return run


def damage_matched_sweep(ev, vec, data: dict, grid, domains, o: SweepOptions, progress=None) -> dict:
    """The random control direction, at each end of the grid scaled until its neutral-text damage equals the
    AV's there, scored at both ends (λ = 0 shared): damage alone must not reproduce either end of the knob."""
    rows = {r["lambda"]: r for r in data["results"]}
    direction = load(norm_matched_random(vec, o.out / "control-av", o.control_seed))
    matching, results = {}, []
    t0 = time.perf_counter()
    try:
        for lam in (min(grid), max(grid)):
            target = rows[lam]["fluency_delta"]["neutral"]["mean"]
            matching[str(lam)] = m = match_damage(ev, direction, lam, target)
            steer(ev.model, {direction: lam * m["factor"]}, force=True)
            results.append({"lambda": lam, **ev()})
            if progress:
                progress(results[-1])
    finally:
        steer(ev.model, {})
    results.insert(1, {**rows[0.0], "lambda": 0.0})
    run = summarize(results, direction.config.get("domain"), time.perf_counter() - t0)
    return measure(run, [r["lambda"] for r in results], domains, o) | {"matching": matching}


def check_controls(grid: list[float], control_grid: list[float], o: SweepOptions) -> None:
    """A control the verdict cannot read is refused before the model loads (not reported as 'does not pass')."""
    if (o.control or o.damage_control) and not grid_carries_verdict(control_grid):
        raise OptionError(
            "control_lambdas", f"{control_grid}: the verdict needs 0 and a value on each side of it"
        )
    if o.damage_control:
        if not o.neutral:
            raise OptionError(
                "damage_control", "the damage-matched control needs neutral texts (--neutral FILE)"
            )
        missing = [x for x in (0.0, min(grid), max(grid)) if x not in grid]
        if missing or min(grid) >= 0 or max(grid) <= 0:
            raise OptionError(
                "lambdas", f"{grid}: the damage-matched control needs 0 and both ends on the grid"
            )


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

    Writes sweep.json/.csv/.md and the knob PNG into `options.out` and nothing anywhere else (the AV is read
    only; `meav vectors recommend` records a sweep's recommended λ in a local AV folder). `evaluator` reuses a loaded model and its encodings (the demo's sweeps);
    `known` holds rows already scored on the same queries for some λ (λ = 0: the base model, any AV).
    """
    o = options
    grid = parse_grid(o.lambdas)
    control_grid = parse_grid(o.control_lambdas, "control_lambdas") if o.control_lambdas else grid
    wanted = parse_baselines(o.baselines)
    check_controls(grid, control_grid, o)
    vec = load(o.av)
    ev = evaluator or open_evaluator(
        o.base, o.dataset, o.split, o.max_queries, o.device, o.safety_data, o.max_pairs, o.domains, o.neutral
    )
    if o.neutral:  # a shared evaluator (the demo's) scores this sweep's neutral texts too
        texts = [(t["prompt"], t["response"]) for t in load_prompt_texts(o.neutral)]
        if ev.neutral and ev.neutral != texts:
            raise OptionError("neutral", f"{o.neutral}: the evaluator given holds other neutral texts")
        ev.neutral = texts
        if known and 0.0 in known and len(known[0.0].get("neutral") or []) != len(texts):
            raise OptionError(
                "neutral", "the λ = 0 row given as known was scored without these neutral texts"
            )
    model = ev.model
    steer(model, {vec: 0.0}, force=o.force)  # fingerprint check before any scoring
    prompting = prompting_rows(ev) if "prompting" in wanted else []
    domains = list(ev.rows)
    data = measure(run_sweep(ev, model, vec, grid, progress, known=known, force=o.force), grid, domains, o)
    baselines = []
    if "default" in wanted:  # λ = 0 restores the base bit for bit: that row is the default baseline
        at_zero = next((r for r in data["results"] if r["lambda"] == 0.0), None)
        if at_zero is None:
            steer(model, {})
            at_zero = ev()
            add_margins([at_zero], o.resamples)
        baselines.append({"name": "default", **at_zero, "lambda": 0.0})
    baselines += prompting
    av_domain = data["av_domain"]
    data |= {
        "kind": "sweep",
        "base": o.base,
        "av": str(o.av),
        "av_weights": weights_stamp(vec.path),  # `meav vectors recommend` checks it swept this AV
        "dataset": o.dataset,
        "split": o.split,
        "forced": o.force,
        "n_queries": {d: len(r) for d, r in ev.rows.items()},
        "neutral_texts": len(ev.neutral),
        "fluency_rule": {"max_own_drop": o.max_own_drop, "max_neutral_drop": o.max_neutral_drop},
        "baselines": baselines,
    }
    if av_domain in domains:
        rec = data["verdict"][av_domain]["recommended"]
        data["recommended_lambda"] = {lv: rec[lv]["lambda"] for lv in LEVELS}
    at_zero = {r["lambda"]: r for r in data["results"] if r["lambda"] == 0.0}
    if o.control:
        control = load(norm_matched_random(vec, o.out / "control-av", o.control_seed))
        ctrl = run_sweep(ev, model, control, control_grid, progress, known=at_zero, force=True)
        data["control"] = measure(ctrl, control_grid, domains, o)
    if o.damage_control:
        data["damage_control"] = damage_matched_sweep(ev, vec, data, control_grid, domains, o, progress)
    o.out.mkdir(parents=True, exist_ok=True)
    atomic.write_text(o.out / "sweep.csv", sweep_csv(data))
    sweep_figure(data, o.out / "sweep-knob.png")
    atomic.write_text(o.out / "sweep.md", sweep_markdown(data, "sweep-knob.png"))
    # last: a resumed demo takes sweep.json as "this sweep is complete", every other output included
    atomic.write_json(o.out / "sweep.json", data)
    return data
