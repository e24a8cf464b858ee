"""The alignment-vector contract: the AV folder format, its reader, and steering a loaded model with it.

θ_AV = θ_aligned − θ_base; steer θ = θ_base + Σ λ·θ_AV (Shahriar et al., 2024, §4). An AV folder is the
artifact `meav vectors` publishes; every stage that uses AVs (evaluation, serving) reads it through this
package, as training reads the corpus through `meav.core.corpus`.
"""

from __future__ import annotations

from meav.core.av.steered import steered
from meav.core.av.steering import current_weights, steer
from meav.core.av.vector import AlignmentVector, load

__all__ = ["AlignmentVector", "current_weights", "load", "steer", "steered"]
