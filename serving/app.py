"""The HTTP side of `meav serve`: OpenAI-compatible routes over an engine (FastAPI), and the playground.

POST /v1/chat/completions and /v1/completions (plain, or streamed as server-sent events), GET /v1/models and
/v1/models/{id} (the base, and each AV and level preset as a model whose parent is the base), GET /health,
GET / (the playground: a λ slider per AV, a streaming chat, two settings side by side). Request and response
bodies are pydantic models (serving/schemas.py), so /docs documents them. Every error is a 4xx/5xx with an
OpenAI error object and the server keeps serving; a client that goes away cancels its generation at the
engine's next step.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from importlib.resources import files

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from pydantic.json_schema import models_json_schema

from meav.core.version import __version__
from meav.serving.alignment import AlignmentSet, Key
from meav.serving.batch import GenRequest
from meav.serving.errors import bearer, install_error_handlers
from meav.serving.options import ServeOptions
from meav.serving.protocol import (
    ChatShape,
    Job,
    RequestError,
    TextShape,
    chat_messages,
    job,
    prompt_ids,
    text_prompt_ids,
    unknown_fields,
    usage,
)
from meav.serving.schemas import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    Completion,
    CompletionRequest,
    ErrorResponse,
    Model,
    ModelList,
    Sampling,
)

log = logging.getLogger(__name__)
WARNING = "x-meav-warning"
ERRORS = {s: {"model": ErrorResponse} for s in (400, 401, 404, 429, 504)}


def _sse(schema: str) -> dict:
    return {"text/event-stream": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}


def create_app(engine, alignments: AlignmentSet, options: ServeOptions) -> FastAPI:
    app = FastAPI(title="meav serve", version=__version__, description=__doc__)
    install_error_handlers(app)
    if options.allowed_origins:  # outermost: preflights are answered before the API key is asked for
        app.add_middleware(
            CORSMiddleware, allow_origins=options.allowed_origins, allow_methods=["*"], allow_headers=["*"],
            expose_headers=[WARNING],
        )  # fmt: skip
    started = int(time.time())
    v1 = APIRouter(prefix="/v1", dependencies=[Depends(bearer(options.api_key))], responses=ERRORS)

    def model_card(model_id: str, alignment: dict) -> Model:
        base = alignments.model_id
        lams = dict(alignments.resolve(model_id, {})) if alignment else {}
        return Model(
            id=model_id, created=started, root=base, parent=None if model_id == base else base, alignment=lams
        )

    def checked(body: Sampling) -> dict[str, str]:
        """Headers for the answer: a warning naming the unknown fields ignored (refused under --strict)."""
        names = unknown_fields(body)
        if not names:
            return {}
        if options.strict:
            raise RequestError(400, f"unknown parameter '{names[0]}' (this server runs with --strict)", names[0],
                               "unknown_parameter")  # fmt: skip
        log.warning("ignored unknown request fields: %s", ", ".join(names))
        return {WARNING: "ignored unknown field(s): " + ", ".join(json.dumps(n) for n in names)}

    async def generate(request: Request, j: Job, key: Key, ids: list[int], shape, headers: dict) -> Response:
        loop = asyncio.get_running_loop()
        events: asyncio.Queue = asyncio.Queue()
        gen = GenRequest(
            key=key, prompt_ids=ids, max_new_tokens=j.max_tokens,
            emit=lambda ev: loop.call_soon_threadsafe(events.put_nowait, ev), temperature=j.temperature,
            top_p=j.top_p, seed=j.seed, stop=j.stop, deadline=time.monotonic() + options.request_timeout,
        )  # fmt: skip
        engine.submit(gen)  # 429 when the queue is full
        if j.stream:
            return StreamingResponse(
                _stream(j, gen, events, shape), media_type="text/event-stream", headers=headers
            )
        return await _answer(request, j, gen, events, shape, headers)

    @app.get("/health", tags=["meav"])
    async def health() -> dict:
        """The engine's state, the AVs with their recommended λ's, the allowed λ range (the playground's setup)."""
        return {"status": "ok", "model": alignments.model_id, "engine": engine.name, "mode": engine.mode,
                "queued": engine.queued(), "active": engine.active(), "finished": engine.finished(),
                "lambda_range": list(alignments.range), "alignment_vectors": alignments.describe(),
                "auth": options.api_key is not None}  # fmt: skip

    @v1.get("/models")
    async def models() -> ModelList:
        """The base, then each AV at λ 1 and at each level its config recommends (parent: the base)."""
        return ModelList(data=[model_card(m, a) for m, a in alignments.models().items()])

    @v1.get("/models/{model_id:path}")
    async def model(model_id: str) -> Model:
        known = alignments.models()
        if model_id not in known:
            raise RequestError(404, f"model {model_id!r} is not served here (see /v1/models)", "model", "model_not_found")  # fmt: skip
        return model_card(model_id, known[model_id])

    @v1.post("/chat/completions", response_model=ChatCompletion, responses={200: {"content": _sse("ChatCompletionChunk")}})  # fmt: skip
    async def chat(body: ChatCompletionRequest, request: Request) -> Response:
        """A chat answer at the λ's the request names (`alignment`, or the model id); `stream` for SSE."""
        headers = checked(body)
        j = job(body, options.max_new_tokens, options.default_max_new_tokens, "chatcmpl")
        key = alignments.resolve(j.model, j.alignment)
        ids = prompt_ids(engine.tokenizer, chat_messages(body), j.max_tokens, engine.max_context)
        return await generate(request, j, key, ids, ChatShape, headers)

    @v1.post("/completions", response_model=Completion, responses={200: {"content": _sse("Completion")}})
    async def complete(body: CompletionRequest, request: Request) -> Response:
        """The prompt continued as is (no chat template) at the λ's the request names; `stream` for SSE."""
        headers = checked(body)
        j = job(body, options.max_new_tokens, options.default_max_new_tokens, "cmpl")
        key = alignments.resolve(j.model, j.alignment)
        ids = text_prompt_ids(engine.tokenizer, body, j.max_tokens, engine.max_context)
        return await generate(request, j, key, ids, TextShape, headers)

    app.include_router(v1)
    static = files("meav.serving") / "static"
    page, script = (
        (static / "playground.html").read_text("utf-8"),
        (static / "playground.js").read_text("utf-8"),
    )

    @app.get("/", include_in_schema=False)
    async def playground() -> HTMLResponse:
        return HTMLResponse(page)

    @app.get("/playground.js", include_in_schema=False)
    async def playground_js() -> Response:
        return Response(script, media_type="text/javascript")

    app.openapi = lambda: app.openapi_schema or _openapi(app)
    return app


def _openapi(app: FastAPI) -> dict:
    """FastAPI's schema with the stream chunks' models added and its 422 responses removed (meav answers
    invalid bodies with 400 and an OpenAI error object)."""
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    _, defs = models_json_schema(
        [(ChatCompletionChunk, "serialization"), (Completion, "serialization")],
        ref_template="#/components/schemas/{model}",
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(defs.get("$defs", {}))
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            operation.get("responses", {}).pop("422", None)
    app.openapi_schema = schema
    return schema


async def _answer(
    request: Request, j: Job, gen: GenRequest, events: asyncio.Queue, shape, headers: dict
) -> JSONResponse:
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
            return JSONResponse(shape.answer(j, text, finish, usage(prompt_tokens, tokens)), headers=headers)


async def _stream(j: Job, gen: GenRequest, events: asyncio.Queue, shape) -> AsyncIterator[str]:
    """Server-sent events in OpenAI's chunk format; the generator is cancelled when the client goes away."""

    def sse(obj: dict | None) -> str:
        return "" if obj is None else f"data: {json.dumps(obj)}\n\n"

    try:
        yield sse(shape.chunk(j, ""))
        while True:
            event = await events.get()
            if event[0] == "delta":
                yield sse(shape.chunk(j, event[1]))
            elif event[0] == "error":
                yield sse(event[1].body())
                break
            else:
                _, finish, prompt_tokens, tokens, _ = event
                yield sse(shape.chunk(j, None, finish))
                if j.include_usage:
                    yield sse(shape.chunk(j, None, use=usage(prompt_tokens, tokens)))
                break
        yield "data: [DONE]\n\n"
    finally:
        gen.cancelled.set()  # a no-op once done; stops the work when the client disconnected mid-stream
