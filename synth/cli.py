"""`meav synth`: placeholder until the pipeline lands."""

from __future__ import annotations


def synth() -> None:
    raise NotImplementedError
