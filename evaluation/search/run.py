"""Multidomain search (paper §6.2, Table 5): `search(SearchOptions)` finds editing coefficients that make a
chosen level dominate in each domain, then confirms them on queries the search never saw.

Each domain's test queries (by id) are split: the first half (or `search_queries`) is the search set, the rest
the confirmation set. A strategy from the registry (search/strategies.py) spends its budget on the search set;
a target found there counts as reached only if its coefficients also reach it on the confirmation set. Knobs:
the domain AVs, a decomposition of them (meav.core.av.decompose), or, as the null, random vectors with each
AV's per-tensor norms (targets "reached" by chance).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from meav.core import atomic
from meav.core.av import AlignmentVector, load, steer
from meav.core.av.controls import norm_matched_random
from meav.core.av.decompose import METHODS, decompose_folders
from meav.core.av.folders import weights_stamp
from meav.core.corpus import LEVELS
from meav.core.errors import OptionError
from meav.core.grid import parse_grid
from meav.core.named import parse_named_avs
from meav.core.progress import display
from meav.evaluation.evalset import Evaluator, open_evaluator
from meav.evaluation.scoring import shares_of
from meav.evaluation.search.engine import SearchResult, Shares, all_targets, margin
from meav.evaluation.search.log import EvalLog, hold, log_key
from meav.evaluation.search.options import SearchOptions
from meav.evaluation.search.report import search_markdown
from meav.evaluation.search.results import SearchRecord
from meav.evaluation.search.strategies import Strategy, strategy_from
from meav.evaluation.search.verdicts import add_verdicts


def parse_avs(specs: list[str]) -> dict[str, str]:
    """['medical=PATH', ...] (NAME=PATH, the name a domain) → {domain: path}; each domain once, at least two."""
    out = parse_named_avs(specs)
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


@dataclass
class Plan:
    """What can be settled before a model is loaded: the AVs, the coefficient values, the strategy."""

    paths: dict[str, str]
    values: list[float]
    strategy: Strategy

    @property
    def domains(self) -> list[str]:
        return list(self.paths)


def check_options(o: SearchOptions) -> Plan:
    """Everything that can be refused before a model is loaded."""
    strategy = strategy_from(o.strategy, o)
    if o.decompose not in METHODS:
        raise OptionError("decompose", f"{o.decompose!r}: choose from {', '.join(METHODS)}")
    values = parse_grid(o.lambdas, "lambdas")
    if len(values) < 2:
        raise OptionError("lambdas", f"{o.lambdas!r}: a search needs at least two λ values")
    if o.grid_step is not None:
        values = parse_grid(f"{values[0]}:{values[-1]}:{o.grid_step}", "grid_step")
    paths = parse_avs(o.av)
    n_knobs = len(paths) + (o.decompose != "none")
    strategy.check_budget(n_knobs, len(values), len(all_targets(list(paths))))
    return Plan(paths, values, strategy)


def split_queries(ev: Evaluator, o: SearchOptions) -> tuple[dict[str, range], dict[str, range]]:
    """(search set, confirmation set) per domain: disjoint query indices, in id order."""
    search, confirm = {}, {}
    for d, rows in ev.rows.items():
        n = o.search_queries or max(1, len(rows) // 2)
        if o.confirm and n >= len(rows):
            raise OptionError("search_queries", f"{n} of {d}'s {len(rows)} queries leave no confirmation set")
        search[d], confirm[d] = range(min(n, len(rows))), range(n, len(rows))
    return search, confirm


@dataclass
class SearchRun:
    """One search: the options, the loaded AVs and knobs, the query sets and the evaluation log, carried
    together instead of passed by hand."""

    o: SearchOptions
    plan: Plan
    ev: Evaluator
    vecs: dict[str, AlignmentVector]
    search_set: dict[str, range]
    confirm_set: dict[str, range]
    knobs: dict[str, AlignmentVector] = field(default_factory=dict)
    log: EvalLog | None = None
    setup_s: float = 0.0

    @property
    def domains(self) -> list[str]:
        return self.plan.domains

    def build_knobs(self) -> None:
        """The AVs, their decomposition, or the null's random vectors (built here, outside the evaluations)."""
        o, t0 = self.o, time.perf_counter()
        vecs = self.vecs
        if o.null:  # random directions, each AV's per-tensor norms; seeds of two nulls never overlap
            vecs = {
                d: load(norm_matched_random(v, o.out / "null-avs" / d, o.seed * len(vecs) + i))
                for i, (d, v) in enumerate(vecs.items())
            }
        if o.decompose != "none":
            folders = decompose_folders(vecs, o.decompose, o.out / "decomposed")
            vecs = {name: load(p) for name, p in folders.items()}
        self.knobs = dict(vecs)
        self.setup_s = time.perf_counter() - t0

    def identity(self) -> dict:
        """What the log's evaluations are of (another search's log is refused)."""
        o, ev = self.o, self.ev
        return {
            "avs": {d: str(Path(p).resolve()) if Path(p).exists() else p for d, p in self.plan.paths.items()},
            "av_files": {d: weights_stamp(v.path) for d, v in self.vecs.items()},  # a Hub AV's snapshot too
            "knob_files": {n: weights_stamp(k.path) for n, k in self.knobs.items()},
            "base": o.base, "dataset": o.dataset, "split": o.split, "decompose": o.decompose, "null": o.null,
            "seed": o.seed if o.null else None,
            "model": [str(ev.model.dtype), str(ev.model.device)],
            "search": {d: [r.start, r.stop] for d, r in self.search_set.items()},
            "confirm": {d: [r.start, r.stop] for d, r in self.confirm_set.items()},
            "rows": [_rows_digest(ev, self.search_set), _rows_digest(ev, self.confirm_set)],
        }  # fmt: skip

    def shares(self, key: str, coeffs: dict[str, float], subset: dict[str, range]) -> Shares:
        """Level shares with the model steered to `coeffs`, on these queries: from the log, or scored and logged."""

        def score() -> tuple[dict, dict]:
            steer(self.ev.model, {self.knobs[n]: c for n, c in coeffs.items()}, force=True)
            won = self.ev.domain_winners(subset=subset)
            return shares_of(won), won

        return self.log.shares(key, score)

    def explore(self, progress=None) -> SearchResult:
        """The strategy on the search set (a fraction of it while screening)."""
        with display() as bars:
            total = self.plan.strategy.planned(len(self.knobs), len(self.plan.values))
            bar = bars.add_task(f"search ({self.o.strategy})", total=total)

            def evaluate(coeffs: dict[str, float], fraction: float) -> Shares:
                subset = {d: r[: max(1, round(len(r) * fraction))] for d, r in self.search_set.items()}
                shares = self.shares(log_key("search", coeffs, fraction), coeffs, subset)
                bars.advance(bar)
                if progress:
                    progress(coeffs, fraction, shares)
                return shares

            return self.plan.strategy(evaluate, list(self.knobs), self.domains, self.plan.values)

    def confirm(self, result: SearchResult) -> dict:
        """Every target found on the search set, evaluated at its coefficients on the confirmation set."""
        out = {}
        for target, best in result.best.items():
            if best.reached:
                key = log_key("confirm", best.coeffs)
                shares = self.shares(key, best.coeffs, self.confirm_set)
                out[target] = {
                    "shares": shares,
                    "won": self.log.won(key),
                    "coeffs": best.coeffs,
                    "margin": margin(shares, target, result.domains),
                }
        return out

    def unedited(self) -> tuple[dict, dict | None]:
        """The unedited model (every coefficient 0) on both query sets, and which level won each confirmation
        query. A target it already holds where the verdict is taken (the confirmation queries; the search queries
        when confirmation is off) is no achievement of a search: any point that barely moves the model confirms
        it. A strategy's own evaluation of 0 is reused."""
        zero = dict.fromkeys(self.knobs, 0.0)
        confirm = self.o.confirm
        out = {
            "search": self.shares(log_key("search", zero), zero, self.search_set),
            "confirm": self.shares(log_key("confirm", zero), zero, self.confirm_set) if confirm else None,
        }
        verdict = out["confirm"] or out["search"]
        out["holds"] = [list(t) for t in all_targets(self.domains) if margin(verdict, t, self.domains) > 0]
        out["holds_on"] = "confirm" if out["confirm"] else "search"
        return out, self.log.won(log_key("confirm", zero)) if confirm else None

    def execute(self, log_path: Path, progress=None) -> SearchRecord:
        """Build the knobs, run the strategy on the search set, confirm, score the unedited model."""
        o = self.o
        self.build_knobs()
        self.log = EvalLog(log_path, self.identity())
        t0 = time.perf_counter()
        try:
            result = self.explore(progress)
            confirmations = self.confirm(result) if o.confirm else None
            unedited, unedited_won = self.unedited()
        finally:
            steer(self.ev.model, {})
        data = {
            "kind": "search",
            "base": o.base,
            "avs": self.plan.paths,
            "dataset": o.dataset,
            "split": o.split,
            "null": o.null,
            "n_queries": {
                d: {"search": len(self.search_set[d]), "confirm": len(self.confirm_set[d])}
                for d in self.domains
            },
            "decompose": o.decompose,
            **result.to_json(),
            "wall_s": round(time.perf_counter() - t0, 3),
            "evaluations_reused": self.log.reused,
        }
        data["evaluation_s"], data["evaluations_untimed"] = self.log.timing()
        data["seconds_per_evaluation"] = self.log.seconds_per_evaluation()
        data["setup_s"] = round(self.setup_s, 3)
        data["unedited"] = unedited
        return SearchRecord.model_validate(add_verdicts(data, confirmations, unedited, unedited_won))


