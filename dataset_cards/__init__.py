"""Dataset cards and Hub publishing: a corpus folder's README.md (configs, statistics, provenance), its
offline check, and the one-commit publisher. Names resolve on first use (PEP 562)."""

from meav.core.lazy import lazy_exports

__getattr__ = lazy_exports(
    __name__,
    {
        "make_card": "meav.dataset_cards.api",
        "publish": "meav.dataset_cards.api",
        "CardOptions": "meav.dataset_cards.options",
        "PublishOptions": "meav.dataset_cards.options",
    },
)
__all__ = ["CardOptions", "PublishOptions", "make_card", "publish"]
