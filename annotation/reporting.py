"""`meav annotate report`: submitted labels → agreement, Table 7, progress (report.json, report.md, PNG).

The generation level comes from the owner-only key dataset; labels from each annotator's dataset
(every response there is theirs, as only they are members of that workspace).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from meav.annotation import agreement
from meav.annotation.argilla_client import (
    QUESTION,
    argilla_errors,
    connect,
    find_dataset,
    settings,
    signature,
    workspace_for,
)
from meav.annotation.options import ReportOptions
from meav.core.atomic import figure_png, write_bytes, write_json, write_text
from meav.core.errors import MeavError

PAPER_KAPPA_MEAN = 0.84


def _all_records(client, dataset_id) -> list[dict]:
    """Every record with all responses and metadata, through the owner's REST listing."""
    out, offset = [], 0
    while True:
        r = client.api.http_client.get(
            f"/api/v1/datasets/{dataset_id}/records",
            params={"include": "responses", "offset": offset, "limit": 1000},
        )
        r.raise_for_status()
        items = r.json()["items"]
        out += items
        offset += len(items)
        if not items or offset >= r.json().get("total", offset):
            return out


def collect(url: str, api_key: str, dataset: str, workspace: str) -> dict:
    """{"levels": item -> level, "labels": annotator -> item -> label, "progress": annotator -> counts}."""

    client = connect(url, api_key)
    with argilla_errors(url, f"read dataset {dataset!r}"):
        key = find_dataset(client, dataset, workspace)
        if key is None:
            raise MeavError(
                f"{url}: no dataset {dataset!r} in workspace {workspace!r} (run `meav annotate push`)"
            )
        if signature(key.settings) != signature(settings(key=True)):
            raise MeavError(
                f"{url}: dataset {dataset!r} in workspace {workspace!r} was not made by `meav annotate push`"
            )
        key_records = _all_records(client, key.id)
        levels = {r["external_id"]: r["metadata"]["generation_level"] for r in key_records}
        annotators = sorted({a for r in key_records for a in r["metadata"].get("annotators") or []})
        labels: dict[str, dict[str, str]] = {}
        progress: dict[str, dict[str, int]] = {}
        for a in annotators:
            ds = find_dataset(client, dataset, workspace_for(workspace, a))
            if ds is None:
                raise MeavError(
                    f"{url}: annotator dataset {dataset!r} missing in workspace {workspace_for(workspace, a)!r}"
                )
            user = client.users(username=a)
            counts = {"assigned": 0, "submitted": 0, "draft": 0, "discarded": 0}
            labels[a] = {}
            for rec in _all_records(client, ds.id):
                counts["assigned"] += 1
                for resp in rec.get("responses") or []:
                    if str(resp["user_id"]) != str(user.id):
                        continue
                    counts[resp["status"]] = counts.get(resp["status"], 0) + 1
                    value = ((resp.get("values") or {}).get(QUESTION) or {}).get("value")
                    if resp["status"] == "submitted" and value is not None:
                        labels[a][rec["external_id"]] = value
            counts["pending"] = (
                counts["assigned"] - counts["submitted"] - counts["draft"] - counts["discarded"]
            )
            progress[a] = counts
    return {"levels": levels, "labels": labels, "progress": progress, "annotators": annotators}


def build_report(data: dict, resamples: int = 1000, seed: int = 0) -> dict:
    annotators, labels, levels = data["annotators"], data["labels"], data["levels"]
    items = sorted({i for a in annotators for i in labels[a]})
    units = [{a: labels[a][i] for a in annotators if i in labels[a]} for i in items]
    stats = agreement.statistics(units, annotators)
    pairs = [(levels[i], lab) for a in annotators for i, lab in labels[a].items() if i in levels]
    return {
        **stats,
        "ci95": agreement.bootstrap_ci(units, annotators, resamples=resamples, seed=seed),
        "bootstrap": {"resamples": resamples, "seed": seed, "unit": "item (query, response)"},
        "confusion": agreement.confusion(pairs),
        "progress": data["progress"],
        "annotators": annotators,
        "labelled_items": len(items),
        "paper": {"kappa_mean": PAPER_KAPPA_MEAN},
    }


def fmt(x: float | None, pct: bool = False) -> str:
    if x is None:
        return "n/a"
    return f"{100 * x:.2f}%" if pct else f"{x:.3f}"


