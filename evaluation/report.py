"""Render sweep / search / judge JSON in the paper's layouts (Tables 1–4, the tunable-knob figure) and write a
run folder's report.md (searches, Table 5, rendered by `search_report`)."""

from __future__ import annotations

import json
from pathlib import Path

from matplotlib.figure import Figure

from meav.core import atomic
from meav.core.errors import MeavError
from meav.core.tables import markdown_table
from meav.evaluation.dominance import dominant, recommend
from meav.evaluation.labels import ORDER, SHORT, abbrev
from meav.evaluation.search_report import reach_section, search_comparison, search_markdown

GENERAL_COLS = {"safety": ("safe", "unsafe"), "helpfulness": ("helpful", "unhelpful")}


def _f(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f}"


def _shares_cells(shares: dict[str, float]) -> list[str]:
    return [_f(shares.get(level)) for level in ORDER]


def single_domain_table(data: dict, domain: str) -> str:
    """Tables 1–3: default, prompting per level, and model editing at the recommended λ per level."""

    rows = []
    judge = {round(j["lambda"], 6): j["shares"] for j in data.get("judge", [])}
    for b in data.get("baselines", []):
        if domain in b["domains"]:
            name = b["name"] + (f" ({SHORT[b['level']]})" if b.get("level") else "")
            if b.get("prompt_overhead"):
                name += f", prompt ×{b['prompt_overhead']:.2f}"
            rows.append([name, _f(b["lambda"]), SHORT[dominant(b["domains"][domain])]])
            rows[-1] += _shares_cells(b["domains"][domain]) + ["–"] * 3
    by_lam = {round(r["lambda"], 6): r for r in data["results"]}
    rec = data.get("recommended_lambda") if domain == data.get("av_domain") else None
    picks = rec or _best_per_level(data, domain)
    for level in ORDER:
        lam = picks.get(level)
        if lam is None:
            rows.append(["model editing", "–", SHORT[level] + " (not reached)"] + ["–"] * 6)
            continue
        r = by_lam[round(lam, 6)]["domains"][domain]
        j = judge.get(round(lam, 6))
        rows.append(["model editing", _f(lam), SHORT[dominant(r)]] + _shares_cells(r))
        rows[-1] += _shares_cells(j) if j else ["–"] * 3
    header = ["Method", "λ", "Dominant", *(f"{abbrev(domain)} {SHORT[lv]}" for lv in ORDER)]
    header += [f"judged {SHORT[lv]}" for lv in ORDER]
    return markdown_table(header, rows)


def _best_per_level(data: dict, domain: str) -> dict:

    return recommend(data["results"], domain)


def per_lambda_table(data: dict) -> str:
    """Table 4 layout, every λ: shares in every domain, plus safety / helpfulness pairs when measured."""
    domains = list(data["results"][0]["domains"])
    general = [k for k in GENERAL_COLS if any(k in r.get("general", {}) for r in data["results"])]
    header = ["λ"] + [f"{abbrev(d)} {SHORT[lv]}" for d in domains for lv in ORDER]
    header += [c.capitalize() for k in general for c in GENERAL_COLS[k]]
    header += [f"dominant {abbrev(d)}" for d in domains]
    rows = []
    for i, r in enumerate(data["results"]):
        row = [_f(r["lambda"])] + [c for d in domains for c in _shares_cells(r["domains"][d])]
        row += [_f(r.get("general", {}).get(k, {}).get(c)) for k in general for c in GENERAL_COLS[k]]
        row += [SHORT[data["dominant"][d][i]] for d in domains]
        rows.append(row)
    return markdown_table(header, rows)


def ranges_table(data: dict) -> str:
    rows = []
    for d, per_level in data["ranges"].items():
        cells = [", ".join(f"[{a:g}, {b:g}]" for a, b in per_level[lv]) or "–" for lv in ORDER]
        rows.append([d, *cells])
    return markdown_table(["domain", *(f"{SHORT[lv]} dominates at λ ∈" for lv in ORDER)], rows)


