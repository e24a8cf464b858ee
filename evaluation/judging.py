"""Generation-judged accuracy (paper §5.1, "GPT-4 judged generation accuracy").

Generate one response per held-out query with the steered model, then a judge labels each one avoidance /
generic / expert with a fixed rubric built from the paper's level definitions (Appendix C); the shares of
the labels are reported per λ.
Judges by name (REGISTERED_JUDGES): `classifier` (the default) — a scikit-learn level classifier trained on
the evaluated corpus's train split (`classifier:<corpus>` trains on another corpus; `evaluation/classifier.py`),
no API key, seconds on CPU; `self` — the base model itself, reset to θ_base after all generations are done
(one copy of the weights, not two); `model:<folder>` — another local model; both pick the label with the
highest log-prob, so they never fail to parse; or any backend spec (`anthropic:<model>`,
`openai:<model>@<url>`, `local:<path>`) whose free-text verdict is parsed by `parse_label` (the paper's GPT-4
judge). Generation is greedy; every judged answer is kept with its query id, so a report can quote it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import torch

from meav.core import atomic
from meav.core.av import load, steer
from meav.core.corpus import LEVELS
from meav.core.errors import MeavError, OptionError
from meav.core.grid import parse_grid
from meav.core.llm.cached import CachedLLM
from meav.core.llm.specs import parse_backend
from meav.core.models import load_for_inference
from meav.evaluation.evalset import load_eval_rows
from meav.evaluation.options import JudgeOptions
from meav.evaluation.scoring import prompt_text, score_groups

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
        groups = [(RUBRIC.format(query=q, response=r), list(LEVELS)) for q, r in pairs]
        scores = score_groups(self.model, self.tokenizer, groups)
        return [LEVELS[max(range(3), key=row.__getitem__)] for row in scores]


class BackendJudge:
    """Any LLM backend (Anthropic in production) as judge; replies parsed with `parse_label`."""

    def __init__(self, spec: str, cache_dir: str | Path):
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


def _self_judge(spec: str, model, tokenizer, out: Path, device: str | None, dataset: str | None = None):
    if model is None:
        raise OptionError("judge", f"{spec!r}: the self judge needs the loaded base model")
    return LocalJudge(model, tokenizer, name="self (the base, unsteered)")


def _model_judge(spec: str, model, tokenizer, out: Path, device: str | None, dataset: str | None = None):
    path = spec.partition(":")[2]
    if not path:
        raise OptionError("judge", f"{spec!r}: expected model:<folder>")
    return LocalJudge(*load_for_inference(path, device), name=spec)


def _backend_judge(spec: str, model, tokenizer, out: Path, device: str | None, dataset: str | None = None):
    try:
        parse_backend(spec)
    except MeavError as e:
        raise OptionError(
            "judge", f"{spec!r}: not a judge ({', '.join(k for k in REGISTERED_JUDGES if k != 'backend')}) "
            f"nor a backend spec: {str(e).splitlines()[0]}"
        ) from None  # fmt: skip
    return BackendJudge(spec, out / "judge_cache")


def _classifier_judge(spec: str, model, tokenizer, out: Path, device: str | None, dataset: str | None = None):
    from meav.evaluation.classifier import train_classifier  # scikit-learn: imported when used

    source = spec.partition(":")[2] or dataset
    if not source:
        raise OptionError(
            "judge", f"{spec!r}: no corpus to train on (classifier:<corpus folder or Hub repo>)"
        )
    try:
        return train_classifier(source)
    except (MeavError, OSError, ValueError) as e:
        raise OptionError("judge", f"{spec!r}: cannot train on {source}: {str(e).splitlines()[0]}") from None


# name → factory(spec, model, tokenizer, out, device, dataset); any other spec is a backend (anthropic:…, …).
# `model` is None while the base is not loaded yet: only `self` needs it (NEEDS_BASE).
REGISTERED_JUDGES = {
    "classifier": _classifier_judge,
    "self": _self_judge,
    "model": _model_judge,
    "backend": _backend_judge,
}
NEEDS_BASE = {"self"}


def make_judge(spec: str, model, tokenizer, out: Path, device: str | None = None, dataset: str | None = None):
    """The judge a spec names; a bad spec is an OptionError naming `judge`. `dataset`: the evaluated corpus
    (the classifier trains on its train split)."""
    kind = spec.partition(":")[0]
    factory = REGISTERED_JUDGES.get(kind, REGISTERED_JUDGES["backend"])
    return factory(spec, model, tokenizer, Path(out), device, dataset)


def judge_shares(labels: Sequence[str | None]) -> tuple[dict[str, float], int]:
    """Share of each level among parsed labels, and the number of unparsed replies."""
    parsed = [lv for lv in labels if lv]
    n = max(len(parsed), 1)
    return {lv: sum(1 for x in parsed if x == lv) / n for lv in LEVELS}, len(labels) - len(parsed)


def run_judge(
    model, tokenizer, av, lambdas, queries, judge, max_new_tokens=128, ids=None, **steer_kw
) -> list[dict]:
    """Generate (greedy) at every λ first, then reset the model to θ_base and label everything with the judge
    (for `self`, the same weights judge: no second copy of the model is ever loaded). `ids`: the queries' row
    ids, kept with each sample so a report can quote an answer by its query."""
    ids = list(ids) if ids is not None else [None] * len(queries)
    if len(ids) != len(queries):
        raise MeavError(f"run_judge: {len(ids)} ids for {len(queries)} queries")
    responses: dict[float, list[str]] = {}
    try:
        for lam in lambdas:
            steer(model, {av: lam}, **steer_kw)
            responses[lam] = generate(model, tokenizer, queries, max_new_tokens)
    finally:
        steer(model, {})
    rows = []
    for lam, answers in responses.items():
        labels = judge.label(list(zip(queries, answers, strict=True)))
        shares, unparsed = judge_shares(labels)
        samples = [
            {"id": i, "query": q, "response": r, "label": lv}
            for i, q, r, lv in zip(ids, queries, answers, labels, strict=True)
        ]
        rows.append(
            {"lambda": lam, "n": len(queries), "shares": shares, "unparsed": unparsed, "samples": samples}
        )
    return rows


def judge_generations(
    model,
    tokenizer,
    av,
    lambdas: Sequence[float],
    rows: Sequence[dict],
    judge,
    max_new_tokens: int = 128,
    **steer_kw,
) -> list[dict]:
    """For a caller that already holds the model (the demo): greedy answers to `rows` (corpus rows with `id`
    and `query`) at each λ, judged. Per λ: lambda, n, shares, unparsed, samples [{id, query, response, label}].
    The model is θ_base again on return, also after an error."""
    return run_judge(
        model, tokenizer, av, list(lambdas), [r["query"] for r in rows], judge, max_new_tokens,
        ids=[r.get("id") for r in rows], **steer_kw,
    )  # fmt: skip


def judge(options: JudgeOptions) -> dict:
    """Judged generation per λ (written to `out/judge.json`): shares per λ, every answer with its query id,
    and what the judge is (for the classifier: its data, settings and accuracy on the gold responses of the
    judged queries)."""
    o = options
    grid = parse_grid(o.lambdas)
    vec = load(o.av)
    dom = o.domain or vec.config.get("domain")
    rows = load_eval_rows(o.dataset, o.split, None, [dom] if dom else ())
    pool = rows[dom] if dom in rows else [r for rs in rows.values() for r in rs]
    picked = pool[: o.n]
    kind = o.judge.partition(":")[0]
    jd = None if kind in NEEDS_BASE else make_judge(o.judge, None, None, o.out, o.device, o.dataset)
    model, tok = load_for_inference(o.base, o.device)
    steer(model, {vec: 0.0}, force=o.force)
    jd = jd or make_judge(o.judge, model, tok, o.out, o.device, o.dataset)
    results = judge_generations(model, tok, vec, grid, picked, jd, o.max_new_tokens, force=o.force)
    data = {
        "kind": "judge",
        "base": o.base,
        "av": str(o.av),
        "domain": dom,
        "split": o.split,
        "decoding": "greedy",
        "judge_model": jd.name,
        "judge": results,
    }
    if hasattr(jd, "describe"):  # a judge that can be checked against gold labels says how it does
        data["judge_info"] = {**jd.describe(), "gold_accuracy": {o.split: jd.accuracy(picked)}}
    o.out.mkdir(parents=True, exist_ok=True)
    atomic.write_json(o.out / "judge.json", data)
    return data
