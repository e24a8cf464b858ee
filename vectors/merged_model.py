"""θ = θ_base + Σ_d λ_d·θ_AV_d (paper eqs. 2–3) written to disk, shard by shard, chunk by chunk.

The output keeps the base's file layout (same shard names, same index); tokenizer and config files are
copied. The base is checked against each AV first: names and shapes always, the fingerprint unless forced.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import torch

from meav.core.atomic import staging_dir, write_json
from meav.core.av import load
from meav.core.av import safetensors_stream as ss
from meav.core.av.fingerprint import SCHEME, fingerprint_files
from meav.core.av.folders import WEIGHT_SUFFIXES, Checkpoint, open_checkpoint
from meav.core.av.safetensors_stream import StreamWriter, read_chunks, read_header
from meav.core.av.vector import AlignmentVector
from meav.core.errors import MeavError
from meav.core.named import parse_named_avs, parse_named_lambdas
from meav.core.progress import track
from meav.vectors.extraction import resolve_checkpoint
from meav.vectors.options import ApplyOptions

log = logging.getLogger(__name__)
STEERING_FILE = "meav_steering.json"


def check_base(ckpt: Checkpoint, av: AlignmentVector, *, force: bool, label: str | None = None) -> None:
    """Refuse an AV whose tensors do not fit the base, or (unless `force`) whose recorded base differs."""
    label = label or str(ckpt.folder)
    for name in av.names():
        info = ckpt.tensors.get(name)
        if info is None or not info.is_float:
            raise MeavError(f"tensor {name!r} of {av.path} is not a floating-point tensor of base {label}")
        if tuple(info.shape) != tuple(av.shape(name)):
            raise MeavError(
                f"tensor {name!r}: shape {list(av.shape(name))} in {av.path} vs {list(info.shape)} in base {label}"
            )
    recorded = av.config.get("base_fingerprint")
    if not recorded or not recorded.startswith(SCHEME + ":"):
        log.warning("%s records no comparable base fingerprint: base not checked", av.path)
        return
    actual = f"{SCHEME}:{fingerprint_files(ckpt.tensors[n] for n in av.names())}"
    if actual != recorded:
        msg = (
            f"base {label} is not the model {av.config.get('base')!r} that {av.name} was extracted from "
            f"(weights fingerprint {actual.split(':')[1][:12]} ≠ {recorded.split(':')[1][:12]})"
        )
        if not force:
            raise MeavError(msg + "; --force (force=True) applies it anyway")  # a runtime failure: exit 1
        log.warning("%s; applying anyway (force)", msg)


def apply(options: ApplyOptions) -> Path:
    """Write base + Σ λ·AV to `out` (atomically); float32 tensors are summed in float64, others in float32."""
    refs = parse_named_avs(options.av)
    lambdas = parse_named_lambdas(options.lambda_, list(refs))
    weights = [(name, load(ref), lambdas.get(name, 1.0)) for name, ref in refs.items()]
    base, out, force = options.base, options.out, options.force
    base_dir, base_id, base_rev = resolve_checkpoint(base)
    ckpt = open_checkpoint(base_dir)
    for _, av, _ in weights:
        check_base(ckpt, av, force=force, label=base_id)
    out = Path(out)
    if out.resolve() == base_dir.resolve():
        raise MeavError(f"{out}: output folder is the base folder")
    with staging_dir(out) as tmp:
        for path, infos in track(ckpt.by_file().items(), f"apply → {out.name}"):
            _, metadata = read_header(path)
            writer = StreamWriter(tmp / path.name, [(i.name, i.dtype, i.shape) for i in infos], metadata)
            for info in infos:
                terms = [
                    (av, src, lam) for _, av, lam in weights if lam != 0 and (src := _source(av, info.name))
                ]
                if not info.is_float or not terms:
                    for chunk in read_chunks(info):
                        writer.write(info.name, chunk)
                    continue
                work = torch.float64 if info.dtype in ("F32", "F64") else torch.float32
                elems = ss.CHUNK_BYTES // 8
                streams = [(av.chunks(src, elems), lam) for av, src, lam in terms]
                for chunk in read_chunks(info, elems * info.torch_dtype.itemsize):
                    acc = chunk.to(work, copy=True)
                    for stream, lam in streams:
                        acc.add_(next(stream).to(work), alpha=lam)
                    writer.write(info.name, acc.to(info.torch_dtype))
            writer.close()
        for f in sorted(base_dir.iterdir()):
            if f.is_file() and not f.name.endswith(WEIGHT_SUFFIXES) and f.name != STEERING_FILE:
                shutil.copy2(f, tmp / f.name)
        steering = {
            "base": base_id,
            "base_revision": base_rev,
            "alignment_vectors": [
                {
                    "name": name,
                    "av": av.source,
                    "lambda": lam,
                    "domain": av.config.get("domain"),
                    "target": av.config.get("target"),
                }
                for name, av, lam in weights
            ],
        }
        write_json(tmp / STEERING_FILE, steering)
    return out


def _source(av: AlignmentVector, name: str) -> str | None:
    """The AV tensor that changes base tensor `name` (an output embedding tied to the input one included)."""
    if name in av._parts:
        return name
    alias = av.config.get("tied_weights", {}).get(name)
    return alias if alias in av._parts else None


def read_steering(folder: str | Path) -> dict:
    """The record of which AVs (and λ) produced a model folder written by apply."""
    return json.loads((Path(folder) / STEERING_FILE).read_text())
