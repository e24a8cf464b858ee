"""meav: inference-time alignment with Alignment Vectors.

Layers import only downward: `meav.core` (errors, atomic writes, the corpus and AV contracts, config, tables,
Hub client, LLM backends, models) → the stages (`meav.synth`, `meav.dataset_cards`, `meav.annotation`,
`meav.training`, `meav.vectors`, `meav.evaluation`, `meav.serving`) → orchestration (`meav.cli`, `meav.demo`).
"""

from meav.core.version import __version__

__all__ = ["__version__"]
