"""An AV in LoRA form (PEFT's layout): ΔW = B·A per weight matrix, so λ is the adapter's scale.

Per 2-D matrix: a low-rank AV's stored factors are the LoRA factors as they are (A = V, B = U: exact, no SVD);
a dense one is factorised by SVD (ΔW = U·S·Vh: A = Vh_r, B = U_r·S_r; exact at full rank).
  Linear [out, in]:      lora_B [out, r], lora_A [r, in]                              ΔW = B·A
  Embedding [vocab, d]:  lora_embedding_B [d, r], lora_embedding_A [r, vocab]          ΔW = (B·A)ᵀ
1-D tensors (norms, biases) have no LoRA form: they are reported with their share of ||AV||². A tied output
embedding gets the input embedding's delta as a Linear LoRA, as steering does.
Several AVs at once (`combine`): A's stacked, B's scaled by each λ and stacked: ΔW = Σ λ_d B_d·A_d, exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from huggingface_hub import ModelCard, ModelCardData
from peft import LoraConfig

from meav.core.atomic import staging_dir, write_json, write_text
from meav.core.av.card import INSTALL, base_facts
from meav.core.av.safetensors_stream import write_tensors
from meav.core.av.vector import AlignmentVector
from meav.core.errors import MeavError

INPUT_EMBEDDINGS = ("embed_tokens.weight", "wte.weight", "word_embeddings.weight", "embed_in.weight")


@dataclass
class LoraFactors:
    """A and B per module (PEFT module names, no `.weight`), which modules are embeddings, what was left out."""

    a: dict[str, torch.Tensor] = field(default_factory=dict)
    b: dict[str, torch.Tensor] = field(default_factory=dict)
    embeddings: set[str] = field(default_factory=set)
    dropped: dict[str, float] = field(default_factory=dict)  # tensor name → ||ΔW||²
    total_sq: float = 0.0
    kept_sq: float = 0.0

    @property
    def ranks(self) -> dict[str, int]:
        return {m: a.shape[0] for m, a in self.a.items()}

    def report(self) -> dict[str, Any]:
        return {
            "modules": len(self.a),
            "energy_kept": self.kept_sq / self.total_sq if self.total_sq else 1.0,
            "dropped_tensors": sorted(self.dropped),
            "dropped_energy_share": sum(self.dropped.values()) / self.total_sq if self.total_sq else 0.0,
        }


def _svd(delta: torch.Tensor, rank: int | None) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, A) of the rank-r truncated SVD of `delta` (r = full rank when None)."""
    u, s, vh = torch.linalg.svd(delta.to(torch.float64), full_matrices=False)
    r = min(rank, s.numel()) if rank else s.numel()
    return u[:, :r] * s[:r], vh[:r]


def factors(av: AlignmentVector, rank: int | None = None) -> LoraFactors:
    """The LoRA factors of one AV (rank None: a low-rank AV's own factors, a dense AV's full-rank SVD)."""
    out = LoraFactors()
    tied = av.config.get("tied_weights") or {}
    for name in av.names():
        delta = av.tensor(name, torch.float64)
        sq = float(delta.pow(2).sum())
        out.total_sq += sq
        if delta.dim() != 2 or not name.endswith(".weight"):
            out.dropped[name] = sq
            continue
        parts = av._parts[name]
        if rank is None and "lowrank_U" in parts:
            b, a = av.tensor_part(name, "lowrank_U"), av.tensor_part(name, "lowrank_V")
        else:
            b, a = _svd(delta, rank)
        b, a = b.to(torch.float64), a.to(torch.float64)
        out.kept_sq += float((b @ a).pow(2).sum())
        module = name.removesuffix(".weight")
        if name.endswith(INPUT_EMBEDDINGS):
            # ΔE [vocab, d] = B·A  →  PEFT's embedding LoRA wants ΔEᵀ = Aᵀ·Bᵀ: A_emb = Bᵀ [r, vocab], B_emb = Aᵀ [d, r]
            out.a[module], out.b[module] = b.T.contiguous(), a.T.contiguous()
            out.embeddings.add(module)
            for out_name, in_name in tied.items():
                if in_name == name:
                    out.a[out_name.removesuffix(".weight")] = a.contiguous()
                    out.b[out_name.removesuffix(".weight")] = b.contiguous()
        else:
            out.a[module], out.b[module] = a.contiguous(), b.contiguous()
    if not out.a:
        raise MeavError(f"{av.path}: no 2-D weight matrix to export as LoRA")
    return out


