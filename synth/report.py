"""Summaries of a synth run (Table 6 layout, drops, tokens, cost) and the `--dry-run` estimate."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.table import Table

from meav.core.corpus import SOURCES, SPLITS
from meav.core.llm.specs import BackendSpec
from meav.synth import prompts as P
from meav.synth.recipe import SynthRecipe


def corpus_summary(
    by_split, drops: Counter, tokens: dict, spec: BackendSpec, seconds: float, domains
) -> dict:
    counts = {d.name: {s: 0 for s in SOURCES} for d in domains}
    for rows in by_split.values():
        for r in rows:
            counts[r["domain"]][r["source"]] += 1
    return {
        "rows_by_domain_source": counts,
        "rows_by_split": {s: len(by_split[s]) for s in SPLITS},
        "rows_total": sum(len(v) for v in by_split.values()),
        "drops": dict(sorted(drops.items())),
        "tokens": tokens,
        "wall_seconds": round(seconds, 1),
    }


def table6(counts: dict[str, dict[str, int]]) -> Table:
    table = Table(title="Rows by domain × persona source (paper's Table 6 layout)")
    table.add_column("Domain")
    table.add_column("PersonaHub", justify="right")
    table.add_column("CreatePersona", justify="right")
    table.add_column("Total", justify="right")
    for domain, by_source in counts.items():
        table.add_row(
            domain.capitalize(), *(str(by_source[s]) for s in SOURCES), str(sum(by_source.values()))
        )
    total = sum(sum(v.values()) for v in counts.values())
    table.add_row("Total curated data", "", "", str(total))
    return table


def print_summary(summary: dict, console: Console) -> None:
    console.print(table6(summary["rows_by_domain_source"]))
    console.print("Splits: " + ", ".join(f"{k} {v}" for k, v in summary["rows_by_split"].items()))
    drops = summary["drops"]
    console.print("Drops: " + (", ".join(f"{k} {v}" for k, v in drops.items()) if drops else "none"))
    t = summary["tokens"]
    cost = "unknown price" if t["cost_usd"] is None else f"${t['cost_usd']:.4f}"
    console.print(
        f"Calls {t['calls']}, tokens in {t['input_tokens']:,} / out {t['output_tokens']:,} ({cost}); "
        f"wall {summary['wall_seconds']} s"
    )


def estimate(recipe: SynthRecipe, spec: BackendSpec, personas_available: int | None) -> dict:
    """Calls and tokens a recipe will need, before any call (4 characters ≈ 1 token)."""
    domains = recipe.domain_specs()
    g = recipe.generation
    n_dom = len(domains)
    calls: Counter[str] = Counter()
    tin = tout = 0.0
    queries = 0
    if recipe.personahub is not None:
        n = (
            recipe.personahub.sample
            if personas_available is None
            else min(recipe.personahub.sample, personas_available)
        )
        calls["queries"] = n * n_dom
        tin += calls["queries"] * len(P.QUERY_FROM_PERSONA) / 4 + calls["queries"] * 30
        tout += calls["queries"] * min(g.max_new_tokens_query, 180)
        queries += calls["queries"]
    cp = recipe.createpersona
    if cp is not None:
        runs = n_dom * len(cp.seeds)
        expanding = sum(cp.roots * cp.branching**d for d in range(cp.depth))  # personas that get children
        calls["createpersona"] = runs * (1 + expanding)
        pairs = runs * sum(cp.roots * cp.branching**d for d in range(cp.depth + 1))
        tin += calls["createpersona"] * len(P.CREATE_RELATED_PERSONAS) / 4
        tout += pairs * 200
        queries += pairs
    calls["responses"] = 3 * queries
    mean_paras = (g.num_paras_min + g.num_paras_max) / 2
    tin += calls["responses"] * (len(P.RESPONSE_PROMPTS["expert"]) / 4 + 180)
    tout += calls["responses"] * min(g.max_new_tokens_response, 90 * mean_paras)
    price = spec.price()
    cost = None if price is None else (tin * price[0] + tout * price[1]) / 1e6
    return {
        "backend": spec.name,
        "calls": dict(calls),
        "calls_total": sum(calls.values()),
        "expected_queries": queries,
        "input_tokens": int(tin),
        "output_tokens": int(tout),
        "cost_usd": cost,
    }


def print_estimate(est: dict, console: Console) -> None:
    table = Table(title=f"Dry run: {est['backend']} (no call made)")
    table.add_column("Stage")
    table.add_column("Calls", justify="right")
    for stage, n in est["calls"].items():
        table.add_row(stage, f"{n:,}")
    table.add_row("total", f"{est['calls_total']:,}")
    console.print(table)
    cost = "unknown price for this model" if est["cost_usd"] is None else f"${est['cost_usd']:,.2f}"
    console.print(
        f"≈ {est['expected_queries']:,} queries; estimated tokens in {est['input_tokens']:,} / "
        f"out {est['output_tokens']:,}; estimated cost {cost}"
    )
