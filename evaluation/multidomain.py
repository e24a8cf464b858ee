"""Multidomain search (paper §6.2, Table 5): `search(SearchOptions)` finds editing coefficients that make a
chosen level dominate in each domain, then confirms them on queries the search never saw.

Each domain's test queries (by id) are split: the first half (or `search_queries`) is the search set, the rest
the confirmation set. A strategy from the registry (evaluation/strategies.py) spends its budget on the search
set; a target found there counts as reached only if its coefficients also reach it on the confirmation set.
Knobs: the domain AVs, a decomposition of them (evaluation/decompose.py), or, as the null, random vectors with
each AV's per-tensor norms (targets "reached" by chance).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from meav.core import atomic
from meav.core.av import load, steer
from meav.core.av.folders import weights_stamp
from meav.core.corpus import LEVELS
from meav.core.errors import MeavError, OptionError
from meav.core.progress import display
from meav.evaluation.control import norm_matched_random
from meav.evaluation.decompose import METHODS, decompose_folders
from meav.evaluation.dominance import parse_grid
from meav.evaluation.evalset import Evaluator, open_evaluator
from meav.evaluation.options import SearchOptions
from meav.evaluation.report import search_markdown
from meav.evaluation.strategies import CONFIRM_TOP, REGISTERED_STRATEGIES
from meav.evaluation.targets import all_targets, margin, support


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


class EvalLog:
    """Every evaluation of a search appended to a JSON-lines file as it completes, with the seconds it took, so
    a killed search reruns without scoring anything twice and its tables count the time of every session. The
    first line names what the evaluations are of; another search's log is refused rather than reused. Where
    the AVs and the corpus lie is not part of that name (the AV files' content fingerprints and the query text
    are), so a moved checkout resumes; the base model is named by its path."""

    LOCATIONS = ("avs", "dataset")
    ADDED_LATER = ("knob_files",)  # a log written before these existed is matched on the rest

    def __init__(self, path, identity: dict):
        self.path, self.entries, self.used = path, {}, set()  # entries: key → logged line
        path.parent.mkdir(parents=True, exist_ok=True)
        raw = path.read_bytes() if path.is_file() else b""
        complete = raw[: raw.rfind(b"\n") + 1]  # a line cut by a kill is dropped, so appends start clean
        if not complete.strip():
            atomic.write_text(path, json.dumps(identity) + "\n")
            self.logged_before: set[str] = set()
            return
        if len(complete) < len(raw):
            with open(path, "r+b") as f:
                f.truncate(len(complete))
        parsed = []
        for n, line in enumerate(complete.decode("utf-8").splitlines(), 1):
            try:
                parsed.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise MeavError(
                    f"{path} line {n}: not JSON ({e.msg}); move the file away to start over"
                ) from e
            if n > 1 and not {"key", "shares"} <= set(parsed[-1]):
                raise MeavError(
                    f"{path} line {n}: an evaluation needs 'key' and 'shares'; move the file away"
                )
        logged = parsed[0]
        current = {k: v for k, v in identity.items() if k in logged or k not in self.ADDED_LATER}
        differ = sorted(k for k in {*_content(logged), *_content(current)} if logged.get(k) != current.get(k))
        if differ:
            raise OptionError(
                "out",
                f"{path} holds evaluations of another search ({', '.join(differ)} differ); use another out",
            )
        self.entries = {entry["key"]: entry for entry in parsed[1:]}
        self.logged_before = set(self.entries)

    @property
    def reused(self) -> int:
        """Evaluations this search took from the log instead of scoring them (each counted once)."""
        return len(self.used & self.logged_before)

    def get(self, key: str) -> dict | None:
        entry = self.entries.get(key)
        if entry is None:
            return None
        self.used.add(key)
        return entry["shares"]

    def put(self, key: str, shares: dict, seconds: float | None = None) -> dict:
        entry = {"key": key, "shares": shares} | ({"s": round(seconds, 3)} if seconds is not None else {})
        self.entries[key] = entry
        self.used.add(key)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
            f.flush()
            os.fsync(f.fileno())
        return shares

    def shares(self, key: str, score: Callable[[], dict]) -> dict:
        """The logged shares under `key`, or `score()` timed and appended."""
        shares = self.get(key)
        if shares is None:
            t = time.perf_counter()
            shares = self.put(key, score(), time.perf_counter() - t)
        return shares

    def timing(self) -> tuple[float, int]:
        """(seconds of the evaluations this search used, over every session; how many of them were untimed)."""
        timed = [self.entries[k]["s"] for k in self.used if "s" in self.entries[k]]
        return round(sum(timed), 3), len(self.used) - len(timed)

    def seconds_per_evaluation(self) -> dict[str, dict]:
        """Per kind (search, confirm: the latter on other, often more, queries), the mean seconds of the timed
        evaluations this search used and how many were timed: comparable across runs, unlike totals."""
        out = {}
        for kind in ("search", "confirm"):
            s = [
                self.entries[k]["s"] for k in self.used if k.startswith(kind + "|") and "s" in self.entries[k]
            ]
            out[kind] = {"mean": round(sum(s) / len(s), 3) if s else None, "timed": len(s)}
        return out


@contextmanager
def hold(log_path: Path) -> Iterator[None]:
    """An exclusive lock beside a search's log, held while the search runs (knobs built, evaluations appended,
    tables written): a second process on the same run is refused. The kernel drops it however the holder dies."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path.with_name(log_path.name + ".lock"), "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OptionError(
                "out", f"{log_path} is being written by another running search; wait for it"
            ) from None
        yield


