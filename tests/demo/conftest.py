"""Fixtures of the demo tests: the shipped smoke and training recipes adapted to the tiny model."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from meav.demo import RECIPES, DemoConfig


def tiny_config(model: Path, smoke: Path, train_recipe: Path, **changes) -> DemoConfig:
    settings = dict(
        model=str(model), smoke_recipe=str(smoke), train_recipe=str(train_recipe), max_steps=2, lambdas="-1,0,1",
        max_queries=3, resamples=200, ood_queries=2, ood_lambdas="-1,1", prompting_queries=2, search_queries=2, confirm_queries=1,
        search_budget=3, search_range="-1:1:1", judge_queries=2, max_new_tokens=16,
    )  # fmt: skip
    return DemoConfig(**{**settings, **changes})


@pytest.fixture(scope="session")
def smoke_recipe(tmp_path_factory, tiny_llama) -> Path:
    """The shipped smoke recipe on the tiny model (the local backend, as the demo runs it)."""
    recipe = yaml.safe_load((RECIPES / "synth/smoke.yaml").read_text())
    recipe["backend"] = f"local:{tiny_llama}"
    recipe["personahub"]["dataset"] = str(RECIPES / "synth/personas-demo.jsonl")
    recipe["cleanup"].update(min_query_words=1, near_duplicate_threshold=0.95)  # random text: keep the rows
    path = tmp_path_factory.mktemp("smoke") / "smoke.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path


@pytest.fixture(scope="session")
def train_recipe(tmp_path_factory) -> Path:
    """The shipped SmolLM2 recipe with room for the tiny tokenizer's longer token sequences."""
    recipe = yaml.safe_load((RECIPES / "smollm2-135m-instruct/medical/ipo.yaml").read_text())
    recipe["dpo"]["max_length"] = 4096
    path = tmp_path_factory.mktemp("train-recipe") / "ipo.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path
