"""`meav card DIR`: the dataset card (README.md) of a corpus folder, built with huggingface_hub's DatasetCard.

The YAML header is what the Hub and `datasets` read: `configs` (kept as the corpus wrote them) decides which
files make each config and split, `dataset_info` declares features and split sizes (verified by `load_dataset`).
The body is rendered from a Jinja template with statistics computed from the parquet files, so the same data
always gives the same bytes (re-publishing an unchanged folder creates no commit).
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
from datasets import DatasetInfo, Features, SplitDict, SplitInfo
from datasets.info import DatasetInfosDict
from huggingface_hub import DatasetCard, DatasetCardData

from meav.core import atomic
from meav.core.corpus import COLUMNS, LEVELS, SPLITS, features
from meav.core.tables import markdown_table
from meav.core.version import __version__
from meav.dataset_cards import sections
from meav.dataset_cards.stats import CorpusFacts, collect, table6

TEMPLATE = Path(__file__).parent / "templates" / "dataset_card.md.jinja"
DEFAULT_LICENSE = "cc-by-nc-sa-4.0"  # PersonaHub personas are CC BY-NC-SA 4.0; derived data inherits it
DEFAULT_PRETTY_NAME = "MEAV three-level domain preference corpus"
AUTHORED_PRETTY_NAME = "meav reference corpus (authored three-level domain preferences)"
PLACEHOLDER_REPO = "ORG/NAME"
# Headings `meav card --check` requires in the body (the annotation section is always written, possibly empty).
REQUIRED_SECTIONS = (
    "## Dataset description",
    "## How to load",
    "## Schema",
    "## Statistics",
    "## Provenance",
    "## Annotation",
    "## Limitations and biases",
    "## License",
    "## Citation",
)
COLUMN_DOCS = {
    "id": "Stable hash of domain + normalised query; also decides the split.",
    "domain": "medical, financial or legal (or a domain added by the recipe).",
    "source": "Persona curation method: `personahub` or `createpersona` (paper, Table 6).",
    "persona_collection": "The persona collection actually sampled (a dataset id or a local file).",
    "persona": "The persona the query is written for.",
    "query": "First-person, one-paragraph user query.",
    "avoidance": "Response that declines and refers to a professional.",
    "generic": "Response with general, non-specific information.",
    "expert": "Response with specific, expert-level advice.",
    "num_paras_avoidance": "Paragraph count requested for the avoidance response (drawn at random).",
    "num_paras_generic": "Paragraph count requested for the generic response (drawn at random).",
    "num_paras_expert": "Paragraph count requested for the expert response (drawn at random).",
    "generator": "Model id that wrote the query and responses.",
    "lineage_root": "CreatePersona: id of the root persona (empty for PersonaHub rows).",
    "lineage_depth": "CreatePersona: generation depth below the root (empty for PersonaHub rows).",
    "lineage_seed": "CreatePersona: seed of the randomised run (empty for PersonaHub rows).",
}


def authored_meta(folder: Path) -> dict | None:
    """`reference_meta.json` of an authored corpus (meav reference build), else None (a generated corpus)."""
    path = Path(folder) / "reference_meta.json"
    if not path.is_file():
        return None
    meta = json.loads(path.read_text(encoding="utf-8"))
    return meta if meta.get("kind") == "authored" else None


def size_category(n: int) -> str:
    """The Hub's size bucket for n rows."""
    bounds = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")]
    return next((label for bound, label in bounds if n < bound), "1M<n<10M")


def dataset_infos(facts: CorpusFacts):
    """`datasets.DatasetInfosDict`, one entry per config: features from the parquet schema, split sizes counted."""

    infos = DatasetInfosDict()
    for config in facts.configs:
        name = config["config_name"]
        per_split = facts.splits.get(name, {})
        files = [f for s in per_split.values() for f in s.files]
        feats = Features.from_arrow_schema(pq.read_schema(files[0])) if files else features()
        splits = SplitDict()
        for split in [s for s in SPLITS if s in per_split] + [s for s in per_split if s not in SPLITS]:
            sf = per_split[split]
            splits.add(SplitInfo(name=split, num_bytes=sf.num_bytes, num_examples=sf.num_examples))
        infos[name] = DatasetInfo(
            features=feats,
            splits=splits,
            download_size=sum(s.download_size for s in per_split.values()),
            dataset_size=sum(s.num_bytes for s in per_split.values()),
        )
    return infos


