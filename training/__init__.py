"""DPO (IPO) training with TRL: corpus → preference pairs → aligned model folder (+ joint and safety runs)."""

from __future__ import annotations

from typing import Any


def train(recipe: Any, **kwargs: Any):
    """Python API of `meav train` (see training.run.train); imported lazily to keep `meav --help` fast."""
    from training.run import train as _train

    return _train(recipe, **kwargs)
