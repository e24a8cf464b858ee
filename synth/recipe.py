"""`meav synth` recipes: pydantic models loaded from YAML; unknown fields are errors."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from meav.core.config import load_yaml
from meav.core.errors import MeavError
from meav.synth.prompts import BUILTIN_DOMAINS, DomainSpec


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PersonaHubSource(_Strict):
    dataset: str = Field(
        default="proj-persona/PersonaHub",
        description="Hub dataset id, or a local .jsonl/.json/.csv/.parquet file (relative to the recipe).",
    )
    config: str | None = Field(default="persona", description="Dataset config name (Hub datasets only).")
    split: str = Field(default="train", description="Split to sample from (Hub datasets only).")
    column: str = Field(default="persona", description="Column holding the persona text.")
    sample: int = Field(
        default=7000, ge=1, description="How many personas to sample (paper: 7,000 of 200,000)."
    )


class CreatePersonaConfig(_Strict):
    roots: int = Field(
        default=5, ge=1, description="Root persona-query pairs generated from scratch per run."
    )
    branching: int = Field(
        default=5, ge=1, description="Related persona-query pairs generated from each persona."
    )
    depth: int = Field(default=2, ge=0, description="Recursion depth below the roots (0: roots only).")
    seeds: list[int] = Field(default=[0, 1, 2], min_length=1, description="One CreatePersona run per seed.")


class GenerationConfig(_Strict):
    temperature: float = Field(default=0.7, ge=0.0, description="Sampling temperature for every call.")
    top_p: float = Field(default=0.95, gt=0.0, le=1.0, description="Nucleus sampling threshold.")
    max_new_tokens_query: int = Field(default=256, ge=8, description="Token budget of a query.")
    max_new_tokens_personas: int = Field(
        default=1024, ge=16, description="Token budget of a persona-pair list."
    )
    max_new_tokens_response: int = Field(default=700, ge=8, description="Token budget of one response.")
    num_paras_min: int = Field(default=1, ge=1, description="Fewest paragraphs asked of a response.")
    num_paras_max: int = Field(default=4, ge=1, description="Most paragraphs asked (drawn per response).")

    @model_validator(mode="after")
    def _paras(self):
        if self.num_paras_max < self.num_paras_min:
            raise ValueError("num_paras_max must be >= num_paras_min")
        return self


class CleanupConfig(_Strict):
    max_words: int = Field(
        default=450, ge=10, description="Longer responses are cut at a paragraph boundary."
    )
    min_query_words: int = Field(default=8, ge=1, description="Shorter queries are dropped.")
    drop_level_mismatch: bool = Field(
        default=True,
        description="Drop rows with an easy-to-detect level error (an expert answer that only refuses, an "
        "avoidance that answers); off for smoke runs that show a small model's raw output.",
    )
    near_duplicate_threshold: float = Field(
        default=0.7,
        gt=0.0,
        le=1.0,
        description="MinHash Jaccard similarity at which two texts are duplicates.",
    )


class SplitConfig(_Strict):
    test_fraction: float = Field(default=0.2, gt=0.0, lt=1.0, description="Share of each domain in test.")
    validation_fraction: float = Field(default=0.03, ge=0.0, lt=1.0, description="Share of train held out.")


class SynthRecipe(_Strict):
    name: str = Field(description="Recipe name, recorded in the corpus metadata.")
    seed: int = Field(default=0, description="Seed of every random draw (samples, themes, num_paras).")
    backend: str = Field(default="local", description="Default backend spec; --backend overrides it.")
    domains: list[str | DomainSpec] = Field(
        default=["medical", "financial", "legal"],
        description="Built-in domain names, or full domain definitions to add a domain.",
    )
    personahub: PersonaHubSource | None = Field(default=None, description="PersonaHub-format persona source.")
    createpersona: CreatePersonaConfig | None = Field(default=None, description="Recursive CreatePersona.")
    generation: GenerationConfig = Field(default_factory=GenerationConfig, description="Sampling settings.")
    cleanup: CleanupConfig = Field(default_factory=CleanupConfig, description="Cleanup and deduplication.")
    split: SplitConfig = Field(default_factory=SplitConfig, description="Split fractions.")
    response_prefill: dict[str, str] = Field(
        default_factory=dict,
        description="Fixed opener per level (avoidance/generic/expert) that the answer must continue; for small "
        "local models that ignore level instructions. Stripped from the text before the corpus is written (only "
        "what the model wrote is kept) and recorded in synth_meta.json.",
    )
    query_prefill: str = Field(
        default="",
        description="Opener a query must continue (e.g. 'I'), to keep small models in first person.",
    )
    max_concurrency: int = Field(default=16, ge=1, description="Remote calls in flight at once.")
    batch_size: int = Field(
        default=8, ge=1, description="Rows per distilabel batch / local generation batch."
    )
    request_timeout: float = Field(default=120.0, gt=0, description="Seconds before a remote call times out.")
    max_retries: int = Field(default=6, ge=0, description="Retries with backoff on 429/5xx/timeouts.")

    @model_validator(mode="after")
    def _sources(self):
        if self.personahub is None and self.createpersona is None:
            raise ValueError("at least one persona source (personahub, createpersona) is required")
        return self

    @model_validator(mode="after")
    def _prefill_levels(self):
        unknown = set(self.response_prefill) - {"avoidance", "generic", "expert"}
        if unknown:
            raise ValueError(f"response_prefill: unknown level(s) {', '.join(sorted(unknown))}")
        return self

    def domain_specs(self) -> list[DomainSpec]:
        specs = []
        for d in self.domains:
            if isinstance(d, DomainSpec):
                specs.append(d)
            elif d in BUILTIN_DOMAINS:
                specs.append(BUILTIN_DOMAINS[d])
            else:
                raise MeavError(
                    f"unknown domain {d!r}: built in are {', '.join(BUILTIN_DOMAINS)}; "
                    "define others in the recipe (name, portal, domain_expert, solution_lingo, domain_lingo)"
                )
        return specs


def load_recipe(path: str | Path) -> SynthRecipe:
    """Load and validate a recipe; relative persona files are resolved against the recipe's folder."""
    path = Path(path)
    recipe = load_yaml(SynthRecipe, path)
    if recipe.personahub is not None:
        local = path.parent / recipe.personahub.dataset
        if local.exists():
            recipe.personahub.dataset = str(local.resolve())
    recipe.domain_specs()  # unknown domains fail here, before any work
    return recipe


def scale_recipe(recipe: SynthRecipe, scale: float) -> SynthRecipe:
    """More personas with `scale`: the PersonaHub sample size and CreatePersona roots grow linearly."""
    update = {}
    if recipe.personahub is not None:
        update["personahub"] = recipe.personahub.model_copy(
            update={"sample": max(1, round(recipe.personahub.sample * scale))}
        )
    if recipe.createpersona is not None:
        update["createpersona"] = recipe.createpersona.model_copy(
            update={"roots": max(1, round(recipe.createpersona.roots * scale))}
        )
    return recipe.model_copy(update=update)
