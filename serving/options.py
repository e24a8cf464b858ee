"""Options of `meav serve` (pydantic only: the CLI builds its flags from them)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from meav.core.config import Options


class ServeOptions(Options):
    """One base model, released AVs, λ chosen per request, behind an OpenAI-compatible API."""

    base: str = Field(description="Base model folder, Hub id or 'embedded' (every AV must come from it).")
    av: list[str] = Field(
        default_factory=list,
        description="NAME=PATH (a name requests use, then an AV folder or Hub id); repeat for several AVs.",
    )
    host: str = Field("127.0.0.1", description="Address to listen on.")
    port: int = Field(8000, ge=0, le=65535, description="Port (0: any free port; the URL is printed).")
    engine: Literal["transformers", "vllm"] = Field(
        "transformers", description="transformers (CPU or one GPU, continuous batching) or vllm (multi-LoRA)."
    )
    max_batch: int = Field(8, ge=1, description="Most sequences decoded together.")
    lambda_range: str = Field("-3:3", description="Allowed λ per AV, a range 'low:high'.")
    max_queue: int = Field(64, ge=1, description="Requests waiting at most; more are answered 429.")
    request_timeout: float = Field(
        300.0, gt=0, description="Seconds a request may take before it is dropped (504)."
    )
    max_new_tokens: int = Field(
        1024, ge=1, description="Most new tokens a request may ask for (its max_tokens)."
    )
    default_max_new_tokens: int = Field(256, ge=1, description="New tokens when a request does not say.")
    dtype: Literal["float32", "float64", "bfloat16", "float16", "auto"] = Field(
        "float32", description="dtype of the base weights (float64: exact-arithmetic checks)."
    )
    device: str | None = Field(None, description="torch device (default cpu).")
    cache_dir: Path | None = Field(
        None,
        description="vllm engine: where combined LoRA adapters are cached (default ~/.cache/meav/serve).",
    )
    force: bool = Field(False, description="Serve AVs whose recorded base differs from this base's weights.")
    served_model_name: str | None = Field(
        None,
        description="The base's model id in the API (default: the Hub id; for a local folder, its name).",
    )
    api_key: str | None = Field(
        None,
        description="Require 'Authorization: Bearer KEY' on /v1 (default: open; or set MEAV_API_KEY).",
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Browser origins allowed to call the API (CORS), e.g. http://localhost:3000 or '*'; repeat.",
    )
    strict: bool = Field(
        False,
        description="Refuse request fields no OpenAI API defines (default: ignored, with a warning header).",
    )
