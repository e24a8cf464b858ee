"""Progress bars (rich, on stderr) for every long loop: extraction, steering sweeps, searches, training.

One live display at a time (rich allows no more): `track()` adds its bar to the display already open (the
demo's, synth's) or opens its own for the loop. Off when MEAV_PROGRESS=0 (tests keep their output quiet).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

T = TypeVar("T")
_active: list[Progress] = []


def enabled() -> bool:
    return os.environ.get("MEAV_PROGRESS", "1") != "0"


def new_progress(console: Console | None = None) -> Progress:
    return Progress(
        TextColumn("{task.description:<32}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console or Console(stderr=True),
        transient=False,
        disable=not enabled(),
    )


@contextmanager
def display(console: Console | None = None) -> Iterator[Progress]:
    """The live display for a whole command; nested calls share the outer one."""
    if _active:
        yield _active[-1]
        return
    with new_progress(console) as progress:
        _active.append(progress)
        try:
            yield progress
        finally:
            _active.pop()


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """Iterate `items` with a bar named `description` in the current display (opened if none)."""
    items = list(items) if total is None and not hasattr(items, "__len__") else items
    with display() as progress:
        task = progress.add_task(description, total=total if total is not None else len(items))  # type: ignore[arg-type]
        for item in items:
            yield item
            progress.advance(task)
