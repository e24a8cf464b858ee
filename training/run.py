"""One DPO (IPO) run with TRL: recipe → pairs → DPOTrainer → a complete model folder, or nothing.

Layout for `--out runs/x`: checkpoints go to the work folder `runs/x.work/` (resumed from after a crash or
`kill -9`: the same command continues from the last complete checkpoint); the final folder `runs/x/`
(weights, tokenizer with chat template, training_meta.json, loss_curve.png) is assembled in the work folder
and renamed into place only when everything is written, so it is never seen half-written.
Everything that can be checked (recipe, data, model) is checked before the first byte is written.
"""

from __future__ import annotations

import gc
import json
import logging
import shutil
import time
from pathlib import Path
from typing import Any

import torch
from transformers import EarlyStoppingCallback
from trl import DPOConfig, DPOTrainer

from meav.core import atomic
from meav.core.config import validate
from meav.core.embedded import MODEL_ID, WHEEL
from meav.core.errors import MeavError
from meav.core.stamps import stamped
from meav.training.data import RunData, resolve_data
from meav.training.margin import heldout_margin
from meav.training.meta import curves, plot_curves, source_info, versions
from meav.training.model import check_causal_lm, load_model, load_tokenizer_for, resolve_model
from meav.training.options import TrainOptions
from meav.training.pairs import parse_joint
from meav.training.progress import RichProgress
from meav.training.recipe import Recipe, load_recipe

log = logging.getLogger(__name__)
TRAINER_STATE = "trainer_state.json"


def apply_overrides(recipe: Recipe, **overrides: Any) -> Recipe:
    """The recipe with command-line values on top (None = keep the recipe's)."""

    data = recipe.model_dump()
    if overrides.get("joint") is not None:
        if isinstance(overrides["joint"], str):
            overrides["joint"] = parse_joint(overrides["joint"])
    if overrides.get("safety") is not None and isinstance(overrides["safety"], str | Path):
        overrides["safety"] = {**(data.get("safety") or {}), "source": str(overrides["safety"])}
    if overrides.get("max_steps") is not None:
        data["dpo"] = {**data["dpo"], "max_steps": overrides.pop("max_steps")}
    data.update({k: v for k, v in overrides.items() if v is not None})
    return validate(Recipe, data)  # the recipe itself was valid: a bad value is an option's (OptionError)


def default_out(recipe: Recipe, model_path: Path, data: RunData) -> Path:
    name = "smollm2-135m-instruct" if recipe.model == "embedded" else model_path.name.lower()
    return Path("runs") / name / data.run_name


def make_config(recipe: Recipe, work: Path, has_eval: bool):
    """trl.DPOConfig from the recipe; without eval pairs, evaluation and best-model selection are off."""

    options = recipe.dpo_options()
    if not has_eval:
        options.update(eval_strategy="no", load_best_model_at_end=False)
    try:
        return DPOConfig(output_dir=str(work / "checkpoints"), seed=recipe.seed, **options)
    except (ValueError, TypeError) as e:
        raise MeavError(f"recipe dpo: {str(e).splitlines()[0]}") from e


def last_checkpoint(folder: Path) -> Path | None:
    """The newest *complete* checkpoint (trainer_state.json is written last); partial ones are ignored."""
    done = [p for p in folder.glob("checkpoint-*") if (p / TRAINER_STATE).is_file() and p.name[11:].isdigit()]
    return max(done, key=lambda p: int(p.name[11:]), default=None)


def _check_work_folder(work: Path, identity: dict[str, Any]) -> None:
    """A work folder belongs to one run: resuming another run's checkpoints would silently mix them."""
    stamp = work / "run.json"
    if stamp.is_file() and not stamped(stamp, identity):
        raise MeavError(f"{work}: holds checkpoints of a different run (recipe/model/data differ); remove it")


