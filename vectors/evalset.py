"""Held-out evaluation data (corpus test split, general-domain pairs) and the model evaluator over it.

The evaluator is what sweep, search and the baselines call after each edit: it re-scores the same queries
with whatever weights the model holds now, so steering in place needs no reload.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from meav.corpus import LEVELS
from meav.errors import MeavError
from vectors.scoring import detect_openers, score_groups, shares

GENERAL = {"safety": ("safe", "unsafe"), "helpfulness": ("helpful", "unhelpful")}


def load_eval_rows(
    dataset: str | Path, split: str = "test", max_queries: int | None = None, domains: Sequence[str] = ()
) -> dict[str, list[dict]]:
    """Rows of one split per domain (sorted by id, first `max_queries` per domain); refuses gaps."""
    from meav.corpus import load_corpus

    src = str(dataset)
    folder = Path(src)
    if folder.is_dir() and (folder / "data").is_dir() and not list((folder / "data").glob(f"*/{split}-*")):
        raise MeavError(f"{src}: no {split!r} split (no data/*/{split}-*.parquet)")
    if folder.is_dir() and (folder / "data").is_dir():
        ds = _read_local_split(folder, split)
    else:
        try:
            ds = load_corpus(src, "all", split=split)
        except MeavError as e:
            if split in str(e) or "split" in str(e).lower():
                raise MeavError(f"{src}: no {split!r} split ({e})") from e
            raise
    by_domain: dict[str, list[dict]] = {}
    for row in ds:
        by_domain.setdefault(row["domain"], []).append(row)
    if not by_domain:
        raise MeavError(f"{src}: split {split!r} has no rows")
    for d in domains:
        if d not in by_domain:
            raise MeavError(f"{src}: split {split!r} has no rows for domain {d!r} (has {sorted(by_domain)})")
    for rows in by_domain.values():
        for r in rows:
            for level in LEVELS:
                if not (r.get(level) or "").strip():
                    raise MeavError(f"{src} [{split}] row {r['id']}: empty {level!r} response")
        rows.sort(key=lambda r: r["id"])
        if max_queries:
            del rows[max_queries:]
    return dict(sorted(by_domain.items()))


def _read_local_split(folder: Path, split: str) -> list[dict]:
    """A local corpus folder's split read straight from its parquet files.

    Not through `datasets.load_dataset`: its cache is keyed by the folder's name, so two different folders
    both called `corpus` loaded one after the other return the first one's rows (datasets 5.2, measured).
    """
    import pyarrow.parquet as pq

    rows: list[dict] = []
    for f in sorted(folder.glob(f"data/*/{split}-*.parquet")):
        table = pq.read_table(f)
        missing = [c for c in ("id", "domain", "query", *LEVELS) if c not in table.column_names]
        if missing:
            raise MeavError(f"{f}: missing column(s) {', '.join(missing)}")
        rows += table.to_pylist()
    return rows


def load_pairs(path: str | Path, max_pairs: int | None = None) -> dict[str, list[tuple[str, list[str]]]]:
    """General-domain pairs from PKU-SafeRLHF-format rows (.jsonl/.json/.parquet).

    safety: rows where exactly one response is safe → (prompt, [safe, unsafe]);
    helpfulness: every row → (prompt, [better, worse]) by `better_response_id`.
    """
    p = Path(path)
    if not p.is_file():
        raise MeavError(f"{p}: safety data file not found")
    if p.suffix == ".parquet":
        import pyarrow.parquet as pq

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
        exclude_openers: bool = False,
        max_tokens: int = 4096,
    ):
        self.model, self.tokenizer, self.rows, self.pairs = model, tokenizer, rows, pairs or {}
        self.max_tokens = max_tokens
        self.openers = {
            d: detect_openers(r) if exclude_openers else dict.fromkeys(LEVELS) for d, r in rows.items()
        }
        self.calls = 0
        self.scored_queries = 0

    def domain_scores(
        self, instruction: str | dict[str, str] | None = None, fraction: float = 1.0
    ) -> dict[str, list[list[float]]]:
        """Per domain, per query, the mean log-prob of (avoidance, generic, expert).

        `instruction` (prompting baseline): one text, or one per domain; `fraction`: the first part of each
        domain's queries only (search screening).
        """
        out = {}
        for d, rows in self.rows.items():
            part = rows[: max(1, round(len(rows) * fraction))]
            groups = [(r["query"], [r[level] for level in LEVELS]) for r in part]
            ops = [self.openers[d][level] for level in LEVELS]
            instr = instruction.get(d) if isinstance(instruction, dict) else instruction
            out[d] = score_groups(self.model, self.tokenizer, groups, instr, ops, self.max_tokens)
            self.scored_queries += len(part)
        self.calls += 1
        return out

    def domain_shares(
        self, instruction: str | dict[str, str] | None = None, fraction: float = 1.0
    ) -> dict[str, dict]:
        """Per domain, the share of queries won by each level (preference accuracy)."""
        return {d: shares(s) for d, s in self.domain_scores(instruction, fraction).items()}

    def general_shares(self) -> dict[str, dict]:
        """Safety (safe vs unsafe) and helpfulness (helpful vs unhelpful) pair accuracy."""
        out = {}
        for kind, groups in self.pairs.items():
            if groups:
                scores = score_groups(self.model, self.tokenizer, groups, max_tokens=self.max_tokens)
                out[kind] = shares(scores, GENERAL[kind])
        return out

    def __call__(self) -> dict:
        result = {"domains": self.domain_shares()}
        if self.pairs:
            result["general"] = self.general_shares()
        return result


def load_model(path: str | Path, device: str | None = None):
    """A causal LM and its tokenizer from a local folder or Hub id, float32 on CPU (the AV arithmetic dtype)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    p = str(path)
    if Path(p).exists() and not (Path(p) / "config.json").exists():
        raise MeavError(f"{p}: not a model folder (no config.json)")
    try:
        tok = AutoTokenizer.from_pretrained(p)
        dtype = torch.float32 if (device or "cpu") == "cpu" else "auto"
        model = AutoModelForCausalLM.from_pretrained(p, dtype=dtype)
    except OSError as e:
        raise MeavError(f"{p}: cannot load model: {str(e).splitlines()[0]}") from e
    if device:
        model.to(device)
    model.eval()
    return model, tok
