"""Markdown for the card's data-dependent sections: tables, generation details, annotation results.

The synth and annotation stages write their own files beside the data (`synth_meta.json`,
`annotation/report.json` + `report.md`); their shapes may grow, so rendering is lenient: known keys get a
readable layout, anything else is shown as YAML rather than dropped, and a malformed file is reported in the
card instead of failing the build.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from meav.core.tables import markdown_table

# Keys of synth_meta.json with a dedicated layout, in display order; the rest goes to "Other details".
GENERATION_KEYS = (
    "meav_version",
    "backend",
    "generator",
    "models",
    "seeds",
    "tokens",
    "drops",
    "recipe",
    "prompts",
)


def _yaml_block(obj: Any) -> str:
    return "```yaml\n" + yaml.safe_dump(obj, sort_keys=False, allow_unicode=True, width=100).strip() + "\n```"


def _load_json(path: Path) -> tuple[Any, str | None]:
    try:
        return json.loads(path.read_text(encoding="utf-8")), None
    except (OSError, ValueError) as e:
        return None, f"{path.name} could not be read ({type(e).__name__}: {str(e).splitlines()[0]})"


def authoring_section(meta: dict) -> str:
    """Who wrote an authored corpus, under which rules, from which files (reference_meta.json)."""
    facts = [
        f"- Authors: {meta.get('authors')}",
        f"- License: `{meta.get('license')}`",
        f"- Paragraph counts: {meta.get('paragraph_counts')}",
        f"- Held out: {meta.get('held_out')}",
        *_longest_fact(meta.get("longest_level")),
        f"- Built with meav `{meta.get('meav_version')}` from (sha256):",
        _indent(_yaml_block(meta.get("files_sha256"))),
    ]
    rows = [
        [d, *(c.get(s, 0) for s in ("train", "validation", "test"))]
        for d, c in (meta.get("rows") or {}).items()
    ]
    words = [[lv, w] for lv, w in (meta.get("mean_words") or {}).items()]
    return "\n\n".join(
        ["\n".join(facts), markdown_table(["Domain", "train", "validation", "test"], rows),
         markdown_table(["Level", "Mean words"], words)]
    )  # fmt: skip


def _longest_fact(longest) -> list[str]:
    """Which level is the longest response, in words, in how many rows (reference_meta.json `longest_level`)."""
    if not isinstance(longest, dict) or not isinstance(longest.get("all"), dict):
        return []
    parts = []
    for name, c in (("all rows", longest["all"]), ("test rows", longest.get("test") or {})):
        if c.get("rows"):
            counts = ", ".join(f"{lv} {c.get(lv, 0)}" for lv in ("expert", "generic", "avoidance"))
            parts.append(f"{name} ({c['rows']}): {counts}")
    return [f"- Longest response, in words (the level that is longest in how many rows): {'; '.join(parts)}"]


def generation_section(folder: Path, generators: list[str]) -> str:
    """Backend, model ids, seeds, token usage, drops, recipe and the prompts as used, from meav.synth_meta.json."""
    seen = ", ".join(f"`{g}`" for g in generators) or "none recorded"
    parts = [f"Generator model(s) recorded in the `generator` column: {seen}."]
    path = folder / "synth_meta.json"
    if not path.exists():
        parts.append(
            "No `synth_meta.json` was found beside the data, so the backend, prompts and seeds of this build "
            "are not documented here."
        )
        return "\n\n".join(parts)
    meta, error = _load_json(path)
    if error or not isinstance(meta, dict):
        parts.append(f"`synth_meta.json`: {error or 'not a JSON object'}.")
        return "\n\n".join(parts)
    facts = []
    for key, label in (("meav_version", "meav version"), ("backend", "Backend"), ("generator", "Generator")):
        if meta.get(key) is not None:
            value = meta[key]
            facts.append(f"- {label}: `{value}`" if not isinstance(value, dict | list) else f"- {label}:")
            if isinstance(value, dict | list):
                facts.append(_indent(_yaml_block(value)))
    if isinstance(meta.get("models"), dict):
        facts += [f"- Model for {step}: `{model}`" for step, model in meta["models"].items()]
    elif meta.get("models") is not None:
        facts.append(f"- Models: `{meta['models']}`")
    if meta.get("seeds") is not None:
        facts.append(f"- Seeds: `{json.dumps(meta['seeds'])}`")
    if facts:
        parts.append("\n".join(facts))
    parts += _counts("Token usage", meta.get("tokens"), "Counter", "Tokens")
    parts += _counts("Rows dropped during cleanup", meta.get("drops"), "Reason", "Rows")
    if meta.get("recipe") is not None:
        parts.append("### Recipe\n\n" + _yaml_block(meta["recipe"]))
    if meta.get("prompts"):
        parts.append(_prompts(meta["prompts"]))
    rest = {k: v for k, v in meta.items() if k not in GENERATION_KEYS}
    if rest:
        parts.append("### Other details\n\n" + _yaml_block(rest))
    return "\n\n".join(parts)


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def _counts(title: str, counts: Any, key: str, value: str) -> list[str]:
    if isinstance(counts, dict) and all(v is None or isinstance(v, int | float) for v in counts.values()):
        rows = [[k, "n/a" if v is None else v] for k, v in counts.items()]
        return [f"### {title}\n\n" + markdown_table([key, value], rows)]
    if counts is not None:
        return [f"### {title}\n\n" + _yaml_block(counts)]
    return []


def _prompts(prompts: Any) -> str:
    """Each prompt verbatim in a fenced block, so placeholders like {num_paras} survive rendering."""
    out = ["### Prompts as used"]
    items = (
        prompts.items()
        if isinstance(prompts, dict)
        else enumerate(prompts if isinstance(prompts, list) else [prompts])
    )
    for name, text in items:
        body = text if isinstance(text, str) else yaml.safe_dump(text, sort_keys=False, allow_unicode=True)
        fence = "````" if "```" in body else "```"
        out.append(f"**{name}**\n\n{fence}text\n{body.rstrip()}\n{fence}")
    return "\n\n".join(out)


def annotation_section(folder: Path) -> str | None:
    """Agreement and label-vs-generation results when an annotation report lies beside the data, else None.

    `meav annotate report --out DIR/annotation` writes report.json, report.md and confusion.png. The card renders
    report.json (kappa per pair + mean with intervals, the Table 7 layout); report.md is used verbatim only when
    the JSON is absent, as is a hand-written `annotation_report.md`. The heatmap is linked when present.
    """
    js = folder / "annotation" / "report.json"
    parts: list[str] = []
    if js.exists():
        report, error = _load_json(js)
        parts.append(
            _annotation_from_json(report)
            if isinstance(report, dict)
            else f"`annotation/report.json`: {error or 'not a JSON object'}."
        )
    else:
        for candidate in (folder / "annotation" / "report.md", folder / "annotation_report.md"):
            if candidate.exists():
                parts.append(_demote(candidate.read_text(encoding="utf-8")))
                break
    if not parts:
        return None
    if (folder / "annotation" / "confusion.png").exists():
        parts.append("![Labels vs generation level](annotation/confusion.png)")
    return "\n\n".join(parts)


def _demote(markdown: str) -> str:
    """Shift headings two levels down so the report nests under '## Annotation'."""
    return "\n".join("##" + line if line.startswith("#") else line for line in markdown.strip().splitlines())


def _annotation_from_json(report: dict) -> str:
    """Kappa table and the 3x3 label-vs-generation table; other fields (progress, alpha...) as YAML."""
    parts = []
    used = {"kappa_pairs", "kappa_mean", "kappa_items", "ci95", "confusion", "cohen_kappa", "mean_kappa"}
    pairs = report.get("kappa_pairs") or report.get("cohen_kappa")
    if isinstance(pairs, dict):
        ci = report.get("ci95") if isinstance(report.get("ci95"), dict) else {}
        items = report.get("kappa_items") or {}
        rows = [
            [
                str(k).replace("|", " / "),
                _num(v),
                _interval((ci.get("kappa_pairs") or {}).get(k)),
                items.get(k, ""),
            ]
            for k, v in pairs.items()
            if k != "mean"
        ]
        mean = report.get("kappa_mean", report.get("mean_kappa"))
        if mean is not None:
            rows.append(["**mean**", _num(mean), _interval(ci.get("kappa_mean")), ""])
        intro = f"{len(report.get('annotators') or []) or 'The'} annotators labelled each response avoidance / generic / expert with the level hidden. Cohen's kappa per pair (paper: mean 0.84):"
        parts.append(intro + "\n\n" + markdown_table(["Pair", "Cohen's kappa", "95% CI", "Items"], rows))
    conf = report.get("confusion")
    if isinstance(conf, dict) and ("values" in conf or "matrix" in conf):
        values = conf.get("values") or conf.get("matrix")
        cols = conf.get("cols") or conf.get("labels") or ["avoidance", "generic", "expert"]
        rows_lab = conf.get("rows") or cols
        pct = all(v is None or isinstance(v, float) and v <= 1 for row in values for v in row)
        body = []
        for lab, row, counts in zip(
            rows_lab, values, conf.get("counts") or [None] * len(values), strict=False
        ):
            cells = [("n/a" if v is None else f"{100 * v:.2f}%") if pct else v for v in row]
            body.append([lab, *cells, sum(counts) if counts else sum(v or 0 for v in row)])
        parts.append(
            "Labels (columns) against the generation level (rows), the paper's Table 7 layout (its diagonal: "
            "Exp 82.96%, Gen 81.70%, Avd 98.73%):\n\n"
            + markdown_table(["generated \\ labelled", *cols, "n"], body)
        )
    rest = {k: v for k, v in report.items() if k not in used}
    if rest:
        parts.append("Other results of the annotation report:\n\n" + _yaml_block(rest))
    return "\n\n".join(parts)


def _interval(ci: Any) -> str:
    return (
        f"[{ci[0]:.3f}, {ci[1]:.3f}]"
        if isinstance(ci, list | tuple) and len(ci) == 2 and None not in ci
        else "n/a"
    )


def _num(v: Any) -> Any:
    if isinstance(v, dict):  # e.g. {"kappa": 0.8, "ci": [...], "n": 20}
        v = v.get("kappa", v.get("value", v))
    return round(float(v), 3) if isinstance(v, int | float) else v
