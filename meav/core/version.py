"""meav's version, in the core so every layer can record it in what it writes (corpora, AVs, runs)."""

__version__ = "0.2.0"