def combine(weighted: Sequence[tuple[LoraFactors, float]]) -> LoraFactors:
    """One adapter for Σ λ_d·AV_d: per module, the A's stacked and the λ-scaled B's stacked."""
    out = LoraFactors()
    for f, lam in weighted:
        for m in f.a:  # A is [r, *] and B is [*, r] for Linear and embedding LoRA alike
            out.a[m] = torch.cat([out.a[m], f.a[m]], 0) if m in out.a else f.a[m]
            out.b[m] = torch.cat([out.b[m], lam * f.b[m]], 1) if m in out.b else lam * f.b[m]
        out.embeddings |= f.embeddings
        out.dropped.update(f.dropped)
        out.total_sq += lam * lam * f.total_sq
        out.kept_sq += lam * lam * f.kept_sq
    return out


def adapter_tensors(f: LoraFactors) -> dict[str, torch.Tensor]:
    """PEFT's state-dict names for the factors (float32)."""
    tensors = {}
    for m in f.a:
        prefix = f"base_model.model.{m}"
        if m in f.embeddings:
            tensors[f"{prefix}.lora_embedding_A"] = f.a[m].float()
            tensors[f"{prefix}.lora_embedding_B"] = f.b[m].float()
        else:
            tensors[f"{prefix}.lora_A.weight"] = f.a[m].float()
            tensors[f"{prefix}.lora_B.weight"] = f.b[m].float()
    return tensors


def write_adapter(
    f: LoraFactors, out: str | Path, base: str | None, extra: dict[str, str] | None = None
) -> Path:
    """A PEFT adapter folder (scaling 1 per module: lora_alpha = r), written atomically; `extra` files too."""
    ranks = f.ranks
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
        base_model_name_or_path=base,
    )
    with staging_dir(out) as tmp:
        config.save_pretrained(str(tmp))
        write_tensors(tmp / "adapter_model.safetensors", adapter_tensors(f), {"format": "pt"})
        for name, text in (extra or {}).items():
            (write_json if name.endswith(".json") else write_text)(tmp / name, text)
    return Path(out)


def render_lora_card(
    config: dict[str, Any], report: dict[str, Any], adapter: str, source: str | None = None
) -> str:
    """The adapter's model card: YAML from `ModelCardData` (base_model a Hub id, base_model_relation adapter,
    licence, library peft), then what it holds and a PEFT snippet that runs as written."""
    facts = base_facts(config)
    data = ModelCardData(
        base_model=facts.id,
        base_model_relation="adapter" if facts.id else None,
        license=facts.license,
        library_name="peft",
        tags=["alignment-vector", "meav", "lora"]
        + [t for t in (config.get("domain"), config.get("target")) if t],
    )
    imports, loading = facts.load_lines()
    python = "\n".join(
        [
            *imports,
            "from peft import PeftModel",
            "from peft.helpers import rescale_adapter_scale",
            "",
            *loading,
            f'model = PeftModel.from_pretrained(model, "{adapter}")',
            'chat = [{"role": "user", "content": "What should I do next?"}]',
            "inputs = tokenizer.apply_chat_template(",
            '    chat, add_generation_prompt=True, return_dict=True, return_tensors="pt"',
            ")",
            "with rescale_adapter_scale(model, 0.5):  # λ = 0.5 (the adapter at scale 1 is λ = 1)",
            "    out = model.generate(**inputs, max_new_tokens=40, do_sample=False)",
            "print(tokenizer.decode(out[0, inputs['input_ids'].shape[1] :], skip_special_tokens=True))",
        ]
    )
    embedded = ""
    if facts.embedded:
        embedded = (
            f"\nIts base is meav's embedded model: {(facts.provenance or {}).get('description')}; the snippet "
            f"loads it with meav ({INSTALL[:-1]}).\n"
        )
    body = f"""
# LoRA form of the alignment vector {source or "(unnamed)"}

Domain {config.get("domain") or "not recorded"}, target {config.get("target") or "not recorded"}; rank {report["rank"]},
{report["energy_kept"]:.4%} of ||AV||² kept; left out (no LoRA form): {len(report["dropped_tensors"])} tensors
({report["dropped_energy_share"]:.2%} of ||AV||²). The adapter's scale is λ: θ = θ_base + λ·B·A.
{embedded}
```python
{python}
```
"""
    return str(ModelCard(f"---\n{data.to_yaml()}\n---\n{body}"))
