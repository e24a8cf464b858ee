"""`meav demo`: the paper end to end on the embedded model, from nothing but the repository.

smoke run of the corpus pipeline (embedded model) → the training corpus (the authored reference corpus by
default; a given one with --dataset, a generated one with --backend) + card → one expert AV per domain (DPO with
the IPO loss) → in-domain λ sweeps on every test query with the margin verdict and a norm-matched random
control → out-of-domain sweeps → prompting baseline → a small multidomain search → report.

Each stage calls its stage's Python API with an options object and writes one artifact under `--out`; a stage
whose artifact is complete is skipped, and an interrupted stage resumes through its stage's own resume (synth's
call cache, training's checkpoints). The base model is loaded once for every evaluation stage.
"""

from __future__ import annotations

import gc
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from meav.core import atomic
from meav.core.av import load
from meav.core.errors import MeavError, OptionError
from meav.core.grid import parse_grid
from meav.core.llm.specs import parse_backend
from meav.core.models import load_for_inference, resolve_model
from meav.core.stamps import claim_folder
from meav.dataset_cards.api import make_card
from meav.dataset_cards.options import CardOptions
from meav.demo.config import DemoConfig, check_inputs, recipe_path
from meav.demo.report import timings_table, write_report
from meav.demo.stages import Stages
from meav.evaluation.baselines import prompting_rows
from meav.evaluation.classifier import LevelClassifier, classifier_report
from meav.evaluation.evalset import Evaluator, load_eval_rows
from meav.evaluation.judging import REGISTERED_JUDGES, judge_generations, make_judge
from meav.evaluation.options import SweepOptions
from meav.evaluation.scoring import shares
from meav.evaluation.search.options import SearchOptions
from meav.evaluation.search.run import check_options, search
from meav.evaluation.sweep import sweep
from meav.evaluation.verdict import grid_carries_verdict
from meav.reference.build import build_reference
from meav.reference.cues import cue_level
from meav.reference.neutral import NEUTRAL_FILE
from meav.reference.options import ProbeOptions, ReferenceOptions
from meav.reference.probe import build_probe
from meav.synth.api import run_synth
from meav.synth.options import SynthOptions
from meav.training.options import TrainOptions
from meav.training.recipe import load_recipe
from meav.training.run import train
from meav.vectors.extraction import extract
from meav.vectors.options import ExtractOptions, RecommendOptions
from meav.vectors.recommend import recommend


def _check_same_config(out: Path, config: DemoConfig) -> None:
    """An --out folder belongs to one config: reusing artifacts of other settings would mix runs."""
    claim_folder(
        out / "demo_config.json",
        config.model_dump(),
        "this folder was made with other demo settings; use another --out",
    )


def _make_corpus(config: DemoConfig, corpus: Path) -> None:
    """The training corpus: a given folder (copied), a generated one (synth), or the reference corpus."""
    if config.corpus:
        with atomic.staging_dir(corpus) as tmp:
            shutil.copytree(config.corpus, tmp, dirs_exist_ok=True)
    elif config.backend:
        run_synth(
            SynthOptions(
                recipe=recipe_path(config.synth_recipe),
                out=corpus,
                backend=config.backend,
                scale=config.scale,
            )
        )
    else:
        build_reference(ReferenceOptions(out=corpus, domains=config.domains))


def _smoke(config: DemoConfig, folder: Path) -> None:
    run_synth(SynthOptions(recipe=recipe_path(config.smoke_recipe), out=folder))
    make_card(CardOptions(folder=folder, pretty_name="meav smoke run (embedded SmolLM2-135M)"))


def _train(config: DemoConfig, base: str, corpus: str, domain: str, out: Path) -> None:
    recipe_file = recipe_path(config.train_recipe.format(domain=domain))
    recipe_steps = load_recipe(recipe_file).dpo.get("max_steps")  # None: the recipe trains by epochs
    steps = config.max_steps or (recipe_steps and max(1, round(recipe_steps * config.scale)))
    train(
        TrainOptions(
            recipe=recipe_file,
            base=base,
            dataset=corpus,
            domain=domain,
            target="expert",
            out=out,
            max_steps=steps,
        )
    )
    gc.collect()


class Evaluations:
    """The base model, loaded once, and the test rows every evaluation stage scores."""

    def __init__(self, base: str, corpus: str, domains: list[str]):
        self.base, self.corpus, self.domains = base, corpus, domains
        self._loaded = None
        self._rows: dict[str, dict] = {}

    def evaluator(self, per_domain: dict[str, int | None], corpus: str | Path | None = None) -> Evaluator:
        """An evaluator over the first n test queries (by id) of each given domain (of `corpus`, default the
        training corpus), on the one loaded model."""
        if self._loaded is None:
            self._loaded = load_for_inference(self.base)
        key = str(corpus or self.corpus)
        if key not in self._rows:
            self._rows[key] = load_eval_rows(key, "test", None, self.domains)
        model, tok = self._loaded
        return Evaluator(model, tok, {d: self._rows[key][d][:n] for d, n in per_domain.items()})


