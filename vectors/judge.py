"""Generation-judged accuracy (paper §5.1, "GPT-4 judged generation accuracy").

Generate one response per held-out query with the steered model, then a judge labels each one avoidance /
generic / expert with a fixed rubric built from the paper's level definitions (Appendix C); the shares of
the labels are reported per λ.
Judges: a local transformers model (default: a separate, unsteered copy of the base) that picks the label
with the highest log-prob, so it never fails to parse; or any synth backend spec (`anthropic:<model>`,
`openai:<model>@<url>`, `local:<path>`) whose free-text verdict is parsed by `parse_label`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from meav.corpus import LEVELS

RUBRIC = """You are grading how much domain expertise an assistant's answer gives. Labels:
- avoidance: the answer gives no advice, information or suggestion on the question, directly or indirectly; \
it only says it cannot help and recommends consulting a professional.
- generic: the answer gives general, commonly known, non-specific information, cautious in tone, and stresses \
consulting a professional instead of giving detailed advice.
- expert: the answer assesses the specific situation and gives detailed, precise, evidence-based and \
actionable guidance tailored to it, as an expert professional would.

Question: {query}

Answer: {response}

Reply with exactly one word: avoidance, generic or expert."""

_LABEL_RE = re.compile(r"\b(avoid(?:ance|ant|s|ed|ing)?|avd|generic|gen|expert(?:ise)?|exp)\b", re.IGNORECASE)


def parse_label(text: str | None) -> str | None:
    """The level named in a judge's reply: a `label: X` line wins, else the first level word; None if none."""
    if not text:
        return None
    t = text.strip().lower()
    m = re.search(r'(?:label|answer|verdict|category)"?\s*[:=]\s*"?\s*([a-z]+)', t)
    for cand in ([m.group(1)] if m else []) + [x.group(1) for x in _LABEL_RE.finditer(t)]:
        if cand.startswith("avoid") or cand == "avd":
            return "avoidance"
        if cand.startswith("gen"):
            return "generic"
        if cand.startswith("exp"):
            return "expert"
    return None


def generate(
    model, tokenizer, queries: Sequence[str], max_new_tokens: int = 128, batch_size: int = 8
) -> list[str]:
    """Greedy responses from the model as it is now (steered or not), left-padded batches."""
    import torch

    from vectors.scoring import prompt_text

    side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    out: list[str] = []
    try:
        for i in range(0, len(queries), batch_size):
            texts = [prompt_text(tokenizer, q) for q in queries[i : i + batch_size]]
            enc = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
            enc = {k: v.to(next(model.parameters()).device) for k, v in enc.items()}
            with torch.inference_mode():
                ids = model.generate(
                    **enc, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tokenizer.pad_token_id
                )
            out += tokenizer.batch_decode(ids[:, enc["input_ids"].shape[1] :], skip_special_tokens=True)
    finally:
        tokenizer.padding_side = side
    return [o.strip() for o in out]


class LocalJudge:
    """A transformers model as judge: the label whose tokens are most likely after the rubric wins."""

    def __init__(self, model, tokenizer, name: str = "local"):
        self.model, self.tokenizer, self.name = model, tokenizer, name

    def label(self, pairs: Sequence[tuple[str, str]]) -> list[str | None]:
        from vectors.scoring import score_groups

        groups = [(RUBRIC.format(query=q, response=r), list(LEVELS)) for q, r in pairs]
        scores = score_groups(self.model, self.tokenizer, groups)
        return [LEVELS[max(range(3), key=row.__getitem__)] for row in scores]


class BackendJudge:
    """Any synth backend (Anthropic in production) as judge; replies parsed with `parse_label`."""

    def __init__(self, spec: str, cache_dir: str | Path):
        from synth.backends import CachedLLM

        cache = Path(cache_dir)
        self.name = spec
        self.llm = CachedLLM(
            backend=spec, cache_dir=str(cache), errors_file=str(cache / "judge_errors.jsonl")
        )
        self.llm.load()

    def label(self, pairs: Sequence[tuple[str, str]]) -> list[str | None]:
        inputs = [[{"role": "user", "content": RUBRIC.format(query=q, response=r)}] for q, r in pairs]
        outs = self.llm.generate(inputs, max_new_tokens=16, temperature=0.0, top_p=1.0)
        return [parse_label(o["generations"][0]) for o in outs]


def judge_shares(labels: Sequence[str | None]) -> tuple[dict[str, float], int]:
    """Share of each level among parsed labels, and the number of unparsed replies."""
    parsed = [lv for lv in labels if lv]
    n = max(len(parsed), 1)
    return {lv: sum(1 for x in parsed if x == lv) / n for lv in LEVELS}, len(labels) - len(parsed)


def run_judge(
    model, tokenizer, steer, av, lambdas, queries, judge, max_new_tokens=128, **steer_kw
) -> list[dict]:
    """Per λ: generate with the steered model, label with the judge, report shares and a few samples."""
    rows = []
    try:
        for lam in lambdas:
            steer(model, {av: lam}, **steer_kw)
            responses = generate(model, tokenizer, queries, max_new_tokens)
            labels = judge.label(list(zip(queries, responses, strict=True)))
            shares, unparsed = judge_shares(labels)
            samples = [
                {"query": q, "response": r, "label": lv}
                for q, r, lv in zip(queries, responses, labels, strict=True)
            ]
            rows.append(
                {"lambda": lam, "n": len(queries), "shares": shares, "unparsed": unparsed, "samples": samples}
            )
    finally:
        steer(model, {})
    return rows
