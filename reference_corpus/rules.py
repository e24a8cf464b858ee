"""The rules every row of the reference corpus keeps (the issue's definition of the gold data), as checks.

Each rule returns problems as "KEY: what is wrong"; `check_rows` runs them all over every domain file. The
held-out rule is the one that matters most: no word 8-gram of a test row (persona, query, any response)
appears anywhere in a train or validation row of any domain, so the test split measures unseen text.

Length is not level-free. The paragraph counts are drawn from the key, independently of the level, but the
number of words is not: expert is the longest answer in 57 of 90 test rows and in 111 of 168 rows in all, in
words (`meav.reference.cues.longest_counts`; `reference_meta.json` records it at each build, and
tests/reference checks these figures against the files). Score per token, and compare with the length and
cue baselines in `meav.reference.cues`.
"""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from meav.core.corpus import LEVELS, SPLITS

MIN_ROWS = {"train": 16, "validation": 6, "test": 30}
MAX_OPENER_SHARE = 0.15  # of one level's responses in one domain starting with the same two words
NGRAM = 8
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")
LIST_LINE = re.compile(r"^\s*([-*•#]|\d+[.)])\s", re.M)
FIRST_PERSON = re.compile(r"\b(I|I'm|I've|I'd|My|my|me)\b")


def drawn_paras(domain: str, key: str) -> dict[str, int]:
    """The paragraph count of each response, drawn before the text was written: a function of the row's
    key only (never of its level's content), 1–3. The paragraph count carries no level signal by construction;
    the length in words does (see the module docstring)."""
    rng = random.Random(f"meav-reference/{domain}/{key}")
    return {level: rng.randint(1, 3) for level in LEVELS}


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def paragraphs(text: str) -> list[str]:
    return [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.split(text.strip()) if s]


def ngrams(text: str, n: int = NGRAM) -> set[tuple[str, ...]]:
    w = words(text)
    return {tuple(w[i : i + n]) for i in range(len(w) - n + 1)}


def row_problems(domain: str, row: dict) -> list[str]:
    """Schema and writing rules of one row."""
    key = row.get("key", "?")
    missing = missing_fields(row)
    if missing:
        return missing
    out = []
    if row["split"] not in SPLITS:
        out.append(f"{key}: split {row['split']!r} is not one of {', '.join(SPLITS)}")
    if not key.startswith(f"{domain}-{row['split']}-"):
        out.append(f"{key}: key must start with '{domain}-{row['split']}-'")
    if row["paras"] != drawn_paras(domain, key):
        out.append(f"{key}: paras {row['paras']} are not the draw for this key {drawn_paras(domain, key)}")
    return out + writing_problems(key, row)


def missing_fields(row: dict) -> list[str]:
    """The one schema error of an authored row (the corpus's or the probe's): the fields it lacks."""
    fields = ("key", "split", "topic", "paras", "persona", "query", *LEVELS)
    missing = [f for f in fields if not row.get(f)]
    return [f"{row.get('key', '?')}: missing {', '.join(missing)}"] if missing else []


def writing_problems(key: str, row: dict) -> list[str]:
    """The writing rules every authored row keeps (the corpus's and the cue probe's): a one-sentence persona, a
    first-person query of one paragraph and 3-6 sentences, responses in free prose with the drawn paragraph
    counts, and no figure in an avoidance answer."""
    out = []
    if len(sentences(row["persona"])) != 1 or "\n" in row["persona"].strip():
        out.append(f"{key}: persona must be one sentence")
    query = row["query"]
    if len(paragraphs(query)) != 1 or not 3 <= len(sentences(query)) <= 6:
        out.append(f"{key}: query must be one paragraph of 3-6 sentences")
    if not FIRST_PERSON.search(query):
        out.append(f"{key}: query must be in the first person")
    for level in LEVELS:
        text = row[level]
        if len(paragraphs(text)) != (row["paras"] or {}).get(level):
            out.append(
                f"{key}: {level} has {len(paragraphs(text))} paragraph(s), paras says {row['paras'].get(level)}"
            )
        if LIST_LINE.search(text):
            out.append(f"{key}: {level} has a list or header line (free prose only)")
    if re.search(r"\d", row["avoidance"]):
        out.append(f"{key}: avoidance contains a figure (it must give no substantive information)")
    return out


def opener_problems(domain: str, rows: Sequence[dict]) -> list[str]:
    """No level has a fixed opener: at most 15% of a level's responses share their first two words."""
    out = []
    for level in LEVELS:
        openers = Counter(" ".join(words(r[level])[:2]) for r in rows if r.get(level))
        total = sum(openers.values())
        for opener, n in openers.items():
            if total >= 10 and n / total > MAX_OPENER_SHARE:
                out.append(f"{domain} {level}: {n}/{total} responses open with '{opener}' (a fixed opener)")
    return out


def count_problems(domain: str, rows: Sequence[dict]) -> list[str]:
    counts = Counter(r.get("split") for r in rows)
    return [
        f"{domain}: {counts.get(split, 0)} {split} rows, at least {n} needed"
        for split, n in MIN_ROWS.items()
        if counts.get(split, 0) < n
    ]


def heldout_problems(rows: Iterable[dict]) -> list[str]:
    """Test rows share no word 8-gram with any train or validation row (of any domain)."""
    rows = list(rows)
    seen: dict[tuple[str, ...], str] = {}
    for r in rows:
        if r.get("split") != "test":
            for field in ("persona", "query", *LEVELS):
                for g in ngrams(r.get(field) or ""):
                    seen.setdefault(g, r["key"])
    out = []
    for r in rows:
        if r.get("split") == "test":
            for field in ("persona", "query", *LEVELS):
                shared = [g for g in ngrams(r.get(field) or "") if g in seen]
                if shared:
                    out.append(f"{r['key']}: {field} shares '{' '.join(shared[0])}' with {seen[shared[0]]}")
    return out


def check_rows(rows_by_domain: dict[str, list[dict]]) -> list[str]:
    """Every rule over every domain; an empty list means the corpus is fit to build."""
    problems: list[str] = []
    keys: defaultdict[str, int] = defaultdict(int)
    for domain, rows in rows_by_domain.items():
        for row in rows:
            keys[row.get("key", "?")] += 1
            problems += row_problems(domain, row)
        problems += opener_problems(domain, rows) + count_problems(domain, rows)
    problems += [f"{k}: key used {n} times" for k, n in keys.items() if n > 1]
    return problems + heldout_problems(r for rows in rows_by_domain.values() for r in rows)