def train(options: TrainOptions, callbacks: list | None = None) -> Path:
    """Train one preference-aligned model and return its final folder (the Python API of `meav train`).

    `callbacks` are extra `transformers.TrainerCallback`s (progress display, timing).
    """
    o = options
    recipe_file = str(o.recipe)
    recipe = apply_overrides(
        load_recipe(o.recipe), model=o.base, dataset=o.dataset, domain=o.domain, target=o.target,
        joint=o.joint, safety=o.safety, max_steps=o.max_steps, seed=o.seed,
    )  # fmt: skip
    out = o.out
    model_path = resolve_model(recipe.model)
    data = resolve_data(recipe)
    final = Path(out) if out is not None else default_out(recipe, model_path, data)
    if final.exists() and not (final / "training_meta.json").is_file():
        raise MeavError(
            f"{final}: exists and is not a meav training output (it would be replaced); use another --out"
        )
    work = final.with_name(f"{final.name}.work")
    args = make_config(recipe, work, has_eval=data.eval is not None)
    identity = json.loads(
        json.dumps(
            {"recipe": recipe.model_dump(), "model": str(model_path), "data": data.identity}, default=str
        )
    )
    _check_work_folder(work, identity)  # before any weights are loaded: a stale folder is refused at once
    fresh = not work.exists()
    check_causal_lm(model_path, recipe.model_revision)
    tokenizer = load_tokenizer_for(model_path, recipe)
    policy = load_model(model_path, recipe)
    if args.process_index == 0:
        atomic.write_json(work / "run.json", identity)

    trainer = _trainer(recipe, args, model_path, policy, tokenizer, data)
    try:
        _check_kept_pairs(trainer, data, args.max_length)
    except MeavError:
        if fresh and args.process_index == 0:
            shutil.rmtree(work, ignore_errors=True)  # nothing trained: leave nothing behind
        raise
    data.summary["truncated"] = truncated_pairs(data.train, tokenizer, args.max_length)
    if data.summary["truncated"]["pairs"]:
        log.warning("%s: %d of %d training pairs exceed max_length=%s and are cut", data.run_name,
                    data.summary["truncated"]["pairs"], len(data.train), args.max_length)  # fmt: skip
    for callback in [RichProgress(data.run_name), *(callbacks or [])]:
        trainer.add_callback(callback)
    resume = last_checkpoint(work / "checkpoints")
    if resume is not None:
        log.warning("resuming from %s", resume)
    started = time.time()
    result = trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    seconds = time.time() - started
    staged = work / "final"
    if args.process_index == 0:
        shutil.rmtree(staged, ignore_errors=True)
    trainer.accelerator.wait_for_everyone()
    trainer.save_model(str(staged))  # every rank: ZeRO-3 / FSDP gather the weights here
    if not trainer.is_world_process_zero():
        return final
    tokenizer.save_pretrained(staged)
    meta = _meta(recipe, recipe_file, model_path, data, trainer, resume, result, seconds)
    if data.heldout is not None and recipe.pairs.heldout_max_pairs:
        del trainer, policy  # free the training state (GPU memory) before loading base and trained models
        _free_memory()
        meta["reward_margins"]["heldout"] = heldout_margin(
            str(model_path), str(staged), data.heldout, beta=args.beta, dtype=recipe.model_dtype,
            base_revision=recipe.model_revision,
        )  # fmt: skip
    atomic.write_json(staged / "training_meta.json", meta)
    plot_curves(meta["losses"], staged / "loss_curve.png", f"{data.run_name} ({model_path.name})")
    atomic.replace_dir(staged, final)
    if not recipe.keep_checkpoints:
        shutil.rmtree(work, ignore_errors=True)
    return final


