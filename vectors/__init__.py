"""Alignment vectors: make them (extract, compress), apply them to disk, export them as LoRA, release them.

`from meav.vectors import load, steer` is the user-facing way to use a released AV; both come from the AV
contract in `meav.core.av`, which evaluation and serving read as well. Names resolve on first use (PEP 562),
so `meav --help` does not import torch.
"""

from meav.core.lazy import lazy_exports

__getattr__ = lazy_exports(
    __name__,
    {
        "AlignmentVector": "meav.core.av",
        "load": "meav.core.av",
        "steer": "meav.core.av",
        "current_weights": "meav.core.av",
        "extract": "meav.vectors.extraction",
        "apply": "meav.vectors.merged_model",
        "to_lora": "meav.vectors.lora",
        "publish_av": "meav.vectors.publish",
        "info": "meav.vectors.publish",
        "ExtractOptions": "meav.vectors.options",
        "ApplyOptions": "meav.vectors.options",
        "LoraOptions": "meav.vectors.options",
        "PublishAVOptions": "meav.vectors.options",
    },
)
__all__ = [
    "AlignmentVector", "ApplyOptions", "ExtractOptions", "LoraOptions", "PublishAVOptions", "apply",
    "current_weights", "extract", "info", "load", "publish_av", "steer", "to_lora",
]  # fmt: skip
