"""Multidomain search (paper §6.2, Table 5): the run (`search`), its engine and registered strategies, the
evaluation log, resampled verdicts, typed results and reports."""

from meav.core.lazy import lazy_exports

__getattr__ = lazy_exports(
    __name__,
    {
        "search": "meav.evaluation.search.run",
        "SearchOptions": "meav.evaluation.search.options",
        "SearchRecord": "meav.evaluation.search.results",
        "read_search": "meav.evaluation.search.results",
        "REGISTERED_STRATEGIES": "meav.evaluation.search.strategies",
    },
)
__all__ = ["REGISTERED_STRATEGIES", "SearchOptions", "SearchRecord", "read_search", "search"]
