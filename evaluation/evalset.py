"""Held-out evaluation data (a corpus split, general-domain pairs) and the evaluator that scores it.

The evaluator is what sweeps, searches and baselines call after each edit: it re-scores the same queries with
whatever weights the model holds now (steering in place needs no reload). Prompts and responses are tokenized
once and reused by every evaluation.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pyarrow.parquet as pq

from meav.core.corpus import LEVELS, load_corpus
from meav.core.errors import MeavError
from meav.core.models import load_for_inference
from meav.core.texts import load_prompt_texts
from meav.evaluation.scoring import encode_groups, mean_logprobs, shares, shares_of, winners

GENERAL = {"safety": ("safe", "unsafe"), "helpfulness": ("helpful", "unhelpful")}


def load_eval_rows(
    dataset: str | Path, split: str = "test", max_queries: int | None = None, domains: Sequence[str] = ()
) -> dict[str, list[dict]]:
    """Rows of one split per domain (only `domains` if given; sorted by id, the first `max_queries` per domain);
    refuses gaps."""
    src = str(dataset)
    ds = load_corpus(src, "all", split=split)
    by_domain: dict[str, list[dict]] = {}
    for row in ds:
        by_domain.setdefault(row["domain"], []).append(row)
    if not by_domain:
        raise MeavError(f"{src}: split {split!r} has no rows")
    for d in domains:
        if d not in by_domain:
            raise MeavError(f"{src}: split {split!r} has no rows for domain {d!r} (has {sorted(by_domain)})")
    if domains:
        by_domain = {d: by_domain[d] for d in domains}
    for rows in by_domain.values():
        for r in rows:
            for level in LEVELS:
                if not (r.get(level) or "").strip():
                    raise MeavError(f"{src} [{split}] row {r['id']}: empty {level!r} response")
        rows.sort(key=lambda r: r["id"])
        if max_queries:
            del rows[max_queries:]
    return dict(sorted(by_domain.items()))


def load_pairs(path: str | Path, max_pairs: int | None = None) -> dict[str, list[tuple[str, list[str]]]]:
    """General-domain pairs from PKU-SafeRLHF-format rows (.jsonl/.json/.parquet).

    safety: rows where exactly one response is safe → (prompt, [safe, unsafe]);
    helpfulness: every row → (prompt, [better, worse]) by `better_response_id`.
    """
    p = Path(path)
    if not p.is_file():
        raise MeavError(f"{p}: safety data file not found")
    if p.suffix == ".parquet":
        rows = pq.read_table(p).to_pylist()
    elif p.suffix == ".jsonl":
        rows = [json.loads(line) for line in p.read_text().splitlines() if line.strip()]
    else:
        rows = json.loads(p.read_text())
    need = ("prompt", "response_0", "response_1", "is_response_0_safe", "is_response_1_safe")
    pairs: dict[str, list] = {"safety": [], "helpfulness": []}
    for i, r in enumerate(rows):
        missing = [k for k in need if k not in r]
        if missing:
            raise MeavError(f"{p} row {i}: missing field(s) {', '.join(missing)} (PKU-SafeRLHF format)")
        resp = [r["response_0"], r["response_1"]]
        if bool(r["is_response_0_safe"]) != bool(r["is_response_1_safe"]):
            safe = 0 if r["is_response_0_safe"] else 1
            pairs["safety"].append((r["prompt"], [resp[safe], resp[1 - safe]]))
        if r.get("better_response_id") in (0, 1):
            b = int(r["better_response_id"])
            pairs["helpfulness"].append((r["prompt"], [resp[b], resp[1 - b]]))
    if not pairs["safety"] and not pairs["helpfulness"]:
        raise MeavError(f"{p}: no usable safety or helpfulness pair")
    return {k: v[:max_pairs] if max_pairs else v for k, v in pairs.items()}


class Evaluator:
    """Scores the held-out queries of every domain (and optional general pairs) with the model as it is now."""

    def __init__(
        self,
        model,
        tokenizer,
        rows: dict[str, list[dict]],
        pairs: dict[str, list] | None = None,
        max_tokens: int = 4096,
        neutral: Sequence[tuple[str, str]] = (),
    ):
        self.model, self.tokenizer, self.rows, self.pairs = model, tokenizer, rows, pairs or {}
        self.neutral = list(neutral)  # (prompt, response) texts outside the domains: general fluency
        self.max_tokens = max_tokens
        self.calls = 0
        self.scored_queries = 0
        self._encoded: dict[tuple, list] = {}

    def _items(self, key: tuple, groups) -> list:
        if key not in self._encoded:
            self._encoded[key] = encode_groups(self.tokenizer, groups, key[-1])
        return self._encoded[key]

    def score(self, groups, key: tuple, instruction: str | None = None) -> list[list[float]]:
        """Mean per-token log-prob of every candidate of every group (encodings cached under `key`)."""
        items = self._items((*key, instruction), groups)
        lp = mean_logprobs(self.model, self.tokenizer, items, self.max_tokens)
        return [[lp[(g, c)] for c in range(len(resp))] for g, (_, resp) in enumerate(groups)]

    def domain_scores(
        self,
        instruction: str | dict[str, str] | None = None,
        fraction: float = 1.0,
        subset: dict[str, Sequence[int]] | None = None,
    ) -> dict[str, list[list[float]]]:
        """Per domain, per query, the mean log-prob of (avoidance, generic, expert).

        `instruction` (prompting baseline): one text, or one per domain; `fraction`: the first part of each
        domain's queries only; `subset`: these query indices per domain (search and confirmation sets).
        """
        out = {}
        for d, rows in self.rows.items():
            idx = list(subset[d]) if subset else list(range(max(1, round(len(rows) * fraction))))
            groups = [(rows[i]["query"], [rows[i][level] for level in LEVELS]) for i in idx]
            instr = instruction.get(d) if isinstance(instruction, dict) else instruction
            out[d] = self.score(groups, (d, tuple(idx)), instr)
            self.scored_queries += len(idx)
        self.calls += 1
        return out

    def domain_shares(self, instruction=None, fraction: float = 1.0, subset=None) -> dict[str, dict]:
        """Per domain, the share of queries won by each level (preference accuracy)."""
        return shares_of(self.domain_winners(instruction, fraction, subset))

    def domain_winners(self, instruction=None, fraction: float = 1.0, subset=None) -> dict[str, list[int]]:
        """Per domain, which level (index into LEVELS) won each query, in query order: what resampling the
        queries needs, beyond the shares."""
        return {d: winners(s) for d, s in self.domain_scores(instruction, fraction, subset).items()}

    def general_shares(self) -> dict[str, dict]:
        """Safety (safe vs unsafe) and helpfulness (helpful vs unhelpful) pair accuracy."""
        return {
            kind: shares(self.score(groups, ("general", kind)), GENERAL[kind])
            for kind, groups in self.pairs.items()
            if groups
        }

    def neutral_scores(self) -> list[float]:
        """Mean per-token log-prob of each neutral text's response given its prompt."""
        groups = [(prompt, [response]) for prompt, response in self.neutral]
        return [s[0] for s in self.score(groups, ("neutral",))]

    def __call__(self) -> dict:
        """One evaluation: shares and per-query scores in every domain (+ general pairs, + neutral texts)."""
        scores = self.domain_scores()
        result = {"domains": {d: shares(s) for d, s in scores.items()}, "scores": scores}
        if self.pairs:
            result["general"] = self.general_shares()
        if self.neutral:
            result["neutral"] = self.neutral_scores()
        return result


def open_evaluator(
    base: str,
    dataset: str,
    split: str = "test",
    max_queries: int | None = None,
    device: str | None = None,
    safety_data: Path | None = None,
    max_pairs: int | None = None,
    domains: Sequence[str] = (),
    neutral: Path | None = None,
) -> Evaluator:
    """Data first (cheap checks fail before a model is loaded), then the model and its evaluator."""
    rows = load_eval_rows(dataset, split, max_queries, domains)
    pairs = load_pairs(safety_data, max_pairs) if safety_data else None
    texts = [(t["prompt"], t["response"]) for t in load_prompt_texts(neutral)] if neutral else ()
    model, tok = load_for_inference(base, device)
    return Evaluator(model, tok, rows, pairs, neutral=texts)
