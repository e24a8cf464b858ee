"""AV = θ_aligned − θ_base (paper eq. 1), streamed tensor by tensor and chunk by chunk.

Arithmetic in float64 when the inputs are float32 (or float64), so base + 1·AV gives the aligned weights
back exactly; float32 otherwise. Peak memory: a few 16 MB chunks (dense) or one output shard (compressed).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import torch
from huggingface_hub import snapshot_download

from meav.core.atomic import staging_dir
from meav.core.av import codecs as cz
from meav.core.av.fingerprint import SCHEME, fingerprint_files
from meav.core.av.folders import (
    AV_STEM,
    FORMAT_VERSION,
    Checkpoint,
    open_checkpoint,
    parse_size,
    plan_shards,
    shard_file_names,
    versions,
    write_av_config,
    write_index,
)
from meav.core.av.lora import INPUT_EMBEDDINGS
from meav.core.av.safetensors_stream import (
    CODES,
    StreamWriter,
    TensorInfo,
    read_chunks,
    read_tensor,
    write_tensors,
)
from meav.core.config import read_yaml
from meav.core.embedded import embedded_model_path
from meav.core.errors import MeavError
from meav.core.hub import is_hub_id
from meav.core.progress import track
from meav.vectors.options import ExtractOptions

OUT_DTYPES = {
    "auto": None,
    "float64": torch.float64,
    "float32": torch.float32,
    "bfloat16": torch.bfloat16,
    "float16": torch.float16,
}


def resolve_checkpoint(ref: str | Path, revision: str | None = None) -> tuple[Path, str, str | None]:
    """(local folder, id to record, revision): 'embedded' → its cached folder; a local path as is; else a Hub
    repo id via snapshot_download."""
    if str(ref) == "embedded":
        ref = embedded_model_path()
    path = Path(ref)
    if path.exists():
        m = re.search(r"models--([^/]+)--([^/]+)/snapshots/([0-9a-f]{40})", str(path.resolve()))
        return (path, f"{m[1]}/{m[2]}", m[3]) if m else (path, str(ref), revision)
    if is_hub_id(str(ref)):
        try:
            local = snapshot_download(
                str(ref),
                revision=revision,
                allow_patterns=["*.safetensors", "*.json", "*.txt", "*.model", "*.jinja", "*.md"],
            )
        except Exception as e:  # network, auth, missing repo: one line naming the repo
            raise MeavError(f"{ref}: cannot download from the Hub ({type(e).__name__}: {e})") from e
        return resolve_checkpoint(local)
    raise MeavError(f"{ref}: no such folder (nor a Hub repo id)")


def tied_aliases(ckpt: Checkpoint) -> dict[str, str]:
    """Output-embedding names that are the input embedding (tie_word_embeddings), stored once."""
    cfg = ckpt.config
    tied = cfg.get("tie_word_embeddings", cfg.get("text_config", {}).get("tie_word_embeddings", False))
    if not tied:
        return {}
    emb = [n for n in ckpt.tensors if n.endswith(INPUT_EMBEDDINGS)]
    return {"lm_head.weight": emb[0]} if emb else {}


def paired_tensors(
    base: Checkpoint, aligned: Checkpoint
) -> tuple[list[tuple[TensorInfo, TensorInfo]], list[str], dict[str, str]]:
    """Check names/shapes/dtypes agree; return float pairs (base file order), skipped names, tied aliases."""
    aliases = tied_aliases(base) or tied_aliases(aligned)
    b = {n: i for n, i in base.tensors.items() if n not in aliases}
    a = {n: i for n, i in aligned.tensors.items() if n not in aliases}
    for name in sorted(set(b) ^ set(a)):
        where, other = (base.folder, aligned.folder) if name in b else (aligned.folder, base.folder)
        raise MeavError(f"tensor {name!r} is in {where} but not in {other}: not the same architecture")
    pairs, skipped = [], []
    for name, bi in b.items():
        ai = a[name]
        if bi.shape != ai.shape:
            raise MeavError(
                f"tensor {name!r}: shape {list(bi.shape)} in {base.folder} vs {list(ai.shape)} in {aligned.folder}"
            )
        if bi.dtype != ai.dtype:
            raise MeavError(
                f"tensor {name!r}: dtype {bi.dtype} in {base.folder} vs {ai.dtype} in {aligned.folder}"
            )
        if bi.is_float:
            pairs.append((bi, ai))
        else:
            skipped.append(name)
    return pairs, skipped, aliases


def extract(options: ExtractOptions) -> dict[str, Any]:
    """Write the AV folder `options.out` (atomically) and return its av_config."""
    o = options
    compression = cz.Compression(rank=o.rank, energy=o.energy, trim=o.trim, dare=o.dare, seed=o.seed)
    extra: dict[str, Any] = {"dataset": o.dataset}
    if o.recipe is not None:
        extra["recipe"] = read_yaml(o.recipe)
    domain, target, dtype, out = o.domain, o.target, o.dtype, o.out
    base_dir, base_id, base_rev = resolve_checkpoint(o.base)
    aligned_dir, aligned_id, aligned_rev = resolve_checkpoint(o.aligned)
    bck, ack = open_checkpoint(base_dir), open_checkpoint(aligned_dir)
    pairs, skipped, aliases = paired_tensors(bck, ack)
    if not pairs:
        raise MeavError(f"{base_dir}: no floating-point tensors to subtract")
    wide = all(b.dtype in ("F32", "F64") for b, _ in pairs)
    out_dtype = OUT_DTYPES[dtype] or (torch.float64 if wide else torch.float32)
    # float64 only when it is kept: a float32 result of the float64 difference is the correctly rounded
    # float32 subtraction anyway (IEEE subtraction rounds the exact difference once)
    work = torch.float64 if out_dtype == torch.float64 else torch.float32
    shard_bytes = parse_size(o.max_shard_size)
    with staging_dir(out) as tmp:
        if compression.method == "none":
            weight_map, total = _write_dense(pairs, tmp, work, out_dtype, shard_bytes)
            summary = {}
        else:
            weight_map, total, summary = _write_compressed(
                pairs, tmp, work, out_dtype, shard_bytes, compression
            )
        write_index(tmp, AV_STEM, weight_map, total)
        config = {
            "format_version": FORMAT_VERSION,
            "base": base_id,
            "base_revision": base_rev,
            "base_fingerprint": f"{SCHEME}:{fingerprint_files(b for b, _ in pairs)}",
            "aligned": aligned_id,
            "aligned_revision": aligned_rev,
            "domain": domain,
            "target": target,
            "dtype": str(out_dtype).removeprefix("torch."),
            "base_dtype": _dtype_name({b.torch_dtype for b, _ in pairs}),
            "compression": {**compression.describe(), **summary},
            "tied_weights": aliases,
            "skipped_tensors": skipped,
            "num_tensors": len(pairs),
            "num_params": sum(b.numel for b, _ in pairs),
            "architectures": bck.config.get("architectures"),
            "recommended_lambda": {},
            "versions": versions(),
            **(extra or {}),
        }
        write_av_config(tmp, config)
    return config


def _dtype_name(dtypes: set[torch.dtype]) -> str:
    return str(next(iter(dtypes))).removeprefix("torch.") if len(dtypes) == 1 else "mixed"


def _write_dense(pairs, folder: Path, work: torch.dtype, out_dtype: torch.dtype, shard_bytes: int):
    code = CODES[out_dtype]
    entries = [(b.name, code, b.shape) for b, _ in pairs]
    by_name = {b.name: (b, a) for b, a in pairs}
    shards = plan_shards(entries, shard_bytes)
    names = shard_file_names(len(shards), AV_STEM)
    weight_map, total = {}, 0
    wa = wb = torch.empty(0, dtype=work)
    for shard, fname in zip(shards, names, strict=True):
        writer = StreamWriter(folder / fname, shard, {"format": "pt"})
        for name, _, _ in track(shard, f"extract {fname}"):
            b, a = by_name[name]
            for bc, ac in zip(read_chunks(b), read_chunks(a), strict=True):
                n = bc.numel()
                if wa.numel() < n:
                    wa, wb = torch.empty(n, dtype=work), torch.empty(n, dtype=work)
                diff = wa[:n].copy_(ac).sub_(wb[:n].copy_(bc))  # reused buffers: no page faults per chunk
                writer.write(name, diff.to(out_dtype))
            weight_map[name] = fname
            total += b.numel * out_dtype.itemsize
        writer.close()
    return weight_map, total


def _write_compressed(pairs, folder: Path, work, out_dtype, shard_bytes: int, spec: cz.Compression):
    """Whole tensors (SVD and top-k need them), buffered up to one shard, then renamed -of-N at the end."""
    buffered: dict[str, torch.Tensor] = {}
    files: list[tuple[Path, list[str]]] = []
    per_tensor: dict[str, dict] = {}

    def flush() -> None:
        if buffered:
            path = folder / f".part-{len(files):05d}.safetensors"
            write_tensors(path, buffered, {"format": "pt"})
            files.append((path, list(buffered)))
            buffered.clear()

    size = total = 0
    for b, a in track(pairs, "extract (compressing)"):
        delta = read_tensor(a).to(work) - read_tensor(b).to(work)
        parts = cz.encode(b.name, delta, spec, out_dtype)
        per_tensor[b.name] = cz.stats(delta, parts)
        n = sum(p.numel() * p.element_size() for p in parts.values())
        if buffered and size + n > shard_bytes:
            flush()
            size = 0
        buffered.update(parts)
        size += n
        total += n
    flush()
    weight_map = {}
    for (path, keys), fname in zip(files, shard_file_names(len(files), AV_STEM), strict=True):
        path.rename(folder / fname)
        weight_map.update(dict.fromkeys(keys, fname))
    return weight_map, total, cz.summarize(per_tensor)
