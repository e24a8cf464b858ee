"""Serving engines by name (REGISTERED_ENGINES) and the transformers engine's scheduler.

`transformers` (default; CPU or one GPU): continuous batching in one thread that owns the model.
- Low-rank AVs (`extract --rank/--energy`) with a per-row form: one mixed batch; each row carries its own λ's
  (serving/lowrank.py), the base weights are never changed.
- Otherwise grouped switching: a batch holds one λ-vector; between groups the model is steered in place
  (exact: recomputed from the kept base values). Fair: while another group waits, the running group admits no
  newcomers, and the next group is the one whose oldest request has waited longest.
The queue is bounded (429 when full); a request past its deadline is dropped (504); a cancelled one (the client
went away) is dropped at the next step.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable

from meav.core.av import steer
from meav.core.errors import MeavError
from meav.serving.alignment import AlignmentSet, Key
from meav.serving.batch import DecodeBatch, GenRequest, Row
from meav.serving.lowrank import PerRowAlignment
from meav.serving.protocol import RequestError
from meav.serving.vllm_engine import VllmEngine

log = logging.getLogger(__name__)


class TransformersEngine:
    """The model, its tokenizer and a scheduler thread; `submit` is called from the HTTP server's threads."""

    name = "transformers"

    def __init__(
        self,
        model,
        tokenizer,
        alignments: AlignmentSet,
        max_batch: int = 8,
        max_queue: int = 64,
        force: bool = False,
    ):
        self.model, self.tokenizer, self.alignments = model, tokenizer, alignments
        self.max_context = getattr(model.config, "max_position_embeddings", None)
        window = getattr(model.config, "sliding_window", None)
        if window and getattr(model.config, "use_sliding_window", True):
            # the batch merges caches by left-padding them, which a windowed cache (cropped per layer) breaks
            raise MeavError(
                f"base: sliding-window attention ({window} tokens) is not served by the transformers engine"
            )
        self.max_batch, self.max_queue = max_batch, max_queue
        self.waiting: dict[Key, deque[GenRequest]] = {}
        self.cond = threading.Condition()
        self.stopped = False
        self.current: Key | None = None
        self.stats: Counter[str] = (
            Counter()
        )  # finished by reason: stop, length, cancelled, timeout; rejected (429)
        avs = list(alignments.avs.values())
        steer(model, {av: 0.0 for av in avs}, force=force)  # shapes and base fingerprint, before serving
        self.per_row = None
        if avs and all((av.config.get("compression") or {}).get("method") == "lowrank" for av in avs):
            try:
                self.per_row = PerRowAlignment(model, avs)
            except MeavError as e:
                log.warning("%s; serving by grouped switching", e)
        self.mode = "per-row low-rank" if self.per_row else "grouped switching"
        self.batch = DecodeBatch(model, tokenizer, self._set_rows if self.per_row else None)
        self.thread = threading.Thread(target=self._loop, name="meav-engine", daemon=True)

    def start(self) -> TransformersEngine:
        self.thread.start()
        return self

    def stop(self) -> None:
        with self.cond:
            self.stopped = True
            self.cond.notify_all()
        self.thread.join(timeout=10)

    def queued(self) -> int:
        with self.cond:  # the scheduler thread changes `waiting` under this lock (a reentrant one)
            return sum(len(q) for q in self.waiting.values())

    def finished(self) -> dict[str, int]:
        with self.cond:
            return dict(self.stats)

    def active(self) -> int:
        return len(self.batch)

    def submit(self, req: GenRequest) -> None:
        with self.cond:
            if self.queued() >= self.max_queue:
                self._purge()
            if self.queued() >= self.max_queue:
                self.stats["rejected"] += 1
                raise RequestError(
                    429,
                    f"the server's queue is full ({self.max_queue} waiting); retry later",
                    None,
                    "queue_full",
                )
            self.waiting.setdefault(req.key, deque()).append(req)
            self.cond.notify()

    # -- the scheduler thread ----------------------------------------------------------------------------
    def _set_rows(self, rows: list[Row]) -> None:
        names = list(self.alignments.avs)
        self.per_row.set_rows([[dict(r.req.key).get(n, 0.0) for n in names] for r in rows])

    def _next(self) -> list[GenRequest]:
        """Requests to admit now (called with the lock held)."""
        room = self.max_batch - len(self.batch)
        if room <= 0:
            return []
        if self.per_row:  # one mixed batch: first come, first served
            ready = sorted((q[0].arrived, k) for k, q in self.waiting.items() if q)
            return [self._pop(k) for _, k in ready[:room]]
        others = [k for k, q in self.waiting.items() if q and k != self.current]
        if len(self.batch) and others:
            return []  # let the running group drain: the waiting group goes next
        if not len(self.batch):
            ready = sorted((q[0].arrived, k) for k, q in self.waiting.items() if q)
            if not ready:
                return []
            self.current = ready[0][1]
        queue = self.waiting.get(self.current) or deque()
        return [self._pop(self.current) for _ in range(min(room, len(queue)))]

    def _purge(self) -> None:
        """Drop waiting requests whose client went away: they must not hold places in a full queue."""
        for key in list(self.waiting):
            self.waiting[key] = deque(r for r in self.waiting[key] if not r.cancelled.is_set())
            if not self.waiting[key]:
                del self.waiting[key]

    def _pop(self, key: Key) -> GenRequest:
        req = self.waiting[key].popleft()
        if not self.waiting[key]:
            del self.waiting[key]
        return req

    def _loop(self) -> None:
        while True:
            with self.cond:
                while not self.stopped and not self.waiting and not len(self.batch):
                    self.cond.wait()
                if self.stopped:
                    return
                admit = self._next()
            try:
                self._run(admit)
            except Exception as e:  # noqa: BLE001 - one failed step must not stop the server
                log.exception("engine step failed")
                _fail([row.req for row in self.batch.rows], e)  # the rest got their answer or error already
                self.batch = DecodeBatch(self.model, self.tokenizer, self._set_rows if self.per_row else None)

    def _run(self, admit: list[GenRequest]) -> None:
        live = [r for r in admit if not r.cancelled.is_set() and time.monotonic() <= r.deadline]
        for req in admit:
            if req not in live and not req.cancelled.is_set():
                req.emit(
                    (
                        "error",
                        RequestError(
                            504,
                            "the request waited longer than the server's timeout",
                            None,
                            "timeout",
                            "timeout",
                        ),
                    )
                )
        if live and not self.per_row and not self.batch.rows:
            try:
                steer(self.model, self.alignments.weights(self.current), force=True)  # exact, in place
            except Exception as e:  # noqa: BLE001 - this group's requests fail, the server keeps serving
                log.exception("steering failed")
                _fail(live, e)
                return
        for req in live:
            try:
                self.batch.add(req)  # its prefill runs alone: a failure there is this request's only
            except Exception as e:  # noqa: BLE001
                log.exception("prefill failed")
                _fail([req], e)
        self._count(self.batch.finish())
        if len(self.batch):
            self.batch.step()
            self._count(self.batch.finish())

    def _count(self, done) -> None:
        with self.cond:
            self.stats.update(reason for _, reason in done)


def _fail(requests: list[GenRequest], e: Exception) -> None:
    error = RequestError(500, f"generation failed: {type(e).__name__}: {e}", None, "engine_error")
    for req in requests:
        req.emit(("error", error))


def load_transformers_engine(
    options, model, tokenizer, alignments: AlignmentSet, base_path
) -> TransformersEngine:
    return TransformersEngine(
        model, tokenizer, alignments, options.max_batch, options.max_queue, options.force
    )


def load_vllm_engine(options, model, tokenizer, alignments: AlignmentSet, base_path):
    # refuse another base's AV (λ = 0 changes no weight); vLLM then loads its own copy of the base
    steer(model, dict.fromkeys(alignments.avs.values(), 0.0), force=options.force)
    context = getattr(model.config, "max_position_embeddings", None)
    return VllmEngine(options, base_path, tokenizer, alignments, context)


Loader = Callable[..., object]
REGISTERED_ENGINES: dict[str, Loader] = {"transformers": load_transformers_engine, "vllm": load_vllm_engine}
