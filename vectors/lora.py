"""`meav vectors to-lora`: an AV as a PEFT LoRA adapter, λ becoming the adapter's scale, so one base serves
many AVs (the factorisation is the AV contract's: meav.core.av.lora)."""

from __future__ import annotations

from typing import Any

from meav.core.av import load
from meav.core.av.card import base_facts
from meav.core.av.lora import factors, render_lora_card, write_adapter
from meav.core.errors import MeavError, OptionError
from meav.core.hub import is_hub_id
from meav.vectors.options import LoraOptions


def to_lora(options: LoraOptions) -> dict[str, Any]:
    """Write a PEFT LoRA adapter folder for the AV; returns a report (ranks, dropped tensors, energy kept)."""
    av = load(options.av)
    if options.base_id is not None and not is_hub_id(options.base_id):
        raise OptionError("base_id", f"{options.base_id!r}: expected a Hub model id ORG/NAME")
    f = factors(av, options.rank)
    report = {"alignment_vector": av.source, "rank": options.rank or "full", **f.report()}
    if options.strict and f.dropped:
        raise MeavError(
            f"{av.path}: tensor {next(iter(f.dropped))!r} (and {len(f.dropped) - 1} more, "
            f"{report['dropped_energy_share']:.2%} of ||AV||²) has no LoRA form"
        )
    config = dict(av.config)
    config.update({k: v for k, v in (("base_id", options.base_id), ("license", options.license)) if v})
    base_id = base_facts(config).id
    source = av.source if is_hub_id(av.source) else av.path.name
    card = render_lora_card(config, report, str(options.out), source)
    write_adapter(f, options.out, base_id, {"meav_lora.json": report, "README.md": card})
    return report
