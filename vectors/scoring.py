"""Preference accuracy (paper §5.1): which of a query's responses has the highest mean per-token log-prob.

Prompt = the model's chat template around the user query (generation prompt added); the response tokens are
the continuation. Only response tokens are scored (prompt and padding masked). Sequences are length-sorted
and right-padded; the responses of one query always share a batch, so a query is never split.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from meav.corpus import LEVELS

Group = tuple[str, list[str]]  # (user query, candidate responses)


@dataclass(frozen=True)
class Encoded:
    group: int
    cand: int
    context: list[int]  # chat-templated prompt (+ an excluded opener, if any): conditioned on, not scored
    target: list[int]  # scored tokens


def prompt_text(tokenizer, query: str, instruction: str | None = None) -> str:
    """The chat-templated prompt for one user turn; `instruction` (prompting baseline) goes before the query."""
    content = f"{instruction}\n\n{query}" if instruction else query
    messages = [{"role": "user", "content": content}]
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return content + "\n"


def encode_groups(
    tokenizer,
    groups: Sequence[Group],
    instruction: str | None = None,
    openers: Sequence[str | None] | None = None,
) -> list[Encoded]:
    """Tokenize every (query, response). `openers[i]`, when a response starts with it, moves to the context."""
    out = []
    for g, (query, responses) in enumerate(groups):
        ctx = tokenizer(prompt_text(tokenizer, query, instruction), add_special_tokens=False)["input_ids"]
        for c, response in enumerate(responses):
            opener = openers[c] if openers else None
            head = []
            if opener and response.startswith(opener) and len(response) > len(opener):
                head = tokenizer(opener, add_special_tokens=False)["input_ids"]
                response = response[len(opener) :]
            target = tokenizer(response, add_special_tokens=False)["input_ids"]
            if not target:
                target = [tokenizer.eos_token_id]
            out.append(Encoded(g, c, list(ctx) + list(head), list(target)))
    return out


def _batches(items: list[Encoded], max_tokens: int) -> list[list[Encoded]]:
    """Length-sorted batches of whole groups, each batch holding at most ~max_tokens padded tokens."""
    by_group: dict[int, list[Encoded]] = {}
    for it in items:
        by_group.setdefault(it.group, []).append(it)
    order = sorted(by_group.values(), key=lambda gs: max(len(i.context) + len(i.target) for i in gs))
    batches, cur, cur_len = [], [], 0
    for gs in order:
        longest = max(len(i.context) + len(i.target) for i in gs)
        if cur and (len(cur) + len(gs)) * max(cur_len, longest) > max_tokens:
            batches.append(cur)
            cur, cur_len = [], 0
        cur += gs
        cur_len = max(cur_len, longest)
    if cur:
        batches.append(cur)
    return batches


def mean_logprobs(
    model, tokenizer, items: list[Encoded], max_tokens: int = 4096
) -> dict[tuple[int, int], float]:
    """Mean log-prob of each item's target tokens given its context, in right-padded batches."""
    import torch

    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    device = next(model.parameters()).device
    result: dict[tuple[int, int], float] = {}
    with torch.inference_mode():
        for batch in _batches(items, max_tokens):
            width = max(len(i.context) + len(i.target) for i in batch)
            ids = torch.full((len(batch), width), pad, dtype=torch.long)
            attn = torch.zeros((len(batch), width), dtype=torch.long)
            scored = torch.zeros((len(batch), width), dtype=torch.bool)
            for r, it in enumerate(batch):
                seq = it.context + it.target
                ids[r, : len(seq)] = torch.tensor(seq)
                attn[r, : len(seq)] = 1
                scored[r, len(it.context) : len(seq)] = True
            ids, attn, scored = ids.to(device), attn.to(device), scored.to(device)
            labels, mask = ids[:, 1:], scored[:, 1:]
            sel = _scored_logits(model, ids, attn, mask).float()
            token_lp = sel.gather(-1, labels[mask].unsqueeze(-1)).squeeze(-1) - torch.logsumexp(sel, -1)
            per_row = torch.zeros(len(batch), device=device).index_add_(
                0, mask.nonzero()[:, 0], token_lp
            ) / mask.sum(1)
            for r, it in enumerate(batch):
                result[(it.group, it.cand)] = float(per_row[r])
    return result


def _scored_logits(model, ids, attn, mask):
    """Logits at the scored positions only: the output head runs on response tokens, not on the prompt or
    padding (the B×T×V logits tensor is never built). Falls back to full logits for models whose head is
    not a plain projection of the decoder's last hidden state (e.g. logit soft-capping)."""
    head, decoder = model.get_output_embeddings(), getattr(model, "model", None)
    plain = (
        head is not None
        and decoder is not None
        and not getattr(model.config, "final_logit_softcapping", None)
    )
    if plain and type(head).__name__ == "Linear" and getattr(model.config, "logit_scale", None) is None:
        hidden = decoder(input_ids=ids, attention_mask=attn).last_hidden_state[:, :-1]
        return head(hidden[mask])
    return model(input_ids=ids, attention_mask=attn).logits[:, :-1][mask]


def score_groups(
    model,
    tokenizer,
    groups: Sequence[Group],
    instruction: str | None = None,
    openers: Sequence[str | None] | None = None,
    max_tokens: int = 4096,
) -> list[list[float]]:
    """Per group, the mean per-token log-prob of each candidate response."""
    items = encode_groups(tokenizer, groups, instruction, openers)
    lp = mean_logprobs(model, tokenizer, items, max_tokens)
    return [[lp[(g, c)] for c in range(len(resp))] for g, (_, resp) in enumerate(groups)]


def score_one(model, tokenizer, query: str, response: str) -> float:
    """Unbatched reference: one forward pass, no padding. Tests and the bench compare the batched path to it."""
    import torch

    (it,) = encode_groups(tokenizer, [(query, [response])])
    ids = torch.tensor([it.context + it.target], device=next(model.parameters()).device)
    with torch.inference_mode():
        logp = torch.log_softmax(model(input_ids=ids).logits[0, :-1].float(), -1)
    pos = torch.arange(len(it.context) - 1, ids.shape[1] - 1)
    return float(logp[pos, ids[0, pos + 1]].mean())


def shares(scores: Sequence[Sequence[float]], names: Sequence[str] = LEVELS) -> dict[str, float]:
    """Share of groups where each candidate has the highest score (ties go to the first); sums to 1."""
    counts = dict.fromkeys(names, 0)
    for row in scores:
        counts[names[max(range(len(row)), key=row.__getitem__)]] += 1
    n = max(len(scores), 1)
    return {k: v / n for k, v in counts.items()}


def detect_openers(rows: Sequence[dict], levels: Sequence[str] = LEVELS, min_words: int = 2) -> dict:
    """Per level, the word prefix every response of that level starts with (a fixed opener), else None.

    The pilot in FACTS.md showed fixed openers can decide the winner on their own; scoring without them
    measures the body of the answer.
    """
    found: dict[str, str | None] = {}
    for level in levels:
        texts = [r[level] for r in rows if r.get(level)]
        if len(texts) < 2:
            found[level] = None
            continue
        words = texts[0].split(" ")
        n = 0
        while n < len(words) and all(t.startswith(" ".join(words[: n + 1]) + " ") for t in texts):
            n += 1
        found[level] = " ".join(words[:n]) + " " if n >= min_words else None
    return found
