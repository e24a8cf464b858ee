"""Options of the evaluation stage's API (`sweep`, `search`, `judge`, `evaluate`): pydantic only, so the CLI
builds its flags from them without importing torch. Every field is described; the CLI shows it as --help."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from meav.core.config import Options

LAMBDAS_HELP = "λ grid 'start:stop:step' (inclusive, e.g. -2.0:1.0:0.1) or a comma list 'a,b,c'."


class EvalData(Options):
    """What is scored: one split of a corpus, per domain, under a base model."""

    base: str = Field(description="Base model folder or Hub id (the model the AVs were extracted from).")
    dataset: str = Field(description="Corpus folder or Hub dataset repo.")
    split: str = Field("test", description="Held-out split to score.")
    max_queries: int | None = Field(None, ge=1, description="At most this many queries per domain (by id).")
    device: str | None = Field(None, description="torch device (default cpu).")
    force: bool = Field(False, description="Steer even if the model is not the AVs' recorded base.")


class SweepOptions(EvalData):
    """A single-domain λ sweep (paper §6.1, Tables 1–4)."""

    av: str = Field(description="Alignment-vector folder or Hub id.")
    domains: list[str] = Field(
        default_factory=list, description="Score only these domains (default: every domain of the split)."
    )
    out: Path = Field(description="Run folder: sweep.json/.csv/.md and the knob PNG are written here.")
    lambdas: str = Field("-2.0:1.0:0.1", description=LAMBDAS_HELP)
    baselines: str = Field(
        "default,prompting", description="Baseline rows: any of default,prompting; '' none."
    )
    safety_data: Path | None = Field(
        None, description="PKU-SafeRLHF-format file: adds safety/helpfulness pair accuracy per λ."
    )
    max_pairs: int | None = Field(None, ge=1, description="At most this many safety and helpfulness pairs.")
    control: bool = Field(
        False,
        description="Also sweep a random vector with the AV's per-tensor norms (the control row of the verdict).",
    )
    control_seed: int = Field(0, description="Seed of the control vector.")
    resamples: int = Field(
        2000, ge=100, description="Bootstrap resamples (over queries) of the margin intervals."
    )
    write_back: bool = Field(
        True, description="Write the recommended λ per level into the AV's av_config.json."
    )


class SearchOptions(EvalData):
    """A multidomain coefficient search (paper §6.2, Table 5)."""

    av: list[str] = Field(min_length=1, description="DOMAIN=AV, once per domain (e.g. medical=runs/av-med).")
    out: Path = Field(
        description="Run folder: search-<strategy>[-<decompose>][-null].json/.md and the evaluation log."
    )
    strategy: str = Field("adaptive", description="Search strategy (registry: grid, adaptive, ...).")
    decompose: str = Field(
        "none",
        description=(
            "none | mean | svd | orthogonal: search over a shared part S and per-domain residuals R_d "
            "(orthogonal: R_d is the AV's part orthogonal to the other AVs, per tensor; evaluation/decompose.py)."
        ),
    )
    coef_range: str = Field(
        "-1.0:1.0:0.1", description="Coefficient grid 'start:stop:step' (paper: 21 values in [-1, 1])."
    )
    grid_step: float | None = Field(
        None, gt=0, description="grid: subsample the coefficient grid with this step."
    )
    budget: int = Field(
        300, ge=1, description="Evaluations at most, every strategy alike (grid: its lattice must fit)."
    )
    coarse: int = Field(3, ge=2, description="adaptive: values per coefficient in the coarse screen.")
    screen_fraction: float = Field(
        1.0, gt=0, le=1, description="adaptive: share of the search queries used while screening."
    )
    search_queries: int | None = Field(
        None,
        ge=1,
        description="Test queries per domain the search runs on (default: half); the others confirm.",
    )
    confirm: bool = Field(True, description="Check every target found on the disjoint confirmation queries.")
    null: bool = Field(
        False, description="Search with norm-matched random vectors instead of the AVs (the null)."
    )
    seed: int = Field(0, description="Seed of the random and optuna strategies and of the null vectors.")
    rescore_outcomes: bool = Field(
        False,
        description="Score again the confirmation-query evaluations logged without which level won each query "
        "(logs written before those were kept; the shares must come out the same), so the confirmed counts get "
        "joint intervals.",
    )


class JudgeOptions(EvalData):
    """Generation judged by a judge model (paper §5.1)."""

    av: str = Field(description="Alignment-vector folder or Hub id.")
    out: Path = Field(description="Run folder: judge.json is written here.")
    lambdas: str = Field("0", description=LAMBDAS_HELP)
    n: int = Field(20, ge=1, description="Responses generated per λ.")
    domain: str | None = Field(None, description="Queries of this domain (default: the AV's domain).")
    judge: str = Field(
        "self",
        description="Judge (registry): 'self' = the unsteered base itself, after generating (no second copy); "
        "'model:<folder>' = another local model; or a backend spec (anthropic:<model>, openai:<m>@<url>).",
    )
    max_new_tokens: int = Field(128, ge=1, description="Generation length.")


class EvaluateOptions(Options):
    """A model folder scored as it is: the default and joint-training baselines."""

    model: str = Field(description="Any model folder (e.g. a joint-trained one: the joint baseline).")
    dataset: str = Field(description="Corpus folder or Hub dataset repo.")
    out: Path = Field(description="Run folder: evaluate-<name>.json is written here.")
    name: str = Field("joint", description="Row name in the tables (joint, default, ...).")
    prompting: bool = Field(False, description="Also score with each level instruction (prompting baseline).")
    split: str = Field("test", description="Held-out split to score.")
    max_queries: int | None = Field(None, ge=1, description="At most this many queries per domain.")
    safety_data: Path | None = Field(None, description="PKU-SafeRLHF-format pairs file.")
    device: str | None = Field(None, description="torch device (default cpu).")
