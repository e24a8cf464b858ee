"""The HTTP side of `meav serve`: OpenAI-compatible routes over an engine (FastAPI).

POST /v1/chat/completions (plain and streamed as server-sent events), GET /v1/models, GET /health. Every bad
request is a 4xx with an OpenAI error object and the server keeps serving; a client that goes away cancels its
generation at the engine's next step.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from meav.core.version import __version__
from meav.serving.alignment import AlignmentSet
from meav.serving.batch import GenRequest
from meav.serving.options import ServeOptions
from meav.serving.protocol import ChatRequest, RequestError, chunk, completion, parse_chat, prompt_ids


def create_app(engine, alignments: AlignmentSet, options: ServeOptions) -> FastAPI:
    app = FastAPI(title="meav serve", version=__version__)

    @app.exception_handler(RequestError)
    async def refused(request: Request, e: RequestError) -> JSONResponse:
        return JSONResponse(e.body(), status_code=e.status)

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok", "model": alignments.model_id, "engine": engine.name, "mode": engine.mode,
                "queued": engine.queued(), "active": engine.active(), "finished": engine.finished(),
                "alignment_vectors": alignments.describe()}  # fmt: skip

    @app.get("/v1/models")
    async def models() -> dict:
        return {"object": "list", "data": [{"id": alignments.model_id, "object": "model", "created": 0, "owned_by": "meav",
                                            "alignment_vectors": alignments.describe()}]}  # fmt: skip

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        try:
            body = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise RequestError(
                400, f"the request body is not valid JSON ({e})", None, "invalid_json"
            ) from None
        req = parse_chat(body, options.max_tokens, options.default_max_tokens)
        key = alignments.resolve(req.model, req.alignment)
        loop = asyncio.get_running_loop()
        events: asyncio.Queue = asyncio.Queue()
        gen = GenRequest(
            key=key, prompt_ids=prompt_ids(engine.tokenizer, req.messages, req.max_tokens, engine.max_context),
            max_new_tokens=req.max_tokens,
            emit=lambda ev: loop.call_soon_threadsafe(events.put_nowait, ev), temperature=req.temperature,
            top_p=req.top_p, seed=req.seed, stop=req.stop, deadline=time.monotonic() + options.request_timeout,
        )  # fmt: skip
        engine.submit(gen)  # 429 when the queue is full
        if req.stream:
            return StreamingResponse(_stream(req, gen, events), media_type="text/event-stream")
        return await _answer(request, req, gen, events)

    return app


async def _answer(request: Request, req: ChatRequest, gen: GenRequest, events: asyncio.Queue) -> JSONResponse:
    """Wait for the whole answer; a client that disconnects meanwhile cancels the generation."""
    while True:
        try:
            event = await asyncio.wait_for(events.get(), timeout=0.5)
        except TimeoutError:
            if await request.is_disconnected():
                gen.cancelled.set()
                return JSONResponse({}, status_code=499)
            continue
        if event[0] == "error":
            raise event[1]
        if event[0] == "done":
            _, finish, prompt_tokens, tokens, text = event
            return JSONResponse(completion(req, req.model, text, finish, prompt_tokens, tokens))


async def _stream(req: ChatRequest, gen: GenRequest, events: asyncio.Queue) -> AsyncIterator[str]:
    """Server-sent events in OpenAI's chunk format; the generator is cancelled when the client goes away."""

    def sse(obj: dict) -> str:
        return f"data: {json.dumps(obj)}\n\n"

    try:
        yield sse(chunk(req, req.model, {"role": "assistant", "content": ""}))
        while True:
            event = await events.get()
            if event[0] == "delta":
                yield sse(chunk(req, req.model, {"content": event[1]}))
            elif event[0] == "error":
                yield sse(event[1].body())
                break
            else:
                _, finish, prompt_tokens, tokens, _ = event
                yield sse(chunk(req, req.model, {}, finish))
                if req.include_usage:
                    usage = {
                        "prompt_tokens": prompt_tokens,
                        "completion_tokens": tokens,
                        "total_tokens": prompt_tokens + tokens,
                    }
                    yield sse(chunk(req, req.model, {}, usage=usage))
                break
        yield "data: [DONE]\n\n"
    finally:
        gen.cancelled.set()  # a no-op once done; stops the work when the client disconnected mid-stream
