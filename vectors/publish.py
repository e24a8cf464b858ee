"""Release an AV folder on the Hub with the project's shared publisher (same path as the dataset)."""

from __future__ import annotations

from pathlib import Path

from vectors.io import read_av_config, update_av_config, write_av_config


def publish_av(folder: str | Path, repo_id: str, *, private: bool = False, tag: str | None = None) -> str:
    """Record the repo id in av_config.json (so the card's how-to names it), then upload; returns the URL.

    If the upload fails (bad repo id, no token, network), the folder's config and card are put back."""
    from dataset_cards.hub import publish_folder
    from vectors.av import load

    av = load(folder)  # checks the folder is a complete, readable AV before anything is sent
    before = read_av_config(av.path)
    update_av_config(av.path, hub_repo=repo_id)
    try:
        return publish_folder(av.path, repo_id, repo_type="model", private=private, tag=tag)
    except BaseException:
        write_av_config(av.path, before)
        raise
