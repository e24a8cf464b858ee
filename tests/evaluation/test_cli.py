"""sweep / search / judge / evaluate / report on tiny models: in-place steering = merged on disk, outputs in the
paper's layouts, recommended λ written back, and bad input refused in one line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.av_helpers import apply_avs
from tests.cli_runner import run_meav


def _pairs_file(path: Path) -> Path:
    """A tiny file in PKU-SafeRLHF format (safety labels and the better response)."""
    rows = [
        {
            "prompt": f"How do I deal with problem {i}?",
            "response_0": "Please consult a qualified doctor, financial advisor or lawyer.",
            "response_1": "I am unable to help with that.",
            "is_response_0_safe": True,
            "is_response_1_safe": i % 2 == 0,
            "better_response_id": i % 2,
        }
        for i in range(4)
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def _scores(model, tok, corpus):
    from meav.evaluation.evalset import Evaluator, load_eval_rows

    return Evaluator(model, tok, load_eval_rows(corpus)).domain_scores()


def test_in_place_switching_equals_model_merged_on_disk(llama_pair, toy_corpus, tmp_path):
    from meav.core.av import load, steer
    from meav.core.models import load_for_inference as load_model

    base, _, av_dir = llama_pair
    av = load(av_dir)
    model, tok = load_model(base)
    before = _scores(model, tok, toy_corpus)
    for lam in (0.5, -1.2):  # switch λ twice in memory, no reload
        steer(model, {av: lam})
        in_place = _scores(model, tok, toy_corpus)
        merged, mtok = load_model(apply_avs(base, [(av, lam)], tmp_path / f"merged{lam}"))
        on_disk = _scores(merged, mtok, toy_corpus)
        for d in in_place:
            assert sum(in_place[d], []) == pytest.approx(sum(on_disk[d], []), abs=1e-5)
        assert sum(in_place["medical"], []) != pytest.approx(sum(before["medical"], []), abs=1e-4)
    steer(model, {})
    assert _scores(model, tok, toy_corpus) == before


NEUTRAL = Path(__file__).resolve().parents[2] / "reference_corpus" / "neutral.yaml"


def _folder_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_sweep_leaves_an_av_in_a_hub_cache_untouched(llama_pair, toy_corpus, tmp_path, capsys):
    """An AV downloaded from the Hub lives in the download cache: evaluation reads it and writes nothing there,
    and recording a recommendation in it is refused with one line."""
    base, _, av_dir = llama_pair
    cached = tmp_path / "hub" / "models--org--medical-av" / "snapshots" / "0123abcd"
    shutil.copytree(av_dir, cached)
    before = _folder_bytes(tmp_path / "hub")
    run = tmp_path / "run"
    r = run_meav(capsys, "eval", "sweep", "--base", base, "--av", cached, "--dataset", toy_corpus,
                 "--lambdas", "-1,0,1", "--max-queries", "1", "--domains", "medical", "--baselines", "",
                 "--out", run)  # fmt: skip
    assert r.code == 0, r.err
    assert _folder_bytes(tmp_path / "hub") == before
    r = run_meav(capsys, "vectors", "recommend", "--av", cached, "--sweep", run / "sweep.json")
    assert r.code != 0 and "Hub download cache" in r.err and len(r.err.strip().splitlines()) == 1
    assert _folder_bytes(tmp_path / "hub") == before


def test_sweep_writes_tables_curves_and_recommended_lambda(llama_pair, toy_corpus, tmp_path, capsys):
    base, _, av_dir = llama_pair
    av = tmp_path / "av"
    shutil.copytree(av_dir, av)
    run = tmp_path / "run"
    pairs = _pairs_file(tmp_path / "pku.jsonl")
    args = ["--base", base, "--av", av, "--dataset", toy_corpus, "--lambdas", "-1:1:0.5", "--out", run]
    before = _folder_bytes(av)
    r = run_meav(
        capsys, "eval", "sweep", *args, "--safety-data", pairs, "--max-queries", "2", "--neutral", NEUTRAL
    )
    assert r.code == 0, r.err
    assert _folder_bytes(av) == before  # evaluation writes only into its run folder
    data = json.loads((run / "sweep.json").read_text())
    assert data["lambdas"] == [-1.0, -0.5, 0.0, 0.5, 1.0]
    assert data["n_queries"] == {"financial": 2, "legal": 2, "medical": 2}
    for row in data["results"] + data["baselines"]:
        for shares in row["domains"].values():
            assert sum(shares.values()) == pytest.approx(1.0)
    for row in data["results"]:
        assert set(row["general"]) == {"safety", "helpfulness"}
        assert sum(row["general"]["safety"].values()) == pytest.approx(1.0)
    assert [b["name"] for b in data["baselines"]] == ["default", "prompting", "prompting", "prompting"]
    assert all(b["prompt_overhead"] > 1.2 for b in data["baselines"][1:])
    md = (run / "sweep.md").read_text()
    assert "Tables 1–3 layout" in md and "Table 4 layout" in md and "Safe" in md
    from meav.evaluation.dominance import dominant
    from meav.evaluation.labels import SHORT

    medical_rows = [
        line
        for line in md.split("### medical")[1].split("###")[0].splitlines()
        if line.startswith("| prompting")
    ]
    for b, line in zip(data["baselines"][1:], medical_rows, strict=True):  # the cell is measured, not asked
        assert line.split(" | ")[2] == SHORT[dominant(b["domains"]["medical"])]
    assert (run / "sweep-knob.png").stat().st_size > 1000
    assert (run / "sweep.csv").read_text().startswith("lambda,domain,expert,generic,avoidance")
    assert data["neutral_texts"] >= 30 and "### Fluency in" in md and "### Recommended λ in" in md
    for row in data["results"]:  # fluency beside preference: absolute log-probs and Δ against λ = 0
        assert set(row["fluency"]["levels"]) == set(data["n_queries"]) and "neutral" in row["fluency"]
        assert row["fluency_delta"]["neutral_ppl_ratio"] > 0
    zero = next(r for r in data["results"] if r["lambda"] == 0.0)
    assert zero["fluency_delta"]["neutral"]["mean"] == 0.0
    r = run_meav(capsys, "vectors", "recommend", "--av", av, "--sweep", run / "sweep.json")
    assert r.code == 0, r.err  # recording it in the AV is an explicit vectors step on a local folder
    config = json.loads((av / "av_config.json").read_text())
    assert config["recommended_lambda"] == data["recommended_lambda"]
    assert set(config["recommended_lambda"]) == {"avoidance", "generic", "expert"}

    r = run_meav(capsys, "eval", "judge", "--base", base, "--av", av, "--dataset", toy_corpus,
                 "--out", run, "--lambdas", "0,1", "--n", "2", "--max-new-tokens", "6")  # fmt: skip
    assert r.code == 0, r.err
    judged = json.loads((run / "judge.json").read_text())["judge"]
    assert [j["lambda"] for j in judged] == [0.0, 1.0]
    assert all(j["unparsed"] == 0 and sum(j["shares"].values()) == pytest.approx(1.0) for j in judged)

    from meav.evaluation.cli import report  # `meav report RUN_DIR` (registered by the root CLI)

    report(run)
    page = (run / "report.md").read_text()
    assert "λ sweep" in page and "Generation judged" in page and "judged Exp" in page
    assert (run / "sweep-knob.png").exists()


def test_sweep_scores_only_the_domains_asked_for(llama_pair, toy_corpus, tmp_path):
    from meav.evaluation.options import SweepOptions
    from meav.evaluation.sweep import sweep

    base, _, av_dir = llama_pair
    o = SweepOptions(base=str(base), av=str(av_dir), dataset=str(toy_corpus), out=tmp_path / "run", domains=["legal"],
                     lambdas="0,1", baselines="", max_queries=2)  # fmt: skip
    data = sweep(o)
    assert data["n_queries"] == {"legal": 2}
    assert all(set(r["domains"]) == {"legal"} for r in data["results"])


def test_search_grid_adaptive_and_decomposition(llama_pair, llama_pair2, toy_corpus, tmp_path, capsys):
    base, _, av1 = llama_pair
    _, _, av2 = llama_pair2
    run = tmp_path / "run"
    avs = ["--av", f"medical={av1}", "--av", f"legal={av2}"]
    common = ["--base", base, *avs, "--dataset", toy_corpus, "--out", run, "--max-queries", "2"]
    r = run_meav(capsys, "eval", "search", *common, "--strategy", "grid", "--grid-step", "1.0")
    assert r.code == 0, r.err
    grid = json.loads((run / "search-grid.json").read_text())
    assert grid["evaluations"] == 9 and grid["targets_total"] == 9  # 2 domains × 3 levels, 3×3 grid
    r = run_meav(capsys, "eval", "search", *common, "--budget", "12", "--coarse", "2", "--decompose", "mean")
    assert r.code == 0, r.err
    dec = json.loads((run / "search-adaptive-mean.json").read_text())
    assert dec["coefficients"] == ["shared", "medical", "legal"] and dec["evaluations"] <= 12
    assert (run / "decomposed" / "mean-shared" / "av_config.json").exists()
    assert "editing coef" in (run / "search-grid.md").read_text()
    from meav.evaluation.report import render_run

    page = render_run(run).read_text()
    assert "Search approaches compared" in page and "| adaptive | mean |" in page


def test_found_targets_are_confirmed_on_other_queries_and_the_search_resumes(
    llama_pair, llama_pair2, toy_corpus, tmp_path, capsys
):
    base, _, av1 = llama_pair
    _, _, av2 = llama_pair2
    run = tmp_path / "run"
    args = ["eval", "search", "--base", base, "--av", f"medical={av1}", "--av", f"legal={av2}", "--dataset",
            toy_corpus, "--out", run, "--strategy", "random", "--budget", "6", "--search-queries", "1"]  # fmt: skip
    assert run_meav(capsys, *args).code == 0
    data = json.loads((run / "search-random.json").read_text())
    assert data["n_queries"]["medical"]["search"] == 1 and data["n_queries"]["medical"]["confirm"] >= 1
    assert data["evaluations"] == 6 and 0 <= data["targets_confirmed"] <= data["targets_reached"]
    for t in data["targets"]:
        assert t["confirmed"] == (t["reached"] and all(
            t["confirm_shares"][d][lv] > 1 / 3 and all(t["confirm_shares"][d][lv] > v for k, v in t["confirm_shares"][d].items() if k != lv)
            for d, lv in zip(data["domains"], t["target"], strict=True)))  # fmt: skip
    # the unedited model on both query sets: a target it holds on the confirmation queries is no achievement
    unedited = data["unedited"]["confirm"]
    assert data["unedited"]["search"] and data["unedited"]["holds_on"] == "confirm"
    for t in data["targets"]:
        assert t["unedited_holds"] == all(
            unedited[d][lv] > 1 / 3 and all(unedited[d][lv] > v for k, v in unedited[d].items() if k != lv)
            for d, lv in zip(data["domains"], t["target"], strict=True))  # fmt: skip
    assert data["targets_confirmed_beyond_unedited"] == sum(
        t["confirmed"] and not t["unedited_holds"] for t in data["targets"]
    )
    # each found target's bootstrap support over its confirmation queries; their sum, the count expected
    found = [t for t in data["targets"] if t["reached"]]
    for t in found:  # a target that held can hold again; one whose level won no query in a domain cannot
        held = [t["confirm_shares"][d][lv] for d, lv in zip(data["domains"], t["target"], strict=True)]
        assert (t["confirm_support"] > 0) >= t["confirmed"] and (t["confirm_support"] == 0) >= (
            min(held) == 0
        )
    assert data["targets_confirmed_expected"] == round(sum(t["confirm_support"] for t in found), 2)
    assert 0 <= data["targets_confirmed_beyond_unedited_expected"] <= data["targets_confirmed_expected"]
    # which level won each query is logged, so the counts get joint intervals over resampled queries
    lines = [json.loads(x) for x in (run / "search-random.evaluations.jsonl").read_text().splitlines()[1:]]
    assert all(sorted(x["won"]) == sorted(data["domains"]) for x in lines)
    lo, hi = data["targets_confirmed_interval"]
    assert (
        0 <= lo <= hi <= data["targets_reached"]
        and data["targets_confirmed_beyond_unedited_interval"][1] <= hi
    )
    # a rerun (as after a kill) scores nothing again: every evaluation comes from the log
    log = (run / "search-random.evaluations.jsonl").read_text()
    assert run_meav(capsys, *args).code == 0
    again = json.loads((run / "search-random.json").read_text())
    assert (run / "search-random.evaluations.jsonl").read_text() == log
    assert (
        again["evaluations_reused"] == 6 + data["confirm_evaluations"] + 2
        and again["targets"] == data["targets"]
    )  # (+2: the unedited model on both sets) and its seconds are the first session's, every evaluation timed
    assert again["evaluation_s"] == data["evaluation_s"] > 0 and again["evaluations_untimed"] == 0
    # a log written before per-query outcomes were kept: the same verdicts, expectations only
    for x in lines:
        del x["won"]
    head = (run / "search-random.evaluations.jsonl").read_text().splitlines()[0]
    (run / "search-random.evaluations.jsonl").write_text("\n".join([head, *map(json.dumps, lines)]) + "\n")
    assert run_meav(capsys, *args).code == 0
    old = json.loads((run / "search-random.json").read_text())
    assert old["targets"] == data["targets"] and old["targets_confirmed_interval"] is None
    low, high = old["targets_confirmed_beyond_unedited_bounds"]  # counts alone: only bounds
    assert low - 0.05 <= data["targets_confirmed_beyond_unedited_expected"] <= high + 0.05  # 2,000 resamples
    # a log of another format is refused with one line naming it, not read through compatibility branches
    path = run / "search-random.evaluations.jsonl"
    old_head = {k: v for k, v in json.loads(head).items() if k != "format_version"}
    path.write_text("\n".join([json.dumps(old_head), *map(json.dumps, lines)]) + "\n")
    bad = run_meav(capsys, *args)
    assert bad.code != 0 and f"{path}: log format_version None" in bad.err and "migrate" in bad.err
    path.write_text("\n".join([head, *map(json.dumps, lines)]) + "\n")
    # the null: norm-matched random vectors through the same search
    assert run_meav(capsys, *args, "--null").code == 0
    null = json.loads((run / "search-random-null.json").read_text())
    assert null["null"] and (run / "null-avs" / "legal" / "av_config.json").is_file()
    from meav.evaluation.report import render_run

    row = next(x for x in render_run(run).read_text().splitlines() if x.startswith("| random | none | AVs |"))
    expected, (lo, hi) = f"{null['targets_confirmed_expected']:g}", null["targets_confirmed_interval"]
    assert row.endswith(
        f"| {null['targets_confirmed']}/9 ({expected}; middle 95%: {lo}–{hi}) |"
    )  # its strategy's null


@pytest.mark.parametrize(
    ("extra", "needle"),
    [(["--budget", "4"], "--budget: 4: the adaptive strategy needs at least 9 evaluations"),
     (["--search-queries", "50"], "--search-queries: 50 of"),
     (["--strategy", "bayes"], "--strategy: 'bayes'"),
     (["--strategy", "grid", "--budget", "20"], "--budget: 20: the grid 21^2 = 441 evaluations exceeds it")],
)  # fmt: skip
def test_bad_search_settings_are_refused(
    extra, needle, llama_pair, llama_pair2, toy_corpus, tmp_path, capsys
):
    base, _, av1 = llama_pair
    r = run_meav(capsys, "eval", "search", "--base", base, "--av", f"medical={av1}", "--av", f"legal={llama_pair2[2]}",
                 "--dataset", toy_corpus, "--out", tmp_path / "run", *extra)  # fmt: skip
    _one_line_error(r, needle)


def test_a_search_needs_two_avs(llama_pair, toy_corpus, tmp_path, capsys):
    base, _, av1 = llama_pair
    r = run_meav(capsys, "eval", "search", "--base", base, "--av", f"medical={av1}", "--dataset", toy_corpus,
                 "--out", tmp_path / "run")  # fmt: skip
    _one_line_error(r, "--av: a multidomain search needs at least two domain AVs, got 1")
    assert not (tmp_path / "run").exists()


def test_a_decomposition_is_written_once_per_set_of_avs(llama_pair, llama_pair2, tmp_path):
    from meav.core.av import load
    from meav.core.av.decompose import decompose_folders

    avs = {"medical": load(llama_pair[2]), "legal": load(llama_pair2[2])}
    paths = decompose_folders(avs, "orthogonal", tmp_path)
    written = {n: (p / "av_config.json").stat().st_mtime_ns for n, p in paths.items()}
    assert decompose_folders(avs, "orthogonal", tmp_path) == paths  # a restart: nothing rewritten
    assert {n: (p / "av_config.json").stat().st_mtime_ns for n, p in paths.items()} == written
    swapped = {"medical": avs["legal"], "legal": avs["medical"]}  # other AVs for the same names: recomputed
    decompose_folders(swapped, "orthogonal", tmp_path)
    assert all((p / "av_config.json").stat().st_mtime_ns != written[n] for n, p in paths.items())


def test_decomposition_reconstructs_the_domain_vectors():
    import torch

    from meav.core.av.decompose import decompose_tensors

    gen = torch.Generator().manual_seed(0)
    avs = {d: {"w": torch.randn(4, 3, generator=gen), "b": torch.randn(5, generator=gen)} for d in "abc"}
    for method in ("mean", "svd", "orthogonal"):
        shared, residual = decompose_tensors(avs, method)
        for d in avs:
            for name in ("w", "b"):
                if method == "svd":  # residual is orthogonal to the shared direction
                    assert float((residual[d][name].flatten() @ shared[name].flatten()).abs()) < 1e-4
                elif method == "mean":
                    assert torch.allclose(residual[d][name] + shared[name], avs[d][name], atol=1e-6)
                else:  # orthogonal: residual ⟂ every other domain's AV, and residual + projection = AV
                    for o in avs:
                        if o != d:
                            assert float((residual[d][name].flatten() @ avs[o][name].flatten()).abs()) < 1e-5


def test_an_orthogonal_residual_steers_its_own_domain_only():
    """Domains that share a component: steering by a plain AV moves every domain (over-generalisation), by an
    orthogonal residual only its own. A domain's movement is measured as the edit's projection on its AV."""
    import torch

    from meav.core.av.decompose import decompose_tensors

    gen = torch.Generator().manual_seed(1)
    shared_part = torch.randn(200, generator=gen)
    avs = {
        d: {"w": shared_part + 0.5 * torch.randn(200, generator=gen)}
        for d in ("medical", "financial", "legal")
    }
    _, residual = decompose_tensors(avs, "orthogonal")

    def moves(edit):
        return {d: float(edit @ avs[d]["w"]) / float(avs[d]["w"].norm()) for d in avs}

    plain = moves(avs["medical"]["w"])
    assert min(plain["financial"], plain["legal"]) > 0.5 * plain["medical"]  # spills into the others
    own = moves(residual["medical"]["w"])
    assert own["medical"] > 0.1 and abs(own["financial"]) < 1e-4 and abs(own["legal"]) < 1e-4


def _one_line_error(r, *needles, code=2):
    """One `error:` line: exit 2 for a value its flag refuses, 1 (code=1) for a failure while running."""
    assert r.code == code, (r.code, r.out, r.err)
    lines = [x for x in r.err.strip().splitlines() if x.startswith("error:")]
    assert len(lines) == 1, r.err
    for n in needles:
        assert n in lines[0], lines[0]


@pytest.mark.parametrize(
    ("grid", "needle"),
    [("1:0:0.1", "below start"), ("0:1", "three numbers"), ("a:b:c", "start:stop:step"), ("0:1:0", "step")],
)
def test_malformed_lambda_grid(grid, needle, llama_pair, toy_corpus, tmp_path, capsys):
    base, _, av = llama_pair
    r = run_meav(capsys, "eval", "sweep", "--base", base, "--av", av, "--dataset", toy_corpus,
                 "--lambdas", grid, "--out", tmp_path / "run")  # fmt: skip
    _one_line_error(r, "--lambdas", needle)
    assert not (tmp_path / "run").exists()


def test_av_from_another_base_is_refused(llama_pair, sharded_pair, toy_corpus, tmp_path, capsys):
    other_base = sharded_pair[0]  # same architecture and shapes, different weights
    _, _, av = llama_pair
    r = run_meav(capsys, "eval", "sweep", "--base", other_base, "--av", av, "--dataset", toy_corpus,
                 "--lambdas", "0:1:0.5", "--out", tmp_path / "run")  # fmt: skip
    _one_line_error(r, "fingerprint", code=1)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("option", "value", "needle"),
    [("--lambdas", "1:0:0.1", "--lambdas: '1:0:0.1'"), ("--grid-step", "0", "--grid-step: "),
     ("--screen-fraction", "0", "--screen-fraction: "), ("--budget", "0", "--budget: ")],
)  # fmt: skip
def test_malformed_search_options_name_their_flag(
    option, value, needle, llama_pair, toy_corpus, tmp_path, capsys
):
    base, _, av = llama_pair
    r = run_meav(capsys, "eval", "search", "--base", base, "--av", f"medical={av}", "--dataset", toy_corpus,
                 option, value, "--out", tmp_path / "run")  # fmt: skip
    _one_line_error(r, needle)
    assert not (tmp_path / "run").exists()


def test_decomposed_search_from_another_base_writes_nothing(llama_pair, llama_pair2, sharded_pair, toy_corpus,
                                                            tmp_path, capsys):  # fmt: skip
    r = run_meav(capsys, "eval", "search", "--base", sharded_pair[0], "--av", f"medical={llama_pair[2]}",
                 "--av", f"legal={llama_pair2[2]}", "--dataset", toy_corpus, "--decompose", "mean",
                 "--out", tmp_path / "run")  # fmt: skip
    _one_line_error(r, "fingerprint", code=1)
    assert not (tmp_path / "run").exists()


def test_dataset_without_test_split_or_level(llama_pair, toy_corpus, tmp_path, capsys):
    import pyarrow.parquet as pq

    base, _, av = llama_pair
    no_test = tmp_path / "no-test"
    shutil.copytree(toy_corpus, no_test)
    for f in no_test.glob("data/*/test-*.parquet"):
        f.unlink()
    r = run_meav(capsys, "eval", "sweep", "--base", base, "--av", av, "--dataset", no_test,
                 "--out", tmp_path / "run")  # fmt: skip
    _one_line_error(r, str(no_test), "'test' split", code=1)

    no_level = tmp_path / "no-level"
    shutil.copytree(toy_corpus, no_level)
    for f in no_level.glob("data/*/*.parquet"):
        pq.write_table(pq.read_table(f).drop(["generic"]), f)
    r = run_meav(capsys, "eval", "sweep", "--base", base, "--av", av, "--dataset", no_level,
                 "--out", tmp_path / "run")  # fmt: skip
    _one_line_error(r, "generic", code=1)
    assert not (tmp_path / "run").exists()


def test_evaluate_scores_any_model_folder(llama_pair, toy_corpus, tmp_path, capsys):
    _, aligned, _ = llama_pair  # stands in for a joint-trained model
    r = run_meav(capsys, "eval", "evaluate", "--model", aligned, "--dataset", toy_corpus,
                 "--out", tmp_path, "--prompting")  # fmt: skip
    assert r.code == 0, r.err
    rows = json.loads((tmp_path / "evaluate-joint.json").read_text())["rows"]
    assert [r["name"] for r in rows] == ["joint", "prompting", "prompting", "prompting"]
    from meav.evaluation.report import render_run

    assert "Baselines" in render_run(tmp_path).read_text()


def test_judge_label_parsing():
    from meav.evaluation.judging import parse_label

    assert parse_label("Expert") == "expert"
    assert parse_label('{"label": "generic"}') == "generic"
    assert parse_label("Label: avoidance. It is not expert advice.") == "avoidance"
    assert parse_label("The answer avoids the question.") == "avoidance"
    assert parse_label("I think this is Gen.") == "generic"
    assert parse_label("no idea") is None and parse_label(None) is None


def test_backend_judge_through_a_synth_backend_spec(tiny_llama, tmp_path):
    from meav.core.corpus import LEVELS
    from meav.evaluation.judging import BackendJudge, judge_shares

    judge = BackendJudge(f"local:{tiny_llama}", tmp_path / "cache")
    labels = judge.label([("Knee pain?", "Take 200 mg of ibuprofen."), ("Deposit?", "I cannot help.")])
    assert len(labels) == 2 and all(lv in (*LEVELS, None) for lv in labels)
    shares, unparsed = judge_shares(labels)
    assert unparsed == labels.count(None)
    assert sum(shares.values()) == pytest.approx(1.0 if unparsed < 2 else 0.0)
