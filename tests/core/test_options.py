"""Every stage's options model describes every field (the CLI's help is the description), TRL-style."""

from __future__ import annotations

import importlib

import pytest

from meav.core.config import Options

MODULES = [
    "meav.annotation.options", "meav.dataset_cards.options", "meav.evaluation.options", "meav.reference.options",
    "meav.serving.options", "meav.synth.options", "meav.training.options", "meav.vectors.options",
    "meav.demo.config",
]  # fmt: skip


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_options_field_is_described():
    for name in MODULES:
        importlib.import_module(name)
    models = sorted(set(_subclasses(Options)), key=lambda c: c.__qualname__)
    assert len(models) >= len(MODULES)
    missing = [
        f"{m.__module__}.{m.__qualname__}.{field}"
        for m in models
        for field, info in m.model_fields.items()
        if not (info.description or "").strip()
    ]
    assert missing == []


def test_options_refuse_unknown_fields():
    for name in MODULES:
        importlib.import_module(name)
    for model in set(_subclasses(Options)):
        with pytest.raises(ValueError, match="extra"):
            model.model_validate({"no_such_field": 1})
