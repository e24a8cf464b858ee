"""The demo's one page: the verdict headline (margins with bootstrap intervals, the random control, where each
level dominates next to the paper's values), the knob figure, a smoke-run sample beside a reference row, stage
timings, corpus, training, the sweeps in the paper's Table 1–4 layouts, out-of-domain, baselines, search."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
from matplotlib.figure import Figure

from meav.core import atomic
from meav.core.corpus import LEVELS
from meav.core.tables import markdown_table
from meav.evaluation.labels import ORDER, SHORT
from meav.evaluation.report import interval_text, sweep_markdown
from meav.evaluation.search_report import search_markdown
from meav.evaluation.verdict import best_share

# The paper's values (Mistral-7B-Instruct, §6.1), not meav's: λ where each level dominates.
PAPER = {"expert": (0.3, 0.5), "generic": (-0.7, -0.4), "avoidance": (-1.4, -1.2)}
PAPER_TEXT = {"expert": "0.3 … 0.5", "generic": "−0.4 … −0.7", "avoidance": "−1.2 … −1.4"}
PAPER_GENERIC_PEAK = 0.44
COLORS = {"expert": "tab:green", "generic": "tab:blue", "avoidance": "tab:red"}
WHY_NOT_EMBEDDED = (
    "The embedded SmolLM2-135M ignores the level instructions: its three answers differ in the opener it was "
    "made to continue (stripped from the corpus), not in what they say, so its text cannot teach the levels; "
    "the AVs are trained on the authored reference corpus instead."
)


def _ranges(spans: list[list[float]]) -> str:
    return ", ".join(f"[{a:g}, {b:g}]" if a != b else f"{a:g}" for a, b in spans) or "never"


def load(folder: Path) -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text()) for p in sorted(folder.glob("*/sweep.json"))}


def verdicts(sweeps: dict[str, dict]) -> tuple[list[str], list[str]]:
    """(domains where the knob is visible, domains where the random control passes)."""
    seen = [d for d, s in sweeps.items() if s["verdict"][d]["visible"]]
    control = [
        d for d, s in sweeps.items() if (s.get("control") or {}).get("verdict", {}).get(d, {}).get("visible")
    ]
    return seen, control


def headline_table(sweeps: dict[str, dict]) -> str:
    """Per AV domain on its own test queries: the margin verdict, the control, and where each level dominates."""
    rows = []
    for d, s in sweeps.items():
        v = s["verdict"][d]
        ctrl = (s.get("control") or {}).get("verdict", {}).get(d)
        margins = [
            " / ".join(interval_text(v[lv][k]) for k in ("bottom", "zero", "top"))
            for lv in ("expert", "avoidance")
        ]
        share, lam = best_share(s["results"], d, "generic")
        rows.append(
            [d, "**yes**" if v["visible"] else "no", *margins,
             "–" if ctrl is None else ("passes (!)" if ctrl["visible"] else "does not pass"),
             *(_ranges(s["ranges"][d][lv]) for lv in ORDER), f"{share:.2f} (λ {lam:g})"]
        )  # fmt: skip
    rows.append(
        [
            "paper (Mistral-7B, its values)",
            "",
            "",
            "",
            "",
            *(PAPER_TEXT[lv] for lv in ORDER),
            f"{PAPER_GENERIC_PEAK:.2f}",
        ]
    )
    lams = next(iter(sweeps.values()))["lambdas"]
    lo, hi = min(lams), max(lams)
    header = ["AV domain", "knob visible", f"Exp margin λ {lo:g} / 0 / {hi:g}", f"Avd margin λ {lo:g} / 0 / {hi:g}",
              "random control", *(f"{SHORT[lv]} dominates at λ" for lv in ORDER), "best Gen share"]  # fmt: skip
    return markdown_table(header, rows)


def summary(sweeps: dict[str, dict]) -> str:
    seen, control = verdicts(sweeps)
    generic = [d for d, s in sweeps.items() if s["ranges"][d]["generic"]]
    base = "; ".join(
        f"{d} "
        + "/".join(
            f"{next(r for r in s['results'] if r['lambda'] == 0.0)['domains'][d][lv]:.2f}" for lv in ORDER
        )
        for d, s in sweeps.items()
    )
    gen = (
        f"Generic dominates somewhere on the grid in {', '.join(generic)}."
        if generic
        else "Generic never dominates at any λ of the grid in any domain."
    )
    controlled = sum(1 for s in sweeps.values() if s.get("control"))
    ctrl = (
        f"the random control passes in {len(control)}/{controlled}"
        if controlled
        else "no random control was run (control: false)"
    )
    return (
        f"Knob visible in {len(seen)}/{len(sweeps)} domains by the margin verdict ({', '.join(seen) or 'none'}); "
        f"{ctrl}. {gen} Base model (λ = 0) shares "
        f"Exp/Gen/Avd: {base}."
    )


def plot_knob(sweeps: dict[str, dict], png: Path) -> Path:
    """Per AV domain: Exp and Avd margins with 95% intervals (AV solid, random control dashed), and shares."""
    fig = Figure(figsize=(4.2 * len(sweeps), 6.4))
    axes = fig.subplots(2, len(sweeps), squeeze=False, sharex=True)
    for col, (d, s) in enumerate(sweeps.items()):
        top, bottom = axes[0][col], axes[1][col]
        runs = [("AV", s, "-")] + ([("random control", s["control"], "--")] if s.get("control") else [])
        for label, run, style in runs:
            lams = run["lambdas"]
            for lv in ("expert", "avoidance"):
                stats = [r["margins"][d][lv] for r in run["results"]]
                lo = [m["mean"] - m["ci95"][0] for m in stats]
                hi = [m["ci95"][1] - m["mean"] for m in stats]
                top.errorbar(lams, [m["mean"] for m in stats], yerr=[lo, hi], ls=style, marker=".", capsize=3,
                             color=COLORS[lv], alpha=1 if label == "AV" else 0.5, label=f"{SHORT[lv]} ({label})")  # fmt: skip
        top.axhline(0, color="grey", lw=0.5)
        top.set_title(f"{d} AV on {d} test queries")
        for lv in ORDER:
            bottom.axvspan(*PAPER[lv], color=COLORS[lv], alpha=0.08)
            bottom.plot(
                s["lambdas"],
                [r["domains"][d][lv] for r in s["results"]],
                marker=".",
                color=COLORS[lv],
                label=SHORT[lv],
            )
        bottom.axhline(1 / 3, color="grey", lw=0.5, ls="--")
        bottom.set_xlabel("λ")
    axes[0][0].set_ylabel("margin (nats/token), 95% CI")
    axes[1][0].set_ylabel("preference accuracy (share)")
    axes[0][0].legend(fontsize=7)
    axes[1][0].legend(fontsize=7, title="shaded: paper's regimes", title_fontsize=7)
    fig.tight_layout()
    return atomic.write_figure(png, fig)


def _excerpt(text: str, words: int = 45) -> str:
    w = text.split()
    return " ".join(w[:words]) + (" …" if len(w) > words else "")


def smoke_sample(out: Path, corpus: Path) -> str:
    """One query of the embedded model's smoke run beside one reference row of the same domain."""
    smoke = sorted((out / "smoke" / "data").glob("*/*.parquet")) if (out / "smoke").is_dir() else []
    if not smoke:
        return "No smoke run in this demo (a corpus was given or generated with a backend)."
    row = pq.read_table(smoke[0]).to_pylist()[0]
    ref_files = sorted((corpus / "data" / row["domain"]).glob("train-*.parquet"))
    ref = pq.read_table(ref_files[0]).to_pylist()[0] if ref_files else None
    rows = [["query", _excerpt(row["query"]), _excerpt(ref["query"]) if ref else "–"]]
    rows += [[lv, _excerpt(row[lv]), _excerpt(ref[lv]) if ref else "–"] for lv in reversed(LEVELS)]
    header = [
        f"{row['domain']}",
        "smoke run (embedded SmolLM2-135M, as written)",
        "reference corpus (authored)",
    ]
    return WHY_NOT_EMBEDDED + "\n\n" + markdown_table(header, rows)