def truncated_pairs(pairs, tokenizer, max_length: int | None) -> dict[str, Any]:
    """How many pairs TRL will cut at `max_length`: the templated prompt plus the longer response (+ EOS)
    does not fit. Recorded so a short budget can never silently train on cut-off answers."""
    if not max_length or pairs is None:
        return {"pairs": 0, "share": 0.0, "max_length": max_length}
    cut = 0
    for row in pairs:
        prompt = tokenizer.apply_chat_template(row["prompt"], tokenize=False, add_generation_prompt=True)
        n_prompt = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
        longest = max(
            len(tokenizer(row[k][0]["content"], add_special_tokens=False)["input_ids"])
            for k in ("chosen", "rejected")
        )
        cut += n_prompt + longest + 1 > max_length
    return {"pairs": cut, "share": round(cut / max(len(pairs), 1), 4), "max_length": max_length}


def _check_kept_pairs(trainer, data: RunData, max_length: int | None) -> None:
    """TRL drops pairs whose prompt alone fills `max_length`; none left would fail later and obscurely
    (no batches, or a KeyError on eval_loss), so say which set and which setting instead."""
    for name, before, after in (
        ("train", data.train, trainer.train_dataset),
        ("eval", data.eval, trainer.eval_dataset),
    ):
        if before is None or after is None or len(after) == len(before):
            continue
        if len(after) == 0:
            raise MeavError(
                f"{data.provenance.get('id', 'dataset')}: every {name} pair's prompt is at least "
                f"dpo.max_length={max_length} tokens, so TRL dropped all {len(before)}; raise dpo.max_length"
            )
        log.warning("%s: %d of %d pairs dropped (prompt ≥ max_length=%s)", name, len(before) - len(after),
                    len(before), max_length)  # fmt: skip


def _free_memory() -> None:

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def _trainer(recipe: Recipe, args, model_path: Path, policy, tokenizer, data: RunData):

    ref = None
    if not args.precompute_ref_log_probs:
        # Passed explicitly: TRL would otherwise reload it from config.name_or_path, losing the revision.

        ref = load_model(model_path, recipe)
    callbacks = []
    if data.eval is not None and recipe.early_stopping_patience:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=recipe.early_stopping_patience))
    return DPOTrainer(
        model=policy,
        ref_model=ref,
        args=args,
        train_dataset=data.train.select_columns(["prompt", "chosen", "rejected"]),
        eval_dataset=data.eval.select_columns(["prompt", "chosen", "rejected"])
        if data.eval is not None
        else None,
        processing_class=tokenizer,
        callbacks=callbacks,
    )


def _meta(recipe, recipe_file, model_path, data, trainer, resume, result, seconds) -> dict[str, Any]:

    state = trainer.state
    series = curves(state.log_history)
    if recipe.model == "embedded":
        base = {"id": MODEL_ID, "source": f"embedded ({WHEEL}, GGUF Q4_1 dequantized to float32)"}
        base.update(source_info(str(model_path), "model", None))
        base["id"] = MODEL_ID
    else:
        base = source_info(recipe.model, "model", recipe.model_revision)
    last = lambda name: series[name][-1][1] if series[name] else None  # noqa: E731
    stopped_early = state.global_step < state.max_steps
    return {
        "run": data.run_name,
        "base_model": base,
        "dataset": data.provenance,
        "pairs": data.summary,
        "recipe": recipe.model_dump(),
        "recipe_file": recipe_file,
        "dpo_config": {
            k: getattr(trainer.args, k) for k in recipe.dpo_options()
        },  # as used (eval may be off)
        "seed": recipe.seed,
        "versions": versions(),
        "device": {"type": str(trainer.args.device.type), "world_size": trainer.args.world_size},
        "training": {
            "global_step": state.global_step,
            "max_steps": state.max_steps,
            "stopped_early": stopped_early,
            "resumed_from": resume.name if resume else None,
            "best_checkpoint": Path(state.best_model_checkpoint).name
            if state.best_model_checkpoint
            else None,
            "best_eval_loss": state.best_metric,
            "train_runtime_s": round(seconds, 1),
            "train_loss_mean": result.training_loss,
        },
        "losses": series,
        "reward_margins": {
            "train_last": last("train_reward_margin"),
            "eval_last": last("eval_reward_margin"),
        },
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