def _ci(c: list | None) -> str:
    return f"[{c[0]:.3f}, {c[1]:.3f}]" if c else "n/a"


def markdown(rep: dict, dataset: str) -> str:
    lines = [
        f"## Annotation agreement: `{dataset}`",
        "",
        "| pair | Cohen's κ | 95% CI | items |",
        "|---|---|---|---|",
    ]
    for pair, k in rep["kappa_pairs"].items():
        lines.append(
            f"| {pair.replace('|', ' / ')} | {fmt(k)} | {_ci(rep['ci95']['kappa_pairs'][pair])} | {rep['kappa_items'][pair]} |"
        )
    lines += [
        f"| **mean** | **{fmt(rep['kappa_mean'])}** | {_ci(rep['ci95']['kappa_mean'])} | |",
        "",
        f"Fleiss' κ: {fmt(rep['fleiss_kappa'])} {_ci(rep['ci95']['fleiss_kappa'])} on {rep['fleiss_items']} items "
        f"labelled by all; Krippendorff's α (nominal): {fmt(rep['krippendorff_alpha'])} "
        f"{_ci(rep['ci95']['krippendorff_alpha'])} on {rep['krippendorff_items']} items. "
        f"Paper: mean Cohen's κ {PAPER_KAPPA_MEAN}. Intervals: {rep['bootstrap']['resamples']} bootstrap "
        f"resamples of items (seed {rep['bootstrap']['seed']}).",
        "",
        "### Labels vs generation level (Table 7 layout, row-normalised)",
        "",
        "| generated \\ labelled | " + " | ".join(rep["confusion"]["cols"]) + " | n |",
        "|---|" + "---|" * (len(rep["confusion"]["cols"]) + 1),
    ]
    for row, vals, counts in zip(
        rep["confusion"]["rows"], rep["confusion"]["values"], rep["confusion"]["counts"], strict=True
    ):
        lines.append(f"| {row} | " + " | ".join(fmt(v, pct=True) for v in vals) + f" | {sum(counts)} |")
    lines += [
        "",
        "### Progress",
        "",
        "| annotator | assigned | submitted | draft | discarded | pending |",
        "|---|---|---|---|---|---|",
    ]
    for a, p in rep["progress"].items():
        lines.append(
            f"| {a} | {p['assigned']} | {p['submitted']} | {p['draft']} | {p['discarded']} | {p['pending']} |"
        )
    return "\n".join(lines) + "\n"


def heatmap_png(rep: dict, dataset: str) -> bytes:

    conf = rep["confusion"]
    values = np.array([[v if v is not None else np.nan for v in row] for row in conf["values"]], dtype=float)
    fig = Figure(figsize=(4.6, 3.8), dpi=120)
    ax = fig.subplots()
    im = ax.imshow(values, vmin=0, vmax=1, cmap="Blues")
    ax.set_xticks(range(3), conf["cols"])
    ax.set_yticks(range(3), conf["rows"])
    ax.set_xlabel("label")
    ax.set_ylabel("generation level")
    for (r, c), v in np.ndenumerate(values):
        ax.text(
            c,
            r,
            "n/a" if np.isnan(v) else f"{100 * v:.1f}%",
            ha="center",
            va="center",
            color="black" if np.isnan(v) or v < 0.6 else "white",
        )
    ax.set_title(f"{dataset}: mean Cohen's κ {fmt(rep['kappa_mean'])}", fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    return figure_png(fig, bbox_inches="tight")


def report(options: ReportOptions) -> dict:
    """Collect the submitted labels, compute agreement and accuracy, write report.json/.md and the heatmap."""
    o = options
    url, api_key, dataset, out, workspace, resamples, seed = (
        o.url,
        o.api_key,
        o.argilla_dataset,
        o.out,
        o.workspace,
        o.resamples,
        o.seed,
    )
    rep = build_report(collect(url, api_key, dataset, workspace), resamples=resamples, seed=seed)
    rep["dataset"], rep["workspace"] = dataset, workspace
    png = heatmap_png(rep, dataset)
    write_json(Path(out) / "report.json", rep)
    write_text(Path(out) / "report.md", markdown(rep, dataset))
    write_bytes(Path(out) / "confusion.png", png)
    return rep
