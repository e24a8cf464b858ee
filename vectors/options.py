"""Options of the vectors stage's API (`extract`, `apply`, `to_lora`, `publish_av`): pydantic only, so the
CLI builds its flags from them without importing torch. Every field is described; the CLI shows it as --help."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from meav.core.config import Options


class ExtractOptions(Options):
    """AV = θ_aligned − θ_base, streamed, optionally compressed."""

    base: str = Field(description="Base model folder (safetensors), Hub id or 'embedded' (SmolLM2-135M).")
    aligned: str = Field(description="Aligned (fine-tuned) model folder or Hub id, same architecture.")
    out: Path = Field(description="AV folder to write (replaced atomically).")
    dtype: Literal["auto", "float64", "float32", "bfloat16", "float16"] = Field(
        "auto", description="Stored dtype: auto (float64 for float32 inputs), float32, bfloat16, float16."
    )
    domain: str | None = Field(None, description="Domain the aligned model was trained on (e.g. medical).")
    target: Literal["avoidance", "generic", "expert"] | None = Field(
        None, description="Target level of the training."
    )
    rank: int | None = Field(None, description="Low-rank compression: keep R singular values per matrix.")
    energy: float | None = Field(
        None, description="Low-rank compression: keep this share of Σ s² per matrix."
    )
    trim: float | None = Field(None, description="Magnitude trim: keep the K% largest entries per tensor.")
    dare: float | None = Field(
        None, description="DARE: drop each entry with probability P, rescale by 1/(1-P)."
    )
    seed: int = Field(0, description="Seed for DARE.")
    max_shard_size: str = Field("2GB", description="Largest AV shard (e.g. 2GB, 500MB).")
    dataset: str | None = Field(
        None, description="Corpus folder or Hub dataset repo the aligned model was trained on (recorded)."
    )
    recipe: Path | None = Field(
        None, description="Training recipe YAML to record in av_config.json and the card."
    )


class ApplyOptions(Options):
    """θ_base + Σ λ·AV written to a new model folder."""

    base: str = Field(description="Base model folder, Hub id or 'embedded' (SmolLM2-135M).")
    av: list[str] = Field(
        min_length=1, description="NAME=PATH (a name, then an AV folder or Hub id); repeat for several AVs."
    )
    lambda_: list[str] = Field(
        default_factory=list,
        description="NAME=λ, the weight of the AV of that name (default 1: the aligned model); repeat.",
    )
    out: Path = Field(description="Model folder to write: base + Σ λ·AV.")
    force: bool = Field(
        False, description="Apply even if the base weights differ from the AV's recorded base."
    )


class LoraOptions(Options):
    """An AV exported as a PEFT LoRA adapter (λ = the adapter's scale)."""

    av: str = Field(description="AV folder or Hub id.")
    out: Path = Field(description="PEFT adapter folder to write.")
    rank: int | None = Field(None, ge=1, description="LoRA rank (default: full rank, exact).")
    strict: bool = Field(False, description="Refuse if some AV tensors (norms, biases) have no LoRA form.")
    base_id: str | None = Field(
        None,
        description="Hub id of the base (ORG/NAME) for the card and adapter_config.json, when the AV records "
        "a local folder as its base (the embedded base's id is known).",
    )
    license: str | None = Field(
        None, description="Licence of the adapter (default: the AV's, else its base's, e.g. apache-2.0)."
    )


class PublishAVOptions(Options):
    """An AV folder released as a Hub model repo."""

    av: Path = Field(description="AV folder.")
    repo: str = Field(description="Hub model repo ORG/NAME.")
    private: bool = Field(False, description="Create the repo private.")
    tag: str | None = Field(None, description="Tag the published revision (tags are never moved).")
    dtype: Literal["base", "exact", "float32", "bfloat16", "float16"] = Field(
        "base",
        description="Released dtype: base (the base model's own, e.g. float32 or bfloat16), exact (as stored, "
        "float64 for a float32 base), or a named one; the error against the exact AV goes into the card.",
    )
    base_id: str | None = Field(
        None,
        description="Hub id of the base (ORG/NAME) for the card, when the AV records a local folder as its base "
        "(required then; the embedded base's id is known).",
    )
    license: str | None = Field(
        None, description="Licence of the release (default: the AV's recipe's, else its base's)."
    )
    out: Path | None = Field(
        None, description="Write the release folder here and upload nothing (to inspect it first)."
    )


class RecommendOptions(Options):
    """Record a sweep's recommended λ per level in a local AV folder (its config and card)."""

    av: Path = Field(description="Local AV folder to update (not a Hub download cache).")
    sweep: Path = Field(description="sweep.json written by `meav eval sweep` on this AV.")
