"""`meav card` and `meav publish` (being written)."""

from __future__ import annotations


def card() -> None:
    raise NotImplementedError


def publish() -> None:
    raise NotImplementedError
