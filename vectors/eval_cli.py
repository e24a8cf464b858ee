"""`meav vectors sweep | search | judge | evaluate` and `meav report RUN_DIR` (registered by the CLI owners).

Usage (paper §5–6):
    meav vectors sweep  --base B --av AV --dataset D --lambdas -2.0:1.0:0.1 --out runs/med  # Tables 1–4
    meav vectors judge  --base B --av AV --dataset D --lambdas=-1.2,-0.7,0.5 --n 20 --out runs/med
    meav vectors search --base B --av medical=AV1 --av financial=AV2 --av legal=AV3 --dataset D \
        --strategy adaptive [--decompose mean|svd] --out runs/multi                       # Table 5
    meav vectors evaluate --model JOINT_MODEL --dataset D --out runs/multi --name joint    # baselines
    meav report runs/med                                                                   # one page
Transfer (§6.4): steer another fine-tune of the same base (e.g. a safety-trained one) with the AV,
tracking domain and safety preference accuracy together:
    meav vectors sweep --base SAFETY_MODEL --av AV --dataset D --safety-data pku.jsonl --force --out runs/tr
(`--force` passes the base fingerprint check and leaves the AV's recommended λ untouched; to write a merged
model instead, `meav vectors apply --base SAFETY_MODEL --av AV=0.5 --force --out M`.)
"""

from __future__ import annotations

from pathlib import Path

import typer

from meav import atomic
from meav.errors import MeavError
from vectors.sweep import parse_grid

LAMBDAS_HELP = "λ grid 'start:stop:step' (inclusive) or 'a,b,c'."


def _progress(text: str) -> None:
    typer.echo(text, err=True)


def _fmt_shares(shares: dict) -> str:
    return " ".join(
        f"{d[:3]}:" + "/".join(f"{s[lv]:.2f}" for lv in ("expert", "generic", "avoidance"))
        for d, s in shares.items()
    )


def _setup(
    base: str,
    dataset: str,
    split: str,
    max_queries: int | None,
    exclude_openers: bool,
    device: str | None,
    safety_data: Path | None = None,
    max_pairs: int | None = None,
    domains=(),
):
    """Data first (cheap checks fail before a model is loaded), then the model and its evaluator."""
    from vectors.evalset import Evaluator, load_eval_rows, load_model, load_pairs

    rows = load_eval_rows(dataset, split, max_queries, domains)
    pairs = load_pairs(safety_data, max_pairs) if safety_data else None
    model, tok = load_model(base, device)
    return model, tok, Evaluator(model, tok, rows, pairs, exclude_openers)


def _meta(ev, **fields) -> dict:
    return {
        **fields,
        "n_queries": {d: len(r) for d, r in ev.rows.items()},
        "exclude_openers": any(any(o.values()) for o in ev.openers.values()),
    }