def _key(kind: str, coeffs: dict, fraction: float = 1.0) -> str:
    """An evaluation's key in the log, its kind first: 'search|<fraction>|<coefficients>', 'confirm|<coefficients>'."""
    c = json.dumps(coeffs, sort_keys=True)
    return f"search|{fraction}|{c}" if kind == "search" else f"confirm|{c}"


def _content(identity: dict) -> dict:
    return {k: v for k, v in identity.items() if k not in EvalLog.LOCATIONS}


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
    with hold(o.out / f"{stem}.evaluations.jsonl"):
        data = _run(o, paths, vecs, values, ev, search_set, confirm_set, progress)
        atomic.write_json(o.out / f"{stem}.json", data)
        atomic.write_text(o.out / f"{stem}.md", search_markdown(data))
    return data


def _run(o: SearchOptions, paths, vecs, values, ev: Evaluator, search_set, confirm_set, progress) -> dict:
    """Build the knobs, run the strategy on the search set, confirm, score the unedited model: the run's JSON."""
    domains = list(paths)
    t_setup = time.perf_counter()
    knobs = _knobs(o, vecs)  # the null's vectors and a decomposition are built here, outside the evaluations
    setup_s = time.perf_counter() - t_setup
    log = EvalLog(
        o.out / f"{run_stem(o)}.evaluations.jsonl",
        _identity(o, paths, vecs, knobs, ev, search_set, confirm_set),
    )
    t0 = time.perf_counter()
    total = len(values) ** len(knobs) if o.strategy == "grid" else o.budget
    with display() as bars:
        bar = bars.add_task(f"search ({o.strategy})", total=total)

        def evaluate(coeffs: dict[str, float], fraction: float) -> dict:
            subset = {d: r[: max(1, round(len(r) * fraction))] for d, r in search_set.items()}
            shares = _steered_shares(log, _key("search", coeffs, fraction), ev, knobs, coeffs, subset)
            bars.advance(bar)
            if progress:
                progress(coeffs, fraction, shares)
            return shares

        try:
            result = REGISTERED_STRATEGIES[o.strategy](
                evaluate, list(knobs), domains, values, coarse=o.coarse, budget=o.budget,
                screen_fraction=o.screen_fraction, seed=o.seed,
            )  # fmt: skip
            confirmations = _confirm(result, ev, knobs, confirm_set, log) if o.confirm else None
            unedited = _unedited(ev, knobs, search_set, confirm_set if o.confirm else None, log, domains)
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
    data["unedited"] = unedited
    return _verdicts(data, confirmations, unedited)


