"""The neutral text set: general chat text outside the three domains, authored for meav (CC BY 4.0).

`reference_corpus/neutral.yaml` holds (prompt, response) pairs on cooking, travel, hobbies, science, history,
household matters and the like: plain, fluent answers with no medical, financial or legal content. It measures
whether steering damages a model's general fluency: the mean per-token log-prob of each response given its
prompt, at λ and at λ = 0 (Δ nats/token, or a perplexity ratio). `load_neutral` reads and validates it;
`neutral_problems` checks the rules the set keeps (size, lengths, ids, no domain vocabulary).
"""

from __future__ import annotations

import re
from pathlib import Path

from meav.core.texts import load_prompt_texts
from meav.reference.rules import ngrams, words

NEUTRAL_FILE = Path(__file__).resolve().parent / "neutral.yaml"
MIN_ROWS = 30
RESPONSE_WORDS = (60, 150)
# words that would put a text in one of the three domains (a coarse guard; the authors kept clear of them)
DOMAIN_WORDS = frozenset(
    "doctor physician symptom symptoms diagnosis medication medicine prescription dose disease "
    "mortgage loan loans invest investing investment portfolio pension retirement tax taxes debt "
    "lawyer attorney court lawsuit sue contract statute legal illegal liability".split()
)


def load_neutral(path: str | Path = NEUTRAL_FILE) -> list[dict[str, str]]:
    """The neutral rows, `[{id, prompt, response}, ...]`, in file order (read by the core loader evaluation uses)."""
    return load_prompt_texts(path)


def neutral_problems(rows: list[dict[str, str]], reference_rows: list[dict] | None = None) -> list[str]:
    """The set's rules: at least 30 rows, responses of 60-150 words in one or more plain paragraphs (no lists),
    no domain vocabulary, and (given the reference rows) no word 8-gram shared with the reference corpus."""
    out = []
    if len(rows) < MIN_ROWS:
        out.append(f"neutral: {len(rows)} rows, at least {MIN_ROWS} needed")
    lo, hi = RESPONSE_WORDS
    seen: set[tuple[str, ...]] = set()
    for r in reference_rows or []:
        for field in ("persona", "query", "avoidance", "generic", "expert"):
            seen |= ngrams(r.get(field) or "")
    for r in rows:
        n = len(words(r["response"]))
        if not lo <= n <= hi:
            out.append(f"{r['id']}: response has {n} words, {lo}-{hi} needed")
        if re.search(r"^\s*([-*•#]|\d+[.)])\s", r["response"], re.M):
            out.append(f"{r['id']}: response has a list or header line (plain prose only)")
        found = sorted({w for f in ("prompt", "response") for w in words(r[f])} & DOMAIN_WORDS)
        if found:
            out.append(f"{r['id']}: domain word(s) {', '.join(found)}")
        shared = [g for f in ("prompt", "response") for g in ngrams(r[f]) if g in seen]
        if shared:
            out.append(f"{r['id']}: shares '{' '.join(shared[0])}' with the reference corpus")
    return out
