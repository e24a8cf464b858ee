"""One sweep's page: Tables 1–4 layouts, the verdict with both controls, fluency, the recommended λ's, the
CSV and the knob figure."""

from __future__ import annotations

from pathlib import Path

from meav.core.tables import markdown_table
from meav.evaluation.dominance import dominant, peak_lambda
from meav.evaluation.labels import ORDER, SHORT, abbrev, num, share_cells
from meav.evaluation.plots import GENERAL_COLS, plot_knob


def single_domain_table(data: dict, domain: str) -> str:
    """Tables 1–3: default, prompting per level, and model editing at the recommended λ per level."""

    rows = []
    judge = {round(j["lambda"], 6): j["shares"] for j in data.get("judge", [])}
    for b in data.get("baselines", []):
        if domain in b["domains"]:
            name = b["name"] + (f" ({SHORT[b['level']]})" if b.get("level") else "")
            if b.get("prompt_overhead"):
                name += f", prompt ×{b['prompt_overhead']:.2f}"
            rows.append([name, num(b["lambda"]), SHORT[dominant(b["domains"][domain])]])
            rows[-1] += share_cells(b["domains"][domain]) + ["–"] * 3
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
        rows.append(["model editing", num(lam), SHORT[dominant(r)]] + share_cells(r))
        rows[-1] += share_cells(j) if j else ["–"] * 3
    header = ["Method", "λ", "Dominant", *(f"{abbrev(domain)} {SHORT[lv]}" for lv in ORDER)]
    header += [f"judged {SHORT[lv]}" for lv in ORDER]
    return markdown_table(header, rows)


def _best_per_level(data: dict, domain: str) -> dict:

    return peak_lambda(data["results"], domain)


def per_lambda_table(data: dict) -> str:
    """Table 4 layout, every λ: shares in every domain, plus safety / helpfulness pairs when measured."""
    domains = list(data["results"][0]["domains"])
    general = [k for k in GENERAL_COLS if any(k in r.get("general", {}) for r in data["results"])]
    header = ["λ"] + [f"{abbrev(d)} {SHORT[lv]}" for d in domains for lv in ORDER]
    header += [c.capitalize() for k in general for c in GENERAL_COLS[k]]
    header += [f"dominant {abbrev(d)}" for d in domains]
    rows = []
    for i, r in enumerate(data["results"]):
        row = [num(r["lambda"])] + [c for d in domains for c in share_cells(r["domains"][d])]
        row += [num(r.get("general", {}).get(k, {}).get(c)) for k in general for c in GENERAL_COLS[k]]
        row += [SHORT[data["dominant"][d][i]] for d in domains]
        rows.append(row)
    return markdown_table(header, rows)


def ranges_table(data: dict) -> str:
    rows = []
    for d, per_level in data["ranges"].items():
        cells = [", ".join(f"[{a:g}, {b:g}]" for a, b in per_level[lv]) or "–" for lv in ORDER]
        rows.append([d, *cells])
    return markdown_table(["domain", *(f"{SHORT[lv]} dominates at λ ∈" for lv in ORDER)], rows)


def sweep_figure(data: dict, png: Path) -> Path:
    """The knob figure of one sweep: a column per domain it scored."""
    panels = [
        (d + (" (AV domain)" if d == data.get("av_domain") else ""), data, d)
        for d in data["results"][0]["domains"]
    ]
    return plot_knob(panels, png)


def interval_text(stat: dict) -> str:
    lo, hi = stat["ci95"]
    return f"{stat['mean']:+.3f} [{lo:+.3f}, {hi:+.3f}]"


def verdict_table(data: dict) -> str:
    """Per domain: expert and avoidance margins (mean, 95% bootstrap interval over queries) at the bottom of
    the grid, λ = 0 and the top; whether the margins order (visible); whether the knob holds with fluency
    (both ends reachable without damage); and the same for the random controls, which must not pass."""
    rows = []
    controls = [(name, data[key]) for key, name in CONTROLS.items() if data.get(key)]
    for d, v in data.get("verdict", {}).items():
        if "expert" not in v:
            rows.append([d, "–", "–", f"no ({v.get('reason')})", "–", *("–" for _ in controls)])
            continue
        cells = [
            " / ".join(interval_text(v[lv][k]) for k in ("bottom", "zero", "top"))
            for lv in ("expert", "avoidance")
        ]
        rows.append(
            [
                d,
                *cells,
                _yes(v["visible"]),
                _yes(v.get("holds")),
                *(control_text(run, d) for _, run in controls),
            ]
        )
    lams = data["lambdas"]
    header = [
        "domain",
        f"Exp margin at λ {min(lams):g} / 0 / {max(lams):g}",
        f"Avd margin at λ {min(lams):g} / 0 / {max(lams):g}",
        "margins ordered",
        "holds with fluency",
        *(name for name, _ in controls),
    ]
    return markdown_table(header, rows)


