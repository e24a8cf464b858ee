"""Multidomain search (paper §6.2, Table 5): `search(SearchOptions)` finds editing coefficients that make a
chosen level dominate in each domain, with a strategy from the registry (evaluation/strategies.py), over the
plain domain AVs or a decomposition of them (evaluation/decompose.py)."""

from __future__ import annotations

from meav.core import atomic
from meav.core.av import load, steer
from meav.core.errors import OptionError
from meav.evaluation.decompose import METHODS, decompose_folders
from meav.evaluation.dominance import parse_grid
from meav.evaluation.evalset import Evaluator, open_evaluator
from meav.evaluation.options import SearchOptions
from meav.evaluation.report import search_markdown
from meav.evaluation.strategies import REGISTERED_STRATEGIES

MAX_GRID_POINTS = 20_000


def parse_avs(specs: list[str]) -> dict[str, str]:
    """['medical=PATH', ...] → {domain: path}; each domain once."""
    out = {}
    for s in specs:
        name, sep, path = s.partition("=")
        if not sep or not name or not path:
            raise OptionError("av", f"{s!r}: expected DOMAIN=PATH (e.g. medical=runs/av-medical)")
        if name in out:
            raise OptionError("av", f"{s!r}: domain {name!r} given twice")
        out[name] = path
    return out


def check_options(o: SearchOptions) -> tuple[dict[str, str], list[float]]:
    """Everything that can be refused before a model is loaded: (AV paths, coefficient values)."""
    if o.strategy not in REGISTERED_STRATEGIES:
        raise OptionError("strategy", f"{o.strategy!r}: choose from {', '.join(REGISTERED_STRATEGIES)}")
    if o.decompose not in METHODS:
        raise OptionError("decompose", f"{o.decompose!r}: choose from {', '.join(METHODS)}")
    values = parse_grid(o.coef_range, "coef_range")
    if o.grid_step is not None:
        values = parse_grid(f"{values[0]}:{values[-1]}:{o.grid_step}", "grid_step")
    paths = parse_avs(o.av)
    n_knobs = len(paths) + (o.decompose != "none")
    if o.strategy == "grid" and len(values) ** n_knobs > MAX_GRID_POINTS:
        raise OptionError(
            "strategy",
            f"grid: {len(values)}^{n_knobs} = {len(values) ** n_knobs} evaluations; "
            "give a grid_step (e.g. 0.2) or use the adaptive strategy",
        )
    return paths, values


def search(options: SearchOptions, evaluator: Evaluator | None = None, progress=None) -> dict:
    """The 27 targets in Table 5's layout: coefficients, shares, evaluations, wall time; written to `out`."""
    o = options
    paths, values = check_options(o)
    domains = list(paths)
    vecs = {d: load(p) for d, p in paths.items()}
    ev = evaluator or open_evaluator(o.base, o.dataset, o.split, o.max_queries, o.device, domains=domains)
    ev.rows = {d: ev.rows[d] for d in domains}
    model = ev.model
    steer(
        model, {v: 0.0 for v in vecs.values()}, force=o.force
    )  # fingerprint check before anything is written
    knobs = dict(vecs)
    if o.decompose != "none":
        parts = decompose_folders(vecs, o.decompose, o.out / "decomposed")
        knobs = {name: load(p) for name, p in parts.items()}

    def evaluate(coeffs: dict[str, float], fraction: float) -> dict:
        steer(model, {knobs[n]: c for n, c in coeffs.items()}, force=o.force)
        shares = ev.domain_shares(fraction=fraction)
        if progress:
            progress(coeffs, fraction, shares)
        return shares

    strategy = REGISTERED_STRATEGIES[o.strategy]
    try:
        result = strategy(
            evaluate,
            list(knobs),
            domains,
            values,
            coarse=o.coarse,
            budget=o.budget,
            screen_fraction=o.screen_fraction,
        )
    finally:
        steer(model, {})
    data = {
        "kind": "search",
        "base": o.base,
        "avs": paths,
        "dataset": o.dataset,
        "split": o.split,
        "n_queries": {d: len(r) for d, r in ev.rows.items()},
        "decompose": o.decompose,
        **result.to_json(),
    }
    stem = f"search-{o.strategy}" + (f"-{o.decompose}" if o.decompose != "none" else "")
    o.out.mkdir(parents=True, exist_ok=True)
    atomic.write_json(o.out / f"{stem}.json", data)
    atomic.write_text(o.out / f"{stem}.md", search_markdown(data))
    return data
