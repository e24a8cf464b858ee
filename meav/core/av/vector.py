"""The AlignmentVector object: an AV folder (local or from the Hub) read lazily, tensor by tensor."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from huggingface_hub import snapshot_download

from meav.core.av import codecs as cz
from meav.core.av.folders import AV_STEM, open_checkpoint, read_av_config
from meav.core.av.safetensors_stream import TensorInfo, read_chunks, read_tensor
from meav.core.errors import MeavError
from meav.core.hub import is_hub_id


class AlignmentVector:
    """θ_AV of one AV folder. Hashable (by folder), so `{av: λ}` dicts work; tensors are read on demand."""

    def __init__(self, path: str | Path, source: str | None = None):
        self.path = Path(path).resolve()
        self.config: dict[str, Any] = read_av_config(self.path)
        self.source = source or str(path)
        ckpt = open_checkpoint(self.path, stem=AV_STEM)
        self._parts: dict[str, dict[str, TensorInfo]] = {}
        for key, info in ckpt.tensors.items():
            name, part = cz.split_key(key)
            self._parts.setdefault(name, {})[part] = info

    def __hash__(self) -> int:
        return hash(self.path)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AlignmentVector) and other.path == self.path

    def __repr__(self) -> str:
        c = self.config
        return f"AlignmentVector({self.source!r}, base={c.get('base')!r}, domain={c.get('domain')!r}, target={c.get('target')!r})"

    @property
    def name(self) -> str:
        """Short label for reports: the Hub id or the folder name."""
        return self.source if is_hub_id(self.source) else self.path.name

    def names(self) -> list[str]:
        """Base-model tensor names this AV changes (in storage order)."""
        return list(self._parts)

    def is_dense(self, name: str) -> bool:
        return set(self._parts[name]) == {""}

    def shape(self, name: str) -> tuple[int, ...]:
        parts = self._parts[name]
        if "" in parts:
            return parts[""].shape
        if "lowrank_U" in parts:
            return (parts["lowrank_U"].shape[0], parts["lowrank_V"].shape[1])
        return tuple(int(s) for s in read_tensor(parts["sparse_shape"]).tolist())

    def storage_dtype(self, name: str) -> torch.dtype:
        parts = self._parts[name]
        return next(parts[p].torch_dtype for p in ("", "lowrank_U", "sparse_val") if p in parts)

    def value_dtype(self, name: str) -> torch.dtype:
        """The dtype the decoded delta's values live in: the stored dtype for dense and sparse tensors, at
        least float32 for a low-rank product (U·V is computed in float32 even when U, V are bf16).
        `steer` and `apply` both take deltas in this dtype, so they give the same bits."""
        stored = self.storage_dtype(name)
        if "lowrank_U" in self._parts[name]:
            return torch.promote_types(stored, torch.float32)
        return stored

    def tensor(self, name: str, dtype: torch.dtype | None = None) -> torch.Tensor:
        """The dense delta for `name` (decoded if compressed)."""
        if name not in self._parts:
            raise MeavError(f"{self.path}: no tensor {name!r} in this alignment vector")
        parts = {p: read_tensor(i) for p, i in self._parts[name].items()}
        return cz.decode(parts, dtype)

    def tensor_part(self, name: str, part: str) -> torch.Tensor:
        """One stored part of a compressed tensor as it is on disk (e.g. 'lowrank_U', 'lowrank_V')."""
        return read_tensor(self._parts[name][part])

    def chunks(self, name: str, chunk_elems: int) -> Iterator[torch.Tensor]:
        """Flat chunks of `chunk_elems` elements of the dense delta; streamed from disk when stored dense.

        Counted in elements, not bytes: a compressed AV decodes to another dtype than it is stored in."""
        if self.is_dense(name):
            info = self._parts[name][""]
            yield from read_chunks(info, chunk_elems * info.torch_dtype.itemsize)
            return
        yield from self.tensor(name).reshape(-1).split(chunk_elems)

    def state_dict(self, dtype: torch.dtype | None = None) -> dict[str, torch.Tensor]:
        """All dense deltas in memory (small models, tests, derived vectors)."""
        return {n: self.tensor(n, dtype) for n in self._parts}


def load(path_or_repo_id: str | Path, revision: str | None = None) -> AlignmentVector:
    """An AV from a local folder or a Hub model repo (downloaded with huggingface_hub.snapshot_download)."""
    path = Path(path_or_repo_id)
    if path.is_dir():
        return AlignmentVector(path)
    ref = str(path_or_repo_id)
    if not is_hub_id(ref):
        raise MeavError(f"{ref}: no such alignment-vector folder (nor a Hub repo id ORG/NAME)")

    try:
        local = snapshot_download(ref, revision=revision, repo_type="model")
    except Exception as e:  # network, auth, missing repo: one line naming the repo
        raise MeavError(f"{ref}: cannot download the alignment vector ({type(e).__name__}: {e})") from e
    return AlignmentVector(local, source=ref)
