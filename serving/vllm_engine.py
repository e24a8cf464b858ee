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
from meav.serving.adapters import check_lora_form, combined_adapter
from meav.serving.alignment import AlignmentSet
from meav.serving.batch import GenRequest
from meav.serving.protocol import RequestError


class VllmEngine:
    name = "vllm"
    mode = "vLLM multi-LoRA, one combined adapter per λ-vector"

    def __init__(self, options, base_path, tokenizer, alignments: AlignmentSet):
        try:
            from vllm import AsyncEngineArgs, AsyncLLMEngine, SamplingParams  # noqa: PLC0415  (optional, GPU)
            from vllm.lora.request import LoRARequest  # noqa: PLC0415
        except ImportError as e:
            raise MeavError(
                f"engine vllm: vllm is not installed ({e}); pip install -e '.[vllm]' on a GPU machine"
            ) from None
        check_lora_form(alignments)
        self.tokenizer, self.alignments = tokenizer, alignments
        self.cache_dir = Path(options.cache_dir or cache_root() / "serve")
        self.SamplingParams, self.LoRARequest = SamplingParams, LoRARequest
        rank = sum(
            max(alignments.avs[n].shape(t)[0] for t in alignments.avs[n].names()) for n in alignments.avs
        )
        args = AsyncEngineArgs(
            model=str(base_path), enable_lora=True, max_loras=8, max_lora_rank=max(8, min(rank, 256)),
            dtype=options.dtype if options.dtype != "float64" else "float32", max_num_seqs=options.max_batch,
        )  # fmt: skip
        self.engine = AsyncLLMEngine.from_engine_args(args)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="meav-vllm", daemon=True)
        self.ids: dict[tuple, int] = {}
        self.max_queue, self.inflight = options.max_queue, 0
        self.stats: Counter[str] = Counter()

    def start(self):
        self.thread.start()
        return self

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)

    def queued(self) -> int:
        return self.inflight

    def active(self) -> int:
        return self.inflight

    def prompt_ids(self, messages: list[dict]) -> list[int]:
        text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def submit(self, req: GenRequest) -> None:
        if self.inflight >= self.max_queue:
            raise RequestError(
                429,
                f"the server's queue is full ({self.max_queue} in flight); retry later",
                None,
                "queue_full",
            )
        self.inflight += 1
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
                    return
                text = out.outputs[0].text
                if len(text) > len(sent):
                    req.emit(("delta", text[len(sent) :]))
                    sent = text
            final = out.outputs[0]
            req.emit(
                (
                    "done",
                    "length" if final.finish_reason == "length" else "stop",
                    len(req.prompt_ids),
                    len(final.token_ids),
                    sent,
                )
            )
        except Exception as e:  # noqa: BLE001 - reported to the client, the server keeps serving
            req.emit(
                (
                    "error",
                    RequestError(500, f"generation failed: {type(e).__name__}: {e}", None, "engine_error"),
                )
            )
        finally:
            self.inflight -= 1
