"""`meav demo` end to end, reduced: the same stages on a tiny model, the toy corpus, 2 steps, a coarse grid."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from meav.demo import DemoConfig, load_config, run_demo
from meav.errors import MeavError
from tests.synth.anthropic_server import AnthropicTestServer
from tests.synth.conftest import write_recipe

SECTIONS = [
    "## Headline: the tunable knob",
    "## Stage timings",
    "## Corpus",
    "## Training",
    "## Single-domain sweeps (in-domain and out-of-domain)",
    "## Multidomain search",
]
BACKEND = "anthropic:claude-sonnet-5-5"
HEAVY = ["corpus", "card", "train medical", "extract legal", "sweep financial", "search"]


def tiny_config(model: Path, synth_recipe: Path, train_recipe: Path, **changes) -> DemoConfig:
    """The reduced flow: synth through the Anthropic-protocol test server, a tiny model, 2 steps per AV."""
    settings = dict(
        model=str(model), synth_recipe=str(synth_recipe), train_recipe=str(train_recipe), backend=BACKEND, max_steps=2, lambdas="-1:1:1", baselines="default",
        exclude_openers=False, search_range="-1:1:1", search_budget=3, search_coarse=2,
    )  # fmt: skip
    return DemoConfig(**{**settings, **changes})


def _column(parquet: Path, name: str) -> list:
    import pyarrow.parquet as pq

    return pq.read_table(parquet, columns=[name]).column(name).to_pylist()


def _section(text: str, title: str) -> str:
    start = text.index(title) + len(title)
    nxt = text.find("\n## ", start)
    return text[start : nxt if nxt >= 0 else None]


@pytest.fixture(scope="module")
def synth_recipe(tmp_path_factory) -> Path:
    return write_recipe(tmp_path_factory.mktemp("synth-recipe"))


@pytest.fixture(scope="module")
def train_recipe(tmp_path_factory) -> Path:
    """The shipped SmolLM2 recipe with room for the tiny tokenizer's longer token sequences."""
    from meav.demo import REPO

    recipe = yaml.safe_load((REPO / "recipes/smollm2-135m-instruct/medical/ipo.yaml").read_text())
    recipe["dpo"]["max_length"] = 2048
    path = tmp_path_factory.mktemp("train-recipe") / "ipo.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path


@pytest.fixture(scope="module")
def anthropic_server():
    with AnthropicTestServer() as server, pytest.MonkeyPatch.context() as mp:
        mp.setenv("ANTHROPIC_BASE_URL", server.url)
        mp.setenv("ANTHROPIC_API_KEY", "test-key")
        yield server


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory, tiny_llama, synth_recipe, train_recipe, anthropic_server):
    out = tmp_path_factory.mktemp("demo") / "run"
    lines: list[str] = []
    report = run_demo(tiny_config(tiny_llama, synth_recipe, train_recipe), out, echo=lines.append)
    return out, report, lines


