"""Safetensors read and written in chunks, so no step ever holds a whole model (or even a whole tensor).

`safe_open` would memory-map each file; mapped pages that were read count in the process' resident set
until the file is closed, so a 1 GB shard costs 1 GB of RSS. Here the header is parsed and checked once
(offsets, sizes, dtypes: a truncated or corrupt file is caught before any arithmetic) and the data are read
with `os.pread` in fixed-size chunks; the output is written the same way, header first (all shapes are
known before any value is computed). Files written here are plain safetensors: `safe_open` reads them.
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch

from meav.core.errors import MeavError

DTYPES: dict[str, torch.dtype] = {
    "F64": torch.float64,
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I64": torch.int64,
    "I32": torch.int32,
    "I16": torch.int16,
    "I8": torch.int8,
    "U8": torch.uint8,
    "BOOL": torch.bool,
}
CODES = {v: k for k, v in DTYPES.items()}
FLOAT_CODES = {"F64", "F32", "F16", "BF16"}
CHUNK_BYTES = 4 * 1024 * 1024  # small enough that the chunk buffers stay far below the model size
_MAX_HEADER = 100 * 1024 * 1024


@dataclass(frozen=True)
class TensorInfo:
    """Where one tensor lies in a safetensors file (absolute byte offset of its data)."""

    name: str
    file: Path
    dtype: str
    shape: tuple[int, ...]
    offset: int
    nbytes: int

    @property
    def numel(self) -> int:
        n = 1
        for s in self.shape:
            n *= s
        return n

    @property
    def is_float(self) -> bool:
        return self.dtype in FLOAT_CODES

    @property
    def torch_dtype(self) -> torch.dtype:
        return DTYPES[self.dtype]


def read_header(path: str | Path) -> tuple[dict[str, TensorInfo], dict[str, str]]:
    """Parse and check a safetensors header: tensors (in file order) and the free-form metadata."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            raw_len = f.read(8)
            if len(raw_len) < 8:
                raise MeavError(f"{path}: not a safetensors file (shorter than its 8-byte header length)")
            (n,) = struct.unpack("<Q", raw_len)
            if n > _MAX_HEADER or 8 + n > size:
                raise MeavError(f"{path}: corrupt safetensors header (declared length {n}, file size {size})")
            header = json.loads(f.read(n))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        if isinstance(e, FileNotFoundError):
            raise MeavError(f"{path}: file not found") from e
        raise MeavError(f"{path}: corrupt safetensors header ({type(e).__name__}: {e})") from e
    if not isinstance(header, dict):
        raise MeavError(f"{path}: corrupt safetensors header (not a JSON object)")
    metadata = header.pop("__metadata__", None) or {}
    bad = next((name for name, spec in header.items() if not isinstance(spec, dict)), None)
    if bad is not None:
        raise MeavError(f"{path}: corrupt safetensors entry for tensor {bad!r} (not an object)")
    base = 8 + n
    infos: dict[str, TensorInfo] = {}
    for name, spec in sorted(header.items(), key=lambda kv: kv[1].get("data_offsets", [0])[0]):
        try:
            dtype, shape, (start, end) = (
                spec["dtype"],
                tuple(int(s) for s in spec["shape"]),
                spec["data_offsets"],
            )
        except (KeyError, TypeError, ValueError) as e:
            raise MeavError(f"{path}: corrupt safetensors entry for tensor {name!r}") from e
        if dtype not in DTYPES:
            raise MeavError(f"{path}: tensor {name!r} has unsupported dtype {dtype}")
        info = TensorInfo(name, path, dtype, shape, base + start, end - start)
        if info.nbytes != info.numel * DTYPES[dtype].itemsize or start < 0:
            raise MeavError(f"{path}: tensor {name!r} byte range does not match its shape and dtype")
        if base + end > size:
            raise MeavError(
                f"{path}: truncated: tensor {name!r} ends at byte {base + end} but the file has {size} bytes"
            )
        infos[name] = info
    return infos, metadata


