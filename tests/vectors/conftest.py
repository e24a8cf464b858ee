"""Fixtures for the alignment-vector tests: perturbed "aligned" copies of the tiny models and their AVs."""

from __future__ import annotations

import pytest

from tests.vectors.helpers import make_aligned


@pytest.fixture(scope="session")
def llama_pair(tiny_llama, tmp_path_factory):
    """(base, aligned, AV folder) for the untied Llama-style tiny model."""
    return _pair(tiny_llama, tmp_path_factory.mktemp("llama-pair"), seed=1, only_2d=False, domain="medical")


@pytest.fixture(scope="session")
def llama_pair2(tiny_llama, tmp_path_factory):
    """A second AV of the same base (only 2-D matrices moved: it has an exact LoRA form)."""
    return _pair(tiny_llama, tmp_path_factory.mktemp("llama-pair2"), seed=2, only_2d=True, domain="legal")


@pytest.fixture(scope="session")
def qwen_pair(tiny_qwen, tmp_path_factory):
    """(base, aligned, AV folder) for the tied-embedding Qwen2-style tiny model."""
    return _pair(tiny_qwen, tmp_path_factory.mktemp("qwen-pair"), seed=3, only_2d=True, domain="financial")


@pytest.fixture(scope="session")
def sharded_pair(tmp_path_factory):
    """A base saved in several 20 KB shards (index + shards) and its aligned copy, same layout."""
    from meav.tiny import build_tiny_model

    root = tmp_path_factory.mktemp("sharded")
    base = build_tiny_model(root / "base", arch="llama", max_shard_size="20KB", seed=5)
    return base, make_aligned(base, root / "aligned", seed=4)


def _pair(base, root, *, seed: int, only_2d: bool, domain: str):
    """A perturbed copy of `base` as the 'aligned' model and the expert AV extracted from the pair."""
    from vectors.extract import extract

    aligned = make_aligned(base, root / "aligned", seed=seed, only_2d=only_2d)
    extract(base, aligned, root / "av", domain=domain, target="expert")
    return base, aligned, root / "av"
