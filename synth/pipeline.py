"""The distilabel pipelines of `meav synth`: one TextGeneration stage, and the three response branches.

Each stage is a real distilabel Pipeline over rows loaded with LoadDataFromDicts. distilabel's own cache is
off (FACTS.md: it can hang on reruns); resume comes from `CachedLLM`'s content-addressed call cache instead.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from pathlib import Path

from distilabel.pipeline import Pipeline
from distilabel.steps import CombineOutputs, KeepColumns, LoadDataFromDicts
from distilabel.steps.tasks import Task

from meav.core.corpus import LEVELS
from meav.core.llm.cached import CachedLLM
from meav.synth.recipe import SynthRecipe


class PrefilledGeneration(Task):
    """One user turn, optionally followed by the start of the assistant's answer (a prefill).

    A prefill such as `{"pairs": [{"persona": "` holds weak models to the JSON shape asked for; the answer
    returned is prefill + continuation, so parsing sees the whole object.
    """

    @property
    def inputs(self):
        return {"instruction": True, "prefill": False}

    @property
    def outputs(self):
        return ["generation", "model_name"]

    def format_input(self, input: dict) -> list[dict]:
        messages = [{"role": "user", "content": input["instruction"]}]
        if input.get("prefill"):
            messages.append({"role": "assistant", "content": input["prefill"]})
        return messages

    def format_output(self, output: str | None, input: dict | None = None) -> dict:
        if output is None:
            return {"generation": None}
        return {"generation": ((input or {}).get("prefill") or "") + output}


class LLMFactory:
    """Builds a fresh `CachedLLM` per task (distilabel serialises each step into its own process)."""

    def __init__(self, backend: str, work_dir: Path, recipe: SynthRecipe):
        self.backend = backend
        self.work_dir = work_dir
        self.recipe = recipe
        self.batch_size = recipe.batch_size

    def __call__(self, max_new_tokens: int, parallel_steps: int = 1) -> CachedLLM:
        """`parallel_steps` local models sharing the CPU get an equal share of its cores each."""
        return CachedLLM(
            torch_threads=max(1, (os.cpu_count() or 1) // parallel_steps) if parallel_steps > 1 else 0,
            backend=self.backend,
            cache_dir=str(self.work_dir / "calls"),
            errors_file=str(self.work_dir / "errors.jsonl"),
            max_concurrency=self.recipe.max_concurrency,
            batch_size=self.recipe.batch_size,
            timeout=self.recipe.request_timeout,
            max_retries=self.recipe.max_retries,
            generation_kwargs={
                "max_new_tokens": max_new_tokens,
                "temperature": self.recipe.generation.temperature,
                "top_p": self.recipe.generation.top_p,
            },
        )


def _quiet() -> None:
    os.environ.setdefault("DISTILABEL_LOG_LEVEL", "WARNING")
    logging.getLogger("distilabel").setLevel(logging.WARNING)


def _rows_of(distiset) -> list[dict]:
    return [dict(r) for r in distiset["default"]["train"]]


def generate_column(
    name: str,
    rows: list[dict],
    prompt_column: str,
    output_column: str,
    llm: LLMFactory,
    max_new_tokens: int,
    work_dir: Path,
) -> list[dict]:
    """Generate `output_column` from `rows[prompt_column]` (and an optional `prefill` column)."""
    if not rows:
        return []
    _quiet()

    keep = [*rows[0].keys(), output_column]
    name = re.sub(r"[^a-zA-Z0-9_-]+", "_", name).strip("_")  # distilabel step names are identifiers
    with Pipeline(name=f"meav-{name}", cache_dir=str(work_dir / "distilabel")) as pipeline:
        load = LoadDataFromDicts(name="load", data=rows, batch_size=llm.batch_size * 4)
        task = PrefilledGeneration(
            name=name,
            llm=llm(max_new_tokens),
            input_mappings={"instruction": prompt_column},
            output_mappings={"generation": output_column},
            input_batch_size=llm.batch_size * 4,
        )
        load >> task >> KeepColumns(name="keep", columns=keep)
    return _run_uncached(pipeline, work_dir)


def _run_uncached(pipeline, work_dir: Path) -> list[dict]:
    """Run with distilabel's own cache cleared: our call cache is what resumes a run.

    distilabel 1.5.3 reloads `pipeline.yaml` from its cache folder even with `use_cache=False`, so a run
    killed while writing it crashed the next run (TypeError in `Pipeline.from_dict`).
    """
    shutil.rmtree(work_dir / "distilabel" / pipeline.name, ignore_errors=True)
    return _rows_of(pipeline.run(use_cache=False))


def generate_responses(rows: list[dict], llm: LLMFactory, max_new_tokens: int, work_dir: Path) -> list[dict]:
    """Three branches (avoidance, generic, expert) from the same rows, joined with CombineOutputs."""
    if not rows:
        return []
    _quiet()

    keep = [*rows[0].keys(), *LEVELS]
    with Pipeline(name="meav-responses", cache_dir=str(work_dir / "distilabel")) as pipeline:
        load = LoadDataFromDicts(name="load", data=rows, batch_size=llm.batch_size * 4)
        branches = [
            PrefilledGeneration(
                name=f"respond_{level}",
                llm=llm(max_new_tokens, parallel_steps=len(LEVELS)),
                input_mappings={"instruction": f"prompt_{level}", "prefill": f"prefill_{level}"},
                output_mappings={"generation": level},
                input_batch_size=llm.batch_size * 4,
            )
            for level in LEVELS
        ]
        combine = CombineOutputs(name="combine")
        load >> branches >> combine >> KeepColumns(name="keep", columns=keep)
    return _run_uncached(pipeline, work_dir)
