"""Facts about a corpus folder, read from its parquet files: what the card's YAML and statistics report.

Everything is computed from the data on disk (never from a pipeline summary), so the card cannot drift from
what `load_dataset` returns.
"""

from __future__ import annotations

import glob
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq
import yaml

from meav.core.corpus import LEVELS, SOURCES, SPLITS, configs_yaml
from meav.core.errors import MeavError

PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


@dataclass
class SplitFacts:
    """One config's split: the files that make it up, rows and in-memory (Arrow) bytes."""

    files: list[Path]
    num_examples: int = 0
    num_bytes: int = 0
    download_size: int = 0


@dataclass
class CorpusFacts:
    """What the card states about the corpus: configs, split sizes, Table 6 counts, response lengths."""

    folder: Path
    configs: list[dict]
    domains: list[str]
    splits: dict[str, dict[str, SplitFacts]] = field(default_factory=dict)  # config -> split -> facts
    by_domain_source: Counter = field(default_factory=Counter)  # (domain, source) -> rows
    lengths: dict[str, dict[str, float]] = field(default_factory=dict)  # level -> statistic -> value
    generators: list[str] = field(default_factory=list)
    num_rows: int = 0


def read_front_matter(readme: Path) -> tuple[dict, str]:
    """YAML header and body of a README.md; ({}, text) when it has no header. Raises MeavError on bad YAML."""

    text = readme.read_text(encoding="utf-8")
    m = re.match(r"^---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(\r?\n|$)", text, re.S)
    if not m:
        return {}, text
    try:
        meta = yaml.safe_load(m.group(1)) or {}
    except yaml.YAMLError as e:
        raise MeavError(f"{readme}: YAML header does not parse: {str(e).splitlines()[0]}") from e
    if not isinstance(meta, dict):
        raise MeavError(f"{readme}: YAML header is not a mapping")
    return meta, text[m.end() :]


def split_files(folder: Path, config: dict) -> dict[str, list[Path]]:
    """split -> files matched by the config's `data_files` patterns (relative to the folder)."""
    out: dict[str, list[Path]] = {}
    data_files = config.get("data_files") or []
    if isinstance(data_files, str | dict):
        data_files = (
            [data_files] if isinstance(data_files, dict) else [{"split": "train", "path": data_files}]
        )
    for item in data_files:
        paths = item.get("path", [])
        for pattern in [paths] if isinstance(paths, str) else paths:
            matches = sorted(Path(p) for p in glob.glob(str(folder / pattern)))
            out.setdefault(item.get("split", "train"), []).extend(matches)
    return out


def corpus_domains(configs: list[dict]) -> list[str]:
    return [c["config_name"] for c in configs if c.get("config_name") not in (None, "all", "default")]


def collect(folder: str | Path) -> CorpusFacts:
    """Read the configs from README.md (or derive them from data/<domain>/) and compute every statistic."""

    folder = Path(folder)
    readme = folder / "README.md"
    meta = read_front_matter(readme)[0] if readme.exists() else {}
    configs = meta.get("configs")
    if not configs:
        domains = sorted(p.name for p in (folder / "data").glob("*") if p.is_dir())
        if not domains:
            raise MeavError(
                f"{folder}: no README.md `configs:` and no data/<domain>/ folders: not a corpus folder"
            )
        configs = configs_yaml(domains)
    facts = CorpusFacts(folder, configs, corpus_domains(configs))
    for config in configs:
        per_split = facts.splits.setdefault(config["config_name"], {})
        for split, files in split_files(folder, config).items():
            sf = per_split.setdefault(split, SplitFacts(files=[]))
            for f in files:
                meta_pq = pq.ParquetFile(f).metadata
                sf.files.append(f)
                sf.num_examples += meta_pq.num_rows
                sf.download_size += f.stat().st_size
                sf.num_bytes += pq.read_table(f).nbytes
    _row_statistics(facts)
    return facts


def _row_statistics(facts: CorpusFacts) -> None:
    """Table 6 counts and per-level lengths over every row of the per-domain configs (each row counted once)."""

    words: dict[str, list[int]] = {lv: [] for lv in LEVELS}
    paras: dict[str, list[int]] = {lv: [] for lv in LEVELS}
    asked: dict[str, list[int]] = {lv: [] for lv in LEVELS}
    generators: set[str] = set()
    seen: set[Path] = set()
    for domain in facts.domains:
        for split in SPLITS:
            for f in facts.splits.get(domain, {}).get(split, SplitFacts([])).files:
                if f in seen:
                    continue
                seen.add(f)
                rows = pq.read_table(f).to_pylist()
                facts.num_rows += len(rows)
                for r in rows:
                    facts.by_domain_source[(r.get("domain") or domain, r.get("source") or "unknown")] += 1
                    if r.get("generator"):
                        generators.add(r["generator"])
                    for lv in LEVELS:
                        text = r.get(lv) or ""
                        words[lv].append(len(text.split()))
                        paras[lv].append(len([p for p in PARAGRAPH_BREAK.split(text.strip()) if p.strip()]))
                        if r.get(f"num_paras_{lv}") is not None:
                            asked[lv].append(int(r[f"num_paras_{lv}"]))
    facts.generators = sorted(generators)
    for lv in LEVELS:
        if not words[lv]:
            continue
        stats = {
            "words_mean": statistics.fmean(words[lv]),
            "words_median": statistics.median(words[lv]),
            "words_sd": statistics.pstdev(words[lv]),
            "paras_mean": statistics.fmean(paras[lv]),
        }
        if asked[lv]:
            stats["asked_min"], stats["asked_max"] = min(asked[lv]), max(asked[lv])
            stats["asked_mean"] = statistics.fmean(asked[lv])
            pairs = list(zip(asked[lv], paras[lv], strict=False))
            stats["paras_match"] = sum(a == p for a, p in pairs) / len(pairs)
        facts.lengths[lv] = stats


def table6(facts: CorpusFacts) -> tuple[list[str], list[list]]:
    """Rows by domain x source in the paper's Table 6 layout (sources as columns, a total row and column)."""
    present = {s for _, s in facts.by_domain_source}  # only the sources the corpus has: no all-zero column
    sources = [s for s in SOURCES if s in present] + sorted(present - set(SOURCES))
    header = [
        "Domain",
        *[
            {"personahub": "PersonaHub", "createpersona": "CreatePersona", "authored": "Authored"}.get(s, s)
            for s in sources
        ],
    ]
    rows = []
    for d in facts.domains:
        counts = [facts.by_domain_source.get((d, s), 0) for s in sources]
        rows.append([d, *counts, sum(counts)])
    totals = [sum(r[i + 1] for r in rows) for i in range(len(sources) + 1)]
    rows.append(["**total**", *totals])
    return [*header, "Total"], rows
