"""`meav serve` as the clients people already use call it: the bodies LangChain's ChatOpenAI and the `openai`
client send by default are answered 200 (plain and streamed), parameters at their no-op values are accepted and
others refused naming them, /v1/completions, AVs and level presets as models, every error an OpenAI error
object, /docs documents the chat schema with `alignment`."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from meav.serving.schemas import (
    ChatCompletion,
    ChatCompletionChunk,
    Completion,
    ErrorResponse,
    Model,
    ModelList,
)
from tests.serving.test_serve import PROMPTS, ask, client

MESSAGES = [{"role": "system", "content": "You are helpful."}, {"role": "user", "content": PROMPTS[0]}]

# langchain-openai's ChatOpenAI() with no arguments: `_default_params` is {"model", "stream"} plus the fields
# that are not None; `_stream` adds stream_options include_usage (stream_usage, on by default)
LANGCHAIN_PLAIN = {"model": "base", "stream": False, "messages": MESSAGES}
LANGCHAIN_STREAM = {
    "model": "base",
    "stream": True,
    "stream_options": {"include_usage": True},
    "messages": MESSAGES,
}
# what older langchain-openai releases and chat UIs send: every sampling parameter at its default
CHAT_UI = {
    "model": "base", "messages": MESSAGES, "presence_penalty": 0, "frequency_penalty": 0, "n": 1, "temperature": 0,
    "top_p": 1, "stream": False, "logit_bias": {}, "user": "someone", "response_format": {"type": "text"},
    "parallel_tool_calls": True, "seed": 7, "max_tokens": 24, "store": False, "tool_choice": "none",
}  # fmt: skip


def post(server, path: str, body: dict, **kw) -> httpx.Response:
    return httpx.post(server.url + path, json=body, timeout=120, **kw)


def streamed_text(response: httpx.Response) -> tuple[str, list[dict]]:
    events = [line.removeprefix("data: ") for line in response.text.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]", events[-3:]
    chunks = [json.loads(e) for e in events[:-1]]
    pieces = [c["choices"][0].get("delta", {}).get("content") or c["choices"][0].get("text", "") for c in chunks if c["choices"]]  # fmt: skip
    return "".join(pieces), chunks


@pytest.mark.parametrize("body", [LANGCHAIN_PLAIN, LANGCHAIN_STREAM, CHAT_UI, {**CHAT_UI, "stream": True}],
                         ids=["langchain", "langchain-stream", "chat-ui", "chat-ui-stream"])  # fmt: skip
def test_default_bodies_of_common_clients_are_answered(grouped, body):
    body = {**body, "max_tokens": 24}  # a short answer (ChatOpenAI's default leaves it to the server)
    r = post(grouped, "/chat/completions", body)
    assert r.status_code == 200, r.text
    assert "x-meav-warning" not in r.headers  # every field is one OpenAI defines
    want = client(grouped).chat.completions.create(model="base", messages=MESSAGES, max_tokens=24)
    if body["stream"]:
        text, chunks = streamed_text(r)
        for c in chunks:
            ChatCompletionChunk.model_validate(c)
        assert ("usage" in chunks[-1]) == bool(body.get("stream_options"))
    else:
        text = ChatCompletion.model_validate(r.json()).choices[0].message.content
    assert text == want.choices[0].message.content and text


def test_completions_plain_and_streamed_equal_offline_continuation(grouped, serve_models, offline):
    prompt = "The patient said that"
    for model, alignment, avs in (("base", {}, {}), ("medical:expert", {}, {serve_models["medical"]: 0.7}),
                                  ("base", {"legal": -1.3}, {serve_models["legal"]: -1.3})):  # fmt: skip
        want = offline(avs, prompt, 16, chat=False)
        extra = {"extra_body": {"alignment": alignment}} if alignment else {}
        plain = client(grouped).completions.create(model=model, prompt=prompt, max_tokens=16, **extra)
        stream = client(grouped).completions.create(
            model=model, prompt=prompt, max_tokens=16, stream=True, **extra
        )
        assert plain.choices[0].text == want and plain.object == "text_completion" and want.strip()
        assert "".join(c.choices[0].text for c in stream if c.choices) == want
    r = post(grouped, "/completions", {"model": "base", "prompt": [prompt], "max_tokens": 16})
    assert Completion.model_validate(r.json()).choices[0].text == offline({}, prompt, 16, chat=False)


def test_avs_and_level_presets_are_models_usable_by_name(grouped, serve_models):
    models = ModelList.model_validate(httpx.get(grouped.url + "/models").json())
    by_id = {m.id: m for m in models.data}
    assert by_id["base"].parent is None and by_id["base"].alignment == {}
    assert by_id["medical:expert"].parent == "base" and by_id["medical:expert"].alignment == {"medical": 0.7}
    assert by_id["medical"].alignment == {"medical": 1.0} and by_id["legal"].parent == "base"
    assert "legal:expert" not in by_id  # legal's config recommends no λ yet
    got = client(grouped).models.retrieve("medical:generic")
    assert Model.model_validate(got.model_dump()).alignment == {"medical": -0.4}
    for model, alignment in (("medical:expert", {"medical": 0.7}), ("medical", {"medical": 1.0}),
                             ("medical:avoidance@legal=-0.5", {"medical": -1.3, "legal": -0.5})):  # fmt: skip
        assert ask(grouped, model, PROMPTS[1], {}) == ask(grouped, "base", PROMPTS[1], alignment), model
    # the body's alignment wins over the model id's for the same AV
    assert ask(grouped, "medical:expert", PROMPTS[1], {"medical": 0.2}) == ask(grouped, "base", PROMPTS[1], {"medical": 0.2})  # fmt: skip
    r = httpx.get(grouped.url + "/models/nonesuch")
    assert r.status_code == 404 and r.json()["error"]["code"] == "model_not_found"


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        ("/chat/completions", {"presence_penalty": 0.5}, "presence_penalty"),
        ("/chat/completions", {"frequency_penalty": -1}, "frequency_penalty"),
        ("/chat/completions", {"logit_bias": {"42": 5}}, "logit_bias"),
        ("/chat/completions", {"response_format": {"type": "json_object"}}, "response_format"),
        ("/chat/completions", {"n": 2}, "n"),
        ("/chat/completions", {"tool_choice": "auto"}, "tool_choice"),
        ("/chat/completions", {"top_logprobs": 3}, "top_logprobs"),
        (
            "/chat/completions",
            {"messages": [{"role": "user", "content": [{"type": "image_url"}]}]},
            "messages[0].content",
        ),  # fmt: skip
        ("/chat/completions", {"messages": [{"role": "tool", "content": "x"}]}, "messages[0].role"),
        ("/chat/completions", {"messages": None}, "messages"),
        ("/chat/completions", {"max_tokens": "8"}, "max_tokens"),
        ("/chat/completions", {"max_tokens": 10**6}, "max_tokens"),
        ("/chat/completions", {"stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ("/completions", {"echo": True}, "echo"),
        ("/completions", {"best_of": 3}, "best_of"),
        ("/completions", {"prompt": ["one", "two"]}, "prompt"),
        ("/completions", {"prompt": 5}, "prompt"),
    ],
)
def test_other_values_are_refused_naming_the_parameter(grouped, path, body, param):
    request = {
        "model": "base",
        "max_tokens": 4,
        **({"messages": MESSAGES} if "chat" in path else {"prompt": "Hi"}),
        **body,
    }
    request = {k: v for k, v in request.items() if v is not None}
    r = post(grouped, path, request)
    assert r.status_code == 400, r.text
    error = ErrorResponse.model_validate(r.json()).error
    assert (
        error.param == param
        and error.type == "invalid_request_error"
        and param.split("[")[0] in error.message
    )


def test_unknown_fields_are_ignored_with_a_warning_header(grouped):
    r = post(grouped, "/chat/completions", {**LANGCHAIN_PLAIN, "max_tokens": 4, "top_k": 5, "mirostat": 1})
    assert (
        r.status_code == 200
        and r.headers["x-meav-warning"] == 'ignored unknown field(s): "mirostat", "top_k"'
    )


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/v1/nothing", None, 404),
        ("GET", "/v1/chat/completions", None, 405),
        ("POST", "/v1/chat/completions", b"[1, 2]", 400),
        ("POST", "/v1/chat/completions", b'{"messages": []', 400),
        (
            "POST",
            "/v1/chat/completions",
            b'{"messages": [{"role": "user", "content": "hi"}]}',
            400,
        ),  # no model
        ("DELETE", "/health", None, 405),
    ],
)
def test_every_error_is_an_openai_error_object(grouped, method, path, body, status):
    root = grouped.url.removesuffix("/v1")
    r = httpx.request(method, root + path, content=body, headers={"content-type": "application/json"})
    assert r.status_code == status, r.text
    error = ErrorResponse.model_validate(r.json()).error
    assert error.message and error.type
    assert ask(grouped, "base", "hi", {}, max_tokens=2) is not None


def test_docs_show_the_chat_schema_with_alignment(grouped):
    root = grouped.url.removesuffix("/v1")
    spec = httpx.get(root + "/openapi.json").json()
    chat = spec["paths"]["/v1/chat/completions"]["post"]
    ref = chat["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert {"messages", "model", "alignment", "presence_penalty"} <= set(schema["properties"])
    assert "alignment vector" in schema["properties"]["alignment"]["description"]
    assert "422" not in chat["responses"] and "400" in chat["responses"]
    assert "ChatCompletionChunk" in spec["components"]["schemas"]
    assert {"/v1/completions", "/v1/models", "/v1/models/{model_id}"} <= set(spec["paths"])
    assert httpx.get(root + "/docs").status_code == 200


@pytest.fixture(scope="module")
def locked(serve_models):
    """--served-model-name, --api-key, --allowed-origins and --strict on one server."""
    from tests.serving.conftest import start_server

    server = start_server("--base", serve_models["base"], "--av", f"medical={serve_models['medical']}",
                          "--served-model-name", "tiny-llama", "--api-key", "sekrit",
                          "--allowed-origins", "http://ui.example", "--strict")  # fmt: skip
    yield server
    server.stop()


def test_api_key_cors_served_name_and_strict(locked):
    keyed = openai.OpenAI(base_url=locked.url, api_key="sekrit", max_retries=0, timeout=120)
    assert [m.id for m in keyed.models.list().data][:2] == ["tiny-llama", "medical"]
    answer = keyed.chat.completions.create(model="tiny-llama", messages=MESSAGES, max_tokens=4)
    assert answer.model == "tiny-llama" and answer.choices[0].message.content
    with pytest.raises(openai.AuthenticationError) as e:
        openai.OpenAI(base_url=locked.url, api_key="wrong", max_retries=0).models.list()
    assert e.value.status_code == 401 and e.value.body["code"] == "invalid_api_key"
    r = post(locked, "/chat/completions", {"model": "tiny-llama", "messages": MESSAGES})  # no key at all
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
    preflight = httpx.options(locked.url + "/chat/completions", headers={
        "origin": "http://ui.example", "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type"})  # fmt: skip
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "http://ui.example"
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    other = httpx.options(locked.url + "/models", headers={"origin": "http://evil.example", "access-control-request-method": "GET"})  # fmt: skip
    assert "access-control-allow-origin" not in other.headers
    r = post(locked, "/chat/completions", {"model": "tiny-llama", "messages": MESSAGES, "top_k": 3},
             headers={"authorization": "Bearer sekrit", "origin": "http://ui.example"})  # fmt: skip
    assert r.status_code == 400 and r.json()["error"]["param"] == "top_k"  # --strict
    assert r.headers["access-control-allow-origin"] == "http://ui.example"  # errors readable from the page
    health = httpx.get(locked.url.removesuffix("/v1") + "/health").json()  # open: the playground's setup
    assert health["model"] == "tiny-llama" and health["auth"] is True
