"""`meav card`: the card is built from the data, round-trips through huggingface_hub, and --check lists faults."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from meav.core.corpus import SPLITS, configs_yaml, data_files
from meav.dataset_cards.card import REQUIRED_SECTIONS, write_card
from meav.dataset_cards.check import check_card
from tests.toy_corpus import DOMAINS

SYNTH_META = {
    "meav_version": "0.1.0",
    "backend": "anthropic:claude-sonnet-4-5",
    "models": {"queries": "claude-sonnet-4-5", "responses": "claude-sonnet-4-5"},
    "seeds": {"recipe": 0, "createpersona": [11, 22, 33]},
    "prompts": {
        "expert": "You are a {domain_expert}. Answer in {num_paras} paragraphs using {solution_lingo}."
    },
    "drops": {"empty": 2, "near_duplicate": 5},
    "tokens": {"calls": 12, "input_tokens": 1200, "output_tokens": 3400, "cost_usd": None},
    "recipe": {"personas": {"n": 7000}},
    "wall_time_s": 12.5,
}
ANNOTATION = {  # the shape `meav annotate report` writes to annotation/report.json
    "annotators": ["ann1", "ann2", "ann3"],
    "kappa_pairs": {"ann1|ann2": 0.9, "ann1|ann3": 0.8, "ann2|ann3": 0.7},
    "kappa_items": {"ann1|ann2": 45, "ann1|ann3": 45, "ann2|ann3": 45},
    "kappa_mean": 0.8,
    "ci95": {"kappa_pairs": {"ann1|ann2": [0.8, 0.97]}, "kappa_mean": [0.7, 0.9]},
    "fleiss_kappa": 0.79,
    "confusion": {
        "rows": ["avoidance", "generic", "expert"],
        "cols": ["avoidance", "generic", "expert"],
        "values": [[1.0, 0.0, 0.0], [0.0667, 0.8333, 0.1], [0.0, 0.1333, 0.8667]],
        "counts": [[30, 0, 0], [2, 25, 3], [0, 4, 26]],
    },
}


def front_matter(readme: Path) -> dict:
    return yaml.safe_load(readme.read_text().split("---\n")[1])


def rewrite_front_matter(readme: Path, change) -> None:
    _, header, body = readme.read_text().split("---\n", 2)
    meta = yaml.safe_load(header)
    change(meta)
    readme.write_text("---\n" + yaml.safe_dump(meta, sort_keys=False) + "---\n" + body)


@pytest.fixture
def corpus(toy_corpus, tmp_path) -> Path:
    """A private copy of the toy corpus with its card written."""
    folder = shutil.copytree(toy_corpus, tmp_path / "corpus")
    write_card(folder, repo_id="org/toy")
    return folder


def test_card_yaml_round_trips_and_matches_the_data(toy_corpus, tmp_path):
    from huggingface_hub import DatasetCard

    folder = shutil.copytree(toy_corpus, tmp_path / "corpus")
    (folder / "synth_meta.json").write_text(json.dumps(SYNTH_META))
    (folder / "annotation").mkdir()
    (folder / "annotation" / "report.json").write_text(json.dumps(ANNOTATION))
    write_card(folder, repo_id="org/toy")

    card = DatasetCard.load(folder / "README.md")
    data = card.data.to_dict()
    assert data["license"] == "cc-by-nc-sa-4.0"
    assert data["language"] == ["en"] and data["task_categories"] == ["text-generation"]
    assert data["size_categories"] == ["n<1K"]
    assert data["configs"] == configs_yaml(DOMAINS)  # the corpus's configs are kept as written
    infos = {i["config_name"]: i for i in data["dataset_info"]}
    for domain in DOMAINS:
        sizes = {s["name"]: s["num_examples"] for s in infos[domain]["splits"]}
        assert sizes == {s: pq.ParquetFile(folder / data_files(domain, s)).metadata.num_rows for s in SPLITS}
    assert sum(s["num_examples"] for s in infos["all"]["splits"]) == 30
    assert [f["name"] for f in infos["legal"]["features"]][:3] == ["id", "domain", "source"]

    text = card.text
    for heading in REQUIRED_SECTIONS:
        assert heading in text.splitlines()
    assert "| medical | 5 | 5 | 10 |" in text  # Table 6 layout: toy rows alternate the two sources
    assert "| **total** | 15 | 15 | 30 |" in text
    assert 'load_dataset("org/toy", "medical")' in text
    assert "arXiv:2410.19206" in text and "@article{shahriar2024inference" in text
    assert "CC BY-NC-SA 4.0" in text
    assert "anthropic:claude-sonnet-4-5" in text and "{num_paras}" in text and "near_duplicate" in text
    assert (
        "| ann1 / ann2 | 0.90 | [0.800, 0.970] | 45 |" in text
        and "| **mean** | 0.80 | [0.700, 0.900] |" in text
    )
    assert "| generic | 6.67% | 83.33% | 10.00% | 30 |" in text
    assert "fleiss_kappa: 0.79" in text
    assert "| output_tokens | 3,400 |" in text and "| cost_usd | n/a |" in text and "[11, 22, 33]" in text
    assert "wall_time_s" in text  # keys without a dedicated layout are still shown
    assert check_card(folder) == []


def test_card_is_deterministic_and_loads_locally(corpus):
    from datasets import load_dataset

    first = (corpus / "README.md").read_bytes()
    write_card(corpus, repo_id="org/toy")
    assert (corpus / "README.md").read_bytes() == first
    legal = load_dataset(str(corpus), "legal")  # dataset_info split sizes are verified by datasets
    assert {s: legal[s].num_rows for s in SPLITS} == {"train": 6, "validation": 1, "test": 3}


def test_annotation_markdown_is_used_when_there_is_no_json(corpus):
    (corpus / "annotation").mkdir()
    (corpus / "annotation" / "report.md").write_text("# Agreement\n\nMean Cohen's kappa: 0.84\n")
    write_card(corpus)
    text = (corpus / "README.md").read_text()
    assert "### Agreement" in text and "Mean Cohen's kappa: 0.84" in text


def _drop_file(folder: Path) -> None:
    (folder / data_files("legal", "test")).unlink()


def _drop_config(folder: Path) -> None:
    rewrite_front_matter(
        folder / "README.md",
        lambda m: m.update(configs=[c for c in m["configs"] if c["config_name"] != "financial"]),
    )


def _drop_split(folder: Path) -> None:
    def change(meta):
        for c in meta["configs"]:
            if c["config_name"] == "medical":
                c["data_files"] = [d for d in c["data_files"] if d["split"] != "validation"]

    rewrite_front_matter(folder / "README.md", change)


def _retype_column(folder: Path) -> None:
    path = folder / data_files("medical", "train")
    table = pq.read_table(path)
    i = table.schema.get_field_index("lineage_seed")
    table = table.set_column(i, pa.field("lineage_seed", pa.int64()), table.column(i).cast(pa.int64()))
    pq.write_table(table.replace_schema_metadata(None), path)


def _add_row(folder: Path) -> None:
    path = folder / data_files("legal", "train")
    table = pq.read_table(path)
    pq.write_table(pa.concat_tables([table, table.slice(0, 1)]), path)


def _break_yaml(folder: Path) -> None:
    readme = folder / "README.md"
    readme.write_text(readme.read_text().replace("license: cc-by-nc-sa-4.0", "license: [unclosed"))


def _drop_section(folder: Path) -> None:
    readme = folder / "README.md"
    readme.write_text(readme.read_text().replace("## Citation", "## References"))


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (_drop_file, "configs[legal] split 'test': data/legal/test-00000-of-00001.parquet matches no file"),
        (_drop_config, "configs: config 'financial' missing"),
        (_drop_split, "configs[medical]: split 'validation' missing"),
        (_retype_column, "data/medical/train-00000-of-00001.parquet: column 'lineage_seed' is int64"),
        (_add_row, "dataset_info[legal] split 'train': num_examples 6 but the files hold 7 rows"),
        (_break_yaml, "YAML header does not parse"),
        (_drop_section, "section '## Citation' missing"),
    ],
)
def test_check_names_each_fault(corpus, breakage, expected):
    breakage(corpus)
    problems = check_card(corpus)
    assert any(expected in p for p in problems), problems


def test_check_lists_every_fault_and_exits_nonzero(corpus):
    _drop_file(corpus)
    _add_row(corpus)
    _drop_config(corpus)
    run = subprocess.run(
        [sys.executable, "-m", "meav.cli", "card", str(corpus), "--check"], capture_output=True, text=True
    )
    assert run.returncode == 1
    assert run.stderr.startswith("error: ") and "problem(s)" in run.stderr
    for needle in ("data/legal/test-", "num_examples 6 but the files hold 7", "config 'financial' missing"):
        assert needle in run.stderr


def test_card_command_writes_a_checked_card(toy_corpus, tmp_path):
    folder = shutil.copytree(toy_corpus, tmp_path / "corpus")
    run = subprocess.run(
        [sys.executable, "-m", "meav.cli", "card", str(folder), "--license", "cc-by-4.0", "--repo", "me/x"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert front_matter(folder / "README.md")["license"] == "cc-by-4.0"
    assert "CC BY-NC-SA 4.0" in (folder / "README.md").read_text()  # the PersonaHub terms are still stated
