"""The control of a sweep: a random vector with the AV's per-tensor norms, saved as an AV folder.

If steering by a random direction of the same size moved the levels as the AV does, the AV's effect would be
a matter of size, not direction. Same tensors, same Frobenius norm per tensor, Gaussian directions, a seed.
"""

from __future__ import annotations

from pathlib import Path

import torch

from meav.core.av import AlignmentVector
from meav.core.av.folders import AV_CONFIG, save_av, weights_stamp
from meav.core.stamps import stamped


def norm_matched_random(av: AlignmentVector, out: str | Path, seed: int = 0) -> Path:
    """Write (once) and return the control AV folder for `av`: same names, shapes and per-tensor norms."""
    out = Path(out)
    marker = {
        "control_of": str(av.path),
        "weights": weights_stamp(av.path),  # a retrained AV: redo
        "seed": seed,
        "kind": "norm-matched random",
    }
    if stamped(out / AV_CONFIG, marker, "control"):
        return out
    gen = torch.Generator().manual_seed(seed)
    tensors = {}
    for name in av.names():
        delta = av.tensor(name, torch.float32)
        noise = torch.randn(delta.shape, generator=gen, dtype=torch.float32)
        norm = noise.norm()
        tensors[name] = noise * (delta.norm() / norm) if norm > 0 else noise
    config = {
        k: v for k, v in av.config.items() if k not in ("recommended_lambda", "lambda_ranges", "hub_repo")
    }
    config.update(control=marker, domain=f"control ({av.config.get('domain')})", target="random")
    return save_av(tensors, config, out)