def _ood_known(out: Path, domains: list[str], n: int) -> dict[float, dict]:
    """The base model's row (λ = 0) on the first n queries of other domains, from their in-domain sweeps
    (nothing when an in-domain sweep scored fewer queries: the rows would not be the same queries)."""
    scores = {}
    for d in domains:
        row = next(
            r
            for r in json.loads((out / "sweeps" / d / "sweep.json").read_text())["results"]
            if r["lambda"] == 0.0
        )
        if len(row["scores"][d]) < n:
            return {}
        scores[d] = row["scores"][d][:n]
    return {0.0: {"domains": {d: shares(s) for d, s in scores.items()}, "scores": scores}}


def _judge(
    c: DemoConfig, evals: Evaluations, avs: dict[str, Path], corpus: str, out: Path, folder: Path
) -> None:
    """Greedy answers to the first test queries of each domain at every λ of the grid, judged; the judge's own
    accuracy on the test split and the cue probe (beside the two-rule cue baseline) written last."""
    ev = evals.evaluator(dict.fromkeys(c.domains, c.judge_queries))
    judge = make_judge(c.judge, ev.model, ev.tokenizer, folder, dataset=corpus)
    for d in c.domains:
        path = folder / d / "judge.json"
        if path.is_file():
            continue
        runs = judge_generations(ev.model, ev.tokenizer, load(avs[d]), parse_grid(c.lambdas, "lambdas"),
                                 ev.rows[d], judge, c.max_new_tokens)  # fmt: skip
        info = judge.describe() if hasattr(judge, "describe") else None
        atomic.write_json(path, {"kind": "judge", "domain": d, "judge_model": getattr(judge, "name", c.judge),
                                 "judge_info": info, "decoding": "greedy", "judge": runs})  # fmt: skip
    probe = out / "cue-probe"
    report = (
        classifier_report(corpus, probe if (probe / "data").is_dir() else None, cue_level, classifier=judge)
        if isinstance(judge, LevelClassifier)
        else {"judge": c.judge}
    )
    atomic.write_json(folder / "classifier.json", report)


def _prompting(ev: Evaluator, path: Path) -> None:
    atomic.write_json(
        path, {"n_queries": {d: len(r) for d, r in ev.rows.items()}, "rows": prompting_rows(ev)}
    )


def _search_options(c: DemoConfig, base: str, corpus: str, avs: dict[str, Path], out: Path) -> SearchOptions:
    return SearchOptions(base=base, dataset=corpus, av=[f"{d}={p}" for d, p in avs.items()], out=out / "search",
                         strategy=c.search_strategy, lambdas=c.search_range,
                         budget=max(1, round(c.search_budget * c.scale)), coarse=2,
                         search_queries=c.search_queries)  # fmt: skip


# the search's options the demo sets, by the demo's own field names
SEARCH_FIELDS = {"strategy": "search_strategy", "lambdas": "search_range", "budget": "search_budget"}


def check_plan(c: DemoConfig, out: Path) -> None:
    """Refuse settings that would fail a late stage (the search runs after ~40 minutes) before anything runs."""
    check_inputs(c)
    grid = parse_grid(c.lambdas, "lambdas")
    if not grid_carries_verdict(grid):
        raise OptionError("lambdas", f"{c.lambdas!r}: the verdict needs λ = 0 and a value on each side of it")
    parse_grid(c.ood_lambdas, "ood_lambdas")
    kind = c.judge.partition(":")[0]
    if c.judge_queries and kind not in REGISTERED_JUDGES:  # a backend spec: checked now, not after the sweeps
        try:
            parse_backend(c.judge)
        except MeavError as e:
            raise OptionError("judge", f"{c.judge!r}: {str(e).splitlines()[0]}") from None
    if len(c.domains) >= 2:  # the search combines the domain AVs; its options are checked as it would run
        try:
            check_options(_search_options(c, "base", "corpus", {d: out / "avs" / d for d in c.domains}, out))
        except OptionError as e:  # name the demo's own field, not the search's
            field = SEARCH_FIELDS.get(e.field, e.field)
            raise OptionError(field, e.message) from e


