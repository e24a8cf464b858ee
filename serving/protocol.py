"""The OpenAI chat-completions protocol as meav serves it: requests checked into a `ChatRequest`, answers and
stream chunks in OpenAI's shapes, errors as OpenAI error objects (`{"error": {message, type, param, code}}`).

Supported: model, messages, max_tokens / max_completion_tokens, temperature (0: greedy), top_p, seed, stop,
stream (+ stream_options.include_usage), n = 1, user, and meav's `alignment` ({"medical": 0.5, "legal":
"avoidance"}). Anything else OpenAI defines (tools, logprobs, response_format, n > 1, ...) is refused with 400,
as are unknown fields: a client must not believe a setting took effect when it did not.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

SUPPORTED = {
    "model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "seed", "stop",
    "stream", "stream_options", "n", "user", "alignment",
}  # fmt: skip
ROLES = ("system", "user", "assistant")


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
            404: "not_found_error",
            429: "rate_limit_error",
        }.get(status, "server_error")

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}}


@dataclass
class ChatRequest:
    model: str
    messages: list[dict[str, str]]
    max_tokens: int
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int | None = None
    stop: list[str] = field(default_factory=list)
    stream: bool = False
    include_usage: bool = False
    alignment: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=lambda: f"chatcmpl-{uuid.uuid4().hex[:24]}")
    created: int = field(default_factory=lambda: int(time.time()))


def _number(body: dict, name: str, kind: type, low: float | None = None, high: float | None = None):
    value = body.get(name)
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (kind is int and not isinstance(value, int))
    ):
        raise RequestError(
            400, f"'{name}' must be {'an integer' if kind is int else 'a number'}", name, "invalid_type"
        )
    if value != value or (low is not None and value < low) or (high is not None and value > high):  # NaN too
        raise RequestError(400, f"'{name}' must be in [{low}, {high}], got {value}", name, "invalid_value")
    return kind(value)


def _default(value, default):
    return default if value is None else value


def _messages(value: Any) -> list[dict[str, str]]:
    if not isinstance(value, list) or not value:
        raise RequestError(400, "'messages' must be a non-empty list", "messages", "invalid_type")
    out = []
    for i, m in enumerate(value):
        if not isinstance(m, dict) or m.get("role") not in ROLES:
            raise RequestError(
                400, f"messages[{i}]: role must be one of {', '.join(ROLES)}", f"messages[{i}].role"
            )
        content = m.get("content")
        if isinstance(content, list):  # content parts: text only
            if not all(isinstance(p, dict) and p.get("type") == "text" for p in content):
                raise RequestError(
                    400, f"messages[{i}]: only text content is supported", f"messages[{i}].content"
                )
            content = "".join(p.get("text", "") for p in content)
        if not isinstance(content, str):
            raise RequestError(400, f"messages[{i}]: content must be a string", f"messages[{i}].content")
        out.append({"role": m["role"], "content": content})
    return out


def parse_chat(body: Any, max_tokens_limit: int, default_max_tokens: int) -> ChatRequest:
    """A `ChatRequest` from the JSON body, or a RequestError (400) naming the field at fault."""
    if not isinstance(body, dict):
        raise RequestError(400, "the request body must be a JSON object", None, "invalid_json")
    unknown = sorted(set(body) - SUPPORTED)
    if unknown:
        raise RequestError(
            400,
            f"unsupported parameter '{unknown[0]}' (meav serve supports: {', '.join(sorted(SUPPORTED))})",
            unknown[0],
            "unsupported_parameter",
        )
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise RequestError(400, "'model' is required", "model", "missing")
    n = _number(body, "n", int, 1, 1)
    if n not in (None, 1):
        raise RequestError(400, "only n = 1 is supported", "n")
    max_tokens = _number(body, "max_completion_tokens", int, 1, max_tokens_limit) or _number(
        body, "max_tokens", int, 1, max_tokens_limit
    )
    stop = body.get("stop") or []
    stop = [stop] if isinstance(stop, str) else stop
    if not isinstance(stop, list) or not all(isinstance(s, str) and s for s in stop) or len(stop) > 4:
        raise RequestError(400, "'stop' must be a string or a list of at most 4 non-empty strings", "stop")
    alignment = body.get("alignment") or {}
    if not isinstance(alignment, dict):
        raise RequestError(400, "'alignment' must be an object {AV name: λ or level}", "alignment")
    stream_options = body.get("stream_options") or {}
    if not isinstance(stream_options, dict):
        raise RequestError(400, "'stream_options' must be an object", "stream_options")
    return ChatRequest(
        model=body["model"],
        messages=_messages(body.get("messages")),
        max_tokens=max_tokens or default_max_tokens,
        temperature=_default(_number(body, "temperature", float, 0.0, 2.0), 0.0),
        top_p=_default(_number(body, "top_p", float, 0.0, 1.0), 1.0),
        seed=_number(body, "seed", int, -(2**63), 2**63 - 1),
        stop=stop,
        stream=bool(body.get("stream", False)),
        include_usage=bool(stream_options.get("include_usage", False)),
        alignment=alignment,
    )


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
    if max_context and len(ids) + max_tokens > max_context:
        raise RequestError(
            400,
            f"{len(ids)} prompt tokens + max_tokens {max_tokens} exceed the model's context of {max_context}",
            "messages",
            "context_length_exceeded",
        )
    return ids


def completion(req: ChatRequest, model: str, text: str, finish: str, prompt_tokens: int, tokens: int) -> dict:
    return {
        "id": req.id,
        "object": "chat.completion",
        "created": req.created,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": tokens,
            "total_tokens": prompt_tokens + tokens,
        },
    }


def chunk(
    req: ChatRequest, model: str, delta: dict, finish: str | None = None, usage: dict | None = None
) -> dict:
    out = {
        "id": req.id,
        "object": "chat.completion.chunk",
        "created": req.created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}] if usage is None else [],
    }
    if usage is not None:
        out["usage"] = usage
    return out
