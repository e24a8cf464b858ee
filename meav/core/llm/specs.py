"""LLM backends by name (`--backend anthropic:<model>`, `openai:<model>@<url>`, `local[:<path>]`).

A registry in mergekit's REGISTERED_MERGE_METHODS style: each backend parses its spec, knows whether it is
remote, what it costs, and how to build its distilabel client. `CachedLLM` (cached.py) runs any of them
behind the call cache. A new backend is one `register_backend(...)` call.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from anthropic import NOT_GIVEN
from distilabel.models import AnthropicLLM, OpenAILLM
from distilabel.models.llms.utils import prepare_output
from pydantic import BaseModel

from meav.core.embedded import MODEL_ID, embedded_model_path
from meav.core.errors import MeavError

DEFAULT_ANTHROPIC_MODEL = "claude-sonnet-5-5"

# US$ per million (input, output) tokens, for --dry-run estimates and the final summary: list prices of each
# tier as last checked; verify against current pricing before a large run. Unknown models report no cost.
PRICES_PER_MTOK: dict[str, tuple[float, float]] = {
    "claude-sonnet-5-5": (3.0, 15.0),
    "claude-sonnet-4-6": (3.0, 15.0),
    "claude-sonnet-4-5": (3.0, 15.0),
    "claude-sonnet-4-0": (3.0, 15.0),
    "claude-3-sonnet-20240229": (3.0, 15.0),
    "claude-haiku-4-5": (1.0, 5.0),
    "claude-opus-4-1": (15.0, 75.0),
}


class BackendSpec(BaseModel):
    """One parsed `--backend` value."""

    kind: str
    model: str
    base_url: str | None = None

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.model}" + (f"@{self.base_url}" if self.base_url else "")

    @property
    def backend(self) -> Backend:
        return REGISTERED_BACKENDS[self.kind]

    @property
    def remote(self) -> bool:
        return self.backend.remote

    def price(self) -> tuple[float, float] | None:
        """(input, output) US$ per million tokens; 0 for local models, None when unknown."""
        return self.backend.price(self.model)


@dataclass(frozen=True)
class Backend:
    """How one backend kind is parsed, priced and built."""

    name: str
    usage: str
    remote: bool
    parse: Callable[[str], BackendSpec]
    price: Callable[[str], tuple[float, float] | None]
    client: Callable[[BackendSpec, float, int], Any] | None = None  # remote: its distilabel LLM
    call: Callable[[Any, list[dict], dict], Awaitable[dict]] | None = None  # remote: one agenerate call


REGISTERED_BACKENDS: dict[str, Backend] = {}


def register_backend(backend: Backend) -> Backend:
    REGISTERED_BACKENDS[backend.name] = backend
    return backend


def parse_backend(spec: str) -> BackendSpec:
    """Parse a backend spec; a malformed or unknown one is an error naming it and the known kinds."""
    kind, _, rest = spec.partition(":")
    if kind not in REGISTERED_BACKENDS:
        usage = ", ".join(b.usage for b in REGISTERED_BACKENDS.values())
        raise MeavError(f"backend {spec!r}: unknown backend ({usage})")
    return REGISTERED_BACKENDS[kind].parse(rest)


def resolve_local_path(spec: BackendSpec) -> Path:
    """The model folder of a local backend (the embedded model is built on first use)."""
    if spec.model == MODEL_ID:
        return embedded_model_path()
    path = Path(spec.model)
    if not (path / "config.json").exists():
        raise MeavError(f"backend local:{spec.model}: not a model folder (no config.json)")
    return path


def build_remote_client(spec: BackendSpec, timeout: float, max_retries: int):
    """The distilabel LLM of a remote backend, loaded (checks the key and model id; makes no call)."""
    inner = spec.backend.client(spec, timeout, max_retries)
    try:
        inner.load()
    except ValueError as e:
        raise MeavError(f"backend {spec.name}: {str(e).splitlines()[0]}") from e
    return inner


class SDK2AnthropicLLM(AnthropicLLM):
    """distilabel 1.5.3's AnthropicLLM with the call updated for anthropic SDK 2.x.

    SDK 2.x dropped `temperature`/`top_p`/`top_k` from `messages.create` and distilabel 1.5.3 always sends
    `temperature` (TypeError on every call). Sampling stays at the API's defaults; everything else (client,
    retries, timeouts, model check, usage statistics) is distilabel's and the SDK's.
    """

    async def agenerate(self, input, max_tokens: int = 128, stop_sequences=None):  # type: ignore[override]
        messages = list(input)
        system = messages.pop(0)["content"] if messages and messages[0]["role"] == "system" else NOT_GIVEN
        completion = await self._aclient.messages.create(
            model=self.model,
            messages=messages,
            system=system,
            max_tokens=max_tokens,
            stop_sequences=stop_sequences or NOT_GIVEN,
        )
        text = "".join(block.text for block in completion.content if block.type == "text")
        return prepare_output([text], **self._get_llm_statistics(completion))


def _anthropic_client(spec: BackendSpec, timeout: float, max_retries: int):
    kwargs: dict[str, Any] = {"model": spec.model, "timeout": timeout, "max_retries": max_retries}
    if os.environ.get("ANTHROPIC_BASE_URL"):
        kwargs["base_url"] = os.environ["ANTHROPIC_BASE_URL"]
    return SDK2AnthropicLLM(**kwargs)


def _openai_client(spec: BackendSpec, timeout: float, max_retries: int):
    return OpenAILLM(
        model=spec.model,
        base_url=spec.base_url,
        api_key=os.environ.get("OPENAI_API_KEY", "EMPTY"),
        timeout=int(timeout),
        max_retries=max_retries,
    )


async def _anthropic_call(inner, messages: list[dict], params: dict) -> dict:
    return await inner.agenerate(input=messages, max_tokens=params["max_new_tokens"])  # SDK 2: no sampling


async def _openai_call(inner, messages: list[dict], params: dict) -> dict:
    return await inner.agenerate(
        input=messages,
        max_new_tokens=params["max_new_tokens"],
        temperature=params["temperature"],
        top_p=params["top_p"],
    )


def _parse_openai(rest: str) -> BackendSpec:
    model, _, url = rest.partition("@")
    if not model or not url:
        raise MeavError(f"backend 'openai:{rest}': expected openai:<model>@<base_url>")
    return BackendSpec(kind="openai", model=model, base_url=url)


register_backend(
    Backend(
        name="anthropic",
        usage="anthropic:<model>",
        remote=True,
        parse=lambda rest: BackendSpec(kind="anthropic", model=rest or DEFAULT_ANTHROPIC_MODEL),
        price=PRICES_PER_MTOK.get,
        client=_anthropic_client,
        call=_anthropic_call,
    )
)
register_backend(
    Backend(
        name="openai",
        usage="openai:<model>@<url>",
        remote=True,
        parse=_parse_openai,
        price=PRICES_PER_MTOK.get,
        client=_openai_client,
        call=_openai_call,
    )
)
register_backend(
    Backend(
        name="local",
        usage="local[:<path>]",
        remote=False,
        parse=lambda rest: BackendSpec(kind="local", model=rest or MODEL_ID),
        price=lambda model: (0.0, 0.0),
    )
)