def plot_knob(data: dict, png: Path) -> Path:
    """The tunable-knob figure: one panel per domain (+ one for general pairs), share of each level vs λ."""

    domains = list(data["results"][0]["domains"])
    general = [k for k in GENERAL_COLS if any(k in r.get("general", {}) for r in data["results"])]
    n = len(domains) + (1 if general else 0)
    fig = Figure(figsize=(4 * n, 3.2))
    axes = fig.subplots(1, n, squeeze=False, sharey=True)
    lams = data["lambdas"]
    for ax, d in zip(axes[0], domains, strict=False):
        for lv in ORDER:
            ax.plot(lams, [r["domains"][d][lv] for r in data["results"]], marker=".", label=SHORT[lv])
        ax.axhline(1 / 3, color="grey", lw=0.5, ls="--")
        ax.set_title(d + (" (AV domain)" if d == data.get("av_domain") else ""))
        ax.set_xlabel("λ")
    if general:
        ax = axes[0][-1]
        for k in general:
            first = GENERAL_COLS[k][0]
            ax.plot(lams, [r.get("general", {}).get(k, {}).get(first) for r in data["results"]], label=first)
        ax.set_title("general pairs")
        ax.set_xlabel("λ")
    axes[0][0].set_ylabel("preference accuracy (share)")
    for ax in axes[0]:
        ax.legend(fontsize=7)
    fig.tight_layout()
    return atomic.write_figure(png, fig)


def interval_text(stat: dict) -> str:
    lo, hi = stat["ci95"]
    return f"{stat['mean']:+.3f} [{lo:+.3f}, {hi:+.3f}]"


def verdict_table(data: dict) -> str:
    """Per domain: expert and avoidance margins (mean, 95% bootstrap interval over queries) at the bottom of
    the grid, λ = 0 and the top; the knob verdict; and the same verdict for the norm-matched random control."""
    rows = []
    control = (data.get("control") or {}).get("verdict", {})
    for d, v in data.get("verdict", {}).items():
        if "expert" not in v:
            rows.append([d, "–", "–", f"no ({v.get('reason')})", "–"])
            continue
        cells = [
            " / ".join(interval_text(v[lv][k]) for k in ("bottom", "zero", "top"))
            for lv in ("expert", "avoidance")
        ]
        ctrl = control.get(d)
        rows.append(
            [
                d,
                *cells,
                "yes" if v["visible"] else "no",
                "–" if ctrl is None else ("passes (!)" if ctrl["visible"] else "does not pass"),
            ]
        )
    lams = data["lambdas"]
    header = [
        "domain",
        f"Exp margin at λ {min(lams):g} / 0 / {max(lams):g}",
        f"Avd margin at λ {min(lams):g} / 0 / {max(lams):g}",
        "knob visible",
        "random control",
    ]
    return markdown_table(header, rows)


def sweep_csv(data: dict) -> str:
    """One line per λ and domain (shares, dominant level, margins) and per λ and general pair kind."""
    lines = ["lambda,domain,expert,generic,avoidance,dominant,expert_margin,avoidance_margin"]
    for i, r in enumerate(data["results"]):
        for d, s in r["domains"].items():
            m = r.get("margins", {}).get(d, {})
            em, am = (m.get(lv, {}).get("mean", "") for lv in ("expert", "avoidance"))
            lines.append(
                f"{r['lambda']},{d},{s['expert']:.4f},{s['generic']:.4f},{s['avoidance']:.4f},{data['dominant'][d][i] or ''},{em},{am}"
            )
        for kind, s in r.get("general", {}).items():
            a, b = s
            lines.append(f"{r['lambda']},{kind},{s[a]:.4f},{s[b]:.4f},,,,")
    return "\n".join(lines) + "\n"


