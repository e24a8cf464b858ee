"""`with steered(model, {av: λ}):` — steer for the block, then put the model back exactly as it was.

The steering it undoes is whatever the model carried on entry (the base, or an earlier `steer`); since `steer`
recomputes every touched tensor from the kept base values, the restore is bit for bit, also when the block
raises, and blocks nest.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import torch

from meav.core.av.steering import current_weights, steer
from meav.core.av.vector import AlignmentVector


@contextmanager
def steered(
    model: torch.nn.Module,
    weights: Mapping[AlignmentVector, float],
    *,
    force: bool = False,
    exact: bool = True,
) -> Iterator[torch.nn.Module]:
    """Steer `model` to θ_base + Σ λ·AV inside the block (see `steer` for force/exact); on exit, normal or by
    an exception, it is steered back to the {av: λ} it had on entry ({} = the base, bit for bit)."""
    before = current_weights(model)
    steer(model, weights, force=force, exact=exact)
    try:
        yield model
    finally:
        steer(model, before, force=True, exact=exact)  # `before` was accepted already (or is the base)
