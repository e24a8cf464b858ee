"""DPO (IPO) training with TRL: corpus → preference pairs → aligned model folder (+ joint and safety runs).

`meav.training.train(TrainOptions(recipe=..., dataset=..., out=...))`; names resolve on first use (PEP 562),
so `meav --help` does not import TRL.
"""

from meav.core.lazy import lazy_exports

__getattr__ = lazy_exports(__name__, {"train": "meav.training.run", "TrainOptions": "meav.training.options"})
__all__ = ["TrainOptions", "train"]
