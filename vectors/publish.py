"""Release an AV folder on the Hub with the project's shared publisher (same path as the dataset)."""

from __future__ import annotations

from pathlib import Path

from meav.errors import MeavError
from vectors.io import update_av_config


def publish_av(folder: str | Path, repo_id: str, *, private: bool = False, tag: str | None = None) -> str:
    """Record the repo id in av_config.json (so the card's how-to names it), then upload; returns the URL."""
    from vectors.av import load

    av = load(folder)  # checks the folder is a complete, readable AV before anything is sent
    try:
        from dataset_cards.hub import publish_folder
    except ImportError as e:
        raise MeavError(f"publisher dataset_cards.hub.publish_folder is not available ({e})") from e
    update_av_config(av.path, hub_repo=repo_id)
    return publish_folder(av.path, repo_id, repo_type="model", private=private, tag=tag)
