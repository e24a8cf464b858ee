"""Recipes: shipped files validate and map onto trl.DPOConfig; mistakes are one line naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from meav.core.errors import MeavError
from meav.training.recipe import Recipe, load_recipe
from meav.training.run import make_config
from tests.training.conftest import write_recipe

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted(ROOT.glob("recipes/*/*/ipo.yaml"))


def test_all_six_recipes_are_shipped():
    names = {f"{p.parent.parent.name}/{p.parent.name}" for p in SHIPPED}
    assert names == {
        f"{m}/{d}"
        for m in ("smollm2-135m-instruct", "mistral-7b-instruct-v0.3")
        for d in ("medical", "financial", "legal")
    }


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.parent.name}-{p.parent.name}")
def test_shipped_recipe_builds_the_paper_setting(path, tmp_path):
    recipe = load_recipe(path)
    assert recipe.domain == path.parent.name and recipe.target == "expert"
    config = make_config(recipe, tmp_path, has_eval=True)
    assert config.loss_type == ["ipo"] and config.beta == 0.1
    # the paper's batch of 4 pairs, as micro-batches on CPU (a short answer is never padded to a long one)
    assert config.per_device_train_batch_size * config.gradient_accumulation_steps == 4
    assert config.num_train_epochs == 1
    assert config.bf16 is False  # `auto` on a machine without a bf16 GPU
    if recipe.model == "embedded":  # the demo's CPU budget: 8 steps, no evaluation in between
        assert config.max_steps == 8 and config.max_length == 640 and not config.gradient_checkpointing
        assert recipe.pairs.eval_split is None and config.eval_strategy == "no"
    else:
        assert recipe.model == "mistralai/Mistral-7B-Instruct-v0.3" and config.gradient_checkpointing
        assert config.load_best_model_at_end and config.metric_for_best_model == "eval_loss"
        assert config.eval_strategy == "steps" and config.save_steps % config.eval_steps == 0


def test_every_field_is_described():
    def walk(model: type[BaseModel]):
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"
            sub = field.annotation
            for candidate in (sub, *getattr(sub, "__args__", ())):
                if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                    walk(candidate)

    walk(Recipe)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"epochs": 3}, "epochs: unknown field"),
        ({"pairs": {"skip_levels": True}}, "pairs.skip_levels: unknown field"),
        ({"dpo": {"learnin_rate": 1e-5}}, "dpo.learnin_rate is not a trl.DPOConfig field"),
        ({"dpo": {"output_dir": "x"}}, "dpo.output_dir is set by meav"),
        ({"target": "master"}, "target: Input should be"),
    ],
)
def test_recipe_mistakes_name_the_field(tmp_path, changes, message):
    path = write_recipe(tmp_path / "bad.yaml", **changes)
    with pytest.raises(MeavError, match=message) as err:
        load_recipe(path)
    assert str(err.value).startswith(str(path)) and "\n" not in str(err.value)


def test_learning_rate_is_required(tmp_path):
    path = tmp_path / "nolr.yaml"
    path.write_text("model: embedded\ndpo:\n  beta: 0.1\n")
    with pytest.raises(MeavError, match="dpo.learning_rate is required"):
        load_recipe(path)


def test_inconsistent_dpo_values_fail_before_training(tmp_path):
    recipe = load_recipe(write_recipe(tmp_path / "r.yaml", dpo={"eval_steps": 4, "save_steps": 6}))
    with pytest.raises(MeavError, match="recipe dpo:"):
        make_config(recipe, tmp_path / "work", has_eval=True)
    # without eval pairs, best-model selection is switched off instead of failing
    assert make_config(recipe, tmp_path / "work", has_eval=False).load_best_model_at_end is False


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(MeavError, match="absent.yaml: file not found"):
        load_recipe(tmp_path / "absent.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("dpo: [unclosed\n")
    with pytest.raises(MeavError, match="broken.yaml: invalid YAML"):
        load_recipe(broken)
