"""Fixtures for the alignment-vector tests: perturbed "aligned" copies of the tiny models and their AVs."""

from __future__ import annotations

import pytest

from tests.vectors.helpers import make_aligned


@pytest.fixture(scope="session")
def llama_pair(tiny_llama, tmp_path_factory):
    """(base, aligned, AV folder) for the untied Llama-style tiny model."""
    from vectors.extract import extract

    root = tmp_path_factory.mktemp("llama-pair")
    aligned = make_aligned(tiny_llama, root / "aligned", seed=1)
    extract(tiny_llama, aligned, root / "av", domain="medical", target="expert")
    return tiny_llama, aligned, root / "av"


@pytest.fixture(scope="session")
def llama_pair2(tiny_llama, tmp_path_factory):
    """A second AV of the same base (only 2-D matrices moved: it has an exact LoRA form)."""
    from vectors.extract import extract

    root = tmp_path_factory.mktemp("llama-pair2")
    aligned = make_aligned(tiny_llama, root / "aligned", seed=2, only_2d=True)
    extract(tiny_llama, aligned, root / "av", domain="legal", target="expert")
    return tiny_llama, aligned, root / "av"


@pytest.fixture(scope="session")
def qwen_pair(tiny_qwen, tmp_path_factory):
    """(base, aligned, AV folder) for the tied-embedding Qwen2-style tiny model."""
    from vectors.extract import extract

    root = tmp_path_factory.mktemp("qwen-pair")
    aligned = make_aligned(tiny_qwen, root / "aligned", seed=3, only_2d=True)
    extract(tiny_qwen, aligned, root / "av", domain="financial", target="expert")
    return tiny_qwen, aligned, root / "av"


@pytest.fixture(scope="session")
def sharded_pair(tmp_path_factory):
    """A base saved in several 20 KB shards (index + shards) and its aligned copy, same layout."""
    from meav.tiny import build_tiny_model

    root = tmp_path_factory.mktemp("sharded")
    base = build_tiny_model(root / "base", arch="llama", max_shard_size="20KB", seed=5)
    return base, make_aligned(base, root / "aligned", seed=4)
