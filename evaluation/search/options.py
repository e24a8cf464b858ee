"""Options of a multidomain search (`meav eval search`): pydantic only, so the CLI builds its flags from them
without importing torch. Strategy parameters are fields here under the names the strategies declare."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from meav.evaluation.options import EvalData


class SearchOptions(EvalData):
    """A multidomain coefficient search (paper §6.2, Table 5)."""

    av: list[str] = Field(
        min_length=1,
        description="NAME=PATH, once per domain, the name being the domain (e.g. medical=runs/av-med).",
    )
    out: Path = Field(
        description="Run folder: search-<strategy>[-<decompose>][-null].json/.md and the evaluation log."
    )
    strategy: str = Field("adaptive", description="Search strategy (registry: grid, adaptive, ...).")
    decompose: str = Field(
        "none",
        description=(
            "none | mean | svd | orthogonal: search over a shared part S and per-domain residuals R_d "
            "(orthogonal: R_d is the AV's part orthogonal to the other AVs, per tensor; meav.core.av.decompose)."
        ),
    )
    lambdas: str = Field(
        "-1.0:1.0:0.1",
        description="λ grid of every domain's coefficient, 'start:stop:step' (inclusive) or a comma list 'a,b,c' "
        "(paper: 21 values in [-1, 1]).",
    )
    grid_step: float | None = Field(None, gt=0, description="grid: subsample the λ grid with this step.")
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
