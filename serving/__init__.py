"""Serving: one base model, released AVs, λ chosen per request (per domain) behind an OpenAI-compatible API.
It reads AV folders through the AV contract (meav.core.av), as evaluation does. Names resolve on first use."""

from meav.core.lazy import lazy_exports

__getattr__ = lazy_exports(
    __name__,
    {
        "serve": "meav.serving.server",
        "load_server": "meav.serving.server",
        "ServeOptions": "meav.serving.options",
    },
)
__all__ = ["ServeOptions", "load_server", "serve"]
