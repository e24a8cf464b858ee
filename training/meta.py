"""What a finished run records beside its weights: provenance, versions, losses, margins, a loss-curve PNG."""

from __future__ import annotations

import hashlib
import json
import platform
from pathlib import Path
from typing import Any

import datasets
import torch
import transformers
import trl
from huggingface_hub import HfApi
from matplotlib.figure import Figure

from meav.core import atomic
from meav.core.version import __version__

WEIGHT_SUFFIXES = (".safetensors", ".bin")
HEAD_BYTES = 1 << 20


def folder_fingerprint(folder: str | Path) -> str | None:
    """A cheap identity of a model or dataset folder (or file): sha256 over config files and each weight/data file's
    name, size and first MiB. Not a full content hash (7B shards would take minutes), but it changes when
    the files are replaced by other ones, which is what provenance needs."""
    folder = Path(folder)
    if not folder.exists():
        return None
    files = [folder] if folder.is_file() else sorted(p for p in folder.rglob("*") if p.is_file())
    h = hashlib.sha256()
    for f in (p for p in files if not p.name.startswith(".")):
        rel = f.name if f == folder else f.relative_to(folder).as_posix()
        h.update(rel.encode() + b"\0" + str(f.stat().st_size).encode() + b"\0")
        with open(f, "rb") as fh:
            h.update(fh.read(HEAD_BYTES if f.suffix in (*WEIGHT_SUFFIXES, ".parquet") else -1))
    return h.hexdigest()


def hub_revision(repo_id: str, repo_type: str, revision: str | None) -> str | None:
    """The commit a Hub id resolves to, when the Hub is reachable (None offline)."""
    try:
        info = HfApi().repo_info(repo_id, repo_type=repo_type, revision=revision, timeout=10)
        return info.sha
    except Exception:
        return None


def source_info(source: str, repo_type: str, revision: str | None) -> dict[str, Any]:
    """id + revision: a local folder gets a fingerprint, a Hub id its resolved commit."""
    if Path(source).exists():
        return {
            "id": str(Path(source).resolve()),
            "revision": revision,
            "fingerprint": folder_fingerprint(source),
        }
    return {"id": source, "revision": revision, "commit": hub_revision(source, repo_type, revision)}


def versions() -> dict[str, str]:

    return {
        "meav": __version__,
        "trl": trl.__version__,
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "datasets": datasets.__version__,
        "python": platform.python_version(),
    }


def curves(log_history: list[dict[str, Any]]) -> dict[str, list[list[float]]]:
    """[step, value] series of the train/eval loss and reward margins from the Trainer's log history."""
    keys = {
        "train_loss": "loss",
        "eval_loss": "eval_loss",
        "train_reward_margin": "rewards/margins",
        "eval_reward_margin": "eval_rewards/margins",
        "train_reward_accuracy": "rewards/accuracies",
        "eval_reward_accuracy": "eval_rewards/accuracies",
    }
    out: dict[str, list[list[float]]] = {name: [] for name in keys}
    for entry in log_history:
        for name, key in keys.items():
            if key in entry:
                out[name].append([entry["step"], float(entry[key])])
    return out


def plot_curves(series: dict[str, list[list[float]]], path: Path, title: str) -> None:
    """Loss (left) and reward margin (right) against the step, train and eval."""

    fig = Figure(figsize=(10, 4))
    (ax_loss, ax_margin) = fig.subplots(1, 2)
    for ax, name, label in (
        (ax_loss, "train_loss", "train"),
        (ax_loss, "eval_loss", "eval"),
        (ax_margin, "train_reward_margin", "train"),
        (ax_margin, "eval_reward_margin", "eval"),
    ):
        points = series.get(name) or []
        if points:
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, marker="o" if name.startswith("eval") else None, markersize=3, label=label)
    ax_loss.set(xlabel="step", ylabel="IPO loss", title="loss")
    ax_margin.set(xlabel="step", ylabel="reward margin (β·Δ log-ratio)", title="reward margin")
    for ax in (ax_loss, ax_margin):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    atomic.write_figure(path, fig, dpi=100)


def read_meta(folder: str | Path) -> dict[str, Any]:
    return json.loads((Path(folder) / "training_meta.json").read_text())
