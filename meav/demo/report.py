"""The demo's one page: the verdict headline (margins with bootstrap intervals, the random control, where each
level dominates next to the paper's values), the knob figure, a smoke-run sample beside a reference row, stage
timings, corpus, training, the sweeps in the paper's Table 1–4 layouts, out-of-domain, baselines, search."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pyarrow.parquet as pq

from meav.core import atomic
from meav.core.corpus import LEVELS
from meav.core.tables import markdown_table
from meav.evaluation.labels import ORDER, SHORT
from meav.evaluation.plots import plot_knob
from meav.evaluation.report import classifier_markdown, example_lines, judge_markdown, preference_shares
from meav.evaluation.search.report import search_markdown
from meav.evaluation.sweep_report import control_passes, control_text, interval_text, sweep_markdown
from meav.evaluation.verdict import best_share

# The paper's values (Mistral-7B-Instruct, §6.1), not meav's: λ where each level dominates.
PAPER = {"expert": (0.3, 0.5), "generic": (-0.7, -0.4), "avoidance": (-1.4, -1.2)}
PAPER_TEXT = {"expert": "0.3 … 0.5", "generic": "−0.4 … −0.7", "avoidance": "−1.2 … −1.4"}
PAPER_GENERIC_PEAK = 0.44
WHY_NOT_EMBEDDED = (
    "The embedded SmolLM2-135M ignores the level instructions: its three answers differ in the opener it was "
    "made to continue (stripped from the corpus), not in what they say, so its text cannot teach the levels; "
    "the AVs are trained on the authored reference corpus instead."
)


def _ranges(spans: list[list[float]]) -> str:
    return ", ".join(f"[{a:g}, {b:g}]" if a != b else f"{a:g}" for a, b in spans) or "never"


def load(folder: Path) -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text()) for p in sorted(folder.glob("*/sweep.json"))}


def _rec(v: dict, level: str, s: dict, d: str) -> str:
    """'0.25 (own Δ −0.04, neutral Δ −0.02)' or 'none: why'."""
    r = (v.get("recommended") or {}).get(level)
    if r is None:
        return "–"
    if r["lambda"] is None:
        return f"none ({r['why']})"
    delta = next(x for x in s["results"] if x["lambda"] == r["lambda"])["fluency_delta"]
    neutral = f"{delta['neutral']['mean']:+.2f}" if "neutral" in delta else "not measured"
    return f"{r['lambda']:g} (own Δ {delta['levels'][d][level]['mean']:+.2f}, neutral Δ {neutral})"


def headline_table(sweeps: dict[str, dict], probes: dict[str, dict]) -> str:
    """Per AV domain on its own test queries: the margin verdict, whether it holds with fluency, each end's
    recommended λ, both controls, the cue probe, where each level leads on the grid, the best generic share."""
    rows = []
    for d, s in sweeps.items():
        v = s["verdict"][d]
        share, lam = best_share(s["results"], d, "generic")
        p = probes.get(d)
        probe = (
            "–"
            if p is None
            else ("ordered" if p["verdict"][d]["visible"] else "not ordered")
            + (f"; Exp leads at λ {_ranges(p['ranges'][d]['expert'])}")
        )
        controls = [control_text(s.get(k), d) for k in ("control", "damage_control")]
        rows.append(
            [d, "yes" if v["visible"] else "no", "**yes**" if v.get("holds") else "no",
             _rec(v, "expert", s, d), _rec(v, "avoidance", s, d),
             *controls, probe,
             *(_ranges(s["ranges"][d][lv]) for lv in ORDER), f"{share:.2f} (λ {lam:g})"]
        )  # fmt: skip
    rows.append(["paper (Mistral-7B, its values)", "", "", "", "", "", "", "", *(PAPER_TEXT[lv] for lv in ORDER),
                 f"{PAPER_GENERIC_PEAK:.2f}"])  # fmt: skip
    header = ["AV domain", "margins ordered", "holds with fluency", "Exp recommended λ", "Avd recommended λ",
              "norm-matched control", "damage-matched control", "cue probe (margins; Exp leads)",
              *(f"{SHORT[lv]} leads at λ" for lv in ORDER), "best Gen share"]  # fmt: skip
    return markdown_table(header, rows)


def summary(sweeps: dict[str, dict]) -> str:
    """The headline in words: where the knob holds with fluency, where only with damage, and the controls."""
    seen = [d for d, s in sweeps.items() if s["verdict"][d]["visible"]]
    holds = [d for d, s in sweeps.items() if s["verdict"][d].get("holds")]
    damaged = [d for d in seen if sweeps[d]["verdict"][d].get("holds") is False]
    passing = {
        k: [d for d, s in sweeps.items() if s.get(k) and control_passes(s[k]["verdict"].get(d))]
        for k in ("control", "damage_control")
    }
    generic = [d for d, s in sweeps.items() if s["ranges"][d]["generic"]]
    base = "; ".join(
        f"{d} " + "/".join(f"{next(r for r in s['results'] if r['lambda'] == 0.0)['domains'][d][lv]:.2f}" for lv in ORDER)
        for d, s in sweeps.items()
    )  # fmt: skip
    words = [
        f"The margins order in {len(seen)}/{len(sweeps)} domains ({', '.join(seen) or 'none'}); the knob **holds "
        f"with fluency** (expert leads at some λ > 0 and avoidance at some λ < 0 with their margins above 0, the "
        f"level's own responses losing ≤ the rule's nats/token and the neutral texts ≤ theirs) in "
        f"{len(holds)}/{len(sweeps)} ({', '.join(holds) or 'none'})."
    ]
    if damaged:
        words.append(f"In {', '.join(damaged)} the knob works **only with damage**: see the fluency tables.")
    words.append(
        f"The norm-matched random control passes in {len(passing['control'])}, the damage-matched one in "
        f"{len(passing['damage_control'])} of {len(sweeps)}."
    )
    words.append(
        f"Generic leads somewhere on the grid in {', '.join(generic)}."
        if generic
        else "Generic leads at no λ of the grid in any domain."
    )
    words.append(f"Base model (λ = 0) shares Exp/Gen/Avd: {base}.")
    return " ".join(words)


def probe_section(probes: dict[str, dict], sweeps: dict[str, dict]) -> str:
    """Each AV on the authored cue probe (first person, digits, "you" and lengths swapped or balanced): the
    shares per λ beside the test split's, and whether the margins order there too."""
    rows = []
    for d, p in probes.items():
        test = {r["lambda"]: r["domains"][d] for r in sweeps[d]["results"]} if d in sweeps else {}
        for r in p["results"]:
            t = test.get(r["lambda"])
            rows.append([d, f"{r['lambda']:g}", "/".join(f"{r['domains'][d][lv]:.2f}" for lv in ORDER),
                         "/".join(f"{t[lv]:.2f}" for lv in ORDER) if t else "–",
                         interval_text(r["margins"][d]["expert"])])  # fmt: skip
    verdicts = ", ".join(
        f"{d}: {'ordered' if p['verdict'][d]['visible'] else 'not ordered'}" for d, p in probes.items()
    )
    return (
        f"Margins ordered on the probe (the same rule as the headline's): {verdicts}.\n\n"
        + markdown_table(
            ["AV domain", "λ", "probe Exp/Gen/Avd", "test Exp/Gen/Avd", "probe Exp margin"], rows
        )
    )


