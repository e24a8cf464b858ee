"""`meav demo`, the orchestrator: the whole flow over every stage's Python API (the only layer that imports
every stage). Names resolve on first use (PEP 562)."""

from meav.core.lazy import lazy_exports

__getattr__ = lazy_exports(
    __name__,
    {
        "run_demo": "meav.demo.run",
        "DemoConfig": "meav.demo.config",
        "load_config": "meav.demo.config",
        "RECIPES": "meav.demo.config",
    },
)
__all__ = ["RECIPES", "DemoConfig", "load_config", "run_demo"]