def _rows_digest(ev: Evaluator, sets: dict[str, range]) -> str:
    """The text of the queries a set holds (an edited corpus at the same path is another search)."""
    h = hashlib.sha256()
    for d, idx in sorted(sets.items()):
        for i in idx:
            r = ev.rows[d][i]
            h.update(json.dumps([d, r["id"], r["query"], *(r[lv] for lv in LEVELS)]).encode())
    return h.hexdigest()


def search(options: SearchOptions, evaluator: Evaluator | None = None, progress=None) -> SearchRecord:
    """The 27 targets in Table 5's layout: found on the search queries, confirmed on the others; written to `out`."""
    o = options
    plan = check_options(o)
    vecs = {d: load(p) for d, p in plan.paths.items()}
    ev = evaluator or open_evaluator(
        o.base, o.dataset, o.split, o.max_queries, o.device, domains=plan.domains
    )
    missing = [d for d in plan.domains if d not in ev.rows]
    if missing:
        raise OptionError(
            "av", f"the evaluation data has no {', '.join(missing)} queries (has {sorted(ev.rows)})"
        )
    ev.rows = {d: ev.rows[d] for d in plan.domains}
    search_set, confirm_set = split_queries(ev, o)
    steer(ev.model, {v: 0.0 for v in vecs.values()}, force=o.force)  # fingerprint check before any write
    stem = run_stem(o)
    log_path = o.out / f"{stem}.evaluations.jsonl"
    with hold(log_path):
        record = SearchRun(o, plan, ev, vecs, search_set, confirm_set).execute(log_path, progress)
        atomic.write_json(o.out / f"{stem}.json", record.to_json())
        atomic.write_text(o.out / f"{stem}.md", search_markdown(record.to_json()))
    return record
