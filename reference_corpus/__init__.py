"""The reference corpus: gold rows authored for meav (one reviewable YAML file per domain, beside this file),
their rules (rules.py) and the builder into the corpus contract (build.py). Names resolve on first use."""

from meav.core.lazy import lazy_exports

__getattr__ = lazy_exports(
    __name__,
    {
        "build_reference": "meav.reference.build",
        "load_rows": "meav.reference.build",
        "check_rows": "meav.reference.rules",
        "ReferenceOptions": "meav.reference.options",
    },
)
__all__ = ["ReferenceOptions", "build_reference", "check_rows", "load_rows"]
