"""Named stages run once: a stage whose artifact is complete is skipped; timings kept in `timings.json`."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from meav.core import atomic
from meav.core.errors import MeavError


class Stages:
    """Runs named stages once: skipped when `done()` holds; timings kept in `<out>/timings.json`."""

    def __init__(self, out: Path, echo: Callable[[str], None]):
        self.file = out / "timings.json"
        self.echo = echo
        old = json.loads(self.file.read_text()) if self.file.is_file() else {}
        self.stages: dict[str, dict] = old.get("stages", {})
        self.ran: list[str] = []

    def run(self, name: str, artifact: Path, done: Callable[[], bool], action: Callable[[], None]) -> None:
        if done():
            self.stages.setdefault(name, {"seconds": None})
            self.stages[name].update(status="skipped", artifact=str(artifact))
            self.echo(f"[demo] {name}: done already ({artifact}), skipped")
        else:
            self.echo(f"[demo] {name}: running")
            t0 = time.perf_counter()
            action()
            if not done():
                raise MeavError(f"stage {name}: finished without a complete {artifact}")
            seconds = round(time.perf_counter() - t0, 2)
            self.stages[name] = {"seconds": seconds, "status": "ran", "artifact": str(artifact)}
            self.ran.append(name)
            self.echo(f"[demo] {name}: {seconds:.1f} s")
        self.save()

    def record(self, name: str, seconds: float, artifact: Path) -> None:
        self.stages[name] = {"seconds": round(seconds, 2), "status": "ran", "artifact": str(artifact)}
        self.save()

    def save(self) -> None:
        total = sum(s["seconds"] or 0 for s in self.stages.values())
        atomic.write_json(self.file, {"stages": self.stages, "total_s": round(total, 2)})
