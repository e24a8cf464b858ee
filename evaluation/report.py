"""Render a run folder's JSON in the paper's layouts and write its report.md: sweeps (sweep_report), searches
(Table 5, search/report), judged generation and baselines."""

from __future__ import annotations

import json
from pathlib import Path

from meav.core import atomic
from meav.core.errors import MeavError
from meav.core.tables import markdown_table
from meav.evaluation.labels import ORDER, SHORT, abbrev, num, share_cells
from meav.evaluation.search.report import reach_section, search_comparison, search_markdown
from meav.evaluation.search.results import read_search
from meav.evaluation.sweep_report import sweep_figure, sweep_markdown


def judge_markdown(
    data: dict, preference: dict | None = None, classifier: dict | None = None, examples: int = 2
) -> str:
    """Judged shares of the generations per λ, beside the preference shares at the same λ when `preference`
    ({λ: {level: share}}, e.g. `preference_shares(sweep, domain)`) is given: the paper's GPT-4 columns next
    to its preference columns. Then what the judge is (`classifier`: a `classifier_report` dict) and up to
    `examples` answers per λ, truncated to EXAMPLE_WORDS words, so a reader sees the text that was judged."""
    pref = {round(float(k), 6): v for k, v in (preference or {}).items()}
    rows = []
    for j in data["judge"]:
        p = pref.get(round(j["lambda"], 6))
        cells = (share_cells(p) if p else ["–"] * len(ORDER)) if preference is not None else []
        rows.append(
            [num(j["lambda"]), str(j["n"]), *cells, *share_cells(j["shares"]), str(j.get("unparsed", 0))]
        )
    header = ["λ", "n", *([f"pref {SHORT[lv]}" for lv in ORDER] if preference is not None else [])]
    header += [*(f"judged {SHORT[lv]}" for lv in ORDER), "unparsed"]
    parts = [f"## Generation judged by {data.get('judge_model')}", "", markdown_table(header, rows)]
    if preference is not None:
        parts += ["", "pref: preference accuracy (the level whose held-out response the model finds most "
                  "likely); judged: the judge's labels of the model's own greedy answers."]  # fmt: skip
    info = _judge_info_text(data.get("judge_info"))
    parts += ["", info] if info else []
    if classifier:
        parts += ["", classifier_markdown(classifier)]
    quoted = example_lines(data["judge"], examples)
    parts += ["", "### Example answers", "", *quoted] if quoted else []
    return "\n".join(parts) + "\n"


def evaluate_markdown(data: dict) -> str:
    """Baseline rows (default / prompting / joint) for a model scored as is."""
    domains = list(data["rows"][0]["domains"])
    header = ["Method", *(f"{abbrev(d)} {SHORT[lv]}" for d in domains for lv in ORDER), "prompt overhead"]
    rows = []
    for r in data["rows"]:
        name = r["name"] + (f" ({SHORT[r['level']]})" if r.get("level") else "")
        cells = [c for d in domains for c in share_cells(r["domains"][d])]
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
        if f.name.startswith("search"):  # typed and versioned: another format is refused, naming the file
            loaded[f] = read_search(f).to_json()
            continue
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
            png = sweep_figure(data, run / f"{f.stem}-knob.png")
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


# ── judge_markdown's helpers (issue 23, item 5) ──────────────────────────────────────────────────────────────
EXAMPLE_WORDS = 60


def truncate_words(text: str, n: int = EXAMPLE_WORDS) -> str:
    """`text` on one line, cut to its first `n` words (… when cut)."""
    w = (text or "").split()
    return " ".join(w[:n]) + (" …" if len(w) > n else "")


def example_lines(judged: list[dict], per_lambda: int = 2) -> list[str]:
    """Up to `per_lambda` judged answers per λ as markdown bullets: λ, query id, label, the answer cut short."""
    out = []
    for j in judged:
        for smp in j.get("samples", [])[:per_lambda]:
            who = f"query `{smp['id']}`" if smp.get("id") else f"query “{truncate_words(smp['query'], 12)}”"
            answer = truncate_words(smp["response"]) or "(empty)"
            out.append(
                f"- λ {num(j['lambda'])}, {who}, judged **{SHORT.get(smp.get('label'), '–')}**: {answer}"
            )
    return out


def preference_shares(sweep: dict, domain: str) -> dict[float, dict[str, float]]:
    """{λ: preference shares of `domain`} from a sweep's JSON: the `preference` argument of judge_markdown."""
    return {r["lambda"]: r["domains"][domain] for r in sweep["results"] if domain in r["domains"]}


def _judge_info_text(info: dict | None) -> str:
    if not info or info.get("kind") != "classifier":
        return ""
    s = info["settings"]
    gold = ", ".join(f"{k} {v:.3f}" for k, v in info.get("gold_accuracy", {}).items())
    return (
        f"Judge: a TF-IDF + logistic-regression level classifier trained on {info['source']} "
        f"({info['train_rows']} rows, {info['train_size']} responses; word {s['ngram_range'][0]}–"
        f"{s['ngram_range'][1]}-grams, C {s['C']}, chosen by {info['cv']['folds']}-fold CV on train: accuracy "
        f"{info['cv']['accuracy']:.3f})"
        + (f"; on the gold responses of the judged queries: {gold}." if gold else ".")
    )


def classifier_markdown(rep: dict) -> str:
    """A `classifier_report`: its accuracy on the test split and the cue probe beside the baseline's, and its
    per-level confusion on each, so a judge that reads surface cues shows it."""
    sets = [k for k in ("test", "probe") if k in rep]
    base = any("baseline" in rep[k] for k in sets)
    header = ["set", "rows", "responses", "classifier accuracy", *(["baseline accuracy"] if base else [])]
    rows = [
        [f"{k} ({rep[k]['source']})", rep[k]["rows"], rep[k]["responses"], round(rep[k]["accuracy"], 3)]
        + ([round(rep[k]["baseline"]["accuracy"], 3) if "baseline" in rep[k] else "–"] if base else [])
        for k in sets
    ]
    parts = [f"### The level classifier (trained on {rep['train_size']} responses; chance {rep['chance']:.2f})",
             "", markdown_table(header, rows)]  # fmt: skip
    for k in sets:
        conf = rep[k]["confusion"]
        table = [[SHORT[t], *(conf[t][p] for p in ORDER)] for t in ORDER]
        parts += ["", f"Confusion on {k} (rows: true level, columns: predicted)", "",
                  markdown_table(["true \\ predicted", *(SHORT[p] for p in ORDER)], table)]  # fmt: skip
    return "\n".join(parts)
