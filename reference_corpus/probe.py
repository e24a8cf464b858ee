"""The cue probe: authored rows whose surface cues are swapped or balanced (issue 23, control 3(c)).

In the reference corpus the levels also differ on the surface: avoidance says "I", expert has figures and is
usually the longest, generic rarely says "you". The probe keeps the levels' *content* (avoidance declines with
no advice, generic informs in general terms, expert gives specific, actionable professional detail) and
removes those cues: avoidance is impersonal (no first person), expert has no digit, generic speaks to "you"
and cites general figures, the three responses of a row are within 25% of each other in words, and the
longest level rotates across rows. `probe_problems` checks all of it, plus: the probe's text shares no word
8-gram with the reference corpus, so its queries are not corpus queries.

`reference_corpus/cue_probe_<domain>.yaml` (one file per domain, the corpus files' schema, `split: test`,
`paras` = the paragraph counts as written). `build_probe` writes it in the corpus contract through the same
code as `meav reference build` (`meav reference build-probe --out DIR`); the contract needs three splits, so
each split holds the same rows: score `test`. `probe_meta.json` beside the data says so.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from pathlib import Path

from meav.core import atomic
from meav.core.config import read_yaml
from meav.core.corpus import LEVELS, SPLITS, write_corpus
from meav.core.errors import MeavError, OptionError
from meav.core.version import __version__
from meav.reference.build import DATA, DOMAINS, LICENSE, contract_row, load_rows
from meav.reference.cues import cue_baseline, longest_counts, longest_level
from meav.reference.options import ProbeOptions
from meav.reference.rules import (
    missing_fields,
    ngrams,
    words,
    writing_problems,
)

COLLECTION = "meav-cue-probe"
GENERATOR = "authored:meav-cue-probe"
MIN_ROWS = 8
MAX_LENGTH_RATIO = 1.25  # longest / shortest response of a row, in words
# no first person at all in avoidance, singular or plural
_ANY_FIRST_PERSON = re.compile(
    r"\b(I|I'm|I've|I'd|I'll|me|my|mine|myself|we|we're|we've|us|our|ours)\b", re.I
)
_YOU = re.compile(r"\byou(r|rs|'re|'ll|'ve|'d)?\b", re.I)


def probe_file(domain: str) -> Path:
    return DATA / f"cue_probe_{domain}.yaml"


def load_probe(domains: tuple[str, ...] | list[str] = DOMAINS) -> dict[str, list[dict]]:
    """The probe rows of each domain, as written in `reference_corpus/cue_probe_<domain>.yaml`."""
    out = {}
    for domain in domains:
        path = probe_file(domain)
        if not path.is_file():
            raise OptionError("domains", f"{domain!r}: no probe file {path.name} (have {', '.join(DOMAINS)})")
        data = read_yaml(path)
        if data.get("domain") != domain or not isinstance(data.get("rows"), list):
            raise MeavError(f"{path}: expected `domain: {domain}` and a `rows:` list")
        out[domain] = data["rows"]
    return out


def row_problems(domain: str, row: dict) -> list[str]:
    """Schema, writing rules and the swapped cues of one probe row."""
    key = row.get("key", "?")
    missing = missing_fields(row)
    if missing:
        return missing
    out = []
    if row["split"] != "test":
        out.append(f"{key}: split must be 'test' (the probe is scored as a test split)")
    if not key.startswith(f"{domain}-probe-"):
        out.append(f"{key}: key must start with '{domain}-probe-'")
    out += writing_problems(key, row)
    found = _ANY_FIRST_PERSON.search(row["avoidance"])
    if found:
        out.append(f"{key}: avoidance uses the first person ('{found.group(0)}')")
    if re.search(r"\d", row["expert"]):
        out.append(f"{key}: expert contains a digit (the probe's expert answers spell out or omit figures)")
    if not _YOU.search(row["generic"]):
        out.append(f"{key}: generic does not address the reader ('you')")
    if not re.search(r"\d", row["generic"]):
        out.append(f"{key}: generic has no general figure (a digit)")
    for level in ("generic", "expert"):
        if re.search(r"\bI\b", row[level]):
            out.append(f"{key}: {level} says 'I' (the first-person cue belongs to no level here)")
    lengths = {lv: len(words(row[lv])) for lv in LEVELS}
    if max(lengths.values()) > MAX_LENGTH_RATIO * min(lengths.values()):
        out.append(
            f"{key}: lengths {lengths} differ by more than {MAX_LENGTH_RATIO - 1:.0%} (longest/shortest)"
        )
    return out


def rotation_problems(domain: str, rows: list[dict]) -> list[str]:
    """The longest level rotates: each level is the longest in about a third of the rows (within one row of
    n/3), and no row ties."""
    counts = longest_counts(rows)
    n = counts["rows"]
    out = [f"{domain}: {counts['tie']} row(s) with tied longest levels"] if counts["tie"] else []
    for lv in LEVELS:
        if abs(counts[lv] - n / 3) > 1:
            out.append(
                f"{domain}: {lv} is the longest in {counts[lv]} of {n} rows (about {n / 3:.1f} wanted)"
            )
    return out


def overlap_problems(probe_rows: list[dict], corpus_rows: list[dict]) -> list[str]:
    """No word 8-gram of a probe row appears anywhere in the reference corpus (any split, any domain)."""
    fields = ("persona", "query", *LEVELS)
    seen: dict[tuple[str, ...], str] = {}
    for r in corpus_rows:
        for f in fields:
            for g in ngrams(r.get(f) or ""):
                seen.setdefault(g, r["key"])
    out = []
    for r in probe_rows:
        for f in fields:
            shared = [g for g in ngrams(r.get(f) or "") if g in seen]
            if shared:
                out.append(f"{r['key']}: {f} shares '{' '.join(shared[0])}' with {seen[shared[0]]}")
    return out


def probe_problems(
    probe_by_domain: dict[str, list[dict]], corpus_by_domain: dict[str, list[dict]] | None = None
) -> list[str]:
    """Every probe rule over every domain; an empty list means the probe is fit to build."""
    corpus_by_domain = load_rows() if corpus_by_domain is None else corpus_by_domain
    problems: list[str] = []
    keys = Counter(r.get("key", "?") for rows in probe_by_domain.values() for r in rows)
    problems += [f"{k}: key used {n} times" for k, n in keys.items() if n > 1]
    for domain, rows in probe_by_domain.items():
        if len(rows) < MIN_ROWS:
            problems.append(f"{domain}: {len(rows)} probe rows, at least {MIN_ROWS} needed")
        for row in rows:
            problems += row_problems(domain, row)
        if not any("missing" in p for p in problems):
            problems += rotation_problems(domain, rows)
    every = [r for rows in probe_by_domain.values() for r in rows]
    corpus = [r for rows in corpus_by_domain.values() for r in rows]
    return problems + overlap_problems(every, corpus)


def metadata(probe_by_domain: dict[str, list[dict]]) -> dict:
    every = [r for rows in probe_by_domain.values() for r in rows]
    return {
        "kind": "cue-probe",
        "name": COLLECTION,
        "authors": "the meav authors (written for meav; not generated by a model, no PersonaHub text)",
        "license": LICENSE,
        "purpose": (
            "a control for the knob and for level judges: the levels' content without their surface cues "
            "(no first person in avoidance, no digit in expert, generic with 'you' and general figures, lengths "
            "within 25% per row, the longest level rotated)"
        ),
        "splits": "every split holds the same rows (the corpus contract needs three): score `test`",
        "files_sha256": {d: hashlib.sha256(probe_file(d).read_bytes()).hexdigest() for d in probe_by_domain},
        "rows": {d: len(rows) for d, rows in probe_by_domain.items()},
        "longest_level": longest_counts(every),
        "longest_by_row": {r["key"]: longest_level(r) for r in every},
        "cue_baseline": cue_baseline(every),
        "meav_version": __version__,
    }


def build_probe(options: ProbeOptions) -> Path:
    """Check every probe rule, then write the probe as a corpus folder (atomically); returns it."""
    probe = load_probe(options.domains)
    problems = probe_problems(probe)
    if problems:
        raise MeavError(f"cue probe: {len(problems)} rule(s) broken, first: {problems[0]}")
    rows = [contract_row(d, r, COLLECTION, GENERATOR) for d, rs in probe.items() for r in rs]
    with atomic.staging_dir(options.out) as tmp:
        write_corpus({s: rows for s in SPLITS}, tmp, list(probe))
        atomic.write_json(tmp / "probe_meta.json", metadata(probe))
    return options.out
