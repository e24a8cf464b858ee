"""Options of the evaluation stage's API (`sweep`, `search`, `judge`, `evaluate`): pydantic only, so the CLI
builds its flags from them without importing torch. Every field is described; the CLI shows it as --help."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from meav.core.config import Options
from meav.core.grid import GRID_SYNTAX

LAMBDAS_HELP = f"λ grid: {GRID_SYNTAX}."


class EvalData(Options):
    """What is scored: one split of a corpus, per domain, under a base model."""

    base: str = Field(
        description="Base model folder, Hub id or 'embedded' (SmolLM2-135M; the model the AVs were extracted from)."
    )
    dataset: str = Field(description="Corpus folder or Hub dataset repo.")
    split: str = Field("test", description="Held-out split to score.")
    max_queries: int | None = Field(None, ge=1, description="At most this many queries per domain (by id).")
    device: str | None = Field(None, description="torch device (default cpu).")
    force: bool = Field(False, description="Steer even if the model is not the AVs' recorded base.")


class SweepOptions(EvalData):
    """A single-domain λ sweep (paper §6.1, Tables 1–4)."""

    av: str = Field(description="The AV swept: a folder or Hub id (one AV: a bare path).")
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
    damage_control: bool = Field(
        False,
        description="Also sweep a random vector scaled so its neutral-text Δ at the top λ equals the AV's "
        "(the damage-matched control: a knob that works by damage passes it too). Needs --neutral.",
    )
    control_lambdas: str | None = Field(
        None,
        description=f"λ grid of the controls, {GRID_SYNTAX} (default: the sweep's); the verdict needs 0 and both ends.",
    )
    resamples: int = Field(
        2000, ge=100, description="Bootstrap resamples (over queries) of the margin intervals."
    )
    neutral: Path | None = Field(
        None,
        description="Neutral texts (YAML rows of id, prompt, response; e.g. reference_corpus/neutral.yaml): "
        "their log-prob change against λ = 0 measures general fluency at every λ.",
    )
    max_own_drop: float = Field(
        0.1,
        ge=0,
        description="Fluency rule: at a level's recommended λ its own held-out responses lose at most this many "
        "nats/token against λ = 0 (docs/demo/README.md says why the default).",
    )
    max_neutral_drop: float = Field(
        0.25,
        ge=0,
        description="Fluency rule: … and the neutral texts at most this many nats/token (0.25: perplexity ≤ 1.28×).",
    )


class JudgeOptions(EvalData):
    """Generation judged by a judge model (paper §5.1)."""

    av: str = Field(description="The AV steered: a folder or Hub id (one AV: a bare path).")
    out: Path = Field(description="Run folder: judge.json is written here.")
    lambdas: str = Field("0", description=LAMBDAS_HELP)
    n: int = Field(20, ge=1, description="Responses generated per λ.")
    domain: str | None = Field(None, description="Queries of this domain (default: the AV's domain).")
    judge: str = Field(
        "classifier",
        description="Judge (registry): 'classifier' = a scikit-learn level classifier trained on the dataset's "
        "train split ('classifier:<corpus>' = on another corpus); 'self' = the unsteered base itself, after "
        "generating (no second copy); 'model:<folder>' = another local model; or a backend spec "
        "(anthropic:<model>, openai:<m>@<url>).",
    )
    max_new_tokens: int = Field(128, ge=1, description="Generation length.")


class EvaluateOptions(Options):
    """A model folder scored as it is: the default and joint-training baselines."""

    model: str = Field(
        description="The model scored as it is, not a base to steer: a folder, Hub id or 'embedded' (e.g. a "
        "joint-trained model: the joint baseline)."
    )
    dataset: str = Field(description="Corpus folder or Hub dataset repo.")
    out: Path = Field(description="Run folder: evaluate-<name>.json is written here.")
    name: str = Field("joint", description="Row name in the tables (joint, default, ...).")
    prompting: bool = Field(False, description="Also score with each level instruction (prompting baseline).")
    split: str = Field("test", description="Held-out split to score.")
    max_queries: int | None = Field(None, ge=1, description="At most this many queries per domain.")
    safety_data: Path | None = Field(None, description="PKU-SafeRLHF-format pairs file.")
    device: str | None = Field(None, description="torch device (default cpu).")
