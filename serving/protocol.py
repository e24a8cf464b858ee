"""The OpenAI protocol as meav serves it: what a checked request (serving/schemas.py) asks the engine for, the
answers and stream chunks in OpenAI's shapes, errors as OpenAI error objects ({"error": {message, type,
param, code}}).

A parameter meav cannot honour is accepted at its no-op value (NO_OPS: penalties 0, response_format text,
empty logit_bias, n = 1, ...) and refused otherwise, naming it: a client must not believe a setting took effect
when it did not. Fields no OpenAI API defines are listed by `unknown_fields` (the app warns, or refuses them
under --strict).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from meav.serving.schemas import (
    ChatCompletionRequest,
    CompletionRequest,
    Sampling,
)


class RequestError(Exception):
    """A request the server refuses: HTTP status + an OpenAI error object."""

    def __init__(
        self,
        status: int,
        message: str,
        param: str | None = None,
        code: str | None = None,
        kind: str | None = None,
    ):
        super().__init__(message)
        self.status, self.message, self.param, self.code = status, message, param, code
        self.kind = kind or {
            400: "invalid_request_error",
            401: "invalid_request_error",
            404: "not_found_error",
            405: "invalid_request_error",
            429: "rate_limit_error",
        }.get(status, "server_error")

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}}


# name → (is its value a no-op?, the no-op said in the error); None is always accepted
NO_OPS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "n": (lambda v: v == 1, "1 (one choice per request)"),
    "presence_penalty": (lambda v: v == 0, "0"),
    "frequency_penalty": (lambda v: v == 0, "0"),
    "logit_bias": (lambda v: not v, "{}"),
    "response_format": (lambda v: v == {"type": "text"}, '{"type": "text"}'),
    "logprobs": (lambda v: v is False, "false or null"),
    "top_logprobs": (lambda v: v == 0, "0"),
    "tools": (lambda v: False, "null (no tool calling)"),
    "tool_choice": (lambda v: v == "none", '"none"'),
    "functions": (lambda v: False, "null (no function calling)"),
    "function_call": (lambda v: v == "none", '"none"'),
    "service_tier": (lambda v: v in ("auto", "default"), '"auto" or "default"'),
    "store": (lambda v: v is False, "false"),
    "modalities": (lambda v: v == ["text"], '["text"]'),
    "audio": (lambda v: False, "null"),
    "prediction": (lambda v: False, "null"),
    "reasoning_effort": (lambda v: False, "null"),
    "web_search_options": (lambda v: False, "null"),
    "echo": (lambda v: v is False, "false"),
    "best_of": (lambda v: v == 1, "1"),
    "suffix": (lambda v: v == "", 'null or ""'),
}


def refuse_unsupported(req: Sampling) -> None:
    """A 400 naming the first parameter set to something other than its no-op value."""
    for name, (noop, said) in NO_OPS.items():
        value = getattr(req, name, None) if name in type(req).model_fields else None
        if value is not None and not noop(value):
            raise RequestError(
                400,
                f"'{name}' = {json.dumps(value)[:80]} is not supported by meav serve (accepted: {said})",
                name,
                "unsupported_parameter",
            )


def unknown_fields(req: Sampling) -> list[str]:
    """Top-level fields no OpenAI API defines (typos, other servers' extensions)."""
    return sorted(req.model_extra or {})


@dataclass
class Job:
    """What one request asks the engine for, once checked."""

    model: str
    max_tokens: int
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int | None = None
    stop: list[str] = field(default_factory=list)
    stream: bool = False
    include_usage: bool = False
    alignment: dict[str, Any] = field(default_factory=dict)
    id: str = ""
    created: int = field(default_factory=lambda: int(time.time()))


def job(req: Sampling, max_tokens_limit: int, default_max_tokens: int, prefix: str) -> Job:
    """The engine's view of a checked request; a 400 naming the field for what the schema cannot say."""
    refuse_unsupported(req)
    name = "max_completion_tokens" if getattr(req, "max_completion_tokens", None) else "max_tokens"
    max_tokens = getattr(req, name) or default_max_tokens
    if max_tokens > max_tokens_limit:
        raise RequestError(
            400,
            f"'{name}' must be at most {max_tokens_limit} (this server's --max-new-tokens)",
            name,
            "invalid_value",
        )
    stop = [req.stop] if isinstance(req.stop, str) else req.stop or []
    if not all(stop) or len(stop) > 4:
        raise RequestError(400, "'stop' must be a string or a list of at most 4 non-empty strings", "stop")
    return Job(
        model=req.model, max_tokens=max_tokens, temperature=req.temperature or 0.0,
        top_p=1.0 if req.top_p is None else req.top_p, seed=req.seed, stop=stop, stream=bool(req.stream),
        include_usage=bool(req.stream_options and req.stream_options.include_usage),
        alignment=req.alignment or {}, id=f"{prefix}-{uuid.uuid4().hex[:24]}",
    )  # fmt: skip


def chat_messages(req: ChatCompletionRequest) -> list[dict[str, str]]:
    """Plain {role, content} messages for the chat template (developer → system, text parts joined)."""
    out = []
    for i, m in enumerate(req.messages):
        content = m.content
        if isinstance(content, list):
            if not all(p.get("type") == "text" and isinstance(p.get("text"), str) for p in content):
                raise RequestError(
                    400, f"messages[{i}]: only text content is supported", f"messages[{i}].content"
                )
            content = "".join(p["text"] for p in content)
        if content is None:
            raise RequestError(400, f"messages[{i}]: content must be a string", f"messages[{i}].content")
        out.append({"role": "system" if m.role == "developer" else m.role, "content": content})
    return out


def _fits(ids: list[int], max_tokens: int, max_context: int | None, param: str) -> list[int]:
    if max_context and len(ids) + max_tokens > max_context:
        raise RequestError(
            400,
            f"{len(ids)} prompt tokens + max_tokens {max_tokens} exceed the model's context of {max_context}",
            param,
            "context_length_exceeded",
        )
    return ids


def prompt_ids(tokenizer, messages: list[dict], max_tokens: int, max_context: int | None) -> list[int]:
    """The chat template's tokens for the messages; a template that refuses them (roles out of order) or a
    prompt that leaves no room for `max_tokens` in the model's context is the request's fault: 400."""
    try:
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    except Exception as e:  # noqa: BLE001 - jinja2's TemplateError and the template's own raise_exception
        raise RequestError(
            400, f"the model's chat template refuses these messages: {e}", "messages"
        ) from None
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    return _fits(ids, max_tokens, max_context, "messages")


def text_prompt_ids(tokenizer, req: CompletionRequest, max_tokens: int, max_context: int | None) -> list[int]:
    """A completion's prompt as the tokenizer reads plain text (its special tokens, e.g. BOS, included)."""
    prompt = req.prompt
    if isinstance(prompt, list):
        if len(prompt) != 1:
            raise RequestError(
                400, "'prompt': exactly one prompt per request", "prompt", "unsupported_parameter"
            )
        prompt = prompt[0]
    if not prompt:
        raise RequestError(400, "'prompt' must not be empty", "prompt", "invalid_value")
    return _fits(tokenizer(prompt)["input_ids"], max_tokens, max_context, "prompt")


def usage(prompt_tokens: int, tokens: int) -> dict:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": tokens,
        "total_tokens": prompt_tokens + tokens,
    }


