"""Preference pairs from the three-level corpus, in TRL's conversational format.

Each corpus row holds one query and three responses (avoidance, generic, expert). A *target* level decides
which of them is preferred. The orderings follow the paper (§5.3): "expert" is preferred over "generic", and
"generic" over "avoidance" — i.e. the pairs are the neighbouring steps of the spectrum, walked towards the
target. The same rule gives the other two targets:

- target ``expert``:    expert ≻ generic, generic ≻ avoidance        (skip pair: expert ≻ avoidance)
- target ``avoidance``: avoidance ≻ generic, generic ≻ expert        (skip pair: avoidance ≻ expert)
- target ``generic``:   generic ≻ expert, generic ≻ avoidance        (no skip pair)

Why: for the two ends of the spectrum the neighbouring steps state a full ranking (target ≻ middle ≻ far
end) with pairs whose responses differ by one level, which is what DPO learns best from; the optional skip
pair adds the far-end contrast. "generic" sits in the middle, so its ranking is a peak: it beats each neighbour
and the two neighbours are not ordered against each other (preferring expert over avoidance, or the reverse,
would pull the model towards one end, which is not what a "generic" target asks for).

Rows are kept in conversational form so that TRL applies the model's own chat template.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from datasets import Dataset

from meav.core.corpus import LEVELS, load_corpus
from meav.core.errors import MeavError, OptionError

log = logging.getLogger(__name__)

ORDERINGS: dict[str, list[tuple[str, str]]] = {
    "expert": [("expert", "generic"), ("generic", "avoidance")],
    "avoidance": [("avoidance", "generic"), ("generic", "expert")],
    "generic": [("generic", "expert"), ("generic", "avoidance")],
}
SKIP_PAIRS: dict[str, tuple[str, str] | None] = {
    "expert": ("expert", "avoidance"),
    "avoidance": ("avoidance", "expert"),
    "generic": None,
}
PAIR_COLUMNS = ("prompt", "chosen", "rejected")


def orderings(target: str, skip_level: bool = False) -> list[tuple[str, str]]:
    """The (chosen level, rejected level) pairs that encode `target`."""
    if target not in ORDERINGS:
        raise MeavError(f"unknown target level {target!r} (expected one of {', '.join(LEVELS)})")
    pairs = list(ORDERINGS[target])
    skip = SKIP_PAIRS[target]
    if skip_level and skip is not None:
        pairs.append(skip)
    return pairs


def conversational_pair(query: str, chosen: str, rejected: str) -> dict[str, list[dict[str, str]]]:
    """One DPO example as chat messages: the chat template is applied by TRL, never by hand."""
    return {
        "prompt": [{"role": "user", "content": query}],
        "chosen": [{"role": "assistant", "content": chosen}],
        "rejected": [{"role": "assistant", "content": rejected}],
    }


def pairs_from_rows(
    rows: list[dict[str, Any]], target: str, skip_level: bool = False
) -> list[dict[str, Any]]:
    """Pairs for every row; a pair whose chosen or rejected text is empty is skipped (nothing to contrast)."""
    out = []
    for row in rows:
        query = (row.get("query") or "").strip()
        if not query:
            continue
        for better, worse in orderings(target, skip_level):
            chosen, rejected = (row.get(better) or "").strip(), (row.get(worse) or "").strip()
            if chosen and rejected and chosen != rejected:
                pair = conversational_pair(query, chosen, rejected)
                pair.update(domain=row.get("domain", ""), id=row.get("id", ""), pair=f"{better}>{worse}")
                out.append(pair)
    return out


def parse_joint(spec: str) -> dict[str, str]:
    """`medical=avoidance,financial=expert,legal=expert` → {domain: target}; one of the 27 combinations."""
    targets: dict[str, str] = {}
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        domain, sep, level = (s.strip() for s in part.partition("="))
        if not sep or not domain or level not in LEVELS:
            raise OptionError(
                "joint",
                f"{part!r} is not DOMAIN=LEVEL with LEVEL one of {', '.join(LEVELS)} "
                "(e.g. medical=avoidance,financial=expert,legal=expert)",
            )
        if domain in targets:
            raise OptionError("joint", f"domain {domain!r} given twice")
        targets[domain] = level
    if not targets:
        raise OptionError("joint", "empty specification")
    return targets


def build_pairs(
    source: str | Path,
    targets: dict[str, str],
    split: str,
    *,
    skip_level: bool = False,
    revision: str | None = None,
    max_pairs: int | None = None,
    required: bool = True,
):
    """Pairs for `split` over one or several domains ({domain: target}) as a `datasets.Dataset`.

    One domain is the per-domain run of the paper; several domains with their own targets make the joint
    baseline's mixed set. Rows keep `domain`, `id` and `pair` (e.g. "expert>generic") for bookkeeping; the
    trainer only sees the conversational columns. `required=False` returns None instead of failing on an
    empty result (used for the optional eval / held-out splits).
    """

    rows: list[dict[str, Any]] = []
    for domain, target in targets.items():
        orderings(target)  # validates the level name before any loading
        part = load_corpus(source, config=domain, split=split, revision=revision)
        missing = [c for c in LEVELS if c not in part.column_names]
        if missing:
            raise MeavError(f"{source} [{domain}/{split}]: missing level column(s) {', '.join(missing)}")
        domain_pairs = pairs_from_rows(part.to_list(), target, skip_level)
        log.info("%s/%s: %d rows → %d pairs (target %s)", domain, split, len(part), len(domain_pairs), target)
        rows += domain_pairs
    if max_pairs is not None:
        rows = rows[:max_pairs]
    if not rows:
        if not required:
            return None
        spec = ", ".join(f"{d}={t}" for d, t in targets.items())
        raise MeavError(
            f"{source} [{split}]: no preference pairs for {spec} (empty split or empty responses)"
        )
    return Dataset.from_list(rows)


def pair_counts(pairs) -> dict[str, int]:
    """How many pairs of each kind per domain, e.g. {"medical expert>generic": 6}: recorded in the metadata."""
    counts: dict[str, int] = {}
    for domain, kind in zip(pairs["domain"], pairs["pair"], strict=True):
        key = f"{domain} {kind}"
        counts[key] = counts.get(key, 0) + 1
    return counts