def sweep(
    base: str = typer.Option(..., help="Base model folder or Hub id (the model the AV was extracted from)."),
    av: str = typer.Option(..., help="Alignment-vector folder or Hub id."),
    dataset: str = typer.Option(..., help="Corpus folder or Hub dataset repo."),
    lambdas: str = typer.Option("-2.0:1.0:0.1", help=LAMBDAS_HELP),
    out: Path = typer.Option(..., help="Run folder: sweep.json/.csv/.md and the knob PNG are written here."),
    split: str = typer.Option("test", help="Held-out split to score."),
    max_queries: int | None = typer.Option(None, help="At most this many queries per domain (sorted by id)."),
    baselines: str = typer.Option(
        "default,prompting", help="Baseline rows: any of default,prompting; '' for none."
    ),
    safety_data: Path | None = typer.Option(
        None, help="PKU-SafeRLHF-format file: adds safety/helpfulness pair accuracy per λ."
    ),
    max_pairs: int | None = typer.Option(None, help="At most this many safety and helpfulness pairs."),
    exclude_openers: bool = typer.Option(
        False, help="Do not score a fixed opener shared by all responses of a level."
    ),
    write_back: bool = typer.Option(True, help="Write recommended λ per level into the AV's av_config.json."),
    force: bool = typer.Option(
        False, help="Steer even if the model is not the AV's recorded base (transfer, §6.4)."
    ),
    device: str | None = typer.Option(None, help="torch device (default cpu)."),
) -> None:
    """Level shares per λ for every domain (Tables 1–4), dominance ranges and the tunable-knob curves."""
    from vectors import load, steer
    from vectors.baselines import default_row, prompting_rows
    from vectors.report import plot_knob, sweep_markdown
    from vectors.sweep import run_sweep

    grid = parse_grid(lambdas)
    wanted = [b.strip() for b in baselines.split(",") if b.strip()]
    bad = [b for b in wanted if b not in ("default", "prompting")]
    if bad:
        raise MeavError(f"--baselines: unknown baseline {bad[0]!r} (default, prompting)")
    vec = load(av)
    model, tok, ev = _setup(
        base, dataset, split, max_queries, exclude_openers, device, safety_data, max_pairs
    )
    steer(model, {vec: 0.0}, force=force)  # fingerprint check before any scoring
    prompting = prompting_rows(ev) if "prompting" in wanted else []
    data = run_sweep(
        ev,
        steer,
        model,
        vec,
        grid,
        lambda r: _progress(f"λ={r['lambda']:+.2f} {_fmt_shares(r['domains'])}"),
        force=force,
    )
    rows = []
    if "default" in wanted:  # λ = 0 restores the base bit for bit: reuse that row rather than score it again
        at_zero = next((r for r in data["results"] if r["lambda"] == 0.0), None)
        if at_zero is None:
            steer(model, {})
        rows.append({"name": "default", **at_zero} if at_zero else default_row(ev))
    rows += prompting
    data = {
        "kind": "sweep",
        **_meta(ev, base=base, av=str(av), dataset=dataset, split=split, forced=force),
        "baselines": rows,
        **data,
    }
    out.mkdir(parents=True, exist_ok=True)
    atomic.write_json(out / "sweep.json", data)
    atomic.write_text(out / "sweep.csv", _csv(data))
    plot_knob(data, out / "sweep-knob.png")
    atomic.write_text(out / "sweep.md", sweep_markdown(data, "sweep-knob.png"))
    if write_back and data.get("recommended_lambda") and not force:
        from vectors.io import update_av_config

        update_av_config(
            vec.path,
            recommended_lambda=data["recommended_lambda"],
            lambda_ranges=data["ranges"][data["av_domain"]],
        )
    typer.echo(f"{out / 'sweep.md'}: recommended λ {data.get('recommended_lambda')}")


def _csv(data: dict) -> str:
    lines = ["lambda,domain,expert,generic,avoidance,dominant"]
    for i, r in enumerate(data["results"]):
        for d, s in r["domains"].items():
            lines.append(
                f"{r['lambda']},{d},{s['expert']:.4f},{s['generic']:.4f},{s['avoidance']:.4f},{data['dominant'][d][i] or ''}"
            )
        for kind, s in r.get("general", {}).items():
            a, b = s
            lines.append(f"{r['lambda']},{kind},{s[a]:.4f},{s[b]:.4f},,")
    return "\n".join(lines) + "\n"


def _parse_avs(specs: list[str]) -> dict[str, str]:
    out = {}
    for s in specs:
        name, sep, path = s.partition("=")
        if not sep or not name or not path:
            raise MeavError(f"--av {s!r}: expected DOMAIN=PATH (e.g. medical=runs/av-medical)")
        if name in out:
            raise MeavError(f"--av {s!r}: domain {name!r} given twice")
        out[name] = path
    return out


