"""`meav demo`: the whole paper on the embedded model, from nothing but the repository.

corpus (synth) → card + check → one expert AV per domain (DPO/IPO) → extract → λ sweeps (in- and
out-of-domain) → adaptive multidomain search → report (markdown + PNGs + timings.json).
Each stage calls its package's own API and writes one artifact under `--out`; a stage whose artifact is
complete is skipped, and an interrupted stage resumes through its package's own resume (synth's call cache in
`corpus.work/`, training's checkpoints in `models/<domain>.work/`). The reduced CI flow is this same code with
a smaller `DemoConfig` (tiny model, injected corpus, few steps, coarse grid).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import typer
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from meav import atomic
from meav.errors import MeavError

REPO = Path(__file__).resolve().parents[1]
DOMAINS = ("medical", "financial", "legal")


class DemoConfig(BaseModel):
    """Every knob of the demo; `recipes/demo/demo.yaml` holds the defaults, CLI options override them."""

    model_config = ConfigDict(extra="forbid")

    scale: float = Field(1.0, gt=0, description="Grows every stage: personas, training steps, search budget.")
    model: str = Field("embedded", description="Base model folder, Hub id, or 'embedded' (SmolLM2-135M).")
    backend: str | None = Field(None, description="Synth backend spec (default: the synth recipe's).")
    corpus: str | None = Field(None, description="Use this corpus folder instead of generating one.")
    synth_recipe: str = Field("recipes/synth/demo.yaml", description="Synth recipe (relative to the repo).")
    train_recipe: str = Field(
        "recipes/smollm2-135m-instruct/{domain}/ipo.yaml",
        description="Training recipe per domain ({domain} is filled in; relative to the repo).",
    )
    domains: list[str] = Field(list(DOMAINS), description="Domains: one expert AV each.")
    max_steps: int | None = Field(
        None, ge=1, description="Training steps per AV (default: recipe's × scale)."
    )
    lambdas: str = Field(
        "-1.35:1.35:0.45", description="λ grid of the single-domain sweeps (start:stop:step)."
    )
    max_queries: int | None = Field(5, ge=1, description="Held-out queries per domain scored (None: all).")
    exclude_openers: bool = Field(
        True, description="Do not score the fixed per-level openers the synth recipe prefills (content only)."
    )
    baselines: str = Field("default,prompting", description="Baseline rows of Tables 1–3.")
    search_range: str = Field("-1.0:1.0:0.1", description="Coefficient grid of the multidomain search.")
    search_budget: int = Field(16, ge=1, description="Evaluations of the adaptive search (× scale).")
    search_coarse: int = Field(2, ge=2, description="Values per coefficient in the search's coarse screen.")


def load_config(path: str | Path | None, **overrides) -> DemoConfig:
    """The YAML config (if any) with non-None overrides on top; one clear line on a bad field."""
    data = {}
    if path is not None:
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except OSError as e:
            raise MeavError(f"{path}: cannot read demo config ({e.strerror})") from e
        except yaml.YAMLError as e:
            raise MeavError(f"{path}: invalid YAML ({str(e).splitlines()[0]})") from e
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return DemoConfig.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "config"
        raise MeavError(f"{path or 'demo options'}: {where}: {err['msg']}") from e


def repo_path(p: str) -> Path:
    """A path as given if it exists, else relative to the repository (recipes ship with it)."""
    return Path(p) if Path(p).exists() or Path(p).is_absolute() else REPO / p


class Stages:
    """Runs named stages once: skipped when `done()` holds; timings kept in `<out>/timings.json`."""

    def __init__(self, out: Path, echo: Callable[[str], None]):
        self.file = out / "timings.json"
        self.echo = echo
        old = json.loads(self.file.read_text()) if self.file.is_file() else {}
        self.stages: dict[str, dict] = old.get("stages", {})
        self.ran: list[str] = []

    def run(self, name: str, artifact: Path, done: Callable[[], bool], action: Callable[[], None]) -> None:
        if done():
            self.stages.setdefault(name, {"seconds": None})
            self.stages[name].update(status="skipped", artifact=str(artifact))
            self.echo(f"[demo] {name}: done already ({artifact}), skipped")
        else:
            self.echo(f"[demo] {name}: running")
            t0 = time.perf_counter()
            action()
            if not done():
                raise MeavError(f"stage {name}: finished without a complete {artifact}")
            seconds = round(time.perf_counter() - t0, 2)
            self.stages[name] = {"seconds": seconds, "status": "ran", "artifact": str(artifact)}
            self.ran.append(name)
            self.echo(f"[demo] {name}: {seconds:.1f} s")
        self.save()

    def save(self) -> None:
        total = sum(s["seconds"] or 0 for s in self.stages.values())
        atomic.write_json(self.file, {"stages": self.stages, "total_s": round(total, 2)})


def base_model_path(model: str) -> str:
    if model == "embedded":
        from meav.embedded import embedded_model_path

        return str(embedded_model_path())
    return model


def _check_inputs(config: DemoConfig) -> None:
    """Fail on a mistyped path before `--out` is created and stamped (a stamp would lock the folder to it)."""
    if config.corpus and not (Path(config.corpus) / "data").is_dir():
        raise MeavError(f"--corpus {config.corpus}: not a corpus folder (no data/)")
    files = {"synth_recipe": config.synth_recipe} if not config.corpus else {}
    files |= {f"train_recipe ({d})": config.train_recipe.format(domain=d) for d in config.domains}
    for field, name in files.items():
        if not repo_path(name).is_file():
            raise MeavError(f"{field}: {name}: no such file")


def _check_same_config(out: Path, config: DemoConfig) -> None:
    """An --out folder belongs to one config: reusing artifacts of other settings would mix runs."""
    stamp = out / "demo_config.json"
    current = config.model_dump()
    if stamp.is_file() and json.loads(stamp.read_text()) != current:
        raise MeavError(f"{stamp}: this folder was made with other demo settings; use another --out")
    atomic.write_json(stamp, current)


def _make_corpus(config: DemoConfig, corpus: Path) -> None:
    if config.corpus:
        import shutil

        with atomic.staging_dir(corpus) as tmp:
            shutil.copytree(config.corpus, tmp, dirs_exist_ok=True)
        return
    from rich.console import Console

    from synth.recipe import load_recipe
    from synth.run import SynthRun

    recipe = load_recipe(repo_path(config.synth_recipe))
    recipe = scale_synth_recipe(recipe, config.scale)
    SynthRun(recipe, corpus, config.backend, Console(stderr=True)).run()


def scale_synth_recipe(recipe, scale: float):
    """More personas with --scale: PersonaHub sample size and CreatePersona roots grow linearly."""
    update = {}
    if recipe.personahub is not None:
        update["personahub"] = recipe.personahub.model_copy(
            update={"sample": max(1, round(recipe.personahub.sample * scale))}
        )
    if recipe.createpersona is not None:
        update["createpersona"] = recipe.createpersona.model_copy(
            update={"roots": max(1, round(recipe.createpersona.roots * scale))}
        )
    return recipe.model_copy(update=update)


def _card(corpus: Path, marker: Path) -> None:
    from dataset_cards.card import write_card
    from dataset_cards.check import assert_card_ok

    write_card(corpus, pretty_name="meav demo corpus")
    assert_card_ok(corpus)
    atomic.write_json(marker, {"card": str(corpus / "README.md"), "check": "ok"})


def _train(config: DemoConfig, base: str, corpus: Path, domain: str, out: Path) -> None:
    import gc

    import training
    from training.recipe import load_recipe

    recipe_file = repo_path(config.train_recipe.format(domain=domain))
    recipe_steps = load_recipe(recipe_file).dpo.get("max_steps")  # None: the recipe trains by epochs
    steps = config.max_steps or (recipe_steps and max(1, round(recipe_steps * config.scale)))
    training.train(
        recipe_file, model=base, dataset=str(corpus), domain=domain, target="expert", out=out, max_steps=steps
    )
    gc.collect()


def _sweep(config: DemoConfig, base: str, corpus: Path, av: Path, out: Path, baselines: str) -> None:
    from vectors.eval_cli import sweep

    sweep(
        base=base, av=str(av), dataset=str(corpus), lambdas=config.lambdas, out=out, split="test",
        max_queries=config.max_queries, baselines=baselines, safety_data=None, max_pairs=None,
        exclude_openers=config.exclude_openers, write_back=True, force=False, device=None,
    )  # fmt: skip


def _search(config: DemoConfig, base: str, corpus: Path, avs: dict[str, Path], out: Path) -> None:
    from vectors.eval_cli import search

    search(
        base=base, av=[f"{d}={p}" for d, p in avs.items()], dataset=str(corpus), out=out,
        strategy="adaptive", decompose="none", coef_range=config.search_range, grid_step=None,
        budget=max(1, round(config.search_budget * config.scale)), coarse=config.search_coarse,
        screen_fraction=1.0, split="test", max_queries=config.max_queries,
        exclude_openers=config.exclude_openers, force=False, device=None,
    )  # fmt: skip


def run_demo(config: DemoConfig, out: str | Path, echo: Callable[[str], None] = print) -> Path:
    """Run (or continue) every stage into `out`; returns the report path."""
    from meav.demo_report import write_report
    from vectors.extract import extract

    _check_inputs(config)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _check_same_config(out, config)
    stages = Stages(out, echo)
    started = time.perf_counter()
    corpus = out / "corpus"
    stages.run("corpus", corpus, lambda: (corpus / "data").is_dir(), lambda: _make_corpus(config, corpus))
    card_ok = out / "card_check.json"
    stages.run("card", card_ok, card_ok.is_file, lambda: _card(corpus, card_ok))
    base = base_model_path(config.model)
    models = {d: out / "models" / d for d in config.domains}
    avs = {d: out / "avs" / d for d in config.domains}
    for d in config.domains:
        meta = models[d] / "training_meta.json"
        stages.run(
            f"train {d}", models[d], meta.is_file, lambda d=d: _train(config, base, corpus, d, models[d])
        )
    for d in config.domains:
        cfg = avs[d] / "av_config.json"
        stages.run(
            f"extract {d}", avs[d], cfg.is_file,
            lambda d=d: extract(base, models[d], avs[d], domain=d, target="expert"),
        )  # fmt: skip
    for i, d in enumerate(config.domains):
        folder = out / "sweeps" / d
        # the baselines do not depend on the AV: scored once, with the first sweep, and shared by the report
        baselines = config.baselines if i == 0 else ""
        stages.run(
            f"sweep {d}", folder / "sweep.md", (folder / "sweep.md").is_file,
            lambda d=d, folder=folder, b=baselines: _sweep(config, base, corpus, avs[d], folder, b),
        )  # fmt: skip
    search_dir = out / "search"
    done_search = search_dir / "search-adaptive.md"
    stages.run(
        "search", done_search, done_search.is_file, lambda: _search(config, base, corpus, avs, search_dir)
    )
    report = out / "report.md"
    t0 = time.perf_counter()
    write_report(out, config, stages.stages)
    stages.stages["report"] = {
        "seconds": round(time.perf_counter() - t0, 2),
        "status": "ran",
        "artifact": str(report),
    }
    stages.save()  # the report's own time is in timings.json and printed below, not in the page it times
    from meav.demo_report import timings_table

    echo(timings_table(stages.stages))
    echo(f"[demo] report: {report} ({time.perf_counter() - started:.1f} s this run)")
    return report


def demo(
    out: Path = typer.Option(
        Path("runs/demo"), "--out", help="Run folder: every stage's artifact goes here."
    ),
    scale: float | None = typer.Option(None, "--scale", help="Grow every stage (personas, steps, search)."),
    backend: str | None = typer.Option(
        None, "--backend", help="Corpus backend: anthropic:<model> | openai:<m>@<url> | local[:<path>]."
    ),
    config: Path | None = typer.Option(
        None, "--config", help="Demo config YAML (default recipes/demo/demo.yaml)."
    ),
    model: str | None = typer.Option(None, "--model", help="Base model folder (default: embedded SmolLM2)."),
    corpus: str | None = typer.Option(None, "--corpus", help="Use this corpus folder instead of synth."),
    max_steps: int | None = typer.Option(None, "--max-steps", help="Training steps per AV."),
    lambdas: str | None = typer.Option(None, "--lambdas", help="Sweep λ grid start:stop:step."),
    max_queries: int | None = typer.Option(None, "--max-queries", help="Held-out queries per domain."),
) -> None:
    """Corpus → card → one expert AV per domain → λ sweeps → multidomain search → report; rerun continues."""
    path = config or REPO / "recipes" / "demo" / "demo.yaml"
    cfg = load_config(
        path if path.is_file() or config else None, scale=scale, backend=backend, model=model, corpus=corpus,
        max_steps=max_steps, lambdas=lambdas, max_queries=max_queries,
    )  # fmt: skip
    run_demo(cfg, out, echo=lambda s: typer.echo(s, err=True))