def judged_section(folder: Path, sweeps: dict[str, dict]) -> str:
    """Per domain: judged shares of greedy answers per λ beside the preference shares (the paper's GPT-4
    columns), then the answers at each level's recommended λ and at λ = 0; the judge's own accuracy last."""
    parts = []
    for d, s in sweeps.items():
        path = folder / d / "judge.json"
        if not path.is_file():
            continue
        data = json.loads(path.read_text())
        table = judge_markdown(data, preference_shares(s, d), examples=0)
        parts += [table.replace("## Generation judged by", f"### {d} AV: generations judged by", 1)]
        rec = s["verdict"][d].get("recommended") or {}
        shown = {0.0, *(r["lambda"] for r in rec.values() if r["lambda"] is not None)}
        picked = [j for j in data["judge"] if j["lambda"] in shown]
        names = {lam: [SHORT[lv] for lv, r in rec.items() if r["lambda"] == lam] for lam in shown}
        for j in picked:
            why = f" (recommended for {', '.join(names[j['lambda']])})" if names[j["lambda"]] else ""
            parts += [f"Answers at λ {j['lambda']:g}{why}:", "", *example_lines([j], 2), ""]
    if (folder / "classifier.json").is_file():
        rep = json.loads((folder / "classifier.json").read_text())
        if "test" in rep:
            parts += ["### The judge's own accuracy", "", classifier_markdown(rep), ""]
    return "\n".join(parts)


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
    plot_knob([(f"{d} AV on {d} test queries", s, d) for d, s in sweeps.items()], out / "knob.png", PAPER)
    probes = load(out / "probe")
    rule = next(iter(sweeps.values()))["fluency_rule"]
    headline = headline_table(sweeps, probes)
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
        "over queries with a 95% bootstrap interval. **Margins ordered** = the Exp margin's interval at the top "
        "of the grid lies wholly above the one at λ = 0, which lies wholly above the one at the bottom, and the "
        "Avd margin's the other way round. A level *leads* where its share is the highest and > 1/3 (the paper's "
        "rule). A level's **recommended λ** is the grid value closest to 0 where it leads, its margin's interval "
        f"lies above 0, its own held-out responses lose at most {rule['max_own_drop']:g} nats/token against λ = 0 "
        f"and the neutral texts (general text outside the domains) at most {rule['max_neutral_drop']:g} "
        f"(perplexity ≤ ×{math.exp(rule['max_neutral_drop']):.2f}). **Holds with fluency** = "
        "margins ordered, and expert reaches that at some λ > 0 and avoidance at some λ < 0. The controls, at "
        "the grid's bottom, 0 and top: a random vector with the AV's per-tensor norms, and the same direction "
        "scaled at each end until its neutral-text damage equals the AV's there (×factor); a control *passes* "
        "if it reproduces either end on its own (Exp margin above λ 0's at the top, or Avd margin above λ 0's "
        "at the bottom), so damage alone explaining an end shows. The cue probe is an authored set "
        'whose surface cues (first person, digits, "you", length) are swapped or balanced. The last row is the '
        "paper's own values, for comparison.",
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
    if probes:
        parts += ["## Cue probe", "", probe_section(probes, sweeps), ""]
    if (out / "judge").is_dir():
        parts += ["## Generated answers, judged", "", judged_section(out / "judge", sweeps), ""]
    parts += ["## Out-of-domain", "", ood_table(load(out / "ood")), ""]
    if (out / "baselines" / "prompting.json").is_file():
        parts += ["## Prompting baseline", "", prompting_table(out / "baselines" / "prompting.json"), ""]
    for f in sorted((out / "search").glob("search-*.json")):
        parts += [search_markdown(json.loads(f.read_text())).replace(str(out) + "/", "")]
    atomic.write_text(out / "report.md", "\n".join(parts))
    return out / "report.md"