def timings_table(stages: dict[str, dict]) -> str:
    rows = [
        [n, "–" if s["seconds"] is None else f"{s['seconds']:.1f}", s["status"]] for n, s in stages.items()
    ]
    total = sum(s["seconds"] or 0 for s in stages.values())
    rows.append(["total", f"{total:.1f}", f"{total / 60:.1f} min"])
    return markdown_table(["stage", "seconds", "this run"], rows)


def corpus_table(corpus: Path) -> str:
    rows = []
    for folder in sorted((corpus / "data").iterdir()):
        counts = [
            sum(pq.read_metadata(f).num_rows for f in folder.glob(f"{s}-*.parquet"))
            for s in ("train", "validation", "test")
        ]
        rows.append([folder.name, *counts, sum(counts)])
    return markdown_table(["domain", "train", "validation", "test", "total"], rows)


def training_table(out: Path, domains: list[str]) -> str:
    rows = []
    for d in domains:
        meta = json.loads((out / "models" / d / "training_meta.json").read_text())
        losses = meta["losses"]["train_loss"]
        cut = meta["pairs"].get("truncated", {})
        rows.append([d, meta["training"]["global_step"], meta["pairs"]["train"], f"{losses[0][1]:.2f} → {losses[-1][1]:.2f}",
                     f"{cut.get('pairs', '–')} ({cut.get('share', 0):.0%}, max_length {cut.get('max_length')})",
                     f"{meta['training']['train_runtime_s']:.0f}"])  # fmt: skip
    return markdown_table(
        ["domain (target expert)", "steps", "train pairs", "IPO loss first → last", "pairs cut", "seconds"],
        rows,
    )


