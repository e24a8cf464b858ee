"""`meav train` (being written)."""

from __future__ import annotations


def train() -> None:
    raise NotImplementedError
