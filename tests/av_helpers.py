"""Test helpers: deterministic "aligned" models made by perturbing a copy of a base (no training needed)."""

from __future__ import annotations

import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file


def make_aligned(base: Path, out: Path, *, seed: int = 1, scale: float = 0.02, only_2d: bool = False) -> Path:
    """Copy `base` and add seeded noise (relative to each tensor's scale) to its float tensors, same shards."""
    shutil.copytree(base, out)
    gen = torch.Generator().manual_seed(seed)
    for f in sorted(out.glob("*.safetensors")):
        tensors = load_file(f)
        for name, t in sorted(tensors.items()):
            if t.is_floating_point() and (t.dim() == 2 or not only_2d):
                noise = torch.randn(t.shape, generator=gen, dtype=torch.float32)
                tensors[name] = (t.float() + scale * noise).to(t.dtype)
        save_file(tensors, f, metadata={"format": "pt"})
    return out


def state(folder: Path) -> dict[str, torch.Tensor]:
    """All tensors of a safetensors model folder (small models only)."""
    out: dict[str, torch.Tensor] = {}
    for f in sorted(Path(folder).glob("*.safetensors")):
        out.update(load_file(f))
    return out


def logits(model_dir_or_model, text: str = "Please consult a qualified doctor.") -> torch.Tensor:
    """Next-token logits of a model (folder or loaded) on a fixed prompt."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = model_dir_or_model
    if isinstance(model, str | Path):
        model = AutoModelForCausalLM.from_pretrained(model, dtype=torch.float32)
    tok = AutoTokenizer.from_pretrained(model.name_or_path)
    ids = tok(text, return_tensors="pt")
    with torch.no_grad():
        return model(**ids).logits


def extract_av(base, aligned, out, **options) -> dict:
    """`meav.vectors.extract` with paths as tests hold them (options: dtype, domain, target, rank, ...)."""
    from meav.vectors import ExtractOptions, extract

    return extract(ExtractOptions(base=str(base), aligned=str(aligned), out=Path(out), **options))


def apply_avs(base, weights, out, force: bool = False) -> Path:
    """`meav.vectors.apply` from [(AV object or folder, λ), ...], as `--av avI=FOLDER --lambda avI=λ` give them."""
    from meav.vectors import ApplyOptions, apply

    avs = [f"av{i}={getattr(av, 'path', av)}" for i, (av, _) in enumerate(weights)]
    lambdas = [f"av{i}={lam}" for i, (_, lam) in enumerate(weights)]
    return apply(ApplyOptions(base=str(base), av=avs, lambda_=lambdas, out=Path(out), force=force))