def search(
    base: str = typer.Option(..., help="Base model folder or Hub id."),
    av: list[str] = typer.Option(..., help="DOMAIN=AV, once per domain (e.g. --av medical=runs/av-med)."),
    dataset: str = typer.Option(..., help="Corpus folder or Hub dataset repo."),
    out: Path = typer.Option(..., help="Run folder: search-<strategy>[-<decompose>].json/.md."),
    strategy: str = typer.Option("adaptive", help="grid (the paper's exhaustive grid) or adaptive (ours)."),
    decompose: str = typer.Option(
        "none", help="none | mean | svd: search over a shared part + per-domain residuals."
    ),
    coef_range: str = typer.Option(
        "-1.0:1.0:0.1", "--range", help="Coefficient grid 'start:stop:step' (paper: 21 values in [-1, 1])."
    ),
    grid_step: float | None = typer.Option(None, help="grid: subsample the coefficient grid with this step."),
    budget: int = typer.Option(
        300, help="adaptive: evaluations at most, screening and confirmation together."
    ),
    coarse: int = typer.Option(3, help="adaptive: values per coefficient in the coarse screen."),
    screen_fraction: float = typer.Option(
        1.0, help="adaptive: share of each domain's queries used while screening (< 1: confirm on all)."
    ),
    split: str = typer.Option("test", help="Held-out split to score."),
    max_queries: int | None = typer.Option(None, help="At most this many queries per domain."),
    exclude_openers: bool = typer.Option(False, help="Do not score fixed level openers."),
    force: bool = typer.Option(False, help="Steer even if the model is not the AVs' recorded base."),
    device: str | None = typer.Option(None, help="torch device (default cpu)."),
) -> None:
    """Coefficients reaching each of the 27 multidomain targets (Table 5), with evaluations and wall time."""
    from vectors import load, steer
    from vectors.report import search_markdown
    from vectors.search import adaptive_search, grid_search

    if strategy not in ("grid", "adaptive"):
        raise MeavError(f"--strategy {strategy!r}: choose grid or adaptive")
    if decompose not in ("none", "mean", "svd"):
        raise MeavError(f"--decompose {decompose!r}: choose none, mean or svd")
    values = parse_grid(coef_range, "--range")
    if grid_step is not None:
        values = parse_grid(f"{values[0]}:{values[-1]}:{grid_step}", "--grid-step")
    if not 0 < screen_fraction <= 1:
        raise MeavError(f"--screen-fraction {screen_fraction}: must be in (0, 1]")
    if budget < 1 or coarse < 2:
        raise MeavError(f"--budget {budget} / --coarse {coarse}: need a budget ≥ 1 and ≥ 2 coarse values")
    paths = _parse_avs(av)
    domains = list(paths)
    n_knobs = len(domains) + (decompose != "none")
    if strategy == "grid" and len(values) ** n_knobs > 20_000:
        raise MeavError(
            f"--strategy grid: {len(values)}^{n_knobs} = {len(values) ** n_knobs} evaluations; "
            "pass --grid-step (e.g. 0.2) or use --strategy adaptive"
        )
    vecs = {d: load(p) for d, p in paths.items()}
    model, tok, ev = _setup(base, dataset, split, max_queries, exclude_openers, device, domains=domains)
    ev.rows = {d: ev.rows[d] for d in domains}
    steer(model, {v: 0.0 for v in vecs.values()}, force=force)  # fingerprint check before anything is written
    knobs = dict(vecs)
    if decompose != "none":
        from vectors.decompose import decompose_folders

        parts = decompose_folders(vecs, decompose, out / "decomposed")
        knobs = {name: load(p) for name, p in parts.items()}

    def evaluate(coeffs: dict[str, float], fraction: float) -> dict:
        steer(model, {knobs[n]: c for n, c in coeffs.items()}, force=force)
        shares = ev.domain_shares(fraction=fraction)
        _progress(f"{coeffs} ({fraction:.0%}) {_fmt_shares(shares)}")
        return shares

    try:
        if strategy == "grid":
            result = grid_search(evaluate, list(knobs), domains, values)
        else:
            result = adaptive_search(evaluate, list(knobs), domains, values, coarse, budget, screen_fraction)
    finally:
        steer(model, {})
    data = {
        "kind": "search",
        **_meta(ev, base=base, avs=paths, dataset=dataset, split=split),
        "decompose": decompose,
        **result.to_json(),
    }
    stem = f"search-{strategy}" + (f"-{decompose}" if decompose != "none" else "")
    out.mkdir(parents=True, exist_ok=True)
    atomic.write_json(out / f"{stem}.json", data)
    atomic.write_text(out / f"{stem}.md", search_markdown(data))
    typer.echo(
        f"{out / stem}.md: {result.reached}/{len(result.best)} targets, {result.evaluations} evaluations, {result.wall_s:.1f} s"
    )


