"""Alignment vectors: θ_AV = θ_aligned − θ_base; steer θ = θ_base + Σ λ·θ_AV (Shahriar et al., 2024, §4).

`from vectors import load, steer`: load an AV folder or Hub repo, steer a loaded model in place.
Imports are lazy so `meav --help` does not import torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vectors.av import AlignmentVector, load
    from vectors.steering import current_weights, steer

__all__ = ["AlignmentVector", "load", "steer", "current_weights"]


def __getattr__(name: str) -> Any:
    if name in ("AlignmentVector", "load"):
        from vectors import av

        return getattr(av, name)
    if name in ("steer", "current_weights"):
        from vectors import steering

        return getattr(steering, name)
    raise AttributeError(f"module 'vectors' has no attribute {name!r}")
