"""Text hygiene for generated queries and responses: normalisation, truncation, level checks, deduplication."""

from __future__ import annotations

import re
import unicodedata

from datasketch import MinHash, MinHashLSH

from meav.core.corpus import normalized_text

_PREAMBLE = re.compile(
    r"^\s*(sure|certainly|of course|okay|ok|here(?:'s| is| are)|below is|as an ai)\b[^\n]*?[:!.]\s*\n",
    re.IGNORECASE,
)
_LABEL = re.compile(r"^\s*(query|question|response|answer|persona)\s*:\s*", re.IGNORECASE)
_HEADER = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+.*$", re.MULTILINE)
_BULLET = re.compile(r"^[ \t]*(?:[-*•]|\d{1,2}[.)])[ \t]+", re.MULTILINE)
_EMPHASIS = re.compile(r"(\*\*|__|\*)(.+?)\1")
_REFUSAL = re.compile(
    r"(unable to (assist|help|provide)|can(?:no|')t (assist|help|provide)|not able to (assist|help|provide)|"
    r"cannot offer|recommend (that )?you consult|please consult|i'?m sorry)",
    re.IGNORECASE,
)


def strip_prefill(text: str, prefill: str) -> str:
    """The answer without the opener it was made to continue (`response_prefill`): the corpus holds only what
    the model wrote, so neither training nor scoring ever sees a level-specific opener."""
    if prefill and text.startswith(prefill):
        text = text[len(prefill) :].lstrip()
        text = text[:1].upper() + text[1:]
    return text


def normalize_response(text: str) -> str:
    """Free text as the prompts ask: no preamble, headers, bullets or emphasis; paragraphs joined by blank lines."""
    text = unicodedata.normalize("NFKC", text or "").replace("\r\n", "\n").strip()
    text = _PREAMBLE.sub("", text, count=1)
    text = _HEADER.sub("", text)
    text = _BULLET.sub("", text)
    text = _EMPHASIS.sub(r"\2", text)
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    return "\n\n".join(p for p in paragraphs if p)


def normalize_query(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").strip()
    text = _PREAMBLE.sub("", text + "\n", count=1).strip()
    text = _LABEL.sub("", text)
    return " ".join(text.strip().strip('"“”').split())


def truncate_paragraphs(text: str, max_paras: int, max_words: int) -> str:
    """Keep whole paragraphs: at most `max_paras`, at most `max_words` (always at least one paragraph);
    a trailing paragraph cut off mid-sentence by the token budget is dropped when others remain."""
    paragraphs = [p for p in text.split("\n\n") if p]
    if len(paragraphs) > 1 and not re.search(r"[.!?…\"')\]]$", paragraphs[-1]):
        paragraphs = paragraphs[:-1]
    kept, words = [], 0
    for p in paragraphs[:max_paras]:
        n = len(p.split())
        if kept and words + n > max_words:
            break
        kept.append(p)
        words += n
    return "\n\n".join(kept)


def looks_like_refusal(text: str) -> bool:
    return bool(_REFUSAL.search(text))


def level_mismatch(level: str, text: str) -> str | None:
    """Easy-to-detect level errors: an expert or generic answer that only refuses, an avoidance that answers."""
    words = len(text.split())
    if level in ("expert", "generic") and looks_like_refusal(text) and words < 60:
        return f"{level}_only_refuses"
    if level == "avoidance" and not looks_like_refusal(text):
        return "avoidance_gives_no_refusal"
    return None


def near_duplicates(texts: list[str], threshold: float, num_perm: int = 128) -> list[int | None]:
    """For each text, the index of an earlier text it duplicates (exactly or near, MinHash LSH), else None."""

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    exact: dict[str, int] = {}
    result: list[int | None] = []
    for i, text in enumerate(texts):
        key = normalized_text(text)
        if key in exact:
            result.append(exact[key])
            continue
        tokens = key.split()
        shingles = {" ".join(tokens[j : j + 3]) for j in range(max(1, len(tokens) - 2))}
        mh = MinHash(num_perm=num_perm, seed=1)
        for s in shingles:
            mh.update(s.encode("utf-8"))
        hits = lsh.query(mh)
        if hits:
            result.append(min(int(h) for h in hits))
            continue
        exact[key] = i
        lsh.insert(str(i), mh)
        result.append(None)
    return result
