"""The base model and tokenizer of a training run, loaded as its recipe says (core.models does the work)."""

from __future__ import annotations

from pathlib import Path

from meav.core.models import check_causal_lm, load_causal_lm, load_tokenizer, resolve_model
from meav.training.recipe import Recipe

__all__ = ["check_causal_lm", "load_model", "load_tokenizer_for", "resolve_model"]


def load_model(path: Path, recipe: Recipe):
    """The causal LM in the recipe's dtype, for full fine-tuning."""
    return load_causal_lm(path, revision=recipe.model_revision, dtype=recipe.model_dtype)


def load_tokenizer_for(path: Path, recipe: Recipe):
    """The tokenizer (with its chat template) at the recipe's revision."""
    return load_tokenizer(path, revision=recipe.model_revision)