def run_demo(config: DemoConfig, out: str | Path, echo: Callable[[str], None] = print) -> Path:
    """Run (or continue) every stage into `out`; returns the report path."""
    c = config
    out = Path(out)
    check_plan(c, out)
    out.mkdir(parents=True, exist_ok=True)
    _check_same_config(out, c)
    stages = Stages(out, echo)
    started = time.perf_counter()
    if c.smoke_recipe and not (c.corpus or c.backend):
        smoke = out / "smoke"
        stages.run("smoke (synth + card)", smoke, (smoke / "README.md").is_file, lambda: _smoke(c, smoke))
    hub_corpus = c.corpus is not None and not Path(c.corpus).exists()  # a Hub repo: read in place
    corpus = c.corpus if hub_corpus else str(out / "corpus")
    if not hub_corpus:
        folder = out / "corpus"
        stages.run("corpus", folder, (folder / "data").is_dir, lambda: _make_corpus(c, folder))
        marker = out / "card_check.json"
        stages.run(
            "card", marker, marker.is_file,
            lambda: (make_card(CardOptions(folder=folder)), atomic.write_json(marker, {"check": "ok"})),
        )  # fmt: skip
    base = str(resolve_model(c.model))
    models = {d: out / "models" / d for d in c.domains}
    avs = {d: out / "avs" / d for d in c.domains}
    for d in c.domains:
        stages.run(
            f"train {d}", models[d], (models[d] / "training_meta.json").is_file,
            lambda d=d: _train(c, base, corpus, d, models[d]),
        )  # fmt: skip
    for d in c.domains:
        stages.run(
            f"extract {d}", avs[d], (avs[d] / "av_config.json").is_file,
            lambda d=d: extract(ExtractOptions(base=base, aligned=str(models[d]), out=avs[d], domain=d, target="expert")),
        )  # fmt: skip
    evals = Evaluations(base, corpus, c.domains)
    common = {"base": base, "dataset": corpus, "resamples": c.resamples}
    grid = parse_grid(c.lambdas, "lambdas")
    ends = f"{min(grid)},0,{max(grid)}"  # the controls' λ's: what the verdict reads
    for d in c.domains:
        o = SweepOptions(**common, av=str(avs[d]), out=out / "sweeps" / d, lambdas=c.lambdas, domains=[d],
                         control=c.control, damage_control=c.control and c.fluency, control_lambdas=ends,
                         neutral=NEUTRAL_FILE if c.fluency else None, baselines="default")  # fmt: skip
        done = (o.out / "sweep.json").is_file
        stages.run(
            f"sweep {d}", o.out, done, lambda o=o: sweep(o, evals.evaluator({o.domains[0]: c.max_queries}))
        )
        recommend(RecommendOptions(av=avs[d], sweep=o.out / "sweep.json"))  # the demo's own AV folders
    if c.cue_probe:
        probe = out / "cue-probe"
        stages.run("cue probe (build)", probe, (probe / "probe_meta.json").is_file,
                   lambda: build_probe(ProbeOptions(out=probe, domains=c.domains)))  # fmt: skip
        for d in c.domains:
            o = SweepOptions(**common | {"dataset": str(probe)}, av=str(avs[d]), out=out / "probe" / d,
                             lambdas=c.lambdas, domains=[d], baselines="")  # fmt: skip
            stages.run(
                f"cue probe {d}",
                o.out,
                (o.out / "sweep.json").is_file,
                lambda o=o: sweep(o, evals.evaluator({o.domains[0]: None}, o.dataset)),
            )
    if c.judge_queries:
        judged = out / "judge"
        stages.run("judged generations", judged, (judged / "classifier.json").is_file,
                   lambda: _judge(c, evals, avs, corpus, out, judged))  # fmt: skip
    ood_grid = sorted({*parse_grid(c.ood_lambdas, "ood_lambdas"), 0.0})
    for d in c.domains:
        others = [x for x in c.domains if x != d]
        o = SweepOptions(**common, av=str(avs[d]), out=out / "ood" / d, lambdas=",".join(map(str, ood_grid)),
                         domains=others, baselines="")  # fmt: skip
        stages.run(
            f"out-of-domain {d}", o.out, (o.out / "sweep.json").is_file,
            lambda o=o: sweep(o, evals.evaluator(dict.fromkeys(o.domains, c.ood_queries)),
                              known=_ood_known(out, o.domains, c.ood_queries)),
        )  # fmt: skip
    prompting = out / "baselines" / "prompting.json"
    stages.run(
        "prompting baseline", prompting, prompting.is_file,
        lambda: _prompting(evals.evaluator(dict.fromkeys(c.domains, c.prompting_queries)), prompting),
    )  # fmt: skip
    o = _search_options(c, base, corpus, avs, out)
    found = o.out / f"search-{o.strategy}.json"
    stages.run("search", found, found.is_file,
               lambda: search(o, evals.evaluator(dict.fromkeys(c.domains, c.search_queries + c.confirm_queries))))  # fmt: skip
    report = out / "report.md"
    t0 = time.perf_counter()
    write_report(out, c, stages.stages)
    stages.record("report", time.perf_counter() - t0, report)
    echo(timings_table(stages.stages))
    echo(f"[demo] report: {report} ({time.perf_counter() - started:.1f} s this run)")
    return report
