"""Release an AV folder on the Hub with the project's one publisher (core.hub, as the dataset is), and read
back what an AV folder holds (`info`).

A release is a converted copy, never the folder itself: by default in the base model's own dtype (float32 or
bfloat16: a quarter or an eighth of the exact float64 AV of a float32 base), with the error against the exact
AV measured tensor by tensor (max |error| and relative Frobenius error) and written into its config and card;
`dtype="exact"` releases the stored values. The copy's card names the base by its Hub id (`base_id`, required
when the AV records a local folder) and carries the licence; the source folder is left as it was.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch

from meav.core.atomic import staging_dir
from meav.core.av import AlignmentVector, load
from meav.core.av import codecs as cz
from meav.core.av.card import base_facts, release_text
from meav.core.av.folders import (
    AV_STEM,
    open_checkpoint,
    parse_size,
    plan_shards,
    shard_file_names,
    write_av_config,
    write_index,
)
from meav.core.av.safetensors_stream import CODES, StreamWriter, read_tensor
from meav.core.embedded import embedded_provenance
from meav.core.errors import OptionError
from meav.core.hub import is_hub_id, publish
from meav.vectors.options import PublishAVOptions

INFO_KEYS = (
    "base",
    "base_revision",
    "aligned",
    "domain",
    "target",
    "dtype",
    "num_params",
    "recommended_lambda",
)
RELEASE_DTYPES = {
    "float64": torch.float64,
    "float32": torch.float32,
    "bfloat16": torch.bfloat16,
    "float16": torch.float16,
}
SHARD_SIZE = "2GB"


def release_dtype(av: AlignmentVector, choice: str) -> torch.dtype | None:
    """The dtype to release in (None: the stored values as they are)."""
    if choice == "exact":
        return None
    name = av.config.get("base_dtype") if choice == "base" else choice
    if name not in RELEASE_DTYPES:
        raise OptionError(
            "dtype", f"{av.path}: the AV records no single base dtype ({name!r}): name one or 'exact'"
        )
    return RELEASE_DTYPES[name]


def write_release(av: AlignmentVector, dtype: torch.dtype | None, folder: Path) -> dict[str, Any]:
    """Write the AV's tensors into `folder` in `dtype` (None: copied as stored), tensor by tensor; return the
    measured error of the written values against the exact (stored) AV."""
    ckpt = open_checkpoint(av.path, AV_STEM)
    stored = {str(i.torch_dtype).removeprefix("torch.") for i in ckpt.tensors.values() if i.is_float}
    from_dtype = stored.pop() if len(stored) == 1 else "mixed"
    if dtype is None:
        for f in ckpt.files:
            try:
                os.link(f, folder / f.name)  # same bytes: a hard link where the filesystem allows it
            except OSError:
                shutil.copyfile(f, folder / f.name)
        weight_map = {n: i.file.name for n, i in ckpt.tensors.items()}
        write_index(folder, AV_STEM, weight_map, sum(i.nbytes for i in ckpt.tensors.values()))
        return {
            "dtype": from_dtype,
            "from_dtype": from_dtype,
            "max_abs_error": 0.0,
            "rel_frobenius_error": 0.0,
        }
    code = CODES[dtype]
    entries = [(k, code if i.is_float else i.dtype, i.shape) for k, i in ckpt.tensors.items()]
    shards = plan_shards(entries, parse_size(SHARD_SIZE))
    names = shard_file_names(len(shards), AV_STEM)
    weight_map: dict[str, str] = {}
    by_tensor: dict[str, list[str]] = {}
    for key in ckpt.tensors:
        by_tensor.setdefault(cz.split_key(key)[0], []).append(key)
    converted: dict[str, torch.Tensor] = {}  # parts of the tensor being measured, until each is written
    max_abs = err_sq = norm_sq = 0.0
    total = 0
    for shard, fname in zip(shards, names, strict=True):
        writer = StreamWriter(folder / fname, shard, {"format": "pt"})
        for key, _, _ in shard:
            name = cz.split_key(key)[0]
            if key not in converted:  # first part of a tensor: convert all its parts and measure
                parts = {k: read_tensor(ckpt.tensors[k]) for k in by_tensor[name]}
                conv = {k: t.to(dtype) if t.is_floating_point() else t for k, t in parts.items()}
                exact = cz.decode({cz.split_key(k)[1]: t for k, t in parts.items()}, torch.float64)
                got = cz.decode({cz.split_key(k)[1]: t for k, t in conv.items()}, torch.float64)
                diff = got - exact
                if diff.numel():
                    max_abs = max(max_abs, float(diff.abs().max()))
                err_sq += float(diff.pow(2).sum())
                norm_sq += float(exact.pow(2).sum())
                converted.update(conv)
            t = converted.pop(key)
            writer.write(key, t)
            weight_map[key] = fname
            total += t.numel() * t.element_size()
        writer.close()
    write_index(folder, AV_STEM, weight_map, total)
    return {
        "dtype": str(dtype).removeprefix("torch."),
        "from_dtype": from_dtype,
        "max_abs_error": max_abs,
        "rel_frobenius_error": math.sqrt(err_sq / norm_sq) if norm_sq > 0 else 0.0,
    }


def release_config(av: AlignmentVector, options: PublishAVOptions) -> dict[str, Any]:
    """The released av_config: the source's, with the repo, the base's Hub id, licence and provenance."""
    config = dict(av.config)
    base = str(config.get("base") or "")
    prov = config.get("base_provenance") or embedded_provenance(base)
    if options.base_id is not None and not is_hub_id(options.base_id):
        raise OptionError("base_id", f"{options.base_id!r}: expected a Hub model id ORG/NAME")
    config["hub_repo"] = options.repo
    if prov:
        config["base_provenance"] = prov
    if options.base_id:
        config["base_id"] = options.base_id
    if options.license:
        config["license"] = options.license
    facts = base_facts(config)
    if facts.id is None:
        raise OptionError(
            "base_id",
            f"the AV's base is the local folder {base!r}: pass its Hub id (ORG/NAME) so the card names it",
        )
    config["base_id"] = facts.id
    if facts.license:
        config["license"] = facts.license
    return config


def publish_av(options: PublishAVOptions) -> dict[str, Any]:
    """Write the release (converted copy, config, card) and upload it (or keep it in `options.out`).

    Returns {"url", "folder", "release"}; the source AV folder is never modified."""
    av = load(options.av)  # checks the folder is a complete, readable AV before anything is sent
    dtype = release_dtype(av, options.dtype)
    config = release_config(av, options)

    def build(folder: Path) -> dict[str, Any]:
        release = write_release(av, dtype, folder)
        config["dtype"] = release["dtype"]
        config["release"] = release
        write_av_config(folder, config)
        return release

    if options.out is not None:
        with staging_dir(options.out) as tmp:
            release = build(tmp)
        return {"url": None, "folder": str(options.out), "release": release}
    with tempfile.TemporaryDirectory(dir=av.path.parent, prefix=f".{av.path.name}.release.") as tmp:
        release = build(Path(tmp))
        try:
            url = publish(Path(tmp), options.repo, "model", options.private, options.tag).url
        except OptionError as e:
            raise OptionError({"repo_id": "repo"}.get(e.field, e.field), e.message) from None
    return {"url": url, "folder": None, "release": release}


def describe_release(release: dict[str, Any]) -> str:
    """One line for the CLI: the released dtype and its measured error against the exact AV."""
    converted = release_text(release)
    return f"released in {release['dtype']}, " + (converted or "the exact AV (no conversion)")


def info(av: str) -> dict:
    """The AV's recorded facts: base, domain, target, dtype, size, recommended λ, compression."""
    config = load(av).config
    facts = base_facts(config)
    out = {k: config.get(k) for k in INFO_KEYS}
    out["base_id"] = facts.id
    out["license"] = facts.license
    if facts.provenance:
        out["base_provenance"] = facts.provenance.get("description")
    if config.get("release"):
        out["release"] = describe_release(config["release"])
    return out | {"compression": config.get("compression", {})}
