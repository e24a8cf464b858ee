"""`meav vectors to-lora`: an AV as a PEFT LoRA adapter, λ becoming the adapter's scale, so one base serves
many AVs (the factorisation is the AV contract's: meav.core.av.lora)."""

from __future__ import annotations

from typing import Any

from meav.core.av import AlignmentVector, load
from meav.core.av.lora import factors, write_adapter
from meav.core.errors import MeavError
from meav.vectors.options import LoraOptions


def to_lora(options: LoraOptions) -> dict[str, Any]:
    """Write a PEFT LoRA adapter folder for the AV; returns a report (ranks, dropped tensors, energy kept)."""
    av = load(options.av)
    f = factors(av, options.rank)
    report = {"alignment_vector": av.source, "rank": options.rank or "full", **f.report()}
    if options.strict and f.dropped:
        raise MeavError(
            f"{av.path}: tensor {next(iter(f.dropped))!r} (and {len(f.dropped) - 1} more, "
            f"{report['dropped_energy_share']:.2%} of ||AV||²) has no LoRA form"
        )
    write_adapter(
        f, options.out, av.config.get("base"), {"meav_lora.json": report, "README.md": _readme(av, report)}
    )
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