class ChatShape:
    """Answers and stream chunks of /v1/chat/completions (ChatCompletion, ChatCompletionChunk)."""

    @staticmethod
    def answer(j: Job, text: str, finish: str, use: dict) -> dict:
        return {"id": j.id, "object": "chat.completion", "created": j.created, "model": j.model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish,
                             "logprobs": None}],
                "usage": use}  # fmt: skip

    @staticmethod
    def chunk(j: Job, text: str | None, finish: str | None = None, use: dict | None = None) -> dict:
        out = {"id": j.id, "object": "chat.completion.chunk", "created": j.created, "model": j.model}
        if use is not None:
            return {**out, "choices": [], "usage": use}
        delta = (
            {} if text is None else {"role": "assistant", "content": ""} if text == "" else {"content": text}
        )
        return {**out, "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]}


class TextShape:
    """Answers and stream chunks of /v1/completions (Completion)."""

    @staticmethod
    def answer(j: Job, text: str, finish: str, use: dict) -> dict:
        return {"id": j.id, "object": "text_completion", "created": j.created, "model": j.model,
                "choices": [{"index": 0, "text": text, "finish_reason": finish, "logprobs": None}], "usage": use}  # fmt: skip

    @staticmethod
    def chunk(j: Job, text: str | None, finish: str | None = None, use: dict | None = None) -> dict | None:
        out = {"id": j.id, "object": "text_completion", "created": j.created, "model": j.model}
        if use is not None:
            return {**out, "choices": [], "usage": use}
        if text == "":
            return None  # chat's opening role chunk has no counterpart here
        return {
            **out,
            "choices": [{"index": 0, "text": text or "", "finish_reason": finish, "logprobs": None}],
        }