def build_card(
    folder: str | Path,
    repo_id: str | None = None,
    license: str | None = None,
    pretty_name: str | None = None,
):
    """The `DatasetCard` for a corpus folder (not written): YAML metadata + body with computed statistics."""
    authored = authored_meta(folder)
    license = license or (authored or {}).get("license") or DEFAULT_LICENSE

    folder = Path(folder)
    facts = collect(folder)
    domains = facts.domains
    card_data = DatasetCardData(
        pretty_name=pretty_name or (AUTHORED_PRETTY_NAME if authored else DEFAULT_PRETTY_NAME),
        license=license,
        language=["en"],
        language_creators=["expert-generated" if authored else "machine-generated"],
        annotations_creators=["expert-generated" if authored else "machine-generated"],
        multilinguality="monolingual",
        size_categories=[size_category(facts.num_rows)],
        source_datasets=["proj-persona/PersonaHub"]
        if any(s == "personahub" for _, s in facts.by_domain_source)
        else None,
        task_categories=["text-generation"],
        tags=[
            "preference",
            "dpo",
            "authored" if authored else "synthetic",
            "alignment-vectors",
            "arxiv:2410.19206",
            *domains,
        ],
        configs=facts.configs,
    )
    dataset_infos(facts).to_dataset_card_data(card_data)
    header, rows = table6(facts)
    license_note = (
        ""
        if license == DEFAULT_LICENSE or authored
        else f" The license `{license}` was chosen when the card was built; it must stay compatible with "
        "those terms for any PersonaHub-derived rows."
    )
    return DatasetCard.from_template(
        card_data,
        template_path=str(TEMPLATE),
        pretty_name=pretty_name or (AUTHORED_PRETTY_NAME if authored else DEFAULT_PRETTY_NAME),
        repo_id=repo_id or PLACEHOLDER_REPO,
        meav_version=__version__,
        domains_text=", ".join(domains),
        domains_count=len(domains),
        first_domain=domains[0] if domains else "all",
        configs_text=", ".join(f"`{c['config_name']}`" for c in facts.configs),
        schema_table=markdown_table(
            ["Column", "Type", "Description"],
            [[f"`{c}`", t, COLUMN_DOCS.get(c, "")] for c, t in COLUMNS.items()],
        ),
        num_rows=f"{facts.num_rows:,}",
        table6=markdown_table(header, rows),
        splits_table=_splits_table(facts),
        lengths_table=_lengths_table(facts),
        authored=bool(authored),
        purpose=(authored or {}).get("purpose", ""),
        generation=sections.authoring_section(authored)
        if authored
        else sections.generation_section(folder, facts.generators),
        annotation=sections.annotation_section(folder)
        or "No annotation report accompanies this build (`meav annotate report` writes one beside the data).",
        license=license,
        license_note=license_note,
    )


def _splits_table(facts: CorpusFacts) -> str:
    rows = []
    for config in facts.configs:
        per_split = facts.splits.get(config["config_name"], {})
        counts = [per_split[s].num_examples if s in per_split else 0 for s in SPLITS]
        rows.append([f"`{config['config_name']}`", *counts, sum(counts)])
    return markdown_table(["Config", *SPLITS, "Total"], rows)


def _lengths_table(facts: CorpusFacts) -> str:
    rows = []
    for lv in LEVELS:
        s = facts.lengths.get(lv)
        if not s:
            continue
        asked = f"{s['asked_min']}–{s['asked_max']} (mean {s['asked_mean']:.2f})" if "asked_min" in s else "—"
        match = f"{100 * s['paras_match']:.0f}%" if "paras_match" in s else "—"
        rows.append([lv, s["words_mean"], s["words_median"], s["words_sd"], s["paras_mean"], asked, match])
    header = [
        "Level",
        "Words (mean)",
        "Words (median)",
        "Words (sd)",
        "Paragraphs (mean)",
        "Requested",
        "= requested",
    ]
    return markdown_table(header, rows)


def write_card(folder: str | Path, **kwargs) -> Path:
    """Build the card and write it atomically to `folder/README.md`; returns the path."""
    card = build_card(folder, **kwargs)
    path = Path(folder) / "README.md"
    text = str(card)
    atomic.write_text(path, text if text.endswith("\n") else text + "\n")
    return path