def _verdicts(data: dict, confirmations: dict | None, unedited: dict) -> dict:
    """Per target: confirmed (None when confirmation is off), its confirmation shares, its support (the
    probability it holds when the confirmation queries are resampled) and the unedited model's, held by the
    unedited model; the run's counts.

    The supports' sum is the confirmed count expected over resamples. Beyond the unedited model it is a range:
    both are judged on the same resampled queries, and the log keeps counts, not which query each point won,
    so P(run holds, unedited does not) is only bounded, by max(0, s − u) and min(s, 1 − u).
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
    data["confirm_evaluations"] = len({_key("confirm", c["coeffs"]) for c in found})
    data["targets_confirmed"] = data["targets_confirmed_beyond_unedited"] = None
    data["targets_confirmed_expected"] = data["targets_confirmed_beyond_unedited_expected"] = None
    if confirmations is not None:
        ts = [t for t in data["targets"] if t["confirm_support"] is not None]
        data["targets_confirmed"] = sum(t["confirmed"] for t in ts)
        data["targets_confirmed_beyond_unedited"] = sum(
            t["confirmed"] and not t["unedited_holds"] for t in ts
        )
        data["targets_confirmed_expected"] = round(sum(t["confirm_support"] for t in ts), 2)
        s_u = [(t["confirm_support"], t["unedited_support"]) for t in ts]
        data["targets_confirmed_beyond_unedited_expected"] = [
            round(sum(max(0.0, s - u) for s, u in s_u), 2),
            round(sum(min(s, 1 - u) for s, u in s_u), 2),
        ]
    return data


def _steered_shares(log: EvalLog, key: str, ev: Evaluator, knobs: dict, coeffs: dict, subset) -> dict:
    """Level shares with the model steered to `coeffs`, on these queries: from the log, or scored and logged."""

    def score() -> dict:
        steer(ev.model, {knobs[n]: c for n, c in coeffs.items()}, force=True)
        return ev.domain_shares(subset=subset)

    return log.shares(key, score)


def _confirm(result, ev: Evaluator, knobs: dict, confirm_set: dict[str, range], log: EvalLog) -> dict:
    """Every target found on the search set, evaluated at its coefficients on the confirmation set."""
    out = {}
    for target, best in result.best.items():
        if best.reached:
            shares = _steered_shares(log, _key("confirm", best.coeffs), ev, knobs, best.coeffs, confirm_set)
            out[target] = {
                "shares": shares,
                "coeffs": best.coeffs,
                "margin": margin(shares, target, result.domains),
            }
    return out


def _unedited(ev: Evaluator, knobs: dict, search_set, confirm_set, log: EvalLog, domains) -> dict:
    """The unedited model (every coefficient 0) on both query sets. A target it already holds where the verdict
    is taken (the confirmation queries; the search queries when confirmation is off) is no achievement of a
    search: any point that barely moves the model confirms it. A strategy's own evaluation of 0 is reused."""
    zero = dict.fromkeys(knobs, 0.0)
    out = {
        "search": _steered_shares(log, _key("search", zero), ev, knobs, zero, search_set),
        "confirm": None if confirm_set is None else _steered_shares(log, _key("confirm", zero), ev, knobs, zero, confirm_set),
    }  # fmt: skip
    verdict = out["confirm"] or out["search"]
    out["holds"] = [list(t) for t in all_targets(domains) if margin(verdict, t, domains) > 0]
    out["holds_on"] = "confirm" if out["confirm"] else "search"
    return out
