"""`meav serve`: a thin adapter over `meav.serving.serve(ServeOptions)` (torch, transformers and FastAPI are
imported when the command runs, not at `meav --help`)."""

from __future__ import annotations

from pathlib import Path

from meav.core.flags import flag, options
from meav.serving.options import ServeOptions as S


def serve(
    base: str = flag(S, "base"), av: list[str] = flag(S, "av"), host: str = flag(S, "host"), port: int = flag(S, "port"),
    engine: str = flag(S, "engine"), max_batch: int = flag(S, "max_batch"), lambda_range: str = flag(S, "lambda_range"),
    max_queue: int = flag(S, "max_queue"), request_timeout: float = flag(S, "request_timeout"),
    max_new_tokens: int = flag(S, "max_new_tokens"), default_max_new_tokens: int = flag(S, "default_max_new_tokens"),
    dtype: str = flag(S, "dtype"), device: str | None = flag(S, "device"), cache_dir: Path | None = flag(S, "cache_dir"),
    force: bool = flag(S, "force"), served_model_name: str | None = flag(S, "served_model_name"),
    api_key: str | None = flag(S, "api_key", envvar="MEAV_API_KEY", show_envvar=False),
    allowed_origins: list[str] = flag(S, "allowed_origins"), strict: bool = flag(S, "strict"),
) -> None:  # fmt: skip
    """One base, released AVs, λ per request per domain, behind an OpenAI-compatible API (until Ctrl-C)."""
    o = options(S, **locals())
    from meav.serving.server import serve as run  # torch and FastAPI: imported when the command runs

    run(o, say=lambda s: print(s, flush=True))
