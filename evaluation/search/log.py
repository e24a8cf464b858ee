"""A search's evaluations, one JSON line each as it completes: what lets a killed search rerun without scoring
anything twice, count the time of every session, and (with which level won each query) resample its verdicts.
One process writes a log at a time (`hold`)."""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from meav.core import atomic
from meav.core.errors import MeavError, OptionError
from meav.evaluation.search.results import FORMAT_VERSION


class EvalLog:
    """Every evaluation of a search appended to a JSON-lines file as it completes, with the seconds it took, so
    a killed search reruns without scoring anything twice and its tables count the time of every session. The
    first line names what the evaluations are of; another search's log is refused rather than reused. Where
    the AVs and the corpus lie is not part of that name (the AV files' content fingerprints and the query text
    are), so a moved checkout resumes; the base model is named by its path. Lines are only appended; a log of
    another `format_version` is refused (migrated once by experiments/migrate_search_format.py)."""

    LOCATIONS = ("avs", "dataset")

    def __init__(self, path, identity: dict):
        identity = {"format_version": FORMAT_VERSION, **identity}
        self.path, self.entries, self.used = path, {}, set()  # entries: key → logged line
        path.parent.mkdir(parents=True, exist_ok=True)
        raw = path.read_bytes() if path.is_file() else b""
        complete = raw[: raw.rfind(b"\n") + 1]  # a line cut by a kill is dropped, so appends start clean
        if not complete.strip():
            atomic.write_text(path, json.dumps(identity) + "\n")
            self.logged_before: set[str] = set()
            return
        if len(complete) < len(raw):
            with open(path, "r+b") as f:
                f.truncate(len(complete))
        parsed = []
        for n, line in enumerate(complete.decode("utf-8").splitlines(), 1):
            try:
                parsed.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise MeavError(
                    f"{path} line {n}: not JSON ({e.msg}); move the file away to start over"
                ) from e
            if n > 1 and not {"key", "shares"} <= set(parsed[-1]):
                raise MeavError(
                    f"{path} line {n}: an evaluation needs 'key' and 'shares'; move the file away"
                )
        logged = parsed[0]
        if logged.get("format_version") != FORMAT_VERSION:
            raise MeavError(
                f"{path}: log format_version {logged.get('format_version')}, this meav writes {FORMAT_VERSION}; "
                "migrate it with experiments/migrate_search_format.py"
            )
        differ = sorted(
            k for k in {*_content(logged), *_content(identity)} if logged.get(k) != identity.get(k)
        )
        if differ:
            raise OptionError(
                "out",
                f"{path} holds evaluations of another search ({', '.join(differ)} differ); use another out",
            )
        self.entries = {entry["key"]: entry for entry in parsed[1:]}
        self.logged_before = set(self.entries)

    @property
    def reused(self) -> int:
        """Evaluations this search took from the log instead of scoring them (each counted once)."""
        return len(self.used & self.logged_before)

    def get(self, key: str) -> dict | None:
        entry = self.entries.get(key)
        if entry is None:
            return None
        self.used.add(key)
        return entry["shares"]

    def won(self, key: str) -> dict | None:
        """Which level won each query (indices into LEVELS), where the evaluation was logged with them."""
        return self.entries.get(key, {}).get("won")

    def put(self, key: str, shares: dict, seconds: float | None = None, won: dict | None = None) -> dict:
        entry = {"key": key, "shares": shares} | ({"won": won} if won is not None else {})
        entry |= {"s": round(seconds, 3)} if seconds is not None else {}
        self.entries[key] = entry
        self.used.add(key)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
            f.flush()
            os.fsync(f.fileno())
        return shares

    def shares(self, key: str, score: Callable[[], tuple[dict, dict]]) -> dict:
        """The logged shares under `key`, or `score()` (shares, per-query winners) timed and appended."""
        logged = self.get(key)
        if logged is not None:
            return logged
        t = time.perf_counter()
        shares, won = score()
        self.put(key, shares, time.perf_counter() - t, won)
        return shares

    def timing(self) -> tuple[float, int]:
        """(seconds of the evaluations this search used, over every session; how many of them were untimed)."""
        timed = [self.entries[k]["s"] for k in self.used if "s" in self.entries[k]]
        return round(sum(timed), 3), len(self.used) - len(timed)

    def seconds_per_evaluation(self) -> dict[str, dict]:
        """Per kind (search, confirm: the latter on other, often more, queries), the mean seconds of the timed
        evaluations this search used and how many were timed: comparable across runs, unlike totals."""
        out = {}
        for kind in ("search", "confirm"):
            s = [
                self.entries[k]["s"] for k in self.used if k.startswith(kind + "|") and "s" in self.entries[k]
            ]
            out[kind] = {"mean": round(sum(s) / len(s), 3) if s else None, "timed": len(s)}
        return out


@contextmanager
def hold(log_path: Path) -> Iterator[None]:
    """An exclusive lock beside a search's log, held while the search runs (knobs built, evaluations appended,
    tables written): a second process on the same run is refused. The kernel drops it however the holder dies."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path.with_name(log_path.name + ".lock"), "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OptionError(
                "out", f"{log_path} is being written by another running search; wait for it"
            ) from None
        yield


def log_key(kind: str, coeffs: dict, fraction: float = 1.0) -> str:
    """An evaluation's key in the log, its kind first: 'search|<fraction>|<coefficients>', 'confirm|<coefficients>'."""
    c = json.dumps(coeffs, sort_keys=True)
    return f"search|{fraction}|{c}" if kind == "search" else f"confirm|{c}"


def _content(identity: dict) -> dict:
    return {k: v for k, v in identity.items() if k not in EvalLog.LOCATIONS}
