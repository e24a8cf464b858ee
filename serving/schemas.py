"""The OpenAI protocol's bodies as meav serves them, as pydantic models: requests are checked against them and
`/docs` (openapi.json) documents them, meav's `alignment` field included.

Requests accept every field OpenAI defines, so that clients which send their defaults (LangChain, LlamaIndex,
chat UIs) are answered; a field meav cannot honour is accepted at its no-op value only (protocol.NO_OPS).
Fields nobody defines are kept in `model_extra`: ignored with a warning header, or refused with `--strict`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, WithJsonSchema

from meav.core.corpus import LEVELS

Int = Annotated[int, Strict()]  # JSON 2.0, "2" or true is not an integer
Num = Annotated[float, Strict(), Field(allow_inf_nan=False)]
Lambda = Annotated[
    Any,  # checked by AlignmentSet, which names the AV at fault (alignment.NAME)
    WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string", "enum": list(LEVELS)}]}),
]
ALIGNMENT = (
    "meav: λ per alignment vector, {NAME: λ or level}; a level is the λ the AV's own sweep recommends for it "
    "(its av_config.json). Omitted AVs are at 0; no alignment is the base model. The model name may carry "
    "λ's too (BASE@medical=0.5,legal=-1.3, or an AV's own model id); a name given twice: this field wins."
)


class Body(BaseModel):
    """A request object: fields nobody defines are kept (model_extra) so the server can say it ignored them."""

    model_config = ConfigDict(extra="allow")


class StreamOptions(Body):
    include_usage: bool | None = Field(None, description="Send a last chunk with token counts.")


class Message(Body):
    role: Literal["system", "developer", "user", "assistant"] = Field(description="developer is system.")
    content: str | list[dict[str, Any]] | None = Field(
        description="Text, or content parts of type text (other part types are refused)."
    )
    name: str | None = Field(None, description="Accepted and not used.")


class Sampling(Body):
    """What chat and text completions share."""

    model: str = Field(description="A model id from /v1/models (the base, an AV, an AV's level preset).")
    max_tokens: Annotated[Int, Field(ge=1)] | None = Field(None, description="Most new tokens.")
    temperature: Annotated[Num, Field(ge=0, le=2)] | None = Field(
        None, description="0 or omitted: greedy decoding (meav's default, reproducible); else sampling."
    )
    top_p: Annotated[Num, Field(ge=0, le=1)] | None = Field(None, description="Nucleus sampling (1: off).")
    seed: Annotated[Int, Field(ge=-(2**63), le=2**63 - 1)] | None = Field(None, description="Sampling seed.")
    stop: str | list[str] | None = Field(None, description="Up to 4 strings that end the answer.")
    stream: bool | None = Field(False, description="Server-sent events, one chunk per piece of text.")
    stream_options: StreamOptions | None = None
    n: Int | None = Field(None, description="Choices per request: 1 only.")
    user: str | None = Field(None, description="Accepted and not used.")
    presence_penalty: Num | None = Field(None, description="0 only (no penalties).")
    frequency_penalty: Num | None = Field(None, description="0 only (no penalties).")
    logit_bias: dict[str, Any] | None = Field(None, description="{} only.")
    alignment: dict[str, Lambda] | None = Field(None, description=ALIGNMENT, examples=[{"medical": "expert"}])


class ChatCompletionRequest(Sampling):
    """POST /v1/chat/completions."""

    messages: list[Message] = Field(min_length=1, description="The conversation, through the chat template.")
    max_completion_tokens: Annotated[Int, Field(ge=1)] | None = Field(
        None, description="max_tokens' new name."
    )
    response_format: dict[str, Any] | None = Field(None, description='{"type": "text"} only.')
    logprobs: bool | None = Field(None, description="false only.")
    top_logprobs: Int | None = Field(None, description="0 only.")
    tools: list[Any] | None = Field(None, description="Not supported: omit or null.")
    tool_choice: Any | None = Field(None, description='"none" only.')
    parallel_tool_calls: bool | None = Field(None, description="Accepted (without tools it does nothing).")
    functions: list[Any] | None = Field(None, description="Not supported: omit or null.")
    function_call: Any | None = Field(None, description='"none" only.')
    service_tier: str | None = Field(None, description='"auto" or "default" only.')
    store: bool | None = Field(None, description="false only (nothing is stored).")
    metadata: dict[str, Any] | None = Field(None, description="Accepted and not used (nothing is stored).")
    modalities: list[str] | None = Field(None, description='["text"] only.')
    audio: Any | None = Field(None, description="Not supported: omit or null.")
    prediction: Any | None = Field(None, description="Not supported: omit or null.")
    reasoning_effort: str | None = Field(None, description="Not supported: omit or null.")
    web_search_options: Any | None = Field(None, description="Not supported: omit or null.")


class CompletionRequest(Sampling):
    """POST /v1/completions: a prompt continued as is (no chat template)."""

    prompt: str | list[str] = Field(description="The text to continue (a list: exactly one string).")
    echo: bool | None = Field(None, description="false only.")
    best_of: Int | None = Field(None, description="1 only.")
    logprobs: Int | None = Field(None, description="Not supported: omit or null.")
    suffix: str | None = Field(None, description="Not supported: omit, null or empty.")


# -- responses ----------------------------------------------------------------------------------------------
Finish = Literal["stop", "length"]


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class ChatChoice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Finish
    logprobs: None = None


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    usage: Usage


class Delta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: Delta
    finish_reason: Finish | None = None
    logprobs: None = None


class ChatCompletionChunk(BaseModel):
    """One server-sent event of a streamed chat completion (`data: {...}`, then `data: [DONE]`)."""

    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: Usage | None = None


class TextChoice(BaseModel):
    index: int = 0
    text: str
    finish_reason: Finish | None = None
    logprobs: None = None


class Completion(BaseModel):
    """A text completion; streamed, each event is one of these with a piece of the text."""

    id: str
    object: Literal["text_completion"] = "text_completion"
    created: int
    model: str
    choices: list[TextChoice]
    usage: Usage | None = None


class Model(BaseModel):
    """A model id a request may name: the base, or the base with an AV at a λ (parent: the base)."""

    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "meav"
    root: str = Field(description="The base model this id runs on.")
    parent: str | None = Field(description="The base's id for an AV or preset; null for the base.")
    alignment: dict[str, float | str] = Field(description="meav: the λ per AV this id stands for.")


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Model]


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorResponse(BaseModel):
    """Every error, whatever its status (400, 401, 404, 405, 429, 500, 504)."""

    error: ErrorDetail
