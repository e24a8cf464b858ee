"""Multidomain search (paper §6.2, Table 5): `search(SearchOptions)` finds editing coefficients that make a
chosen level dominate in each domain, then confirms them on queries the search never saw.

Each domain's test queries (by id) are split: the first half (or `search_queries`) is the search set, the rest
the confirmation set. A strategy from the registry (evaluation/strategies.py) spends its budget on the search
set; a target found there counts as reached only if its coefficients also reach it on the confirmation set.
Knobs: the domain AVs, a decomposition of them (evaluation/decompose.py), or, as the null, random vectors with
each AV's per-tensor norms (targets "reached" by chance).
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from meav.core import atomic
from meav.core.av import load, steer
from meav.core.av.folders import weights_stamp
from meav.core.corpus import LEVELS
from meav.core.errors import OptionError
from meav.core.progress import display
from meav.evaluation.control import norm_matched_random
from meav.evaluation.decompose import METHODS, decompose_folders
from meav.evaluation.dominance import parse_grid
from meav.evaluation.evallog import EvalLog, hold, log_key
from meav.evaluation.evalset import Evaluator, open_evaluator
from meav.evaluation.options import SearchOptions
from meav.evaluation.resampling import confirmed_interval, support
from meav.evaluation.scoring import shares_of
from meav.evaluation.search_report import search_markdown
from meav.evaluation.strategies import CONFIRM_TOP, REGISTERED_STRATEGIES
from meav.evaluation.targets import all_targets, margin


def parse_avs(specs: list[str]) -> dict[str, str]:
    """['medical=PATH', ...] → {domain: path}; each domain once, at least two."""
    out = {}
    for s in specs:
        name, sep, path = s.partition("=")
        if not sep or not name or not path:
            raise OptionError("av", f"{s!r}: expected DOMAIN=PATH (e.g. medical=runs/av-medical)")
        if name in out:
            raise OptionError("av", f"{s!r}: domain {name!r} given twice")
        out[name] = path
    if len(out) < 2:
        raise OptionError("av", f"a multidomain search needs at least two domain AVs, got {len(out)}")
    return out


def run_stem(o: SearchOptions) -> str:
    """File stem of a run's outputs: search-<strategy>[-<decompose>][-null]."""
    return (
        f"search-{o.strategy}"
        + (f"-{o.decompose}" if o.decompose != "none" else "")
        + ("-null" if o.null else "")
    )


def min_budget(o: SearchOptions, n_knobs: int, n_values: int, n_targets: int) -> int:
    """The fewest evaluations a strategy can run meaningfully (below: refused, not silently truncated).
    Adaptive search on a subsample keeps room to re-check two candidates per target on the full split."""
    screening_reserve = CONFIRM_TOP * n_targets if o.screen_fraction < 1 else 0
    adaptive = min(o.coarse, n_values) ** n_knobs + screening_reserve
    return {"grid": n_values**n_knobs, "adaptive": adaptive, "optuna": n_targets}.get(o.strategy, 1)


def check_options(o: SearchOptions) -> tuple[dict[str, str], list[float]]:
    """Everything that can be refused before a model is loaded: (AV paths, coefficient values)."""
    if o.strategy not in REGISTERED_STRATEGIES:
        raise OptionError("strategy", f"{o.strategy!r}: choose from {', '.join(REGISTERED_STRATEGIES)}")
    if o.decompose not in METHODS:
        raise OptionError("decompose", f"{o.decompose!r}: choose from {', '.join(METHODS)}")
    values = parse_grid(o.coef_range, "coef_range")
    if len(values) < 2:
        raise OptionError("coef_range", f"{o.coef_range!r}: a search needs at least two coefficient values")
    if o.grid_step is not None:
        values = parse_grid(f"{values[0]}:{values[-1]}:{o.grid_step}", "grid_step")
    paths = parse_avs(o.av)
    n_knobs = len(paths) + (o.decompose != "none")
    if o.strategy == "grid" and len(values) ** n_knobs > o.budget:  # equal budgets: the lattice must fit
        fit = int(o.budget ** (1 / n_knobs) + 1e-9)
        advice = (
            f"a coefficient grid (range, grid_step) with at most {fit} values per coefficient, or a larger budget"
            if fit >= 2
            else f"a budget of at least {2**n_knobs} (a grid needs two values per coefficient)"
        )
        raise OptionError(
            "budget",
            f"{o.budget}: the grid {len(values)}^{n_knobs} = {len(values) ** n_knobs} evaluations exceeds it; "
            f"give {advice}",
        )
    need = min_budget(o, n_knobs, len(values), len(all_targets(list(paths))))
    if o.strategy != "grid" and o.budget < need:
        raise OptionError(
            "budget", f"{o.budget}: the {o.strategy} strategy needs at least {need} evaluations here"
        )
    return paths, values


