"""`DemoConfig`: every knob of `meav demo`; `recipes/demo/demo.yaml` holds the defaults (a test checks they
agree), command-line options override them."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from pydantic import Field

from meav.core.config import Options, load_yaml
from meav.core.errors import MeavError, OptionError

RECIPES = Path(str(files("meav.recipes")))  # package data: a checkout's recipes/ or the installed copy
DOMAINS = ("medical", "financial", "legal")
DEFAULT_CONFIG = RECIPES / "demo" / "demo.yaml"


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
        description="Training recipe per domain ({domain} is filled in; recipes/… names a shipped recipe).",
    )
    domains: list[str] = Field(list(DOMAINS), description="Domains: one expert AV each.")
    max_steps: int | None = Field(
        None, ge=1, description="Training steps per AV (default: recipe's × scale)."
    )
    lambdas: str = Field(
        "-2,-1,-0.5,0,0.25,0.5,1",
        description="In-domain λ grid, 'start:stop:step' or a comma list 'a,b,c' (must hold 0, its bottom and top "
        "for the verdict).",
    )
    max_queries: int | None = Field(None, ge=1, description="In-domain test queries per domain (None: all).")
    control: bool = Field(
        True,
        description="Sweep the controls at the verdict's λ's (bottom, 0, top): a norm-matched random vector and "
        "one scaled to the AV's neutral-text damage at the top λ (damage-matched); neither may pass.",
    )
    fluency: bool = Field(
        True,
        description="Score the neutral text set (reference_corpus/neutral.yaml) at every λ: fluency beside "
        "preference, and the recommended λ's fluency rule.",
    )
    judge_queries: int = Field(
        4,
        ge=0,
        description="Test queries per domain answered greedily at every λ and judged (0: no judged generations).",
    )
    judge: str = Field(
        "classifier",
        description="Judge of the generations (registry): 'classifier' (trained on the corpus's train split), "
        "or a backend spec such as anthropic:<model>.",
    )
    max_new_tokens: int = Field(128, ge=1, description="Length of each judged generation.")
    cue_probe: bool = Field(
        True,
        description="Sweep each AV on the authored cue probe (surface cues swapped) on the same grid.",
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


def recipe_path(p: str) -> Path:
    """A path as given if it exists, else a shipped recipe: 'recipes/X' is X inside `meav.recipes`."""
    if Path(p).exists() or Path(p).is_absolute():
        return Path(p)
    return RECIPES / p.removeprefix("recipes/")


def check_inputs(config: DemoConfig) -> None:
    """Fail on a mistyped path before `--out` is created and stamped (a stamp would lock the folder to it)."""
    if config.corpus and Path(config.corpus).exists() and not (Path(config.corpus) / "data").is_dir():
        raise OptionError("corpus", f"{config.corpus}: not a corpus folder (no data/)")  # the CLI's --dataset
    files = {f"train_recipe ({d})": config.train_recipe.format(domain=d) for d in config.domains}
    if config.backend:
        files["synth_recipe"] = config.synth_recipe
    if config.smoke_recipe and not (config.corpus or config.backend):
        files["smoke_recipe"] = config.smoke_recipe
    for field, name in files.items():
        if not recipe_path(name).is_file():
            raise MeavError(f"{field}: {name}: no such file")
