"""Held-out reward margin: how much more the trained model prefers chosen over rejected than the base did.

For a pair (x, y_w, y_l) and a model π, the log-prob margin is m_π = log π(y_w|x) − log π(y_l|x) (completion
tokens summed, the prompt rendered by the chat template as in training). The held-out reward margin is TRL's
`rewards/margins` on unseen pairs:  β · mean(m_trained − m_base).  Positive means training moved the model
towards the chosen responses on queries it never saw.
"""

from __future__ import annotations

from typing import Any

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer
from transformers.integrations.deepspeed import is_deepspeed_zero3_enabled, unset_hf_deepspeed_config


def _encode(tokenizer, prompt: list[dict], completion: list[dict]) -> tuple[list[int], int]:
    """Token ids of the chat-templated prompt + completion, and where the completion starts."""
    prompt_ids = _ids(tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=True))
    full_ids = _ids(tokenizer.apply_chat_template(prompt + completion, tokenize=True))
    return full_ids, _common_prefix(prompt_ids, full_ids)


def completion_logps(
    model, tokenizer, items: list[tuple[list[dict], list[dict]]], batch_size: int = 8
) -> list[float]:
    """Summed log-prob of each completion's tokens after its chat-templated prompt (right-padded batches)."""

    encoded = [_encode(tokenizer, prompt, completion) for prompt, completion in items]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    out: list[float] = []
    for i in range(0, len(encoded), batch_size):
        chunk = encoded[i : i + batch_size]
        width = max(len(ids) for ids, _ in chunk)
        ids = torch.tensor([ids + [pad] * (width - len(ids)) for ids, _ in chunk], device=model.device)
        mask = torch.tensor(
            [[1] * len(ids) + [0] * (width - len(ids)) for ids, _ in chunk], device=model.device
        )
        with torch.no_grad():
            logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1].float()
        token_logps = torch.log_softmax(logits, dim=-1).gather(2, ids[:, 1:, None])[..., 0]
        positions = torch.arange(1, width, device=model.device)[None, :]
        starts = torch.tensor([start for _, start in chunk], device=model.device)[:, None]
        scored = (positions >= starts) & (mask[:, 1:] == 1)  # completion tokens only
        out += (token_logps * scored).sum(dim=1).tolist()
    return out


def _ids(encoded: Any) -> list[int]:
    if hasattr(encoded, "keys") and "input_ids" in encoded:
        encoded = encoded["input_ids"]
    return list(encoded)


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return max(n, 1)


def logp_margins(model, tokenizer, pairs) -> list[float]:
    """m_π for every pair of a conversational pair dataset."""
    model.eval()
    chosen = completion_logps(model, tokenizer, list(zip(pairs["prompt"], pairs["chosen"], strict=True)))
    rejected = completion_logps(model, tokenizer, list(zip(pairs["prompt"], pairs["rejected"], strict=True)))
    return [c - r for c, r in zip(chosen, rejected, strict=True)]


def heldout_margin(
    base_path: str,
    trained_path: str,
    pairs,
    beta: float,
    dtype: str = "float32",
    base_revision: str | None = None,
) -> dict:
    """β · mean(m_trained − m_base) over `pairs`, with the per-model means and the share of pairs that moved."""

    if is_deepspeed_zero3_enabled():
        unset_hf_deepspeed_config()  # training is over: load plain copies, not ZeRO-3-partitioned ones
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch_dtype = getattr(torch, dtype) if dtype != "auto" else "auto"
    tokenizer = AutoTokenizer.from_pretrained(trained_path)
    margins = {}
    for name, path, revision in (("base", base_path, base_revision), ("trained", trained_path, None)):
        model = AutoModelForCausalLM.from_pretrained(path, revision=revision, dtype=torch_dtype).to(device)
        margins[name] = logp_margins(model, tokenizer, pairs)
        del model
    deltas = [t - b for t, b in zip(margins["trained"], margins["base"], strict=True)]
    n = len(deltas)
    return {
        "pairs": n,
        "beta": beta,
        "reward_margin": beta * sum(deltas) / n,
        "logp_margin_base": sum(margins["base"]) / n,
        "logp_margin_trained": sum(margins["trained"]) / n,
        "share_improved": sum(d > 0 for d in deltas) / n,
    }