def read_chunks(info: TensorInfo, chunk_bytes: int | None = None) -> Iterator[torch.Tensor]:
    """Yield the tensor's values, flattened, in consecutive chunks of about `chunk_bytes` (CHUNK_BYTES).

    One buffer is reused: a yielded chunk is valid until the next one is requested (copy it to keep it).
    Reusing it spares the page faults of a fresh allocation per chunk, which dominated the run time.
    """
    item = info.torch_dtype.itemsize
    step = max(1, (chunk_bytes or CHUNK_BYTES) // item) * item
    buf = bytearray(min(step, info.nbytes))
    view = memoryview(buf)
    fd = os.open(info.file, os.O_RDONLY)
    try:
        for pos in range(0, info.nbytes, step):
            length = min(step, info.nbytes - pos)
            if os.preadv(fd, [view[:length]], info.offset + pos) != length:
                raise MeavError(f"{info.file}: truncated while reading tensor {info.name!r}")
            yield torch.frombuffer(buf, dtype=info.torch_dtype, count=length // item)
    finally:
        os.close(fd)


def read_tensor(info: TensorInfo) -> torch.Tensor:
    """The whole tensor (for small tensors or compression, which needs the full matrix)."""
    fd = os.open(info.file, os.O_RDONLY)
    try:
        return _pread_tensor(fd, info, 0, info.nbytes).reshape(info.shape)
    finally:
        os.close(fd)


def _pread_tensor(fd: int, info: TensorInfo, pos: int, length: int) -> torch.Tensor:
    buf = bytearray(length)
    got = os.preadv(fd, [buf], info.offset + pos)
    if got != length:
        raise MeavError(f"{info.file}: truncated while reading tensor {info.name!r}")
    if length == 0:
        return torch.empty(0, dtype=info.torch_dtype)
    return torch.frombuffer(buf, dtype=info.torch_dtype)


class StreamWriter:
    """Write one safetensors file whose tensor list is known up front, values arriving chunk by chunk."""

    def __init__(self, path: Path, plan: list[tuple[str, str, tuple[int, ...]]], metadata: dict[str, str]):
        header: dict[str, object] = {"__metadata__": dict(metadata)}
        offset = 0
        self._sizes: list[tuple[str, int]] = []
        for name, dtype, shape in plan:
            numel = 1
            for s in shape:
                numel *= s
            nbytes = numel * DTYPES[dtype].itemsize
            header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + nbytes]}
            self._sizes.append((name, nbytes))
            offset += nbytes
        raw = json.dumps(header, separators=(",", ":")).encode()
        raw += b" " * (-len(raw) % 8)
        self.path = path
        self._f = open(path, "wb")
        self._f.write(struct.pack("<Q", len(raw)) + raw)
        self._i = 0
        self._left = self._sizes[0][1] if self._sizes else 0

    def write(self, name: str, chunk: torch.Tensor) -> None:
        """Append the next chunk of tensor `name` (tensors in plan order, chunks in flat order)."""
        while self._left == 0 and self._i < len(self._sizes) and self._sizes[self._i][0] != name:
            self._next()
        if self._i >= len(self._sizes) or self._sizes[self._i][0] != name:
            raise RuntimeError(f"{self.path}: tensor {name!r} written out of plan order")
        data = chunk.detach().contiguous().reshape(-1).view(torch.uint8).numpy()
        if data.nbytes > self._left:
            raise RuntimeError(f"{self.path}: too many bytes for tensor {name!r}")
        self._f.write(memoryview(data))
        self._left -= data.nbytes

    def _next(self) -> None:
        self._i += 1
        self._left = self._sizes[self._i][1] if self._i < len(self._sizes) else 0

    def close(self) -> None:
        """Check every planned byte was written and close (visibility is atomic via the staging folder)."""
        while self._left == 0 and self._i < len(self._sizes):
            self._next()
        if self._i < len(self._sizes):
            raise RuntimeError(f"{self.path}: tensor {self._sizes[self._i][0]!r} incomplete")
        self._f.close()


def write_tensors(path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> None:
    """Small in-memory tensors to one file through the same writer (same header layout everywhere)."""
    plan = [(k, CODES[t.dtype], tuple(t.shape)) for k, t in tensors.items()]
    w = StreamWriter(path, plan, metadata)
    for k, t in tensors.items():
        w.write(k, t)
    w.close()
