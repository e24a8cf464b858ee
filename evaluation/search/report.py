"""Table 5 and the search comparison: per-run target tables, the strategies side by side, and what all runs
on the same queries reached together (what these runs' points could combine, not a bound on the AVs)."""

from __future__ import annotations

import json
import math

from meav.core.tables import markdown_table
from meav.evaluation.dominance import dominant
from meav.evaluation.labels import ORDER, SHORT, abbrev


def search_markdown(data: dict) -> str:
    """Table 5 layout: per target, the level and share reached in each domain on the search queries, the
    coefficients, and whether the target holds on the confirmation queries."""
    doms = data["domains"]
    header = ["Target", *(abbrev(d) for d in doms), "editing coef", "found", "confirmed"]
    rows = []
    for t in sorted(data["targets"], key=lambda t: (not t.get("confirmed"), not t["reached"], t["target"])):
        target = " / ".join(SHORT[lv] for lv in t["target"])
        if t["shares"] is None:
            rows.append([target, *["–"] * len(doms), "–", "no", "–"])
            continue
        cells = [
            f"{SHORT[dominant(t['shares'][d])]} ({t['shares'][d][lv]:.0%})"
            for d, lv in zip(doms, t["target"], strict=True)
        ]
        coef = "[" + ", ".join(f"{t['coeffs'][n]:g}" for n in data["coefficients"]) + "]"
        confirm = "–"
        if t["reached"] and t.get("confirm_shares"):
            held = " ".join(
                f"{abbrev(d)} {t['confirm_shares'][d][lv]:.0%}"
                for d, lv in zip(doms, t["target"], strict=True)
            )
            sup = t.get("confirm_support")
            held += "" if sup is None else f"; bootstrap support {sup:.2f}"
            confirm = ("yes" if t["confirmed"] else "no") + f" ({held})"
        if t.get("unedited_holds"):
            confirm += "; the unedited model holds it there too"
        rows.append([target, *cells, coef, "yes" if t["reached"] else f"no ({t['margin']:+.2f})", confirm])
    title = (
        f"## Multidomain search: {data['strategy']}"
        + (f", decomposition {data['decompose']}" if data.get("decompose", "none") != "none" else "")
        + (" (null: norm-matched random vectors)" if data.get("null") else "")
    )
    n = next(iter(data.get("n_queries", {}).values()), {})
    seconds = search_seconds(data)
    if data.get("setup_s", 0) >= 1:
        seconds += f" and {data['setup_s']:.0f} s building the knobs"
    summary = (
        f"{data['targets_reached']}/{data['targets_total']} targets found with {data['evaluations']} evaluations "
        f"on {n.get('search', '?')} search queries per domain ({data.get('split', 'test')} split); {confirmed_text(data)} on "
        f"{n.get('confirm', '?')} other queries per domain ({data.get('confirm_evaluations', 0)} confirmation "
        f"evaluations); {seconds}; coefficients {', '.join(data['coefficients'])}. Cells: dominant level (share "
        "of the target level) on the search queries."
    )
    parts = [title, "", summary]
    if data.get("unedited"):
        u = data["unedited"]
        seen = [f"{' / '.join(SHORT[dominant(u[k][d])] for d in doms)} on the {name} queries"
                for k, name in (("search", "search"), ("confirm", "confirmation")) if u.get(k)]  # fmt: skip
        holds = [" / ".join(SHORT[lv] for lv in t) for t in u["holds"]]
        where = "confirmation" if u.get("holds_on", "confirm") == "confirm" else "search"
        parts += ["", f"The unedited model (every coefficient 0): {', '.join(seen)}. Targets it already holds on "
                      f"the {where} queries, which a point that barely moves the model confirms without any "
                      f"search: {', '.join(holds) or 'none'}."]  # fmt: skip
    return "\n".join([*parts, "", markdown_table(header, rows)]) + "\n"


def confirmed_text(data: dict) -> str:
    """'3 confirmed (2 beyond what the unedited model holds)', or that confirmation was off."""
    if data["targets_confirmed"] is None:
        return "not confirmed (confirmation off)"
    text = f"{data['targets_confirmed']} confirmed"
    text += f" ({data['targets_confirmed_beyond_unedited']} beyond what the unedited model holds)"
    if data.get("targets_confirmed_expected") is not None:
        text += (
            f" — over bootstrap resamples of the confirmation queries: {_resampled(data, 'targets_confirmed')}"
            f" ({_resampled(data, 'targets_confirmed_beyond_unedited')} beyond the unedited model)"
        )
    return text


