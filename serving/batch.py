"""Continuous batching for one model: rows join after their own prefill and leave when they finish.

The rows share one KV cache, left-padded to the longest row; a joining row's prefill runs alone (batch 1) and
its cache is padded into the batch's (or the batch's into it). Every decode step feeds each row its last token
at its own next position, so a row's tokens are those it would get alone (greedy decoding: the argmax).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from transformers import DynamicCache

from meav.serving.protocol import RequestError

Emit = Callable[[tuple], None]


@dataclass
class GenRequest:
    """What the scheduler needs of one chat request."""

    key: tuple
    prompt_ids: list[int]
    max_new_tokens: int
    emit: Emit  # ("delta", text) ... then ("done", finish_reason, prompt_tokens, completion_tokens, text) or ("error", RequestError)
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int | None = None
    stop: list[str] = field(default_factory=list)
    cancelled: threading.Event = field(default_factory=threading.Event)
    deadline: float = float("inf")
    arrived: float = field(default_factory=time.monotonic)


def _stop_prefix(text: str, stops: list[str]) -> int:
    """Length of the longest end of `text` that begins a stop string: held back from a stream until the next
    tokens show whether the stop string completes (a stream must never send text the answer then drops)."""
    return max((k for s in stops for k in range(1, len(s)) if text.endswith(s[:k])), default=0)


@dataclass
class Row:
    req: GenRequest
    out: list[int] = field(default_factory=list)
    sent: str = ""  # text already emitted
    generator: torch.Generator | None = None


class DecodeBatch:
    """Rows decoding together; `before_forward(rows)` lets per-row weights (low-rank AVs) be set."""

    def __init__(self, model, tokenizer, before_forward: Callable[[list[Row]], None] | None = None):
        self.model, self.tokenizer = model, tokenizer
        self.device = next(model.parameters()).device
        self.before_forward = before_forward or (lambda rows: None)
        eos = model.generation_config.eos_token_id
        self.eos = set(eos if isinstance(eos, list) else [eos]) | {tokenizer.eos_token_id} - {None}
        self.rows: list[Row] = []
        self.cache: DynamicCache | None = None
        self.mask: torch.Tensor | None = None  # [B, T]: 1 for real tokens
        self.next_ids: torch.Tensor | None = None  # [B, 1]: each row's token to feed next

    def __len__(self) -> int:
        return len(self.rows)

    @torch.inference_mode()
    def add(self, req: GenRequest) -> None:
        """Prefill the request alone, take its first token, and merge it into the batch."""
        row = Row(req)
        if req.temperature > 0:
            row.generator = torch.Generator(device=self.device)
            row.generator.manual_seed(req.seed if req.seed is not None else torch.seed())
        ids = torch.tensor([req.prompt_ids], device=self.device)
        self.before_forward([row])
        out = self.model(input_ids=ids, use_cache=True, logits_to_keep=1)
        token = self._choose(out.logits[:, -1], [row])
        self._merge(row, out.cache, torch.ones_like(ids))
        self._advance([row], token)

    def _merge(self, row: Row, cache: DynamicCache, mask: torch.Tensor) -> None:
        if self.cache is None:
            self.rows, self.cache, self.mask = [row], cache, mask
            return
        t_old, t_new = self.mask.shape[1], mask.shape[1]
        width = max(t_old, t_new)
        merged = DynamicCache()
        for i, (old, new) in enumerate(zip(self.cache.layers, cache.layers, strict=True)):
            keys = torch.cat(
                [F.pad(old.keys, (0, 0, width - t_old, 0)), F.pad(new.keys, (0, 0, width - t_new, 0))]
            )
            values = torch.cat(
                [F.pad(old.values, (0, 0, width - t_old, 0)), F.pad(new.values, (0, 0, width - t_new, 0))]
            )
            merged.update(keys, values, i)
        self.mask = torch.cat([F.pad(self.mask, (width - t_old, 0)), F.pad(mask, (width - t_new, 0))])
        self.cache = merged
        self.rows.append(row)

    def _choose(self, logits: torch.Tensor, rows: list[Row]) -> torch.Tensor:
        """Next token per row: the argmax (temperature 0), else a seeded top-p sample."""
        logits = logits.float()
        picks = []
        for r, row in enumerate(rows):
            if row.req.temperature <= 0:
                picks.append(int(logits[r].argmax()))
                continue
            probs = torch.softmax(logits[r] / row.req.temperature, -1)
            order = probs.argsort(descending=True)
            keep = probs[order].cumsum(0) - probs[order] < row.req.top_p
            kept = torch.zeros_like(probs).scatter(0, order[keep], probs[order][keep])
            picks.append(int(torch.multinomial(kept / kept.sum(), 1, generator=row.generator)))
        return torch.tensor(picks, device=self.device)

    def _advance(self, rows: list[Row], tokens: torch.Tensor) -> None:
        for row, tok in zip(rows, tokens.tolist(), strict=True):
            row.out.append(tok)
        ids = torch.tensor([[r.out[-1]] for r in self.rows], device=self.device)
        self.next_ids = ids

    @torch.inference_mode()
    def step(self) -> None:
        """One decode step for every row."""
        self.before_forward(self.rows)
        positions = self.mask.sum(1, keepdim=True)  # each row's next position: its real tokens so far
        self.mask = torch.cat([self.mask, torch.ones_like(positions)], 1)
        out = self.model(
            input_ids=self.next_ids, attention_mask=self.mask, position_ids=positions, cache=self.cache,
            use_cache=True,
        )  # fmt: skip
        self.cache = out.cache
        self._advance(self.rows, self._choose(out.logits[:, -1], self.rows))

    def finish(self) -> list[tuple[Row, str]]:
        """Emit new text of every row; take out (and report, with the reason) the rows that are done."""
        done, keep = [], []
        for i, row in enumerate(self.rows):
            reason = self._emit(row)
            if reason is None:
                keep.append(i)
            else:
                done.append((row, reason))
        if done:
            self._keep(keep)
        return done

    def _emit(self, row: Row) -> str | None:
        req = row.req
        if req.cancelled.is_set():
            return "cancelled"
        if time.monotonic() > req.deadline:
            req.emit(
                (
                    "error",
                    RequestError(
                        504, "the request took longer than the server's timeout", None, "timeout", "timeout"
                    ),
                )
            )
            return "timeout"
        eos = row.out[-1] in self.eos
        ids = row.out[:-1] if eos else row.out
        text = self.tokenizer.decode(ids, skip_special_tokens=True)
        stop_at = min((p for p in (text.find(s) for s in req.stop) if p >= 0), default=-1)
        finish = None
        if stop_at >= 0:
            text, finish = text[:stop_at], "stop"
        elif eos:
            finish = "stop"
        elif len(row.out) >= req.max_new_tokens:
            finish = "length"
        if finish is None and text.endswith("\ufffd"):
            return None  # half a character: wait for the rest of its bytes
        ready = text if finish else text[: len(text) - _stop_prefix(text, req.stop)]
        if len(ready) > len(row.sent) and ready.startswith(row.sent):
            req.emit(("delta", ready[len(row.sent) :]))
            row.sent = ready
        if finish:
            req.emit(("done", finish, len(req.prompt_ids), len(ids), text))
        return finish

    def _keep(self, indices: list[int]) -> None:
        if not indices:
            self.rows, self.cache, self.mask, self.next_ids = [], None, None, None
            return
        index = torch.tensor(indices, device=self.device)
        self.rows = [self.rows[i] for i in indices]
        self.cache.batch_select_indices(index)
        self.mask = self.mask[index]
        self.next_ids = self.next_ids[index]
        # drop columns no remaining row uses (all padding), so a finished long row leaves no dead width
        used = self.mask.any(0).nonzero()
        start = int(used[0]) if len(used) else 0
        if start:
            self.mask = self.mask[:, start:]
            for layer in self.cache.layers:
                layer.keys, layer.values = layer.keys[:, :, start:], layer.values[:, :, start:]

    def info(self) -> dict[str, Any]:
        return {"rows": len(self.rows), "width": 0 if self.mask is None else self.mask.shape[1]}
