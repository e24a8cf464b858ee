"""The AV's model card (README.md), derived from av_config.json so the two never disagree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from huggingface_hub import ModelCard, ModelCardData

from meav.core.atomic import write_text
from meav.core.hub import is_hub_id

PAPER = "https://arxiv.org/abs/2410.19206"


def _hub_or_path(ref: str | None, kind: str = "") -> str:
    if not ref:
        return "not recorded"
    if is_hub_id(ref):
        return f"[{ref}](https://huggingface.co/{kind}{ref})"
    return f"`{ref}`"


def _lambda_table(rec: dict[str, Any]) -> str:
    if not rec:
        return "Not measured yet: run the λ sweep (`meav vectors sweep`), which writes it here."
    rows = ["| level | λ |", "| --- | --- |"]
    for level, value in rec.items():
        rows.append(
            f"| {level} | {value if not isinstance(value, dict) else ', '.join(f'{k}: {v}' for k, v in value.items())} |"
        )
    return "\n".join(rows)


def render_card(config: dict[str, Any], repo_id: str | None = None) -> str:
    """Markdown with YAML metadata: base model, domain, target, how to apply, recommended λ, recipe, dataset."""

    repo = repo_id or config.get("hub_repo") or "path/to/this-av"
    base = config.get("base") or "BASE"
    tags = ["alignment-vector", "meav", "task-arithmetic"] + [
        t for t in (config.get("domain"), config.get("target")) if t
    ]
    data = ModelCardData(
        base_model=base if is_hub_id(str(base)) else None,
        datasets=[config["dataset"]] if is_hub_id(str(config.get("dataset"))) else None,
        tags=tags,
        license=config.get("license"),
        # The Hub's metadata: the library that loads it (meav, not transformers: the folder is a weight delta,
        # not a model) and how it relates to its base (it modifies the base's weights, like an adapter).
        library_name="meav",
        base_model_relation="adapter" if is_hub_id(str(base)) else None,
    )
    comp = config.get("compression") or {"method": "none"}
    comp_text = comp.get("method", "none")
    if "size_ratio" in comp:
        comp_text += f" (size ratio {comp['size_ratio']:.3f}, relative Frobenius error {comp['rel_frobenius_error']:.2e})"
    example = next(iter((config.get("recommended_lambda") or {}).values()), 0.5)
    example = example if isinstance(example, int | float) else 0.5
    recipe = config.get("recipe")
    recipe_text = (
        f"```yaml\n{yaml.safe_dump(recipe, sort_keys=False).strip()}\n```" if recipe else "Not recorded."
    )
    rev = f" @ `{config['base_revision']}`" if config.get("base_revision") else ""
    body = f"""
# Alignment vector: {config.get("domain") or "any domain"} → {config.get("target") or "unspecified target"}

An alignment vector is θ_AV = θ_aligned − θ_base ([Shahriar et al., 2024]({PAPER})). Adding λ·θ_AV to the
base at inference time moves its answers along a preference spectrum (avoidance ↔ generic ↔ expert): no
retraining, any λ, and several domains' vectors can be summed.

| | |
| --- | --- |
| base model | {_hub_or_path(base)}{rev} |
| aligned model | {_hub_or_path(config.get("aligned"))} |
| domain | {config.get("domain") or "not recorded"} |
| target level | {config.get("target") or "not recorded"} |
| stored dtype | {config.get("dtype")} |
| tensors / parameters | {config.get("num_tensors")} / {config.get("num_params")} |
| compression | {comp_text} |
| base fingerprint | `{str(config.get("base_fingerprint"))[:40]}…` |

## How to apply

meav is not on the package index: install it from its repository (`git clone` it, then `bin/setup`, or
`pip install -e .` in the checkout). Then:

```python
from transformers import AutoModelForCausalLM; from meav.vectors import load, steer
model = AutoModelForCausalLM.from_pretrained("{base}")
steer(model, {{load("{repo}"): {example}}})  # λ; steer(model, {{}}) restores the base exactly
```

Or on disk: `meav vectors apply --base {base} --av {repo}={example} --out steered-model/`.
The base must be the model above: a different fine-tune is refused (fingerprint) unless forced.

## Recommended λ

{_lambda_table(config.get("recommended_lambda") or {})}

## Recipe

{recipe_text}

## Dataset

{_hub_or_path(config.get("dataset"), "datasets/")}
"""
    return str(ModelCard(f"---\n{data.to_yaml()}\n---\n{body}"))


def write_card(folder: str | Path, config: dict[str, Any], repo_id: str | None = None) -> None:
    write_text(Path(folder) / "README.md", render_card(config, repo_id))
