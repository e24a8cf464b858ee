"""A cheap fingerprint of base weights: is this the model the AV was extracted from?

sha256 over, for each tensor the AV touches (sorted by name): its name, dtype and shape, and 16 slices
of 256 bytes spread evenly over its data (the whole data when under 4 KiB); about 4 KiB read per tensor,
so a 7B model is fingerprinted in well under a second, from disk or from memory.

Why that is enough: the threat is an honest mistake (another fine-tune of the same architecture, another
revision), not an adversary. Fine-tuning moves essentially every weight, so two different checkpoints differ
in every sampled 256-byte slice (64 float32 values) of every tensor, and a different architecture or size
already differs in names, dtypes or shapes. The hash is independent of sharding and file layout, and the
same bytes give the same value whether read from safetensors or from a loaded model in the same dtype.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable

import torch

from meav.core.av.safetensors_stream import CODES, TensorInfo

SCHEME = "sha256-16x256B-v1"
_SLICES, _SLICE = 16, 256


def _offsets(nbytes: int) -> list[tuple[int, int]]:
    if nbytes <= _SLICES * _SLICE:
        return [(0, nbytes)]
    last = nbytes - _SLICE
    return [(k * last // (_SLICES - 1), _SLICE) for k in range(_SLICES)]


def _digest(items: Iterable[tuple[str, str, tuple[int, ...], int, Callable[[int, int], bytes]]]) -> str:
    h = hashlib.sha256(SCHEME.encode())
    for name, dtype, shape, nbytes, read in sorted(items, key=lambda it: it[0]):
        h.update(f"\n{name}|{dtype}|{list(shape)}|".encode())
        for start, length in _offsets(nbytes):
            h.update(read(start, length))
    return h.hexdigest()


def fingerprint_files(infos: Iterable[TensorInfo]) -> str:
    """Fingerprint tensors as stored in safetensors files (reads ~4 KiB per tensor, each file opened once)."""
    infos = list(infos)
    fds = {f: os.open(f, os.O_RDONLY) for f in dict.fromkeys(i.file for i in infos)}
    try:
        return _digest(
            (i.name, i.dtype, i.shape, i.nbytes, lambda s, n, i=i: os.pread(fds[i.file], n, i.offset + s))
            for i in infos
        )
    finally:
        for fd in fds.values():
            os.close(fd)


def fingerprint_tensors(named: Iterable[tuple[str, torch.Tensor]]) -> str:
    """Fingerprint tensors of a loaded model (any device); equals fingerprint_files for the same bytes."""

    def reader(t: torch.Tensor) -> Callable[[int, int], bytes]:
        flat = t.detach().contiguous().reshape(-1).view(torch.uint8)
        return lambda s, n: flat[s : s + n].cpu().numpy().tobytes()

    return _digest(
        (name, CODES[t.dtype], tuple(t.shape), t.numel() * t.element_size(), reader(t)) for name, t in named
    )