def test_demo_writes_every_artifact_and_section(demo_run):
    out, report, _ = demo_run
    text = report.read_text()
    for title in SECTIONS:
        assert title in text, title
        assert re.search(r"\|[^|\n]*\d", _section(text, title)), f"no numbers under {title}"
    for d in ("medical", "financial", "legal"):
        assert (out / "models" / d / "training_meta.json").is_file()
        assert (out / "avs" / d / "av_config.json").is_file()
        sweep = json.loads((out / "sweeps" / d / "sweep.json").read_text())
        assert sweep["lambdas"] == [-1.0, 0.0, 1.0]
        assert set(sweep["results"][0]["domains"]) == {"medical", "financial", "legal"}  # out-of-domain too
        assert f"### {d} AV: λ sweep" in text
        # baselines are scored once (first sweep) and shown in every domain's Tables 1–3
        assert bool(sweep["baselines"]) == (d == "medical")
        assert "| default | 0.00 |" in text.split(f"### {d} AV: λ sweep")[1].split("AV: λ sweep")[0]
        assert (out / "sweeps" / d / "sweep-knob.png").stat().st_size > 0
    assert (out / "knob.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    sources = {s for f in (out / "corpus" / "data").glob("*/*.parquet") for s in _column(f, "source")}
    assert sources == {"personahub", "createpersona"}
    assert "paper (Mistral-7B)" in (out / "headline.md").read_text()
    assert (out / "corpus" / "README.md").is_file() and (out / "card_check.json").is_file()
    timings = json.loads((out / "timings.json").read_text())
    assert all(timings["stages"][s]["status"] == "ran" for s in HEAVY)
    assert timings["total_s"] > 0
    assert "| total |" in _section(text, "## Stage timings")


def test_rerun_skips_completed_stages(demo_run, tiny_llama, synth_recipe, train_recipe):
    out, _, _ = demo_run
    first = json.loads((out / "timings.json").read_text())["stages"]
    lines: list[str] = []
    run_demo(tiny_config(tiny_llama, synth_recipe, train_recipe), out, echo=lines.append)
    stages = json.loads((out / "timings.json").read_text())["stages"]
    for name in HEAVY:
        assert stages[name]["status"] == "skipped"
        assert stages[name]["seconds"] == first[name]["seconds"]  # the timing of the run that made it
    assert not [line for line in lines if line.endswith(": running") and "report" not in line]


def test_interrupted_stage_is_redone_alone(demo_run, tiny_llama, synth_recipe, train_recipe):
    out, _, _ = demo_run
    (out / "search" / "search-adaptive.md").unlink()  # as if killed before the search finished
    lines: list[str] = []
    run_demo(tiny_config(tiny_llama, synth_recipe, train_recipe), out, echo=lines.append)
    assert [line for line in lines if line.endswith(": running")] == ["[demo] search: running"]
    assert (out / "search" / "search-adaptive.md").is_file()


def test_other_settings_refuse_the_same_out(demo_run, tiny_llama, synth_recipe, train_recipe):
    out, _, _ = demo_run
    with pytest.raises(MeavError, match="other demo settings"):
        run_demo(
            tiny_config(tiny_llama, synth_recipe, train_recipe, lambdas="-1:1:0.5"), out, echo=lambda s: None
        )


def test_config_errors_name_the_field(tmp_path):
    bad = tmp_path / "demo.yaml"
    bad.write_text("scale: 1\nlamdbas: '-1:1:1'\n")
    with pytest.raises(MeavError, match=r"demo.yaml: lamdbas: Extra inputs"):
        load_config(bad)
    with pytest.raises(MeavError, match="scale"):
        load_config(None, scale=-1)


def test_shipped_config_loads_and_scale_grows_the_corpus():
    from meav.demo import REPO, scale_synth_recipe
    from synth.recipe import load_recipe

    cfg = load_config(REPO / "recipes" / "demo" / "demo.yaml")
    assert cfg == DemoConfig()  # the YAML documents the defaults
    recipe = load_recipe(REPO / cfg.synth_recipe)
    bigger = scale_synth_recipe(recipe, 2.0)
    assert bigger.personahub.sample == 2 * recipe.personahub.sample
    assert bigger.createpersona.roots == 2 * recipe.createpersona.roots


def test_given_corpus_is_copied_not_generated(tmp_path, toy_corpus):
    from meav.demo import _make_corpus

    _make_corpus(DemoConfig(corpus=str(toy_corpus)), tmp_path / "corpus")
    assert sorted(p.name for p in (tmp_path / "corpus" / "data").iterdir()) == [
        "financial",
        "legal",
        "medical",
    ]


def test_a_mistyped_input_leaves_the_out_folder_free(tmp_path, toy_corpus):
    """Checked before --out is created and stamped: the corrected command can reuse the same folder."""
    out = tmp_path / "run"
    with pytest.raises(MeavError, match=r"--corpus .*missing: not a corpus folder"):
        run_demo(DemoConfig(corpus=str(tmp_path / "missing")), out, echo=lambda s: None)
    with pytest.raises(MeavError, match=r"train_recipe \(medical\): nope/medical.yaml: no such file"):
        run_demo(DemoConfig(corpus=str(toy_corpus), train_recipe="nope/{domain}.yaml"), out, echo=print)
    assert not out.exists()


def test_cli_bad_config_is_one_line_and_exit_2(tmp_path):
    import subprocess
    import sys

    bad = tmp_path / "demo.yaml"
    bad.write_text("search_budget: 0\n")
    run = subprocess.run(
        [sys.executable, "-m", "meav.cli", "demo", "--config", str(bad), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        f"error: {bad}: search_budget: Input should be greater than or equal to 1"
    ]
    assert not (tmp_path / "out").exists()


def _sweep_of(expert: list[float], avoidance: list[float]) -> dict:
    rows = [{"domains": {"medical": {"expert": e, "avoidance": a, "generic": 1 - e - a}}} for e, a in zip(expert, avoidance, strict=True)]  # fmt: skip
    return {"lambdas": [-1.0, -0.5, 0.0, 0.5, 1.0][: len(rows)], "results": rows}


def test_knob_check_needs_a_trend_and_a_net_move():
    from meav.demo_report import knob_check

    knob = knob_check(_sweep_of([0.0, 0.2, 0.4, 0.6, 0.8], [0.8, 0.6, 0.4, 0.2, 0.0]), "medical")
    assert knob["expert_rises"] and knob["avoidance_rises_negative"]
    # the same share at both ends with one dip: a positive rank correlation, but no knob
    flat = knob_check(_sweep_of([1.0, 0.8, 1.0, 1.0, 1.0], [0.0, 0.2, 0.0, 0.0, 0.0]), "medical")
    assert flat["rho"]["expert"] > 0 and not flat["expert_rises"]
    assert not flat["avoidance_rises_negative"]
