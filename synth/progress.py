"""A progress bar per synth stage, fed by counting completed calls in the call cache (they land from the
distilabel workers, not from this process); the bars live in the shared display of meav.core.progress."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path

from rich.progress import Progress


def _count(root: Path) -> int:
    return sum(1 for _ in root.glob("*/*.json")) if root.exists() else 0


@contextmanager
def stage_progress(progress: Progress, name: str, calls: int, cache_root: Path):
    """Show `name` advancing from 0 to `calls` as new results appear in `cache_root`."""
    start = _count(cache_root)
    task = progress.add_task(name, total=max(calls, 1))
    stop = threading.Event()

    def poll() -> None:
        while not stop.wait(0.5):
            progress.update(task, completed=min(calls, _count(cache_root) - start))

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        progress.update(task, completed=max(calls, 1))
