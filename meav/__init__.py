"""meav: inference-time alignment with Alignment Vectors (shared core: CLI root, corpus contract, models)."""

__version__ = "0.1.0"
