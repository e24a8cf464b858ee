"""Surface cues of the level labels, measured rather than asserted (issue 23).

Two things a scorer could learn instead of the levels' content, computed on any rows with the corpus's level
columns (the authored YAML rows, or rows of a built corpus split as `datasets` returns them):

- **length**: `longest_counts` says which level's response is the longest (in words) in how many rows;
  `mean_words` gives each level's mean length;
- **the two-rule cue baseline**: `cue_level` labels a response by surface alone — a capital "I" → avoidance,
  else a digit → expert, else generic — and `cue_baseline` reports how many responses (and rows) those two
  rules label correctly. `cue_baseline_split` runs it on one split of a corpus folder or Hub repo, so an
  evaluation can report it beside its own accuracy. A judge or a knob that does no better than this baseline
  may be reading the cues, not the levels.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from meav.core.corpus import LEVELS
from meav.reference.rules import words

_I = re.compile(r"\bI\b")  # "I", "I'm", "I've", "I'd", "I'll": the first-person cue of avoidance answers
_DIGIT = re.compile(r"\d")  # the figures cue of expert answers


def cue_level(text: str) -> str:
    """The level two surface rules give a response: "I" → avoidance, else a digit → expert, else generic."""
    if _I.search(text):
        return "avoidance"
    if _DIGIT.search(text):
        return "expert"
    return "generic"


def cue_baseline(rows: Iterable[dict]) -> dict:
    """How well the two surface rules label each response of `rows` with its own level.

    Returns `responses` (scored), `correct`, `accuracy` (correct / responses), `per_level` (correct of each
    level), `rows`, `rows_all_correct` (rows whose three responses are all labelled right) and `chance` (1/3).
    """
    rows = list(rows)
    per_level = {lv: sum(cue_level(r[lv]) == lv for r in rows) for lv in LEVELS}
    all_right = sum(all(cue_level(r[lv]) == lv for lv in LEVELS) for r in rows)
    n = len(rows) * len(LEVELS)
    return {
        "responses": n,
        "correct": sum(per_level.values()),
        "accuracy": round(sum(per_level.values()) / n, 4) if n else 0.0,
        "per_level": per_level,
        "rows": len(rows),
        "rows_all_correct": all_right,
        "chance": round(1 / len(LEVELS), 4),
    }


def cue_baseline_split(source: str | Path, split: str = "test", config: str = "all") -> dict:
    """`cue_baseline` on one split of a corpus (a folder or a Hub repo id) read through the corpus contract."""
    from meav.core.corpus import load_corpus  # datasets: imported when used

    return cue_baseline(load_corpus(source, config, split=split).to_list())


def longest_level(row: dict) -> str:
    """The level whose response has the most words ("tie" when two or more share the maximum)."""
    lengths = {lv: len(words(row[lv])) for lv in LEVELS}
    top = max(lengths.values())
    winners = [lv for lv, n in lengths.items() if n == top]
    return winners[0] if len(winners) == 1 else "tie"


def longest_counts(rows: Iterable[dict]) -> dict[str, int]:
    """In how many rows each level's response is the longest in words (and how many tie), plus `rows`."""
    rows = list(rows)
    counts = {lv: 0 for lv in (*LEVELS, "tie")}
    for r in rows:
        counts[longest_level(r)] += 1
    return {**counts, "rows": len(rows)}


def mean_words(rows: Iterable[dict]) -> dict[str, float]:
    """Mean response length of each level, in words (`rules.words`)."""
    rows = list(rows)
    return {lv: round(sum(len(words(r[lv])) for r in rows) / max(len(rows), 1), 1) for lv in LEVELS}


def length_facts(rows: Iterable[dict]) -> dict:
    """What length says about the level on `rows`: the longest-level counts and each level's mean words."""
    rows = list(rows)
    return {"longest": longest_counts(rows), "mean_words": mean_words(rows)}
