"""Step time of `meav train` (training.train) vs a plain TRL script with the same settings, in one run.

Both sides train the same model on the same pairs with the same DPOConfig (IPO, β 0.1, batch 4, no eval or
checkpoint inside the timed window); a TrainerCallback times every optimizer step and the median after the
warm-up steps is compared (medians resist the noise of a shared machine). Runs are interleaved
(meav, TRL, meav, TRL, ...) so drift hits both alike. Also measured: `precompute_ref_log_probs` on our
path (step time, and the one-off precompute cost paid at start-up).

    python bench/train_step.py                      # tiny random Llama (hidden 256, 4 layers), 24 steps
    python bench/train_step.py --base embedded --steps 6 --repeats 1
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

WARMUP = 2


def step_timer():
    from transformers import TrainerCallback

    class StepTimer(TrainerCallback):
        def __init__(self):
            self.durations: list[float] = []
            self.init_end = None

        def on_train_begin(self, args, state, control, **kwargs):
            self.init_end = time.perf_counter()

        def on_step_begin(self, args, state, control, **kwargs):
            self._t = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            self.durations.append(time.perf_counter() - self._t)

        def median(self) -> float:
            return statistics.median(self.durations[WARMUP:] or self.durations)

    return StepTimer()


def recipe_for(model: str, corpus: Path, steps: int, precompute: bool, folder: Path) -> Path:
    """The recipe as a YAML file (what `meav train --recipe` reads)."""
    import yaml

    path = folder / f"recipe-{steps}-{precompute}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(
        {
            "model": model,
            "dataset": str(corpus),
            "domain": "medical",
            "target": "expert",
            "early_stopping_patience": None,
            "pairs": {"heldout_max_pairs": 0, "eval_split": None},
            "dpo": {
                "learning_rate": 1e-5,
                "max_steps": steps,
                "max_length": 256,
                "save_strategy": "no",
                "load_best_model_at_end": False,
                "logging_steps": 1,
                "dataloader_pin_memory": False,
                "precompute_ref_log_probs": precompute,
                "disable_tqdm": True,
            },
        }
    ))  # fmt: skip
    return path


def run_meav(model: str, corpus: Path, steps: int, work: Path, precompute: bool = False) -> dict:
    from meav.training import TrainOptions, train

    timer = step_timer()
    started = time.perf_counter()
    recipe = recipe_for(model, corpus, steps, precompute, work)
    train(TrainOptions(recipe=recipe, out=work / f"meav-{time.time_ns()}"), callbacks=[timer])
    return {"step": timer.median(), "startup": timer.init_end - started}


def run_plain_trl(model: str, corpus: Path, steps: int, work: Path) -> dict:
    """What a user would write by hand with TRL: load pairs, DPOConfig, DPOTrainer(model_path), train."""
    from datasets import load_dataset
    from transformers import AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    from meav.training.recipe import DPO_DEFAULTS

    started = time.perf_counter()
    rows = load_dataset(str(corpus), "medical", split="train")
    pairs = []
    for r in rows:
        for better, worse in (("expert", "generic"), ("generic", "avoidance")):
            pairs.append(
                {
                    "prompt": [{"role": "user", "content": r["query"]}],
                    "chosen": [{"role": "assistant", "content": r[better]}],
                    "rejected": [{"role": "assistant", "content": r[worse]}],
                }
            )
    from datasets import Dataset

    from meav.training.recipe import load_recipe

    options = load_recipe(recipe_for(model, corpus, steps, False, work)).dpo_options()
    assert options["loss_type"] == DPO_DEFAULTS["loss_type"]
    options.update(eval_strategy="no")
    config = DPOConfig(output_dir=str(work / f"trl-{time.time_ns()}"), seed=42, **options)
    timer = step_timer()
    trainer = DPOTrainer(
        model=model,
        args=config,
        train_dataset=Dataset.from_list(pairs),
        processing_class=AutoTokenizer.from_pretrained(model),
        callbacks=[timer],
    )
    trainer.train()
    return {"step": timer.median(), "startup": timer.init_end - started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="tiny", help="tiny | embedded | a model folder")
    parser.add_argument("--steps", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from meav.testing.tiny import build_tiny_model
    from tests.toy_corpus import write_toy_corpus

    work = Path(tempfile.mkdtemp(prefix="bench-train-step-"))
    corpus = write_toy_corpus(work / "bench-corpus", per_domain=40)
    if args.base == "tiny":
        model = str(build_tiny_model(work / "tiny", hidden_size=256, num_layers=4))
    elif args.base == "embedded":
        from meav.core.embedded import embedded_model_path

        model = str(embedded_model_path())
    else:
        model = args.base

    ours, plain, pre = [], [], []
    for i in range(args.repeats):
        ours.append(run_meav(model, corpus, args.steps, work))
        plain.append(run_plain_trl(model, corpus, args.steps, work))
        pre.append(run_meav(model, corpus, args.steps, work, precompute=True))
        print(
            f"repeat {i + 1}: meav {ours[-1]['step'] * 1000:.1f} ms/step, plain TRL {plain[-1]['step'] * 1000:.1f}"
            f" ms/step, meav+precompute {pre[-1]['step'] * 1000:.1f} ms/step",
            flush=True,
        )
    med = {
        name: statistics.median(r["step"] for r in runs)
        for name, runs in (("meav", ours), ("trl", plain), ("pre", pre))
    }
    startup = {
        name: statistics.median(r["startup"] for r in runs) for name, runs in (("meav", ours), ("pre", pre))
    }
    print(
        f"\nmodel {args.base}, {args.steps} steps x {args.repeats} repeats, median step after {WARMUP} warm-up"
    )
    print(f"meav train      : {med['meav'] * 1000:8.1f} ms/step")
    print(f"plain TRL script: {med['trl'] * 1000:8.1f} ms/step")
    print(f"ratio meav / TRL: {med['meav'] / med['trl']:.3f}  (target <= 1.05)")
    print(
        f"precompute_ref_log_probs: {med['pre'] * 1000:.1f} ms/step = {med['pre'] / med['meav']:.3f} x without; "
        f"start-up {startup['pre']:.1f} s vs {startup['meav']:.1f} s (the reference pass is paid once there)"
    )


if __name__ == "__main__":
    main()
