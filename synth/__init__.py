"""The corpus pipeline (distilabel): personas → queries → three responses → cleaned, split corpus folder.

`meav.synth.run_synth(SynthOptions(recipe=..., out=...))`; names resolve on first use (PEP 562).
"""

from meav.core.lazy import lazy_exports

__getattr__ = lazy_exports(
    __name__,
    {"run_synth": "meav.synth.api", "estimate_synth": "meav.synth.api", "SynthOptions": "meav.synth.options"},
)
__all__ = ["SynthOptions", "estimate_synth", "run_synth"]
