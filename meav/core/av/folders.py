"""Model and AV folders on disk: sharded safetensors checked before use, the AV folder format, its config.

An AV folder (the artifact the rest of meav and the Hub see):
    av.safetensors.index.json   {"metadata": {"total_size": N}, "weight_map": {key: shard}}
    av-00001-of-0000K.safetensors ...
    av_config.json              base id/revision/fingerprint, aligned id, domain, target, dtype, compression...
    README.md                   model card (regenerated from av_config.json whenever it changes)
Keys are tensor names of the base model; compressed tensors use `name::lowrank_U`/`::lowrank_V` or
`name::sparse_idx`/`::sparse_val` (vectors.compress decodes them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import safetensors
import torch

from meav.core.atomic import staging_dir, write_json
from meav.core.av.card import write_card
from meav.core.av.fingerprint import fingerprint_files
from meav.core.av.safetensors_stream import CODES, DTYPES, TensorInfo, read_header, write_tensors
from meav.core.errors import MeavError
from meav.core.version import __version__

AV_CONFIG = "av_config.json"
AV_STEM = "av"
MODEL_STEM = "model"
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")
WEIGHT_SUFFIXES = (".safetensors", *PICKLE_SUFFIXES)
FORMAT_VERSION = 1


@dataclass
class Checkpoint:
    """A folder of safetensors shards: every tensor's location, checked against the index and the files."""

    folder: Path
    stem: str
    tensors: dict[str, TensorInfo]
    files: list[Path]
    indexed: bool
    config: dict[str, Any] = field(default_factory=dict)

    def by_file(self) -> dict[Path, list[TensorInfo]]:
        out: dict[Path, list[TensorInfo]] = {f: [] for f in self.files}
        for info in self.tensors.values():
            out[info.file].append(info)
        return out


def open_checkpoint(folder: str | Path, stem: str = MODEL_STEM) -> Checkpoint:
    """Open `<stem>.safetensors` or `<stem>.safetensors.index.json` + shards; refuse pickle checkpoints."""
    folder = Path(folder)
    if not folder.is_dir():
        raise MeavError(f"{folder}: not a folder")
    index_path = folder / f"{stem}.safetensors.index.json"
    single = folder / f"{stem}.safetensors"
    if index_path.exists():
        try:
            weight_map = json.loads(index_path.read_text())["weight_map"]
            if not isinstance(weight_map, dict):
                raise TypeError("weight_map is not an object")
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise MeavError(f"{index_path}: corrupt index ({e})") from e
        files = list(dict.fromkeys(folder / s for s in weight_map.values()))
        for f in files:
            if not f.exists():
                raise MeavError(f"{f}: shard missing (listed in {index_path.name})")
        indexed = True
    elif single.exists():
        files, weight_map, indexed = [single], None, False
    else:
        pickles = sorted(p.name for p in folder.iterdir() if p.suffix in PICKLE_SUFFIXES)
        if pickles:
            raise MeavError(
                f"{folder / pickles[0]}: pickle checkpoint refused (safetensors only; it can run code when "
                "loaded): re-save it with save_pretrained(..., safe_serialization=True)"
            )
        raise MeavError(f"{folder}: no {single.name} or {index_path.name}")
    tensors: dict[str, TensorInfo] = {}
    for f in files:
        infos, _ = read_header(f)
        for name, info in infos.items():
            if name in tensors:
                raise MeavError(f"{f}: tensor {name!r} also in {tensors[name].file.name}")
            if weight_map is not None and weight_map.get(name) != f.name:
                raise MeavError(f"{index_path}: tensor {name!r} in {f.name} is not mapped to it")
            tensors[name] = info
    if weight_map is not None:
        missing = [n for n in weight_map if n not in tensors]
        if missing:
            raise MeavError(
                f"{folder / weight_map[missing[0]]}: tensor {missing[0]!r} listed in index but absent"
            )
    config_path = folder / "config.json"
    try:
        config = json.loads(config_path.read_text()) if config_path.exists() else {}
    except json.JSONDecodeError as e:
        raise MeavError(f"{config_path}: corrupt JSON ({e})") from e
    return Checkpoint(folder, stem, tensors, files, indexed, config)


def shard_file_names(n: int, stem: str) -> list[str]:
    """HF-style shard names: `<stem>-00001-of-00003.safetensors`."""
    return [f"{stem}-{i + 1:05d}-of-{n:05d}.safetensors" for i in range(n)]


