"""LLM backends (a registry by name), the call cache and the cached distilabel LLM shared by synth and judges."""
