"""`meav card DIR --check`: offline structural validation of a corpus folder and its card.

Everything a consumer's `load_dataset` would trip on is caught here, before publishing: a YAML header that
does not parse, a config or split missing, a `configs` path that matches no file, parquet features that differ
from the card or from the corpus contract, split sizes that disagree with `dataset_info`, and body sections
missing. Every problem is listed (not just the first), each naming the file, config or field at fault.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
from datasets import Features

from meav.core.corpus import SPLITS, features
from meav.core.errors import MeavError
from meav.dataset_cards.card import REQUIRED_SECTIONS
from meav.dataset_cards.stats import read_front_matter, split_files

REQUIRED_KEYS = (
    "pretty_name",
    "license",
    "language",
    "task_categories",
    "size_categories",
    "tags",
    "configs",
)


def check_card(folder: str | Path) -> list[str]:
    """All problems found in `folder` (empty list = the card and data agree)."""
    folder = Path(folder)
    readme = folder / "README.md"
    if not folder.is_dir():
        return [f"{folder}: not a folder"]
    if not readme.exists():
        return [f"{readme}: missing (run `meav card {folder}`)"]
    try:
        meta, body = read_front_matter(readme)
    except MeavError as e:
        return [str(e)]
    if not meta:
        return [f"{readme}: no YAML header (run `meav card {folder}`)"]
    problems = [f"{readme}: YAML field `{k}` missing" for k in REQUIRED_KEYS if not meta.get(k)]
    problems += [f"{readme}: section '{h}' missing" for h in REQUIRED_SECTIONS if h not in body.splitlines()]
    configs = meta.get("configs") or []
    if not isinstance(configs, list) or not all(
        isinstance(c, dict) and c.get("config_name") for c in configs
    ):
        return [*problems, f"{readme}: `configs` must be a list of mappings with `config_name`"]
    problems += _check_configs(folder, configs)
    problems += _check_dataset_info(folder, configs, meta.get("dataset_info"))
    return problems


def _check_configs(folder: Path, configs: list[dict]) -> list[str]:
    """Configs `all` + one per data/<domain>/ folder; each with three splits whose paths match files."""
    problems = []
    names = [c["config_name"] for c in configs]
    on_disk = sorted(p.name for p in (folder / "data").glob("*") if p.is_dir())
    for needed in ["all", *on_disk]:
        if needed not in names:
            problems.append(
                f"configs: config '{needed}' missing (data/{needed}/ exists)"
                if needed != "all"
                else "configs: config 'all' missing"
            )
    for config in configs:
        name = config["config_name"]
        declared = {item.get("split", "train"): item.get("path") for item in _items(config)}
        for split in SPLITS:
            if split not in declared:
                problems.append(f"configs[{name}]: split '{split}' missing")
        for split, paths in declared.items():
            for pattern in [paths] if isinstance(paths, str) else paths or []:
                if not split_files(folder, {"data_files": [{"split": split, "path": pattern}]}).get(split):
                    problems.append(f"configs[{name}] split '{split}': {pattern} matches no file in {folder}")
    return problems


def _items(config: dict) -> list[dict]:
    data_files = config.get("data_files") or []
    if isinstance(data_files, str):
        return [{"split": "train", "path": data_files}]
    return [data_files] if isinstance(data_files, dict) else list(data_files)


def _check_dataset_info(folder: Path, configs: list[dict], info) -> list[str]:
    """Parquet features = card features = corpus contract; split sizes = rows in the files."""

    if info is None:
        return ["dataset_info: missing (run `meav card` to declare features and split sizes)"]
    infos = {i.get("config_name", "default"): i for i in (info if isinstance(info, list) else [info])}
    contract = features()
    problems = []
    for config in configs:
        name = config["config_name"]
        declared = infos.get(name)
        if declared is None:
            problems.append(f"dataset_info: config '{name}' missing")
            continue
        try:
            card_features = Features._from_yaml_list(declared.get("features") or [])
        except (ValueError, TypeError, KeyError) as e:
            problems.append(f"dataset_info[{name}].features: unreadable ({e})")
            card_features = None
        sizes = {s.get("name"): s.get("num_examples") for s in declared.get("splits") or []}
        for split, files in split_files(folder, config).items():
            rows = 0
            for f in files:
                rel = f.relative_to(folder)
                file_features = Features.from_arrow_schema(pq.read_schema(f))
                problems += _compare(
                    f"{rel}", file_features, contract, "the corpus contract (meav.corpus.COLUMNS)"
                )
                if card_features is not None and file_features != card_features:
                    problems += _compare(f"{rel}", file_features, card_features, f"dataset_info[{name}]")
                rows += pq.ParquetFile(f).metadata.num_rows
            if sizes.get(split) != rows:
                problems.append(
                    f"dataset_info[{name}] split '{split}': num_examples {sizes.get(split)} but the files hold {rows} rows"
                )
    for name in infos:
        if name not in {c["config_name"] for c in configs}:
            problems.append(f"dataset_info: config '{name}' has no entry in `configs`")
    return sorted(set(problems), key=problems.index)


def _compare(where: str, got, expected, against: str) -> list[str]:
    """Column-by-column differences between two `datasets.Features`."""
    out = []
    for col in expected:
        if col not in got:
            out.append(f"{where}: column '{col}' missing (declared in {against})")
        elif got[col] != expected[col]:
            out.append(
                f"{where}: column '{col}' is {_dtype(got[col])}, {against} says {_dtype(expected[col])}"
            )
    out += [f"{where}: column '{c}' not declared in {against}" for c in got if c not in expected]
    return out


def _dtype(feature) -> str:
    return getattr(feature, "dtype", None) or type(feature).__name__


def assert_card_ok(folder: str | Path) -> None:
    """Raise MeavError listing every problem (one per line after the first) when the check fails."""
    problems = check_card(folder)
    if problems:
        listed = "\n".join(f"  - {p}" for p in problems)
        raise MeavError(f"{folder}: dataset card check failed ({len(problems)} problem(s)):\n{listed}")