def plan_shards(entries: list[tuple[str, str, tuple[int, ...]]], max_shard_bytes: int) -> list[list]:
    """Group (name, dtype, shape) entries, in order, into shards of at most `max_shard_bytes` (one tensor at least)."""

    shards: list[list] = [[]]
    size = 0
    for name, dtype, shape in entries:
        n = DTYPES[dtype].itemsize
        for s in shape:
            n *= s
        if shards[-1] and size + n > max_shard_bytes:
            shards.append([])
            size = 0
        shards[-1].append((name, dtype, shape))
        size += n
    return shards


def write_index(folder: Path, stem: str, weight_map: dict[str, str], total_size: int) -> None:
    write_json(
        folder / f"{stem}.safetensors.index.json",
        {"metadata": {"total_size": total_size}, "weight_map": dict(sorted(weight_map.items()))},
    )


def parse_size(text: str | int) -> int:
    """'2GB', '500MB', '20KB' or a byte count (decimal units, as transformers' max_shard_size)."""
    if isinstance(text, int):
        return text
    t = text.strip().upper()
    for unit, mult in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3), ("B", 1)):
        if t.endswith(unit):
            try:
                return int(float(t[: -len(unit)]) * mult)
            except ValueError:
                break
    try:
        return int(t)
    except ValueError:
        raise MeavError(f"shard size {text!r}: expected e.g. 2GB, 500MB or a byte count") from None


def weights_stamp(folder: str | Path) -> str | None:
    """Content fingerprint of a folder's safetensors tensors (~4 KiB read per tensor): an AV retrained or
    re-extracted in place is another AV, a copy is the same one, and its config (which sweeps update) does not
    count. None when the folder has no weights (a Hub id not downloaded yet)."""
    p = Path(folder)
    files = sorted(p.glob("*.safetensors")) if p.is_dir() else []
    infos = [info for f in files for info in read_header(f)[0].values()]
    return fingerprint_files(infos) if infos else None


def read_av_config(path: str | Path) -> dict[str, Any]:
    p = Path(path) / AV_CONFIG
    if not p.exists():
        raise MeavError(f"{path}: not an alignment-vector folder (no {AV_CONFIG})")
    try:
        return json.loads(p.read_text())
    except json.JSONDecodeError as e:
        raise MeavError(f"{p}: corrupt JSON ({e})") from e


def versions() -> dict[str, str]:

    return {
        "meav": __version__,
        "torch": torch.__version__,
        "safetensors": safetensors.__version__,
    }


def write_av_config(folder: Path, config: dict[str, Any]) -> None:
    """Write av_config.json and the model card that is derived from it."""

    write_json(folder / AV_CONFIG, config)
    write_card(folder, config)


def update_av_config(path: str | Path, **fields: Any) -> dict[str, Any]:
    """Merge `fields` into an AV's config (e.g. recommended_lambda after a sweep) and rewrite its card."""
    config = read_av_config(path)
    config.update(fields)
    write_av_config(Path(path), config)
    return config


def save_av(
    tensors: dict[str, Any], config: dict[str, Any], out_dir: str | Path, max_shard_size: str = "2GB"
) -> Path:
    """Write an AV folder from in-memory tensors (derived vectors: shared/residual parts, tests).

    `config` must hold at least `base` (id or path); missing bookkeeping fields are filled in.
    """
    if "base" not in config:
        raise MeavError("save_av: config needs at least 'base' (the base model id or path)")
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    for k, v in tensors.items():
        if v.dtype not in CODES:
            raise MeavError(f"save_av: tensor {k!r} has unsupported dtype {v.dtype}")
    dtypes = sorted({str(v.dtype).removeprefix("torch.") for v in tensors.values() if v.is_floating_point()})
    full = {"recommended_lambda": {}, **config}
    full.update(
        format_version=FORMAT_VERSION,
        dtype=dtypes[0] if len(dtypes) == 1 else "mixed",
        num_tensors=len({k.split("::")[0] for k in tensors}),
        versions=versions(),
    )
    if not any("::" in k for k in tensors):
        full["compression"] = {"method": "none"}
    entries = [(k, CODES[v.dtype], tuple(v.shape)) for k, v in tensors.items()]
    shards = plan_shards(entries, parse_size(max_shard_size))
    names = shard_file_names(len(shards), AV_STEM)
    out_dir = Path(out_dir)
    with staging_dir(out_dir) as tmp:
        weight_map = {}
        for shard, fname in zip(shards, names, strict=True):
            write_tensors(tmp / fname, {e[0]: tensors[e[0]] for e in shard}, {"format": "pt"})
            weight_map.update({e[0]: fname for e in shard})
        total = sum(v.numel() * v.element_size() for v in tensors.values())
        write_index(tmp, AV_STEM, weight_map, total)
        write_av_config(tmp, full)
    return out_dir