def per_evaluation(data: dict) -> str:
    """Mean seconds of one search evaluation and of one confirmation (more queries), with how many were timed."""
    spe = data.get("seconds_per_evaluation")
    if not spe:
        return "–"
    return "; ".join(
        f"{kind} {v['mean']:.1f} s (n={v['timed']})" for kind, v in spe.items() if v["mean"] is not None
    )


def search_seconds(data: dict) -> str:
    """Seconds spent evaluating, summed over every session that added to the run's log; evaluations the log
    holds no time for are counted, not guessed."""
    untimed = data["evaluations_untimed"]
    return f"{data['evaluation_s']:.0f} s of evaluation" + (f" (+{untimed} untimed)" if untimed else "")


def search_comparison(searches: list[dict]) -> str:
    """Strategies, decompositions and the null side by side."""
    nulls = [d for d in searches if d.get("null")]
    rows = [
        [d["strategy"], d.get("decompose", "none"), "null" if d.get("null") else "AVs", d["evaluations"],
         d.get("confirm_evaluations", 0), search_seconds(d), per_evaluation(d),
         f"{d['targets_reached']}/{d['targets_total']}",
         _confirmed_cell(d, "targets_confirmed", f"/{d['targets_total']}"),
         _confirmed_cell(d, "targets_confirmed_beyond_unedited"), "–" if d.get("null") else _null_cell(d, nulls)]
        for d in searches
    ]  # fmt: skip
    header = [
        "strategy",
        "decomposition",
        "vectors",
        "evaluations",
        "confirmation evals",
        "time",
        "s per evaluation (the unedited model's included)",
        "found",
        "confirmed (expected over resampled confirmation queries)",
        "confirmed, not held unedited (expected)",
        "null: confirmed by chance",
    ]
    return markdown_table(header, rows)


def _null_cell(run: dict, nulls: list[dict]) -> str:
    """The null's confirmed targets next to a run: the same strategy's null if there is one, else another's,
    named."""
    if not nulls:
        return "not run"
    same = [
        n for n in nulls if n["strategy"] == run["strategy"] and n.get("decompose") == run.get("decompose")
    ]
    n = (same or nulls)[0]
    text = _confirmed_cell(n, "targets_confirmed", f"/{n['targets_total']}")
    return text if same else f"{text}, {n['strategy']} search"


def _confirmed_cell(data: dict, key: str, of: str = "") -> str:
    """'3/27 (2.88; middle 95%: 2–4)': a count with its expectation (and the middle 95% of its values) over
    resamples of the confirmation queries, where recorded."""
    cell = _count(data.get(key)) + of
    if _expected(data, key) is None:
        return cell
    interval = data.get(f"{key}_interval")
    middle = f"; middle 95%: {interval[0]}–{interval[1]}" if interval else ""
    return f"{cell} ({_expected(data, key)}{middle})"


def _resampled(data: dict, key: str) -> str:
    """'2.88 expected, 95% of resamples within 2–4' (the range where the log kept per-query winners)."""
    interval = data.get(f"{key}_interval")
    within = f", 95% of resamples within {interval[0]}–{interval[1]}" if interval else ""
    return f"{_expected(data, key)} expected{within}"


def _expected(data: dict, key: str) -> str | None:
    """The expected count ('2.87'), its bounds ('1.86–1.88') where only those are known, or None."""
    if data.get(f"{key}_expected") is not None:
        return f"{data[f'{key}_expected']:g}"
    lo, hi = data.get(f"{key}_bounds") or (None, None)
    return None if lo is None else f"{lo:g}" if lo == hi else f"{lo:g}–{hi:g}"


def _count(n: int | None) -> str:
    return "–" if n is None else str(n)


