"""AV compression (the paper's stated future work, §8), a registry by name: low-rank SVD, magnitude trim, DARE.

Each tensor of the AV is encoded into one or more stored parts and decoded back to a dense delta:
- low-rank (2-D matrices): AV ≈ U·V with U = u[:, :r]·diag(s[:r]), V = vh[:r]; r fixed (--rank) or the
  smallest r with Σ_{i≤r} s_i² ≥ E·Σ s_i² (--energy E). By Eckart–Young the relative Frobenius error is
  sqrt(Σ_{i>r} s_i² / Σ s_i²). Kept dense where U·V would not be smaller.
- trim: keep the k% largest magnitudes, zero the rest (stored sparse). This is the first step of TIES
  (Yadav et al. 2023); TIES's sign election resolves conflicts between several task vectors when merging
  them, which has no meaning for compressing one AV, so it is not applied and the method is called trim.
- DARE (Yu et al. 2024): drop each entry with probability p, rescale survivors by 1/(1-p) (seeded; the
  expectation of the result is the AV), stored sparse.
Sparse parts: flat indices + values + the shape. Stats per tensor: stored bytes / dense bytes and
relative Frobenius error ||AV − decode(encode(AV))||_F / ||AV||_F, measured on the stored dtype.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import torch

from meav.core.errors import MeavError, OptionError

SEP = "::"


@dataclass(frozen=True)
class Compression:
    """Which compression to apply (at most one family); `describe()` goes into av_config.json."""

    rank: int | None = None
    energy: float | None = None
    trim: float | None = None
    dare: float | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        chosen = [n for n in ("rank", "energy", "trim", "dare") if getattr(self, n) is not None]
        if len(chosen) > 1:
            raise OptionError(chosen[1], f"choose one compression, not {' and '.join(chosen)}")
        if self.rank is not None and self.rank < 1:
            raise OptionError("rank", f"{self.rank}: must be ≥ 1")
        if self.energy is not None and not 0 < self.energy <= 1:
            raise OptionError("energy", f"{self.energy}: must be in (0, 1]")
        if self.trim is not None and not 0 < self.trim <= 100:
            raise OptionError("trim", f"{self.trim}: percent of entries kept, must be in (0, 100]")
        if self.dare is not None and not 0 <= self.dare < 1:
            raise OptionError("dare", f"{self.dare}: drop probability, must be in [0, 1)")

    @property
    def method(self) -> str:
        if self.rank is not None or self.energy is not None:
            return "lowrank"
        return "trim" if self.trim is not None else "dare" if self.dare is not None else "none"

    def describe(self) -> dict:
        d: dict = {"method": self.method}
        for n in ("rank", "energy", "trim", "dare"):
            if getattr(self, n) is not None:
                d[n] = getattr(self, n)
        if self.dare is not None:
            d["seed"] = self.seed
        return d


def _lowrank(
    name: str, delta: torch.Tensor, spec: Compression, dtype: torch.dtype
) -> dict[str, torch.Tensor]:
    if delta.dim() != 2 or min(delta.shape) <= 1:
        return {name: delta.to(dtype)}
    u, s, vh = torch.linalg.svd(delta, full_matrices=False)
    if spec.rank is not None:
        r = min(spec.rank, s.numel())
    else:
        e = torch.cumsum(s.double() ** 2, 0)
        r = int(torch.searchsorted(e, spec.energy * e[-1] * (1 - 1e-12)).item()) + 1 if e[-1] > 0 else 1
        r = min(r, s.numel())
    m, n = delta.shape
    if r * (m + n) >= m * n:  # U·V would not be smaller
        return {name: delta.to(dtype)}
    return {f"{name}{SEP}lowrank_U": (u[:, :r] * s[:r]).to(dtype), f"{name}{SEP}lowrank_V": vh[:r].to(dtype)}


def _sparse(
    name: str, delta: torch.Tensor, idx: torch.Tensor, val: torch.Tensor, dtype
) -> dict[str, torch.Tensor]:
    """Indices + values + shape when that is smaller than the dense tensor, else the dense tensor."""
    flat = delta.reshape(-1)
    itype = torch.int32 if flat.numel() < 2**31 else torch.int64
    if idx.numel() * (itype.itemsize + dtype.itemsize) < flat.numel() * dtype.itemsize:
        return {
            f"{name}{SEP}sparse_idx": idx.to(itype),
            f"{name}{SEP}sparse_val": val.to(dtype),
            f"{name}{SEP}sparse_shape": torch.tensor(list(delta.shape), dtype=torch.int64),
        }
    dense = torch.zeros_like(flat)
    dense[idx] = val
    return {name: dense.reshape(delta.shape).to(dtype)}


def _trim(name: str, delta: torch.Tensor, spec: Compression, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    flat = delta.reshape(-1)
    k = max(1, math.ceil(flat.numel() * spec.trim / 100))
    idx = torch.topk(flat.abs(), k, sorted=False).indices.sort().values
    return _sparse(name, delta, idx, flat[idx], dtype)


def _dare(name: str, delta: torch.Tensor, spec: Compression, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    flat = delta.reshape(-1)
    gen = torch.Generator().manual_seed(spec.seed * 1_000_003 + zlib.crc32(name.encode()))
    idx = (torch.rand(flat.numel(), generator=gen, dtype=torch.float64) >= spec.dare).nonzero()[:, 0]
    return _sparse(name, delta, idx, flat[idx] / (1 - spec.dare), dtype)


def _dense(name: str, delta: torch.Tensor, spec: Compression, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    return {name: delta.to(dtype)}


Encoder = Callable[[str, torch.Tensor, Compression, torch.dtype], dict[str, torch.Tensor]]
REGISTERED_COMPRESSIONS: dict[str, Encoder] = {
    "none": _dense,
    "lowrank": _lowrank,
    "trim": _trim,
    "dare": _dare,
}


def encode(name: str, delta: torch.Tensor, spec: Compression, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """Stored parts (key → tensor in `dtype`, indices as integers) for one AV tensor."""
    return REGISTERED_COMPRESSIONS[spec.method](name, delta, spec, dtype)


def split_key(key: str) -> tuple[str, str]:
    """'layer.weight::lowrank_U' → ('layer.weight', 'lowrank_U'); a dense key → (key, '')."""
    name, _, part = key.partition(SEP)
    return name, part


def decode(parts: dict[str, torch.Tensor], dtype: torch.dtype | None = None) -> torch.Tensor:
    """Dense delta from the stored parts of one tensor (keys: part names as returned by split_key)."""
    if "" in parts:
        t = parts[""]
    elif "lowrank_U" in parts:
        u, v = parts["lowrank_U"], parts["lowrank_V"]
        work = torch.promote_types(u.dtype, torch.float32)
        t = u.to(work) @ v.to(work)
    elif "sparse_idx" in parts:
        shape = [int(s) for s in parts["sparse_shape"].tolist()]
        val = parts["sparse_val"]
        t = torch.zeros(math.prod(shape), dtype=val.dtype, device=val.device)
        t[parts["sparse_idx"].long()] = val
        t = t.reshape(shape)
    else:
        raise MeavError(f"unknown AV tensor encoding with parts {sorted(parts)}")
    return t if dtype is None else t.to(dtype)


def stats(delta: torch.Tensor, parts: dict[str, torch.Tensor]) -> dict[str, float]:
    """Bytes stored vs dense (in the stored dtype) and squared norms for the relative Frobenius error."""
    by_part = {split_key(k)[1]: v for k, v in parts.items()}
    stored = sum(v.numel() * v.element_size() for k, v in by_part.items() if k != "sparse_shape")
    val_dtype = next(v.dtype for k, v in by_part.items() if k in ("", "lowrank_U", "sparse_val"))
    dense = delta.numel() * val_dtype.itemsize
    work = torch.float64
    diff = delta.to(work) - decode(by_part, work)
    norm_sq = float(delta.to(work).pow(2).sum())
    err_sq = float(diff.pow(2).sum())
    return {
        "stored_bytes": stored,
        "dense_bytes": dense,
        "size_ratio": stored / dense if dense else 1.0,
        "rel_frobenius_error": math.sqrt(err_sq / norm_sq) if norm_sq > 0 else 0.0,
        "err_sq": err_sq,
        "norm_sq": norm_sq,
    }


def summarize(per_tensor: dict[str, dict[str, float]]) -> dict:
    """Overall ratio (Σ stored / Σ dense) and error sqrt(Σ err² / Σ ||AV||²), plus the per-tensor table."""
    stored = sum(s["stored_bytes"] for s in per_tensor.values())
    dense = sum(s["dense_bytes"] for s in per_tensor.values())
    err = sum(s["err_sq"] for s in per_tensor.values())
    norm = sum(s["norm_sq"] for s in per_tensor.values())
    return {
        "size_ratio": stored / dense if dense else 1.0,
        "rel_frobenius_error": math.sqrt(err / norm) if norm > 0 else 0.0,
        "per_tensor": {
            k: {"size_ratio": round(s["size_ratio"], 6), "rel_frobenius_error": s["rel_frobenius_error"]}
            for k, s in per_tensor.items()
        },
    }
