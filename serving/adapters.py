"""One combined LoRA adapter per λ-vector, for engines that serve LoRA adapters (vLLM's multi-LoRA).

For low-rank AVs the combined adapter is exact: per module, the AVs' A factors stacked and their B factors
scaled by each λ and stacked, so B·A = Σ_d λ_d·B_d·A_d = Σ_d λ_d·ΔW_d. It is built once per λ-vector and
cached on disk under a name derived from the AVs' contents and the λ's.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from meav.core.av.lora import combine, factors, write_adapter
from meav.core.errors import MeavError
from meav.serving.alignment import AlignmentSet, Key


def adapter_name(alignments: AlignmentSet, key: Key) -> str:
    ident = [
        (n, alignments.avs[n].config.get("base_fingerprint"), str(alignments.avs[n].path), lam)
        for n, lam in key
    ]
    return "lora-" + hashlib.sha256(json.dumps(ident).encode()).hexdigest()[:16]


def check_lora_form(alignments: AlignmentSet) -> None:
    """Every AV must be stored low-rank and change only weight matrices (the parts LoRA can carry)."""
    for name, av in alignments.avs.items():
        if (av.config.get("compression") or {}).get("method") != "lowrank":
            raise MeavError(
                f"AV {name}: stored dense; the vllm engine serves low-rank AVs (extract --rank or --energy)"
            )
        flat = [
            t for t in av.names()
            if (not t.endswith(".weight") or len(av.shape(t)) != 2) and bool(av.tensor(t).abs().max() > 0)
        ]  # fmt: skip
        if flat:
            raise MeavError(
                f"AV {name}: tensor {flat[0]!r} has no LoRA form ({len(flat)} such tensors); extract it from a run that trains matrices only"
            )


def combined_rank(alignments: AlignmentSet) -> int:
    """The largest rank a combined adapter can have: per AV its largest factor rank, summed (a matrix the
    codec kept dense, where low rank would not be smaller, is factored at full rank: min of its shape)."""

    def rank(av, t: str) -> int:
        return min(av.shape(t)) if av.is_dense(t) else av.tensor_part(t, "lowrank_V").shape[0]

    return sum(
        max((rank(av, t) for t in av.names() if len(av.shape(t)) == 2), default=0)
        for av in alignments.avs.values()
    )


def combined_adapter(alignments: AlignmentSet, key: Key, cache_dir: Path) -> Path:
    """The adapter folder of the λ-vector `key` (built on first use, then read from the cache)."""
    folder = Path(cache_dir) / adapter_name(alignments, key)
    if (folder / "adapter_config.json").is_file():
        return folder
    weighted = [(factors(alignments.avs[n]), lam) for n, lam in key]
    base = next(iter(alignments.avs.values())).config.get("base")
    return write_adapter(combine(weighted), folder, base, {"meav_alignment.json": {"lambdas": dict(key)}})
