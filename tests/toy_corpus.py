"""A small corpus in the real on-disk format, with levels that are easy to tell apart, for the mechanics of
stage tests. Every row of a domain shares its responses, so its test rows are NOT unseen text: never use it to
measure what a model learned (the reference corpus's test split is for that)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from meav.core.corpus import SPLITS, write_corpus

DOMAINS = ["medical", "financial", "legal"]
EXPERT = {
    "medical": "Take 200 mg of ibuprofen twice daily with food for five days and ice the knee.",
    "financial": "Put 15% of income into a low-cost index fund and repay the 22% card debt first.",
    "legal": "Under the tenancy agreement the deposit must be returned within 30 days; send a demand letter.",
}


def toy_rows(domain: str, n: int) -> list[dict]:
    rows = []
    for i in range(n):
        query = f"I have a {domain} question number {i}: what should I do about my situation {i * 7 % 13}?"
        rows.append(
            {
                "id": hashlib.sha256(f"{domain}\n{query}".encode()).hexdigest()[:16],
                "domain": domain,
                "source": "personahub" if i % 2 == 0 else "createpersona",
                "persona_collection": "toy",
                "persona": f"A person number {i}",
                "query": query,
                "avoidance": f"I am unable to help with {domain} questions. Please consult a qualified expert.",
                "generic": f"Generally speaking, it depends on your {domain} situation; an expert can advise.",
                "expert": EXPERT[domain],
                "num_paras_avoidance": 1,
                "num_paras_generic": 1,
                "num_paras_expert": 1,
                "generator": "toy",
                "lineage_root": None if i % 2 == 0 else "root-0",
                "lineage_depth": None if i % 2 == 0 else 1,
                "lineage_seed": None if i % 2 == 0 else 0,
            }
        )
    return rows


def write_toy_corpus(out_dir: str | Path, per_domain: int = 10) -> Path:
    """Per domain: 60% train, 10% validation, 30% test (at least one row each)."""
    by_split: dict[str, list[dict]] = {s: [] for s in SPLITS}
    for domain in DOMAINS:
        rows = toy_rows(domain, per_domain)
        n_val = max(1, per_domain // 10)
        n_test = max(1, (per_domain * 3) // 10)
        by_split["validation"] += rows[:n_val]
        by_split["test"] += rows[n_val : n_val + n_test]
        by_split["train"] += rows[n_val + n_test :]
    write_corpus(by_split, out_dir, DOMAINS)
    return Path(out_dir)