def judge(
    base: str = typer.Option(..., help="Base model folder or Hub id."),
    av: str = typer.Option(..., help="Alignment-vector folder or Hub id."),
    dataset: str = typer.Option(
        ..., help="Corpus folder or Hub dataset repo (queries of the held-out split)."
    ),
    out: Path = typer.Option(..., help="Run folder: judge.json is written here."),
    lambdas: str = typer.Option("0", help=LAMBDAS_HELP),
    n: int = typer.Option(20, help="Responses generated per λ."),
    domain: str | None = typer.Option(None, help="Queries of this domain (default: the AV's domain)."),
    judge_backend: str | None = typer.Option(
        None,
        help="Synth backend spec (anthropic:<model>, openai:<m>@<url>, local:<path>); default: a local transformers judge.",
    ),
    judge_model: str | None = typer.Option(
        None, help="Local judge model folder (default: an unsteered copy of the base)."
    ),
    max_new_tokens: int = typer.Option(128, help="Generation length."),
    split: str = typer.Option("test", help="Held-out split to score."),
    force: bool = typer.Option(False, help="Steer even if the model is not the AV's recorded base."),
    device: str | None = typer.Option(None, help="torch device (default cpu)."),
) -> None:
    """Generate at each λ and have a judge label every response avoidance / generic / expert."""
    from vectors import load, steer
    from vectors.evalset import load_eval_rows, load_model
    from vectors.judge import BackendJudge, LocalJudge, run_judge
    from vectors.report import judge_markdown

    grid = parse_grid(lambdas)
    vec = load(av)
    dom = domain or vec.config.get("domain")
    rows = load_eval_rows(dataset, split, None, [dom] if dom else ())
    pool = rows[dom] if dom in rows else [r for rs in rows.values() for r in rs]
    queries = [r["query"] for r in pool[:n]]
    model, tok = load_model(base, device)
    steer(model, {vec: 0.0}, force=force)
    if judge_backend:
        jd = BackendJudge(judge_backend, out / "judge_cache")
    else:
        jpath = judge_model or base
        jd = LocalJudge(*load_model(jpath, device), name=f"local:{jpath}")
    results = run_judge(model, tok, steer, vec, grid, queries, jd, max_new_tokens, force=force)
    data = {
        "kind": "judge",
        "base": base,
        "av": str(av),
        "domain": dom,
        "judge_model": jd.name,
        "judge": results,
    }
    out.mkdir(parents=True, exist_ok=True)
    atomic.write_json(out / "judge.json", data)
    typer.echo(judge_markdown(data))


def evaluate(
    model: str = typer.Option(..., help="Any model folder (e.g. a joint-trained one: the joint baseline)."),
    dataset: str = typer.Option(..., help="Corpus folder or Hub dataset repo."),
    out: Path = typer.Option(..., help="Run folder: evaluate-<name>.json is written here."),
    name: str = typer.Option("joint", help="Row name in the tables (joint, default, ...)."),
    prompting: bool = typer.Option(
        False, help="Also score with each level instruction (prompting baseline)."
    ),
    split: str = typer.Option("test", help="Held-out split to score."),
    max_queries: int | None = typer.Option(None, help="At most this many queries per domain."),
    safety_data: Path | None = typer.Option(None, help="PKU-SafeRLHF-format pairs file."),
    exclude_openers: bool = typer.Option(False, help="Do not score fixed level openers."),
    device: str | None = typer.Option(None, help="torch device (default cpu)."),
) -> None:
    """Score a model folder as it is (no edit): the default and joint-training baselines."""
    from vectors.baselines import default_row, prompting_rows

    _, _, ev = _setup(model, dataset, split, max_queries, exclude_openers, device, safety_data)
    rows = [default_row(ev, name)] + (prompting_rows(ev) if prompting else [])
    data = {"kind": "evaluate", **_meta(ev, model=model, dataset=dataset, split=split), "rows": rows}
    out.mkdir(parents=True, exist_ok=True)
    atomic.write_json(out / f"evaluate-{name}.json", data)
    for r in rows:
        typer.echo(f"{r['name']}{'/' + r['level'] if r.get('level') else ''}: {_fmt_shares(r['domains'])}")


def report_command(
    run_dir: Path = typer.Argument(..., help="Run folder holding sweep/search/judge JSON."),
) -> None:
    """One markdown page (+ PNGs) with a run's tables and curves in the paper's layouts."""
    from vectors.report import render_run

    typer.echo(str(render_run(run_dir)))


def register(app: typer.Typer) -> None:
    """Add the evaluation commands to the `meav vectors` group."""
    app.command("sweep")(sweep)
    app.command("search")(search)
    app.command("judge")(judge)
    app.command("evaluate")(evaluate)
