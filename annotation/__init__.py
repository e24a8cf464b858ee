"""Three-annotator review in Argilla (local server without Elasticsearch), assignment, agreement, Table 7.
Names resolve on first use (PEP 562)."""

from meav.core.lazy import lazy_exports

__getattr__ = lazy_exports(
    __name__,
    {
        "serve": "meav.annotation.api",
        "push": "meav.annotation.api",
        "report": "meav.annotation.api",
        "ServeOptions": "meav.annotation.options",
        "PushOptions": "meav.annotation.options",
        "ReportOptions": "meav.annotation.options",
    },
)
__all__ = ["PushOptions", "ReportOptions", "ServeOptions", "push", "report", "serve"]