def ood_table(sweeps: dict[str, dict]) -> str:
    """Out-of-domain: each AV on the other domains' queries (Table 4's question: does it spill over?)."""
    rows = []
    for d, s in sweeps.items():
        for other in s["results"][0]["domains"]:
            cells = [
                f"{r['domains'][other]['expert']:.2f}/{r['domains'][other]['avoidance']:.2f}, Exp margin {interval_text(r['margins'][other]['expert'])}"
                for r in s["results"]
            ]
            rows.append([d, other, s["n_queries"][other], *cells])
    lams = next(iter(sweeps.values()))["lambdas"]
    return markdown_table(["AV", "scored on", "queries", *(f"λ {x:g}: Exp/Avd share" for x in lams)], rows)


def prompting_table(path: Path) -> str:
    data = json.loads(path.read_text())
    rows = [[f"prompting ({SHORT[r['level']]})", d, data["n_queries"][d], *(f"{r['domains'][d][lv]:.2f}" for lv in ORDER),
             f"×{r['prompt_overhead']:.2f}"] for r in data["rows"] for d in r["domains"]]  # fmt: skip
    return markdown_table(
        ["baseline", "domain", "queries", *(f"{SHORT[lv]} share" for lv in ORDER), "prompt tokens"], rows
    )


def write_report(out: Path, config, stages: dict[str, dict]) -> Path:
    """report.md + knob.png (+ each sweep's PNG) + headline.md (the README's table)."""
    sweeps = load(out / "sweeps")
    plot_knob(sweeps, out / "knob.png")
    headline = headline_table(sweeps)
    atomic.write_text(out / "headline.md", headline + "\n\n" + summary(sweeps) + "\n")
    corpus = out / "corpus"
    kind = (
        "authored reference corpus"
        if (corpus / "reference_meta.json").is_file()
        else (config.corpus or "generated")
    )
    counts = {d: s["n_queries"][d] for d, s in sweeps.items()}
    per_domain = (
        f"{next(iter(counts.values()))} test queries per domain"
        if len(set(counts.values())) == 1
        else "test queries " + ", ".join(f"{d} {n}" for d, n in counts.items())
    )
    parts = [
        "# meav demo report",
        "",
        f"Base model: {config.model}; training corpus: {kind}; λ grid {config.lambdas} on {per_domain}; "
        f"scale {config.scale:g}.",
        "",
        "## Headline: the tunable knob",
        "",
        "Each expert AV steers its own domain's test queries. The margin of a level on a query is its mean "
        "per-token log-prob minus the best other level's (> 0: that level wins the query); cells give the mean "
        "over queries with a 95% bootstrap interval. **Knob visible** = the Exp margin's interval at the top of "
        "the grid lies wholly above the one at λ = 0, which lies wholly above the one at the bottom, and the Avd "
        "margin's the other way round. The control is a random vector with the AV's per-tensor norms through the "
        "same grid; it must not pass. A level *dominates* where its share is the highest and > 1/3 (paper's rule). "
        "The last row is the paper's own values, for comparison.",
        "",
        headline,
        "",
        summary(sweeps),
        "",
        "![margins and shares per λ](knob.png)",
        "",
        "## Stage timings",
        "",
        timings_table(stages),
        "",
        "## Corpus pipeline smoke run beside the reference corpus",
        "",
        smoke_sample(out, corpus),
        "",
        "## Training corpus",
        "",
        corpus_table(corpus) if (corpus / "data").is_dir() else f"{config.corpus} (Hub)",
        "",
        "## Training",
        "",
        training_table(out, config.domains),
        "",
        "## Single-domain sweeps",
        "",
    ]
    for d, s in sweeps.items():
        body = sweep_markdown(s, f"sweeps/{d}/sweep-knob.png").replace(
            f" on {s['base']}", f" on {config.model}"
        )
        body = body.replace(str(out) + "/", "")  # paths relative to the report, portable when copied to docs/
        parts += [body.replace("## λ sweep", f"### {d} AV: λ sweep", 1).replace("\n### ", "\n#### ")]
    parts += ["## Out-of-domain", "", ood_table(load(out / "ood")), ""]
    if (out / "baselines" / "prompting.json").is_file():
        parts += ["## Prompting baseline", "", prompting_table(out / "baselines" / "prompting.json"), ""]
    for f in sorted((out / "search").glob("search-*.json")):
        parts += [search_markdown(json.loads(f.read_text())).replace(str(out) + "/", "")]
    atomic.write_text(out / "report.md", "\n".join(parts))
    return out / "report.md"
