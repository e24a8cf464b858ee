"""The corpus contract: one row per query, three responses, Hub layout on disk.

Every stage after `synth` reads the corpus through `load_corpus` (a folder or a Hub repo id) and relies only
on the columns declared here, never on synth's internals.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import datasets
import pyarrow.parquet as pq
import yaml
from datasets import Dataset, Features, Value, load_dataset
from datasets import config as ds_config

from meav.core import atomic
from meav.core.errors import MeavError

LEVELS = ("avoidance", "generic", "expert")
PAPER_ORDER = (
    "expert",
    "generic",
    "avoidance",
)  # the order of the paper's table columns: every table uses it
SPLITS = ("train", "validation", "test")
SOURCES = ("personahub", "createpersona", "authored")  # curation method (Table 6), or written by hand

# column -> datasets feature dtype
COLUMNS: dict[str, str] = {
    "id": "string",
    "domain": "string",
    "source": "string",
    "persona_collection": "string",
    "persona": "string",
    "query": "string",
    "avoidance": "string",
    "generic": "string",
    "expert": "string",
    "num_paras_avoidance": "int32",
    "num_paras_generic": "int32",
    "num_paras_expert": "int32",
    "generator": "string",
    "lineage_root": "string",
    "lineage_depth": "int32",
    "lineage_seed": "int32",
}


def normalized_text(text: str) -> str:
    """Lower case, punctuation dropped, whitespace collapsed: what makes two queries the same query."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def row_id(domain: str, query: str) -> str:
    """A row's stable id: hash of the domain and the normalised query (the same for every corpus source)."""
    return hashlib.sha256(f"{domain}\n{normalized_text(query)}".encode()).hexdigest()[:16]


def features():
    """The corpus schema as `datasets.Features`."""

    return Features({name: Value(dtype) for name, dtype in COLUMNS.items()})


def data_files(domain: str, split: str) -> str:
    """Path, inside a corpus folder, of one domain's split (one parquet file per domain and split)."""
    return f"data/{domain}/{split}-00000-of-00001.parquet"


def configs_yaml(domains: list[str]) -> list[dict]:
    """The `configs:` block of the card: `all` plus one config per domain, each with the three splits."""
    configs = [
        {
            "config_name": "all",
            "default": True,
            "data_files": [{"split": s, "path": f"data/*/{s}-*.parquet"} for s in SPLITS],
        }
    ]
    for d in domains:
        configs.append(
            {"config_name": d, "data_files": [{"split": s, "path": data_files(d, s)} for s in SPLITS]}
        )
    return configs


def load_corpus(
    source: str | Path, config: str = "all", split: str | None = None, revision: str | None = None
):
    """Load a corpus folder or Hub repo with `datasets.load_dataset`, checking the columns stages rely on."""

    src = str(source)
    if Path(src).exists() and not (Path(src) / "README.md").exists():
        raise MeavError(f"{src}: not a corpus folder (no README.md with a `configs:` block)")
    kwargs = {}
    if Path(src).is_dir() and (Path(src) / "data").is_dir():
        # datasets refuses a config with a missing split in words that do not name it; name it here
        where = "*" if config == "all" else config
        known = sorted(p.name for p in (Path(src) / "data").iterdir() if p.is_dir())
        if config != "all" and config not in known:
            raise MeavError(f"{src}: no domain {config!r} (the corpus has: {', '.join(known)})")
        missing = [s for s in SPLITS if not any((Path(src) / "data").glob(f"{where}/{s}-*.parquet"))]
        if missing:
            raise MeavError(f"{src}: no {missing[0]!r} split (no data/{where}/{missing[0]}-*.parquet)")
    if Path(src).is_dir():
        # datasets caches a local folder under its name and config, not its content: two corpora called
        # "corpus" (or one regenerated in place) would share a stale cache. Key the cache by the files.

        h = hashlib.sha256()
        for f in sorted(Path(src).rglob("*.parquet")):
            st = f.stat()
            h.update(f"{f.resolve()}:{st.st_size}:{st.st_mtime_ns}".encode())
        kwargs["cache_dir"] = str(Path(ds_config.HF_DATASETS_CACHE) / "meav-local" / h.hexdigest()[:16])
    quiet = not datasets.are_progress_bars_disabled()
    if quiet:  # a corpus load is a step of a meav command: its own bars are noise on the command's stderr
        datasets.disable_progress_bars()
    try:
        ds = load_dataset(src, config, split=split, revision=revision, **kwargs)
    except ValueError as e:
        raise MeavError(f"{src}: cannot load config {config!r}: {str(e).splitlines()[0]}") from e
    except FileNotFoundError as e:
        raise MeavError(f"{src}: {str(e).splitlines()[0]}") from e
    finally:
        if quiet:
            datasets.enable_progress_bars()
    parts = {split: ds} if split else dict(ds)
    for name, part in parts.items():
        missing = [c for c in ("id", "domain", "query", *LEVELS) if c not in part.column_names]
        if missing:
            raise MeavError(f"{src} [{config}/{name}]: missing column(s) {', '.join(missing)}")
    return ds


def write_corpus(rows_by_split: dict[str, list[dict]], out_dir: str | Path, domains: list[str]) -> None:
    """Write rows as a Hub-layout dataset folder: data/<domain>/<split>-*.parquet plus a minimal README.md.

    Every config has the three splits, so every (domain, split) must hold at least one row (an empty parquet
    file is not readable by `datasets`). The README carries only the YAML `configs:` block; `meav card` writes
    the full card.
    """

    out = Path(out_dir)
    feats = features()
    for domain in domains:
        for split in SPLITS:
            rows = [r for r in rows_by_split.get(split, []) if r["domain"] == domain]
            if not rows:
                raise MeavError(
                    f"{out}: no {domain} rows for the {split} split (each config needs all three)"
                )
            table = Dataset.from_list(rows, features=feats)
            target = out / data_files(domain, split)
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.tmp")
            pq.write_table(table.data.table, tmp)
            tmp.replace(target)
    header = yaml.safe_dump({"configs": configs_yaml(domains)}, sort_keys=False)
    atomic.write_text(out / "README.md", f"---\n{header}---\n")
