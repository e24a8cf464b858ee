"""The vllm engine: past one GPU (tensor parallel, many replicas) with vLLM's multi-LoRA.

Each λ-vector is one combined LoRA adapter (serving/adapters.py), built once and cached; the empty vector is the
base. vLLM batches requests with different adapters together. vllm is an optional dependency (`pip install -e
'.[vllm]'`) that needs a GPU; on CPU the adapters are tested against PEFT instead (tests/serving).
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections import Counter
from pathlib import Path

from meav.core.embedded import cache_root
from meav.core.errors import MeavError
from meav.serving.adapters import check_lora_form, combined_adapter, combined_rank
from meav.serving.alignment import AlignmentSet
from meav.serving.batch import GenRequest
from meav.serving.protocol import RequestError


class VllmEngine:
    name = "vllm"
    mode = "vLLM multi-LoRA, one combined adapter per λ-vector"

    def __init__(self, options, base_path, tokenizer, alignments: AlignmentSet, max_context: int | None):
        try:
            from vllm import AsyncEngineArgs, AsyncLLMEngine, SamplingParams  # noqa: PLC0415  (optional, GPU)
            from vllm.lora.request import LoRARequest  # noqa: PLC0415
        except ImportError as e:
            raise MeavError(
                f"engine vllm: vllm is not installed ({e}); pip install -e '.[vllm]' on a GPU machine"
            ) from None
        check_lora_form(alignments)
        self.tokenizer, self.alignments = tokenizer, alignments
        self.max_context = max_context
        self.cache_dir = Path(options.cache_dir or cache_root() / "serve")
        self.SamplingParams, self.LoRARequest = SamplingParams, LoRARequest
        rank = combined_rank(alignments)
        args = AsyncEngineArgs(
            model=str(base_path), enable_lora=True, max_loras=8, max_lora_rank=max(8, 1 << (rank - 1).bit_length()),  # vLLM takes powers of two
            dtype=options.dtype if options.dtype != "float64" else "float32", max_num_seqs=options.max_batch,
        )  # fmt: skip
        self.engine = AsyncLLMEngine.from_engine_args(args)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="meav-vllm", daemon=True)
        self.ids: dict[tuple, int] = {}
        self.max_queue, self.inflight, self.lock = options.max_queue, 0, threading.Lock()
        self.stats: Counter[str] = Counter()

    def start(self):
        self.thread.start()
        return self

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)

    def finished(self) -> dict[str, int]:
        return dict(self.stats)  # counted on the engine's loop thread: one dict copy, no iteration there

    def queued(self) -> int:
        return self.inflight

    def active(self) -> int:
        return self.inflight

    def submit(self, req: GenRequest) -> None:
        with self.lock:  # HTTP threads add, the engine's loop thread takes away
            full = self.inflight >= self.max_queue
            self.inflight += not full
        if full:
            self.stats["rejected"] += 1
            raise RequestError(
                429,
                f"the server's queue is full ({self.max_queue} in flight); retry later",
                None,
                "queue_full",
            )
        asyncio.run_coroutine_threadsafe(self._run(req), self.loop)

    async def _run(self, req: GenRequest) -> None:
        try:
            lora = None
            if req.key:
                path = combined_adapter(self.alignments, req.key, self.cache_dir)
                lora = self.LoRARequest(path.name, self.ids.setdefault(req.key, len(self.ids) + 1), str(path))
            params = self.SamplingParams(
                max_tokens=req.max_new_tokens, temperature=req.temperature, top_p=req.top_p, seed=req.seed,
                stop=req.stop or None,
            )  # fmt: skip
            sent, out = "", None
            async for out in self.engine.generate(
                {"prompt_token_ids": req.prompt_ids}, params, uuid.uuid4().hex, lora_request=lora
            ):
                if req.cancelled.is_set():
                    await self.engine.abort(out.request_id)
                    self.stats["cancelled"] += 1
                    return
                text = out.outputs[0].text
                if len(text) > len(sent):
                    req.emit(("delta", text[len(sent) :]))
                    sent = text
            final = out.outputs[0]
            finish = "length" if final.finish_reason == "length" else "stop"
            self.stats[finish] += 1
            req.emit(("done", finish, len(req.prompt_ids), len(final.token_ids), sent))
        except Exception as e:  # noqa: BLE001 - reported to the client, the server keeps serving
            req.emit(
                (
                    "error",
                    RequestError(500, f"generation failed: {type(e).__name__}: {e}", None, "engine_error"),
                )
            )
        finally:
            with self.lock:
                self.inflight -= 1
