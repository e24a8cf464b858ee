"""Export an AV as a PEFT LoRA adapter: λ becomes an adapter weight, served per request from one base.

Per 2-D matrix, the SVD AV = U·S·Vh gives the LoRA factors (scaling lora_alpha / r = 1):
  Linear [out, in]:      lora_B = U_r·S_r [out, r], lora_A = Vh_r [r, in]        ΔW = B·A
  Embedding [vocab, d]:  lora_embedding_B = Vh_rᵀ·S_r [d, r], lora_embedding_A = U_rᵀ [r, vocab]   ΔW = (B·A)ᵀ
At full rank (min(out, in)) the product is the AV up to float rounding. 1-D tensors (norms, biases) have
no LoRA form: they are left out, listed, and their share of ||AV||² reported (`strict` refuses them).
A tied output embedding (lm_head = embed_tokens) gets the same delta as a Linear LoRA, as steering does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from meav.atomic import staging_dir, write_json, write_text
from meav.errors import MeavError
from vectors.av import AlignmentVector
from vectors.extract import _INPUT_EMBEDDINGS
from vectors.safetensors_stream import write_tensors


def _factors(delta: torch.Tensor, rank: int | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]:
    u, s, vh = torch.linalg.svd(delta.to(torch.float64), full_matrices=False)
    r = min(rank, s.numel()) if rank else s.numel()
    return u[:, :r], s[:r], vh[:r], r


def to_lora(
    av: AlignmentVector, out: str | Path, *, rank: int | None = None, strict: bool = False
) -> dict[str, Any]:
    """Write a PEFT LoRA adapter folder for `av`; returns a report (ranks, dropped tensors, energy kept)."""
    from peft import LoraConfig

    tensors: dict[str, torch.Tensor] = {}
    ranks: dict[str, int] = {}
    dropped: dict[str, float] = {}
    total_sq = kept_sq = 0.0
    tied = av.config.get("tied_weights") or {}
    for name in av.names():
        delta = av.tensor(name, torch.float64)
        sq = float(delta.pow(2).sum())
        total_sq += sq
        if delta.dim() != 2 or not name.endswith(".weight"):
            dropped[name] = sq
            continue
        module = name.removesuffix(".weight")
        u, s, vh, r = _factors(delta, rank)
        kept_sq += float(s.pow(2).sum())
        prefix = f"base_model.model.{module}"
        if name.endswith(_INPUT_EMBEDDINGS):
            tensors[f"{prefix}.lora_embedding_A"] = u.T.contiguous().float()
            tensors[f"{prefix}.lora_embedding_B"] = (vh.T * s).contiguous().float()
            for out_name, in_name in tied.items():
                if in_name == name:
                    out_module = out_name.removesuffix(".weight")
                    tensors[f"base_model.model.{out_module}.lora_A.weight"] = vh.contiguous().float()
                    tensors[f"base_model.model.{out_module}.lora_B.weight"] = (u * s).contiguous().float()
                    ranks[out_module] = r
        else:
            tensors[f"{prefix}.lora_A.weight"] = vh.contiguous().float()
            tensors[f"{prefix}.lora_B.weight"] = (u * s).contiguous().float()
        ranks[module] = r
    if not ranks:
        raise MeavError(f"{av.path}: no 2-D weight matrix to export as LoRA")
    share = sum(dropped.values()) / total_sq if total_sq else 0.0
    if strict and dropped:
        raise MeavError(
            f"{av.path}: tensor {next(iter(dropped))!r} (and {len(dropped) - 1} more, {share:.2%} of ||AV||²) has no LoRA form"
        )
    r_max = max(ranks.values())
    config = LoraConfig(
        r=r_max,
        lora_alpha=r_max,
        target_modules=sorted(ranks),
        rank_pattern={m: r for m, r in ranks.items() if r != r_max},
        alpha_pattern={m: r for m, r in ranks.items() if r != r_max},
        lora_dropout=0.0,
        bias="none",
        task_type="CAUSAL_LM",
        base_model_name_or_path=av.config.get("base"),
    )
    report = {
        "alignment_vector": av.source,
        "rank": rank or "full",
        "modules": len(ranks),
        "energy_kept": kept_sq / total_sq if total_sq else 1.0,
        "dropped_tensors": sorted(dropped),
        "dropped_energy_share": share,
    }
    with staging_dir(out) as tmp:
        config.save_pretrained(str(tmp))
        write_tensors(tmp / "adapter_model.safetensors", tensors, {"format": "pt"})
        write_json(tmp / "meav_lora.json", report)
        write_text(tmp / "README.md", _readme(av, report))
    return report


def _readme(av: AlignmentVector, report: dict[str, Any]) -> str:
    base = av.config.get("base")
    return f"""---
base_model: {base}
library_name: peft
tags: [alignment-vector, meav, lora]
---
# LoRA form of the alignment vector {av.source}

Domain {av.config.get("domain")}, target {av.config.get("target")}; rank {report["rank"]},
{report["energy_kept"]:.4%} of ||AV||² kept; left out (no LoRA form): {len(report["dropped_tensors"])} tensors
({report["dropped_energy_share"]:.2%} of ||AV||²).

```python
from peft import PeftModel; from peft.helpers import rescale_adapter_scale
model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained("{base}"), "THIS_FOLDER")
with rescale_adapter_scale(model, 0.5): ...  # λ = 0.5
```
"""