def split_queries(ev: Evaluator, o: SearchOptions) -> tuple[dict[str, range], dict[str, range]]:
    """(search set, confirmation set) per domain: disjoint query indices, in id order."""
    search, confirm = {}, {}
    for d, rows in ev.rows.items():
        n = o.search_queries or max(1, len(rows) // 2)
        if o.confirm and n >= len(rows):
            raise OptionError("search_queries", f"{n} of {d}'s {len(rows)} queries leave no confirmation set")
        search[d], confirm[d] = range(min(n, len(rows))), range(n, len(rows))
    return search, confirm


def _rows_digest(ev: Evaluator, sets: dict[str, range]) -> str:
    """The text of the queries a set holds (an edited corpus at the same path is another search)."""
    h = hashlib.sha256()
    for d, idx in sorted(sets.items()):
        for i in idx:
            r = ev.rows[d][i]
            h.update(json.dumps([d, r["id"], r["query"], *(r[lv] for lv in LEVELS)]).encode())
    return h.hexdigest()


def _identity(
    o: SearchOptions, paths: dict, vecs: dict, knobs: dict, ev: Evaluator, search_set: dict, confirm_set: dict
) -> dict:
    return {
        "avs": {d: str(Path(p).resolve()) if Path(p).exists() else p for d, p in paths.items()},
        "av_files": {d: weights_stamp(v.path) for d, v in vecs.items()},  # the local snapshot of a Hub AV too
        "knob_files": {n: weights_stamp(k.path) for n, k in knobs.items()},  # a decomposition's code may change
        "base": o.base, "dataset": o.dataset, "split": o.split, "decompose": o.decompose, "null": o.null,
        "seed": o.seed if o.null else None,
        "model": [str(ev.model.dtype), str(ev.model.device)],
        "search": {d: [r.start, r.stop] for d, r in search_set.items()},
        "confirm": {d: [r.start, r.stop] for d, r in confirm_set.items()},
        "rows": [_rows_digest(ev, search_set), _rows_digest(ev, confirm_set)],
    }  # fmt: skip


def _knobs(o: SearchOptions, vecs: dict) -> dict:
    if o.null:  # the null: random directions, each AV's per-tensor norms; seeds of two nulls never overlap
        vecs = {
            d: load(norm_matched_random(v, o.out / "null-avs" / d, o.seed * len(vecs) + i))
            for i, (d, v) in enumerate(vecs.items())
        }
    if o.decompose != "none":
        return {
            name: load(p) for name, p in decompose_folders(vecs, o.decompose, o.out / "decomposed").items()
        }
    return dict(vecs)


def search(options: SearchOptions, evaluator: Evaluator | None = None, progress=None) -> dict:
    """The 27 targets in Table 5's layout: found on the search queries, confirmed on the others; written to `out`."""
    o = options
    paths, values = check_options(o)
    domains = list(paths)
    vecs = {d: load(p) for d, p in paths.items()}
    ev = evaluator or open_evaluator(o.base, o.dataset, o.split, o.max_queries, o.device, domains=domains)
    missing = [d for d in domains if d not in ev.rows]
    if missing:
        raise OptionError(
            "av", f"the evaluation data has no {', '.join(missing)} queries (has {sorted(ev.rows)})"
        )
    ev.rows = {d: ev.rows[d] for d in domains}
    search_set, confirm_set = split_queries(ev, o)
    steer(ev.model, {v: 0.0 for v in vecs.values()}, force=o.force)  # fingerprint check before any write
    stem = run_stem(o)
    log_path = o.out / f"{stem}.evaluations.jsonl"
    with hold(log_path):
        data = _run(o, log_path, paths, vecs, values, ev, search_set, confirm_set, progress)
        atomic.write_json(o.out / f"{stem}.json", data)
        atomic.write_text(o.out / f"{stem}.md", search_markdown(data))
    return data


def _run(
    o: SearchOptions, log_path: Path, paths, vecs, values, ev: Evaluator, search_set, confirm_set, progress
) -> dict:
    """Build the knobs, run the strategy on the search set, confirm, score the unedited model: the run's JSON."""
    domains = list(paths)
    t_setup = time.perf_counter()
    knobs = _knobs(o, vecs)  # the null's vectors and a decomposition are built here, outside the evaluations
    setup_s = time.perf_counter() - t_setup
    log = EvalLog(log_path, _identity(o, paths, vecs, knobs, ev, search_set, confirm_set))
    t0 = time.perf_counter()
    total = len(values) ** len(knobs) if o.strategy == "grid" else o.budget
    with display() as bars:
        bar = bars.add_task(f"search ({o.strategy})", total=total)

        def evaluate(coeffs: dict[str, float], fraction: float) -> dict:
            subset = {d: r[: max(1, round(len(r) * fraction))] for d, r in search_set.items()}
            shares = _steered_shares(log, log_key("search", coeffs, fraction), ev, knobs, coeffs, subset)
            bars.advance(bar)
            if progress:
                progress(coeffs, fraction, shares)
            return shares

        try:
            result = REGISTERED_STRATEGIES[o.strategy](
                evaluate, list(knobs), domains, values, coarse=o.coarse, budget=o.budget,
                screen_fraction=o.screen_fraction, seed=o.seed,
            )  # fmt: skip
            rescore = o.rescore_outcomes
            confirmations = _confirm(result, ev, knobs, confirm_set, log, rescore) if o.confirm else None
            unedited = _unedited(
                ev, knobs, search_set, confirm_set if o.confirm else None, log, domains, rescore
            )
        finally:
            steer(ev.model, {})
    data = {
        "kind": "search",
        "base": o.base,
        "avs": paths,
        "dataset": o.dataset,
        "split": o.split,
        "null": o.null,
        "n_queries": {d: {"search": len(search_set[d]), "confirm": len(confirm_set[d])} for d in domains},
        "decompose": o.decompose,
        **result.to_json(),
        "wall_s": round(time.perf_counter() - t0, 3),
        "evaluations_reused": log.reused,
    }
    data["evaluation_s"], data["evaluations_untimed"] = log.timing()
    data["seconds_per_evaluation"] = log.seconds_per_evaluation()
    data["setup_s"] = round(setup_s, 3)
    unedited_won = unedited.pop("confirm_won")
    data["unedited"] = unedited
    return _verdicts(data, confirmations, unedited, unedited_won)


def _verdicts(data: dict, confirmations: dict | None, unedited: dict, unedited_won: dict | None) -> dict:
    """Per target: confirmed (None when confirmation is off), its confirmation shares, its support (the
    probability it holds when the confirmation queries are resampled) and the unedited model's, held by the
    unedited model; the run's counts.

    The supports' sum is the confirmed count expected over resamples. Beyond the unedited model, both are
    judged on the same resampled queries: from counts alone P(run holds, unedited does not) is only bounded, by
    max(0, s − u) and min(s, 1 − u). Where the log holds which level won each query (every found point's and the
    unedited model's), the joint resamples give that expectation and both counts the middle 95% of resamples.
    """
    doms, n = data["domains"], {d: v["confirm"] for d, v in data["n_queries"].items()}
    for t in data["targets"]:
        c, target = (confirmations or {}).get(tuple(t["target"])), tuple(t["target"])
        t["confirmed"] = None if confirmations is None else bool(c and c["margin"] > 0)
        t["confirm_shares"] = c["shares"] if c else None
        t["confirm_support"] = round(support(c["shares"], target, doms, n), 4) if c else None
        t["unedited_support"] = round(support(unedited["confirm"], target, doms, n), 4) if c else None
        t["unedited_holds"] = t["target"] in unedited["holds"]
    found = (confirmations or {}).values()
    data["confirm_evaluations"] = len({log_key("confirm", c["coeffs"]) for c in found})
    for key in ("targets_confirmed", "targets_confirmed_beyond_unedited"):
        data[key] = data[f"{key}_expected"] = data[f"{key}_interval"] = None
    data["targets_confirmed_beyond_unedited_bounds"] = None
    if confirmations is None:
        return data
    ts = [t for t in data["targets"] if t["reached"]]
    data["targets_confirmed"] = sum(t["confirmed"] for t in ts)
    data["targets_confirmed_beyond_unedited"] = sum(t["confirmed"] and not t["unedited_holds"] for t in ts)
    data["targets_confirmed_expected"] = round(sum(t["confirm_support"] for t in ts), 2)
    points = [(tuple(t["target"]), confirmations[tuple(t["target"])]["won"]) for t in ts]
    if unedited_won is not None and all(w is not None for _, w in points):
        joint = confirmed_interval(points, unedited_won, doms)
        data["targets_confirmed_interval"] = joint["confirmed"]["interval"]
        data["targets_confirmed_beyond_unedited_interval"] = joint["beyond_unedited"]["interval"]
        data["targets_confirmed_beyond_unedited_expected"] = joint["beyond_unedited"]["mean"]
    else:  # counts only: the unedited model's verdict on the same resamples is unknown, so only bounded
        s_u = [(t["confirm_support"], t["unedited_support"]) for t in ts]
        data["targets_confirmed_beyond_unedited_bounds"] = [
            round(sum(max(0.0, s - u) for s, u in s_u), 2),
            round(sum(min(s, 1 - u) for s, u in s_u), 2),
        ]
    return data


def _steered_shares(
    log: EvalLog, key: str, ev: Evaluator, knobs: dict, coeffs: dict, subset, rescore: bool = False
) -> dict:
    """Level shares with the model steered to `coeffs`, on these queries: from the log, or scored and logged
    (with `rescore`, also when the log lacks which level won each query)."""

    def score() -> tuple[dict, dict]:
        steer(ev.model, {knobs[n]: c for n, c in coeffs.items()}, force=True)
        won = ev.domain_winners(subset=subset)
        return shares_of(won), won

    return log.shares(key, score, rescore)


def _confirm(
    result, ev: Evaluator, knobs: dict, confirm_set: dict[str, range], log: EvalLog, rescore: bool
) -> dict:
    """Every target found on the search set, evaluated at its coefficients on the confirmation set."""
    out = {}
    for target, best in result.best.items():
        if best.reached:
            key = log_key("confirm", best.coeffs)
            shares = _steered_shares(log, key, ev, knobs, best.coeffs, confirm_set, rescore)
            out[target] = {
                "shares": shares,
                "won": log.won(key),
                "coeffs": best.coeffs,
                "margin": margin(shares, target, result.domains),
            }
    return out


def _unedited(
    ev: Evaluator, knobs: dict, search_set, confirm_set, log: EvalLog, domains, rescore: bool
) -> dict:
    """The unedited model (every coefficient 0) on both query sets. A target it already holds where the verdict
    is taken (the confirmation queries; the search queries when confirmation is off) is no achievement of a
    search: any point that barely moves the model confirms it. A strategy's own evaluation of 0 is reused."""
    zero = dict.fromkeys(knobs, 0.0)
    out = {
        "search": _steered_shares(log, log_key("search", zero), ev, knobs, zero, search_set),
        "confirm": None if confirm_set is None else _steered_shares(log, log_key("confirm", zero), ev, knobs, zero, confirm_set, rescore),
    }  # fmt: skip
    verdict = out["confirm"] or out["search"]
    out["holds"] = [list(t) for t in all_targets(domains) if margin(verdict, t, domains) > 0]
    out["holds_on"] = "confirm" if out["confirm"] else "search"
    out["confirm_won"] = None if confirm_set is None else log.won(log_key("confirm", zero))  # popped by _run
    return out