def sweep_markdown(data: dict, png_name: str | None = "knob.png") -> str:
    parts = [f"## λ sweep: {data.get('av', '?')} on {data.get('base', '?')}", ""]
    parts.append(
        f"Dataset {data.get('dataset')} [{data.get('split')}], queries {', '.join(f'{d} {n}' for d, n in (data.get('n_queries') or {}).items())}; "
        f"{len(data['lambdas'])} λ values in {data['wall_s']:.1f} s."
    )
    domains = list(data["results"][0]["domains"])
    for d in domains:
        if data.get("av_domain") not in domains or d == data["av_domain"]:
            parts += ["", f"### {d} (Tables 1–3 layout)", "", single_domain_table(data, d)]
    if data.get("verdict"):
        parts += [
            "",
            "### Verdict: margins with 95% bootstrap intervals over queries",
            "",
            verdict_table(data),
        ]
    parts += ["", "### All domains per λ (Table 4 layout)", "", per_lambda_table(data)]
    parts += ["", "### Dominance ranges", "", ranges_table(data)]
    if data.get("recommended_lambda"):
        rec = ", ".join(
            f"{SHORT[k]} {v if v is not None else '–'}" for k, v in data["recommended_lambda"].items()
        )
        parts += ["", f"Recommended λ ({data['av_domain']}): {rec}"]
    if png_name:
        parts += ["", f"![tunable knob]({png_name})"]
    return "\n".join(parts) + "\n"


def judge_markdown(data: dict) -> str:
    rows = [
        [_f(j["lambda"]), str(j["n"]), *_shares_cells(j["shares"]), str(j.get("unparsed", 0))]
        for j in data["judge"]
    ]
    header = ["λ", "n", *(f"judged {SHORT[lv]}" for lv in ORDER), "unparsed"]
    return f"## Generation judged by {data.get('judge_model')}\n\n" + markdown_table(header, rows) + "\n"


def evaluate_markdown(data: dict) -> str:
    """Baseline rows (default / prompting / joint) for a model scored as is."""
    domains = list(data["rows"][0]["domains"])
    header = ["Method", *(f"{abbrev(d)} {SHORT[lv]}" for d in domains for lv in ORDER), "prompt overhead"]
    rows = []
    for r in data["rows"]:
        name = r["name"] + (f" ({SHORT[r['level']]})" if r.get("level") else "")
        cells = [c for d in domains for c in _shares_cells(r["domains"][d])]
        rows.append([name, *cells, f"×{r['prompt_overhead']:.2f}" if r.get("prompt_overhead") else "–"])
    return f"## Baselines: {data['model']}\n\n" + markdown_table(header, rows) + "\n"


def render_run(run_dir: str | Path) -> Path:
    """Write RUN_DIR/report.md (+ knob PNGs) from every sweep*/search*/judge* JSON found in the folder."""

    run = Path(run_dir)
    if not run.is_dir():
        raise MeavError(f"{run}: not a run folder")
    files = [
        f
        for pat in ("sweep*.json", "evaluate*.json", "search*.json", "judge*.json")
        for f in sorted(run.glob(pat))
    ]
    if not files:
        raise MeavError(f"{run}: no sweep*, evaluate*, search* or judge* JSON to report")
    loaded = {}
    for f in files:
        try:
            loaded[f] = json.loads(f.read_text())
        except json.JSONDecodeError as e:
            raise MeavError(f"{f}: corrupt JSON ({e})") from e
    judged = [j for d in loaded.values() if d.get("kind") == "judge" for j in d["judge"]]
    parts = [f"# meav report: {run.name}", ""]
    searches = [d for d in loaded.values() if d.get("kind") == "search"]
    if len(searches) > 1:  # strategies / decompositions side by side
        parts += ["## Search approaches compared", "", search_comparison(searches), ""]
    reached = reach_section(searches)
    parts += [reached] if reached else []
    for f, data in loaded.items():
        kind = data.get("kind")
        if kind == "sweep" and judged:
            data = {**data, "judge": judged}
        if kind == "sweep":
            png = plot_knob(data, run / f"{f.stem}-knob.png")
            parts.append(sweep_markdown(data, png.name))
        elif kind == "search":
            parts.append(search_markdown(data))
        elif kind == "judge":
            parts.append(judge_markdown(data))
        elif kind == "evaluate":
            parts.append(evaluate_markdown(data))
        else:
            raise MeavError(f"{f}: unknown report kind {kind!r} (sweep, search, judge)")
    out = run / "report.md"
    atomic.write_text(out, "\n".join(parts))
    return out
