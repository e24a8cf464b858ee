"""`meav eval sweep | search | judge | evaluate` and `meav report`: thin adapters over the evaluation API.

Flags are the fields of the options models (evaluation/options.py) with their descriptions as help; each
command builds its model and calls the Python API. The API modules load torch, so they are imported inside
the commands: `meav --help` stays fast.

    meav eval sweep  --base B --av AV --dataset D --lambdas -2.0:1.0:0.1 --out runs/med --control   # Tables 1–4
    meav eval judge  --base B --av AV --dataset D --lambdas=-1.2,-0.7,0.5 --n 20 --out runs/med
    meav eval search --base B --av medical=AV1 --av financial=AV2 --av legal=AV3 --dataset D \\
        --strategy adaptive [--decompose mean|svd|orthogonal] [--null] --out runs/multi      # Table 5
    meav eval evaluate --model JOINT_MODEL --dataset D --out runs/multi --name joint        # baselines
    meav report runs/med                                                                   # one page
Transfer (§6.4): steer another fine-tune of the same base with the AV (`--force` passes the fingerprint
check and leaves the AV's recommended λ untouched), tracking domain and safety accuracy together:
    meav eval sweep --base SAFETY_MODEL --av AV --dataset D --safety-data pku.jsonl --force --out runs/tr
"""

from __future__ import annotations

from pathlib import Path

import typer

from meav.core.flags import flag, options
from meav.evaluation.labels import ORDER
from meav.evaluation.options import EvaluateOptions, JudgeOptions, SweepOptions
from meav.evaluation.search.options import SearchOptions

app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False)


def _shares(shares: dict) -> str:
    return " ".join(f"{d[:3]}:" + "/".join(f"{s[lv]:.2f}" for lv in ORDER) for d, s in shares.items())


def _say(text: str) -> None:
    typer.echo(text, err=True)


S, Q, J, E = SweepOptions, SearchOptions, JudgeOptions, EvaluateOptions


@app.command()
def sweep(
    base: str = flag(S, "base"), av: str = flag(S, "av"), dataset: str = flag(S, "dataset"),
    out: Path = flag(S, "out"), lambdas: str = flag(S, "lambdas"), domains: list[str] = flag(S, "domains"),
    split: str = flag(S, "split"),
    max_queries: int | None = flag(S, "max_queries"), baselines: str = flag(S, "baselines"),
    safety_data: Path | None = flag(S, "safety_data"), max_pairs: int | None = flag(S, "max_pairs"),
    control: bool = flag(S, "control"), control_seed: int = flag(S, "control_seed"),
    damage_control: bool = flag(S, "damage_control"), control_lambdas: str | None = flag(S, "control_lambdas"),
    neutral: Path | None = flag(S, "neutral"), max_own_drop: float = flag(S, "max_own_drop"),
    max_neutral_drop: float = flag(S, "max_neutral_drop"),
    resamples: int = flag(S, "resamples"),
    force: bool = flag(S, "force"), device: str | None = flag(S, "device"),
) -> None:  # fmt: skip
    """Level shares and margins per λ in every domain (Tables 1–4), the knob verdict, the curves."""
    o = options(SweepOptions, **locals())
    from meav.evaluation.sweep import sweep as run  # torch: imported when the command runs

    data = run(o, progress=lambda r: _say(f"λ={r['lambda']:+.2f} {_shares(r['domains'])}"))
    typer.echo(f"{o.out / 'sweep.md'}: recommended λ {data.get('recommended_lambda')}")
    if data.get("recommended_lambda"):
        typer.echo(f"record it in the AV: meav vectors recommend --av {o.av} --sweep {o.out / 'sweep.json'}")


@app.command()
def search(
    base: str = flag(Q, "base"), av: list[str] = flag(Q, "av"), dataset: str = flag(Q, "dataset"),
    out: Path = flag(Q, "out"), strategy: str = flag(Q, "strategy"), decompose: str = flag(Q, "decompose"),
    lambdas: str = flag(Q, "lambdas"), grid_step: float | None = flag(Q, "grid_step"),
    budget: int = flag(Q, "budget"), coarse: int = flag(Q, "coarse"), screen_fraction: float = flag(Q, "screen_fraction"),
    search_queries: int | None = flag(Q, "search_queries"), confirm: bool = flag(Q, "confirm"),
    null: bool = flag(Q, "null"), seed: int = flag(Q, "seed"),
    split: str = flag(Q, "split"), max_queries: int | None = flag(Q, "max_queries"),
    force: bool = flag(Q, "force"), device: str | None = flag(Q, "device"),
) -> None:  # fmt: skip
    """Coefficients reaching each of the 27 multidomain targets (Table 5), found on search queries and
    confirmed on others, with evaluations and wall time."""
    o = options(SearchOptions, **locals())
    from meav.evaluation.search.report import confirmed_text, search_seconds
    from meav.evaluation.search.run import search as run  # torch: imported when the command runs

    data = run(o, progress=lambda c, f, s: _say(f"{c} ({f:.0%}) {_shares(s)}")).to_json()
    typer.echo(
        f"{o.out}: {data['targets_reached']}/{data['targets_total']} targets found, "
        f"{confirmed_text(data)}, {data['evaluations']} evaluations, {search_seconds(data)}"
    )


@app.command()
def judge(
    base: str = flag(J, "base"), av: str = flag(J, "av"), dataset: str = flag(J, "dataset"),
    out: Path = flag(J, "out"), lambdas: str = flag(J, "lambdas"), n: int = flag(J, "n"),
    domain: str | None = flag(J, "domain"), judge: str = flag(J, "judge"),
    max_new_tokens: int = flag(J, "max_new_tokens"), split: str = flag(J, "split"),
    force: bool = flag(J, "force"), device: str | None = flag(J, "device"),
) -> None:  # fmt: skip
    """Generate at each λ, then have a judge label every response avoidance / generic / expert."""
    o = options(JudgeOptions, **locals())
    from meav.evaluation.judging import judge as run  # torch: imported when the command runs
    from meav.evaluation.report import judge_markdown

    typer.echo(judge_markdown(run(o)))


@app.command()
def evaluate(
    model: str = flag(E, "model"), dataset: str = flag(E, "dataset"), out: Path = flag(E, "out"),
    name: str = flag(E, "name"), prompting: bool = flag(E, "prompting"), split: str = flag(E, "split"),
    max_queries: int | None = flag(E, "max_queries"), safety_data: Path | None = flag(E, "safety_data"),
    device: str | None = flag(E, "device"),
) -> None:  # fmt: skip
    """Score a model folder as it is (no edit): the default and joint-training baselines."""
    o = options(EvaluateOptions, **locals())
    from meav.evaluation.baselines import evaluate as run  # torch: imported when the command runs

    for r in run(o)["rows"]:
        typer.echo(f"{r['name']}{'/' + r['level'] if r.get('level') else ''}: {_shares(r['domains'])}")


def report(
    run_dir: Path = typer.Argument(..., help="Run folder holding sweep/search/judge/evaluate JSON."),
) -> None:
    """One markdown page (+ PNGs) with a run's tables and curves in the paper's layouts."""
    from meav.evaluation.report import render_run

    typer.echo(str(render_run(run_dir)))
