"""Preference accuracy (paper §5.1): which of a query's responses has the highest mean per-token log-prob.

Prompt = the model's chat template around the user query (generation prompt added); the response tokens are
the continuation. Only response tokens are scored (prompt and padding masked). Sequences are length-sorted
and right-padded; the responses of one query always share a batch, so a query is never split.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from transformers import DynamicCache

from meav.core.corpus import LEVELS

Group = tuple[str, list[str]]  # (user query, candidate responses)


@dataclass(frozen=True)
class Encoded:
    group: int
    cand: int
    context: list[int]  # the chat-templated prompt: conditioned on, not scored
    target: list[int]  # the response's tokens: scored


def prompt_text(tokenizer, query: str, instruction: str | None = None) -> str:
    """The chat-templated prompt for one user turn; `instruction` (prompting baseline) goes before the query."""
    content = f"{instruction}\n\n{query}" if instruction else query
    messages = [{"role": "user", "content": content}]
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return content + "\n"


def encode_groups(tokenizer, groups: Sequence[Group], instruction: str | None = None) -> list[Encoded]:
    """Tokenize every (query, response): the response is scored as written, after the prompt alone (the
    paper's log p(response | query)); no level-specific context, so no level gets a head start."""
    out = []
    for g, (query, responses) in enumerate(groups):
        ctx = tokenizer(prompt_text(tokenizer, query, instruction), add_special_tokens=False)["input_ids"]
        for c, response in enumerate(responses):
            target = tokenizer(response, add_special_tokens=False)["input_ids"] or [tokenizer.eos_token_id]
            out.append(Encoded(g, c, list(ctx), list(target)))
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
    """Mean log-prob of each item's target tokens given its context.

    A group's candidates share their context (the query's prompt), so each prompt runs once and its KV cache
    serves all of the group's responses (the prompt is ~30% of the tokens, and it is not computed three
    times); the responses then run in batches sorted by length, so an avoidance answer is never padded to
    the length of an expert one. Falls back to one full forward per (prompt + response) for models whose
    output head is not a plain projection of the decoder's last hidden state.
    """
    if _plain_head(model) is None:
        return full_sequence_logprobs(model, tokenizer, items, max_tokens)
    with torch.inference_mode():
        prefixes = _prompt_caches(model, tokenizer, items, max_tokens)
        result: dict[tuple[int, int], float] = {}
        for batch in _length_batches(items, max_tokens):
            result.update(_response_logprobs(model, tokenizer, batch, prefixes))
    return result


def _plain_head(model):
    """(decoder, head) when logits are head(decoder(x).last_hidden_state) with a plain Linear head, else None.

    Models that scale or cap logits (Gemma's softcapping, Cohere's logit_scale, Granite's logits_scaling) or
    attend through a sliding window (cached prompt keys would outlive the window) take the full-sequence path.
    """
    head, decoder = model.get_output_embeddings(), getattr(model, "model", None)
    cfg = model.config
    plain = (
        head is not None
        and decoder is not None
        and type(head).__name__ == "Linear"
        and not getattr(cfg, "final_logit_softcapping", None)
        and getattr(cfg, "logit_scale", None) is None
        and getattr(cfg, "logits_scaling", 1.0) in (None, 1.0)
        and not getattr(cfg, "sliding_window", None)
    )
    return (decoder, head) if plain else None


def _pad_token(tokenizer) -> int:
    return tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id


def _prompt_caches(
    model, tokenizer, items: list[Encoded], max_tokens: int
) -> dict[int, tuple[list, torch.Tensor]]:
    """Per group: its prompt's keys and values per layer ([heads, P, dim], no padding) and the last hidden
    state (which predicts the first response token)."""
    decoder, _ = _plain_head(model)
    device = next(model.parameters()).device
    contexts = {it.group: it.context for it in items}
    order = sorted(contexts, key=lambda g: len(contexts[g]))
    out: dict[int, tuple[list, torch.Tensor]] = {}
    start = 0
    while start < len(order):
        width = len(contexts[order[start]])
        stop = start + 1
        while stop < len(order) and (stop - start + 1) * len(contexts[order[stop]]) <= max_tokens:
            stop += 1
        groups = order[start:stop]
        width = len(contexts[groups[-1]])
        ids = torch.full((len(groups), width), _pad_token(tokenizer), dtype=torch.long)
        mask = torch.zeros((len(groups), width), dtype=torch.long)
        for i, g in enumerate(groups):
            ids[i, width - len(contexts[g]) :] = torch.tensor(contexts[g])
            mask[i, width - len(contexts[g]) :] = 1
        ids, mask = ids.to(device), mask.to(device)
        res = decoder(
            input_ids=ids, attention_mask=mask, position_ids=(mask.cumsum(1) - 1).clamp(min=0), use_cache=True
        )
        for i, g in enumerate(groups):
            n = len(contexts[g])
            kv = [
                (layer.keys[i, :, width - n :], layer.values[i, :, width - n :]) for layer in res.cache.layers
            ]
            out[g] = (kv, res.last_hidden_state[i, -1])
        start = stop
    return out


def _length_batches(items: list[Encoded], max_tokens: int) -> list[list[Encoded]]:
    """Responses sorted by length, batched so that (rows × longest prompt + response) stays near max_tokens."""
    order = sorted(items, key=lambda it: (len(it.target), len(it.context)))
    batches, cur, longest = [], [], 0
    for it in order:
        size = len(it.context) + len(it.target)
        if cur and (len(cur) + 1) * max(longest, size) > max_tokens:
            batches.append(cur)
            cur, longest = [], 0
        cur.append(it)
        longest = max(longest, size)
    return [*batches, cur] if cur else batches


def _response_logprobs(model, tokenizer, batch: list[Encoded], prefixes) -> dict[tuple[int, int], float]:
    """One batch of responses on their prompts' caches (left-padded into one cache); the head only on
    response positions, in chunks."""
    decoder, head = _plain_head(model)
    device = next(model.parameters()).device
    width = max(len(it.context) for it in batch)
    cache = DynamicCache()
    for layer in range(len(prefixes[batch[0].group][0])):
        keys, values = [], []
        for it in batch:
            k, v = prefixes[it.group][0][layer]
            pad = width - k.shape[1]
            keys.append(torch.nn.functional.pad(k, (0, 0, pad, 0)))
            values.append(torch.nn.functional.pad(v, (0, 0, pad, 0)))
        cache.update(torch.stack(keys), torch.stack(values), layer)
    p_mask = torch.zeros((len(batch), width), dtype=torch.long)
    length = max(len(it.target) for it in batch)
    t_ids = torch.full((len(batch), length), _pad_token(tokenizer), dtype=torch.long)
    t_mask = torch.zeros((len(batch), length), dtype=torch.long)
    for r, it in enumerate(batch):
        p_mask[r, width - len(it.context) :] = 1
        t_ids[r, : len(it.target)] = torch.tensor(it.target)
        t_mask[r, : len(it.target)] = 1
    p_mask, t_ids, t_mask = p_mask.to(device), t_ids.to(device), t_mask.to(device)
    hidden = decoder(
        input_ids=t_ids,
        attention_mask=torch.cat([p_mask, t_mask], 1),
        position_ids=p_mask.sum(1, keepdim=True) + torch.arange(length, device=device)[None],
        cache=cache,
        use_cache=True,
    ).last_hidden_state
    # target j is predicted by the hidden state before it: the prompt's last one for j = 0
    last = torch.stack([prefixes[it.group][1] for it in batch])[:, None]
    before = torch.cat([last, hidden[:, :-1]], 1)
    scored = t_mask.bool()
    states, targets = before[scored], t_ids[scored]
    token_lp = torch.cat(
        [
            _token_logprobs(head(s).float(), y)
            for s, y in zip(states.split(_HEAD_CHUNK), targets.split(_HEAD_CHUNK), strict=True)
        ]
    )
    per_row = torch.zeros(len(batch), device=device).index_add_(0, scored.nonzero()[:, 0], token_lp)
    per_row /= t_mask.sum(1)
    return {(it.group, it.cand): float(per_row[r]) for r, it in enumerate(batch)}


_HEAD_CHUNK = 1024  # response positions per output-head call: bounds the positions × vocabulary logits


def _token_logprobs(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1) - torch.logsumexp(logits, -1)


def full_sequence_logprobs(model, tokenizer, items, max_tokens):
    """Fallback: one right-padded forward per (prompt + response), full logits at the scored positions."""
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
            sel = model(input_ids=ids, attention_mask=attn).logits[:, :-1][mask].float()
            token_lp = _token_logprobs(sel, labels[mask])
            per_row = torch.zeros(len(batch), device=device).index_add_(0, mask.nonzero()[:, 0], token_lp)
            per_row /= mask.sum(1)
            for r, it in enumerate(batch):
                result[(it.group, it.cand)] = float(per_row[r])
    return result


def score_groups(
    model,
    tokenizer,
    groups: Sequence[Group],
    instruction: str | None = None,
    max_tokens: int = 4096,
) -> list[list[float]]:
    """Per group, the mean per-token log-prob of each candidate response."""
    items = encode_groups(tokenizer, groups, instruction)
    lp = mean_logprobs(model, tokenizer, items, max_tokens)
    return [[lp[(g, c)] for c in range(len(resp))] for g, (_, resp) in enumerate(groups)]


def score_one(model, tokenizer, query: str, response: str) -> float:
    """Unbatched reference: one forward pass, no padding. Tests and the bench compare the batched path to it."""

    (it,) = encode_groups(tokenizer, [(query, [response])])
    ids = torch.tensor([it.context + it.target], device=next(model.parameters()).device)
    with torch.inference_mode():
        logp = torch.log_softmax(model(input_ids=ids).logits[0, :-1].float(), -1)
    pos = torch.arange(len(it.context) - 1, ids.shape[1] - 1)
    return float(logp[pos, ids[0, pos + 1]].mean())


def winners(scores: Sequence[Sequence[float]]) -> list[int]:
    """Per group, the index of the candidate with the highest score (ties go to the first)."""
    return [max(range(len(row)), key=row.__getitem__) for row in scores]


def shares(scores: Sequence[Sequence[float]], names: Sequence[str] = LEVELS) -> dict[str, float]:
    """Share of groups where each candidate has the highest score (ties go to the first); sums to 1."""
    return shares_of_winners(winners(scores), names)


def shares_of(won: dict[str, Sequence[int]]) -> dict[str, dict[str, float]]:
    """Per domain, the level shares that each query's winner gives."""
    return {d: shares_of_winners(w) for d, w in won.items()}


def shares_of_winners(won: Sequence[int], names: Sequence[str] = LEVELS) -> dict[str, float]:
    """Share of groups each candidate won, from the index of each group's winner."""
    counts = [0] * len(names)
    for w in won:
        counts[w] += 1
    n = max(len(won), 1)
    return {k: v / n for k, v in zip(names, counts, strict=True)}
