"""`DemoConfig`: every knob of `meav demo`; `recipes/demo/demo.yaml` holds the defaults (a test checks they
agree), command-line options override them."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from meav.core.config import Options, load_yaml
from meav.core.errors import MeavError

REPO = Path(__file__).resolve().parents[2]
DOMAINS = ("medical", "financial", "legal")
DEFAULT_CONFIG = REPO / "recipes" / "demo" / "demo.yaml"


class DemoConfig(Options):
    """The whole flow's settings: model, corpora, training, sweeps with their verdict, baselines, search."""

    scale: float = Field(1.0, gt=0, description="Grows training steps and the search budget (× scale).")
    model: str = Field("embedded", description="Base model folder, Hub id, or 'embedded' (SmolLM2-135M).")
    corpus: str | None = Field(
        None,
        description="Train and measure on this corpus folder or Hub repo instead of the reference corpus.",
    )
    backend: str | None = Field(
        None, description="Generate the corpus with synth (synth_recipe) on this backend and train on it."
    )
    synth_recipe: str = Field("recipes/synth/demo.yaml", description="Synth recipe used with `backend`.")
    smoke_recipe: str | None = Field(
        "recipes/synth/smoke.yaml",
        description="Smoke run of the corpus pipeline on the embedded model (shown in the report); null skips it.",
    )
    train_recipe: str = Field(
        "recipes/smollm2-135m-instruct/{domain}/ipo.yaml",
        description="Training recipe per domain ({domain} is filled in; relative to the repo).",
    )
    domains: list[str] = Field(list(DOMAINS), description="Domains: one expert AV each.")
    max_steps: int | None = Field(
        None, ge=1, description="Training steps per AV (default: recipe's × scale)."
    )
    lambdas: str = Field(
        "-2,0,1", description="In-domain λ grid (must hold 0, its bottom and top for the verdict)."
    )
    max_queries: int | None = Field(None, ge=1, description="In-domain test queries per domain (None: all).")
    control: bool = Field(
        True, description="Sweep a norm-matched random vector on the same grid (the control)."
    )
    resamples: int = Field(2000, ge=100, description="Bootstrap resamples over queries for the intervals.")
    ood_queries: int = Field(
        5, ge=1, description="Test queries per other domain in the out-of-domain sweeps."
    )
    ood_lambdas: str = Field(
        "-2,1", description="λ of the out-of-domain sweeps (λ = 0 is reused from the in-domain rows)."
    )
    prompting_queries: int = Field(5, ge=1, description="Test queries per domain of the prompting baseline.")
    search_strategy: str = Field(
        "random",
        description="Multidomain search strategy (registry: grid, random, adaptive, optuna; a grid's lattice, "
        "from search_range, must fit search_budget).",
    )
    search_range: str = Field("-2:1:0.5", description="Coefficient grid of the multidomain search.")
    search_budget: int = Field(4, ge=1, description="Evaluations of the multidomain search (× scale).")
    search_queries: int = Field(4, ge=1, description="Test queries per domain the search runs on.")
    confirm_queries: int = Field(
        4, ge=1, description="Other test queries per domain a found target must hold on."
    )


def load_config(path: str | Path | None, **overrides) -> DemoConfig:
    """The YAML config (if any) with non-None overrides on top; one clear line on a bad field."""
    return load_yaml(DemoConfig, path, **overrides)


def repo_path(p: str) -> Path:
    """A path as given if it exists, else relative to the repository (recipes ship with it)."""
    return Path(p) if Path(p).exists() or Path(p).is_absolute() else REPO / p


def check_inputs(config: DemoConfig) -> None:
    """Fail on a mistyped path before `--out` is created and stamped (a stamp would lock the folder to it)."""
    if config.corpus and Path(config.corpus).exists() and not (Path(config.corpus) / "data").is_dir():
        raise MeavError(f"corpus: {config.corpus}: not a corpus folder (no data/)")
    files = {f"train_recipe ({d})": config.train_recipe.format(domain=d) for d in config.domains}
    if config.backend:
        files["synth_recipe"] = config.synth_recipe
    if config.smoke_recipe and not (config.corpus or config.backend):
        files["smoke_recipe"] = config.smoke_recipe
    for field, name in files.items():
        if not repo_path(name).is_file():
            raise MeavError(f"{field}: {name}: no such file")