CONTROLS = {"control": "norm-matched random", "damage_control": "damage-matched random"}


def _yes(flag: bool | None) -> str:
    return "–" if flag is None else "yes" if flag else "no"


def control_passes(v: dict | None) -> bool | None:
    """A control passes if it reproduces either end of the knob on its own (expert margin above λ 0's at the
    top, or avoidance margin above λ 0's at the bottom); None when it was not run."""
    return None if v is None else bool(v.get("expert_rises") or v.get("avoidance_rises"))


def control_text(run: dict | None, domain: str) -> str:
    """'does not pass' / 'passes (!)', and for the damage-matched control how closely the damage was matched."""
    if run is None:
        return "–"
    matching = run.get("matching") or {}
    if matching and not all(m["matched"] for m in matching.values()):
        return "– (damage not matched)"
    text = "passes (!)" if control_passes(run["verdict"].get(domain)) else "does not pass"
    if matching:
        text += (
            " ("
            + "; ".join(
                f"λ {lam}: ×{m['factor']:.3g}, neutral Δ {m['target_neutral_delta']:+.2f}"
                for lam, m in matching.items()
            )
            + ")"
        )
    return text


def recommendation_table(data: dict, domain: str) -> str:
    """Per level: the recommended λ (the one closest to 0 where it leads with its margin above 0 and fluency
    holds), every λ where that is so, and why there is none."""
    rec = data["verdict"][domain].get("recommended") or {}
    rows = [
        [SHORT[lv], num(r["lambda"]) if r["lambda"] is not None else "none",
         ", ".join(f"{x:g}" for x in r["fluent_at"]) or "–", r["why"] or "–"]
        for lv, r in ((lv, rec[lv]) for lv in ORDER if lv in rec)
    ]  # fmt: skip
    return markdown_table(["level", "recommended λ", "leads fluently at λ", "why none"], rows)


def fluency_table(data: dict, domain: str) -> str:
    """Per λ: each level's mean log-prob on its held-out responses (Δ against λ = 0, 95% interval) and the
    neutral texts' (Δ and perplexity ratio): the absolute partner of the margins."""
    rows = []
    for r in data["results"]:
        flu, delta = r.get("fluency", {}), r.get("fluency_delta")
        if not flu or delta is None:
            continue
        levels = [
            f"{flu['levels'][domain][lv]:.2f} ({interval_text(delta['levels'][domain][lv])})" for lv in ORDER
        ]
        neutral = delta.get("neutral")
        rows.append([
            num(r["lambda"]), *levels,
            f"{flu['neutral']:.2f} ({interval_text(neutral)})" if neutral else "–",
            f"×{delta['neutral_ppl_ratio']:.3f}" if neutral else "–",
        ])  # fmt: skip
    header = [
        "λ",
        *(f"{SHORT[lv]} log-prob (Δ vs λ 0)" for lv in ORDER),
        "neutral log-prob (Δ)",
        "neutral perplexity",
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
    for d in domains:
        if any("fluency_delta" in r for r in data["results"]) and (
            data.get("av_domain") in (d, None) or data.get("av_domain") not in domains
        ):
            parts += [
                "",
                f"### Fluency in {d}: mean per-token log-prob, nats (Δ against λ = 0, 95% interval)",
                "",
                fluency_table(data, d),
            ]
        if data.get("verdict", {}).get(d, {}).get("recommended") and d == data.get("av_domain"):
            rule = data.get("fluency_rule", {})
            parts += [
                "",
                f"### Recommended λ in {d} (fluency rule: own Δ ≥ −{rule.get('max_own_drop')}, neutral Δ ≥ −{rule.get('max_neutral_drop')})",
                "",
                recommendation_table(data, d),
            ]
    parts += ["", "### All domains per λ (Table 4 layout)", "", per_lambda_table(data)]
    parts += ["", "### Dominance ranges", "", ranges_table(data)]
    if png_name:
        parts += ["", f"![tunable knob]({png_name})"]
    return "\n".join(parts) + "\n"
