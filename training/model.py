"""Find and load the base model and its tokenizer, turning every way this can fail into one clear line."""

from __future__ import annotations

import re
from pathlib import Path

from meav.errors import MeavError
from training.recipe import Recipe

HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def resolve_model(spec: str) -> Path:
    """'embedded' → the cached SmolLM2 folder; a local folder must hold a config.json; else a Hub id."""
    if spec == "embedded":
        from meav.embedded import embedded_model_path

        return embedded_model_path()
    path = Path(spec).expanduser()
    if path.exists():
        if not path.is_dir():
            raise MeavError(f"{spec}: not a model folder (a file)")
        if not (path / "config.json").is_file():
            raise MeavError(f"{spec}: not a model folder (no config.json)")
        return path
    if HUB_ID.match(spec) and not spec.startswith((".", "/", "~")):
        return Path(spec)  # a Hub id: from_pretrained resolves (and reports) it
    raise MeavError(f"{spec}: model folder not found")


def _dtype(name: str):
    import torch

    return "auto" if name == "auto" else getattr(torch, name)


def check_causal_lm(path: Path, recipe: Recipe) -> None:
    """Refuse, by its model type, a folder holding something other than a causal LM (before any loading)."""
    from transformers import AutoConfig

    where = str(path)
    try:
        config = AutoConfig.from_pretrained(where, revision=recipe.model_revision)
    except (OSError, ValueError) as e:
        raise MeavError(f"{where}: cannot read the model config: {str(e).splitlines()[0]}") from e
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    if config.model_type not in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES:
        raise MeavError(f"{where}: model type {config.model_type!r} is not a causal language model")


def load_model(path: Path, recipe: Recipe):
    """The causal LM in the recipe's dtype, for full fine-tuning."""
    from transformers import AutoModelForCausalLM

    check_causal_lm(path, recipe)
    where = str(path)
    try:
        return AutoModelForCausalLM.from_pretrained(
            where, revision=recipe.model_revision, dtype=_dtype(recipe.model_dtype)
        )
    except (OSError, ValueError, RuntimeError) as e:
        raise MeavError(f"{where}: cannot load the model weights: {str(e).splitlines()[0]}") from e


def load_tokenizer(path: Path, recipe: Recipe):
    """The model's tokenizer; it must carry a chat template (pairs are conversational). A missing pad token
    becomes the EOS token, as usual for decoder-only models (Mistral ships none)."""
    from transformers import AutoTokenizer

    where = str(path)
    try:
        tokenizer = AutoTokenizer.from_pretrained(where, revision=recipe.model_revision)
    except (OSError, ValueError, TypeError) as e:
        raise MeavError(f"{where}: cannot load the tokenizer: {str(e).splitlines()[0]}") from e
    if not getattr(tokenizer, "chat_template", None):
        raise MeavError(f"{where}: the tokenizer has no chat template (needed for conversational pairs)")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer
