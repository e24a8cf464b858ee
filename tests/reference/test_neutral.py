"""The neutral text set: it loads, keeps its rules, names the file and field when broken, and ships."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

import pytest

from meav.core.errors import MeavError
from meav.reference import load_neutral, load_rows, neutral_problems
from meav.reference.neutral import NEUTRAL_FILE
from meav.reference.rules import words

REPO = Path(__file__).resolve().parents[2]


def test_the_shipped_set_loads_and_keeps_its_rules():
    rows = load_neutral()
    assert len(rows) >= 30 and all(set(r) == {"id", "prompt", "response"} for r in rows)
    assert len({r["id"] for r in rows}) == len(rows)
    assert all(60 <= len(words(r["response"])) <= 150 for r in rows)
    corpus = [r for rows in load_rows().values() for r in rows]
    assert neutral_problems(rows, corpus) == []
    assert "Authored for meav" in NEUTRAL_FILE.read_text() and "CC BY 4.0" in NEUTRAL_FILE.read_text()


def test_the_rules_catch_what_they_are_for():
    rows = load_neutral()
    short = [*rows[:29], dict(rows[29], response="Too short.")]
    problems = neutral_problems(short)
    assert any("1 words" in p or "2 words" in p for p in problems)
    assert any("30 needed" in p for p in neutral_problems(rows[:10]))
    domain = [dict(rows[0], response=rows[0]["response"] + " Ask your doctor about the mortgage.")]
    assert any("doctor, mortgage" in p for p in neutral_problems(domain))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rows: []\n", r"bad\.yaml: rows: expected a non-empty list"),
        ("rows:\n- {id: a, prompt: p}\n", r"bad\.yaml: a: response: missing"),
        ("rows:\n- {id: a, prompt: p, response: ''}\n", r"bad\.yaml: a: response: missing"),
        ("rows:\n- {prompt: p, response: r}\n", r"bad\.yaml: rows\[0\]: id: missing"),
        ("rows:\n- {id: a, prompt: p, response: r, tag: x}\n", r"bad\.yaml: a: tag: unknown field"),
        (
            "rows:\n- {id: a, prompt: p, response: r}\n- {id: a, prompt: p, response: r}\n",
            r"a: id: used twice",
        ),
        ("rows: [\n", r"bad\.yaml: invalid YAML"),
    ],
)
def test_a_bad_file_is_one_line_naming_file_and_field(tmp_path, text, expected):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(MeavError, match=expected) as e:
        load_neutral(path)
    assert "\n" not in str(e.value)


def test_the_authored_files_ship_as_package_data():
    """The package-data glob (`*.yaml`, top level of the package folder) covers every authored file."""
    globs = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["*"]
    assert "*.yaml" in globs
    package = resources.files("meav.reference")
    for name in (
        "neutral.yaml",
        "cue_probe_medical.yaml",
        "cue_probe_financial.yaml",
        "cue_probe_legal.yaml",
    ):
        assert (package / name).is_file(), name
        assert (REPO / "reference_corpus" / name).is_file()  # top level: the glob does not recurse
