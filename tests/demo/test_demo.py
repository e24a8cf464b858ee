"""`meav demo` end to end, reduced: the same stages on a tiny model (smoke run with the local backend,
reference corpus, 2 training steps, a 3-point grid on 3 queries); every artifact and report section."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
import yaml

from meav.core.corpus import LEVELS
from meav.core.errors import MeavError
from meav.demo import RECIPES, DemoConfig, load_config, run_demo
from tests.demo.conftest import tiny_config
from tests.fakes.anthropic import AnthropicTestServer
from tests.synth.conftest import write_recipe

SECTIONS = [
    "## Headline: the tunable knob",
    "## Stage timings",
    "## Corpus pipeline smoke run beside the reference corpus",
    "## Training corpus",
    "## Training",
    "## Single-domain sweeps",
    "## Out-of-domain",
    "## Cue probe",
    "## Generated answers, judged",
    "## Prompting baseline",
    "## Multidomain search",
]
HEAVY = [
    "smoke (synth + card)",
    "corpus",
    "train medical",
    "extract legal",
    "sweep financial",
    "cue probe legal",
    "judged generations",
    "search",
]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory, tiny_llama, smoke_recipe, train_recipe):
    """The command, in its own process as users run it: its smoke stage forks distilabel workers that load a
    model, which a process that has already run torch's thread pool (a test worker) cannot do safely."""
    folder = tmp_path_factory.mktemp("demo")
    config, out = folder / "demo.yaml", folder / "run"
    config.write_text(yaml.safe_dump(tiny_config(tiny_llama, smoke_recipe, train_recipe).model_dump()))
    cmd = [sys.executable, "-m", "meav.cli", "demo", "--config", str(config), "--out", str(out)]
    done = subprocess.run(
        cmd, env={**os.environ, "MEAV_PROGRESS": "0"}, capture_output=True, text=True, timeout=1200
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out, out / "report.md", done.stdout.splitlines()


def _section(text: str, title: str) -> str:
    start = text.index(title) + len(title)
    nxt = text.find("\n## ", start)
    return text[start : nxt if nxt >= 0 else None]


def test_demo_writes_every_artifact_and_section(demo_run):
    out, report, _ = demo_run
    text = report.read_text()
    for title in SECTIONS:
        assert title in text, title
    for title in SECTIONS[:2] + SECTIONS[3:]:
        assert re.search(r"\|[^|\n]*\d", _section(text, title)), f"no numbers under {title}"
    for d in ("medical", "financial", "legal"):
        sweep = json.loads((out / "sweeps" / d / "sweep.json").read_text())
        assert sweep["lambdas"] == [-1.0, 0.0, 1.0] and list(sweep["results"][0]["domains"]) == [d]
        assert sweep["n_queries"] == {d: 3}
        assert sweep["control"]["results"][1] == sweep["results"][1]  # λ = 0: the same base model, reused
        assert set(sweep["verdict"][d]) >= {"visible", "expert", "avoidance"}
        ood = json.loads((out / "ood" / d / "sweep.json").read_text())
        assert d not in ood["results"][0]["domains"] and ood["n_queries"] == {x: 2 for x in ood["n_queries"]}
        assert (out / "models" / d / "training_meta.json").is_file()
        meta = json.loads((out / "models" / d / "training_meta.json").read_text())
        assert meta["pairs"]["truncated"]["pairs"] == 0
    assert (out / "knob.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "corpus" / "reference_meta.json").is_file() and (out / "smoke" / "README.md").is_file()
    assert "authored" in _section(text, "## Corpus pipeline smoke run beside the reference corpus")
    headline = (out / "headline.md").read_text()
    assert "paper (Mistral-7B, its values)" in headline and "holds with fluency" in headline
    for d in (
        "medical",
        "financial",
        "legal",
    ):  # fluency beside preference, both controls, probe, judged answers
        sweep = json.loads((out / "sweeps" / d / "sweep.json").read_text())
        assert sweep["neutral_texts"] >= 30 and all("fluency_delta" in r for r in sweep["results"])
        assert "holds" in sweep["verdict"][d] and set(sweep["verdict"][d]["recommended"]) == set(LEVELS)
        assert "matching" in sweep["damage_control"] and "holds" in sweep["damage_control"]["verdict"][d]
        assert json.loads((out / "probe" / d / "sweep.json").read_text())["n_queries"] == {d: 8}
        judged = json.loads((out / "judge" / d / "judge.json").read_text())["judge"]
        assert [j["lambda"] for j in judged] == [-1.0, 0.0, 1.0] and all(
            len(j["samples"]) == 2 for j in judged
        )
        config = json.loads((out / "avs" / d / "av_config.json").read_text())
        assert config["recommended_lambda"] == sweep["recommended_lambda"]  # recorded in the demo's own AV
    assert "test" in json.loads((out / "judge" / "classifier.json").read_text())
    timings = json.loads((out / "timings.json").read_text())
    assert all(timings["stages"][s]["status"] == "ran" for s in HEAVY)


def test_the_out_of_domain_base_row_is_the_in_domain_one(demo_run):
    """λ = 0 is the base model whatever the AV: the out-of-domain sweeps reuse the other domains' rows."""
    out, _, _ = demo_run
    ood = json.loads((out / "ood" / "medical" / "sweep.json").read_text())
    at_zero = next(r for r in ood["results"] if r["lambda"] == 0.0)
    for other in ("financial", "legal"):
        own = json.loads((out / "sweeps" / other / "sweep.json").read_text())
        own_zero = next(r for r in own["results"] if r["lambda"] == 0.0)
        assert at_zero["scores"][other] == own_zero["scores"][other][:2]


def test_rerun_skips_completed_stages(demo_run, tiny_llama, smoke_recipe, train_recipe):
    out, _, _ = demo_run
    first = json.loads((out / "timings.json").read_text())["stages"]
    lines: list[str] = []
    run_demo(tiny_config(tiny_llama, smoke_recipe, train_recipe), out, echo=lines.append)
    stages = json.loads((out / "timings.json").read_text())["stages"]
    for name in HEAVY:
        assert stages[name]["status"] == "skipped"
        assert stages[name]["seconds"] == first[name]["seconds"]  # the timing of the run that made it
    assert not [line for line in lines if line.endswith(": running")]


def test_interrupted_stage_is_redone_alone(demo_run, tiny_llama, smoke_recipe, train_recipe):
    out, _, _ = demo_run
    (out / "search" / "search-random.json").unlink()  # as if killed before the search finished
    lines: list[str] = []
    run_demo(tiny_config(tiny_llama, smoke_recipe, train_recipe), out, echo=lines.append)
    assert [line for line in lines if line.endswith(": running")] == ["[demo] search: running"]


def test_other_settings_refuse_the_same_out(demo_run, tiny_llama, smoke_recipe, train_recipe):
    out, _, _ = demo_run
    with pytest.raises(MeavError, match="other demo settings"):
        run_demo(
            tiny_config(tiny_llama, smoke_recipe, train_recipe, lambdas="-1,0,0.5"), out, echo=lambda s: None
        )


def test_a_generated_corpus_with_a_backend(tmp_path, tiny_llama, train_recipe):
    """--backend: the corpus stage runs synth on that backend (here the Anthropic-protocol test server)."""
    from meav.demo.run import _make_corpus

    recipe = write_recipe(tmp_path)
    with AnthropicTestServer() as server, pytest.MonkeyPatch.context() as mp:
        mp.setenv("ANTHROPIC_BASE_URL", server.url)
        mp.setenv("ANTHROPIC_API_KEY", "test-key")
        _make_corpus(
            DemoConfig(backend="anthropic:claude-sonnet-5-5", synth_recipe=str(recipe)), tmp_path / "c"
        )
    meta = json.loads((tmp_path / "c" / "synth_meta.json").read_text())
    assert meta["backend"] == "anthropic:claude-sonnet-5-5" and meta["rows_total"] > 0


def test_config_errors_name_the_field(tmp_path):
    bad = tmp_path / "demo.yaml"
    bad.write_text("scale: 1\nlamdbas: '-1:1:1'\n")
    with pytest.raises(MeavError, match=r"demo.yaml: lamdbas: unknown field"):
        load_config(bad)
    with pytest.raises(MeavError, match="scale"):
        load_config(None, scale=-1)


def test_shipped_config_is_the_defaults():
    assert load_config(RECIPES / "demo" / "demo.yaml") == DemoConfig()


def test_a_mistyped_input_leaves_the_out_folder_free(tmp_path):
    """Checked before --out is created and stamped: the corrected command can reuse the same folder."""
    out = tmp_path / "run"
    (tmp_path / "notacorpus").mkdir()
    with pytest.raises(MeavError, match=r"corpus: .*notacorpus: not a corpus folder"):
        run_demo(DemoConfig(corpus=str(tmp_path / "notacorpus")), out, echo=lambda s: None)
    with pytest.raises(MeavError, match=r"train_recipe \(medical\): nope/medical.yaml: no such file"):
        run_demo(DemoConfig(train_recipe="nope/{domain}.yaml"), out, echo=print)
    assert not out.exists()


def test_cli_bad_config_is_one_line_and_exit_1(tmp_path):
    """A bad config file is a runtime failure (exit 1); a bad flag value would be a usage error (exit 2)."""
    bad = tmp_path / "demo.yaml"
    bad.write_text("search_budget: 0\n")
    run = subprocess.run(
        [sys.executable, "-m", "meav.cli", "demo", "--config", str(bad), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [
        f"error: {bad}: search_budget: Input should be greater than or equal to 1"
    ]
    assert not (tmp_path / "out").exists()