def reach_section(searches: list[dict]) -> str:
    """What every run on the same AVs and search queries reached together: the union of their found and
    confirmed targets, and per domain how many of their evaluations each level held. A level no evaluated point
    holds in a domain is one no run could combine into a target: a limit measured on these runs' points, not a
    bound on what the AVs allow."""
    groups: dict[str, list[dict]] = {}
    for d in searches:
        same = [d.get(k) for k in ("base", "avs", "domains", "dataset", "split", "n_queries")]
        groups.setdefault(json.dumps(same, sort_keys=True), []).append(d)
    parts = []
    for runs in groups.values():
        avs = [d for d in runs if not d.get("null")]
        if avs:
            parts.append(_reach(avs, [d for d in runs if d.get("null")]))
    return "\n".join(parts)


def _reach(avs: list[dict], nulls: list[dict]) -> str:
    doms, total = avs[0]["domains"], avs[0]["targets_total"]
    found, confirmed = _union(avs, "reached"), _union(avs, "confirmed")
    n = next(iter(avs[0].get("n_queries", {}).values()), {}).get("search", "?")
    lines = [
        f"## Reached by any run on the AVs ({_runs(len(avs))}: {', '.join(_run_name(d) for d in avs)})",
        "",
        f"On the same {n} search queries per domain, the runs together found {len(found)}/{total} targets "
        f"({_targets(found)}); {len(confirmed)}/{total} were confirmed by at least one run "
        f"({_targets(confirmed)}). Each run chose its own points, so this union is what all their evaluations "
        "found together" + ("; the null runs are not in it." if nulls else "."),
    ]
    counted = [d for d in avs if d.get("level_holds")]
    evaluations = sum(d["level_holds"]["evaluations"] for d in counted)
    if not evaluations:
        return "\n".join(lines) + "\n"
    header = ["domain", *(f"{SHORT[lv]} held" for lv in ORDER)]
    rows = [[abbrev(dom), *(_held(counted, dom, lv) for lv in ORDER)] for dom in doms]
    null_counted = [d for d in nulls if d.get("level_holds")]
    rows += [[f"{abbrev(dom)} (null)", *(_held(null_counted, dom, lv) for lv in ORDER)] for dom in doms
             if null_counted]  # fmt: skip
    used = {(dom, lv) for t in found for dom, lv in zip(doms, t, strict=True)}
    never = [
        (dom, lv) for dom in doms for lv in ORDER if not _holds(counted, dom, lv) and (dom, lv) not in used
    ]
    open_per_domain = [sum((dom, lv) not in never for lv in ORDER) for dom in doms]
    ruled_out = total - math.prod(open_per_domain)
    who = "these runs" if len(counted) == len(avs) else f"the {_runs(len(counted))} that counted them"
    limit = (
        f"Held at no evaluated point of {who}: {', '.join(f'{SHORT[lv]} in {abbrev(d)}' for d, lv in never)}, so "
        f"none of {who} could reach the {ruled_out} targets that need {'it' if len(never) == 1 else 'one of them'}."
        if never
        else "Every level was held at some evaluated point."
    )
    lines += [
        "",
        f"Per domain, the evaluations on the full search set ({_runs(len(counted))}; a point two runs evaluated "
        "counts twice) where a level holds (the highest share, > 1/3). These are the points the strategies chose "
        "(adaptive search evaluates the full set only at its best screened points), not a sample of the "
        f"coefficient box; a target needs all its levels at one point. {limit}",
        "",
        markdown_table(header, rows),
    ]
    return "\n".join(lines) + "\n"


def _runs(n: int) -> str:
    return f"{n} run" + ("" if n == 1 else "s")


def _run_name(d: dict) -> str:
    return d["strategy"] + (f" ({d['decompose']})" if d.get("decompose", "none") != "none" else "")


def _union(runs: list[dict], flag: str) -> list[tuple]:
    return sorted({tuple(t["target"]) for d in runs for t in d["targets"] if t.get(flag)})


def _targets(ts: list[tuple]) -> str:
    return ", ".join(" / ".join(SHORT[lv] for lv in t) for t in ts) or "none"


def _holds(runs: list[dict], dom: str, level: str) -> int:
    return sum(d["level_holds"]["per_domain"][dom][level] for d in runs)


def _held(runs: list[dict], dom: str, level: str) -> str:
    n = sum(d["level_holds"]["evaluations"] for d in runs)
    k = _holds(runs, dom, level)
    return f"{k} of {n} ({k / n:.1%})" if n else "–"
