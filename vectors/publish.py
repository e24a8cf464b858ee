"""Release an AV folder on the Hub with the project's one publisher (core.hub, as the dataset is), and read
back what an AV folder holds (`info`)."""

from __future__ import annotations

from meav.core.av import load
from meav.core.av.folders import read_av_config, update_av_config, write_av_config
from meav.core.errors import OptionError
from meav.core.hub import publish
from meav.vectors.options import PublishAVOptions

INFO_KEYS = (
    "base",
    "base_revision",
    "aligned",
    "domain",
    "target",
    "dtype",
    "num_params",
    "recommended_lambda",
)


def publish_av(options: PublishAVOptions) -> str:
    """Record the repo id in av_config.json (so the card's how-to names it), then upload; returns the URL.

    If the upload fails (bad repo id, no token, network), the folder's config and card are put back."""
    av = load(options.av)  # checks the folder is a complete, readable AV before anything is sent
    before = read_av_config(av.path)
    update_av_config(av.path, hub_repo=options.repo)
    try:
        return publish(av.path, options.repo, "model", options.private, options.tag).url
    except OptionError as e:
        write_av_config(av.path, before)
        raise OptionError({"repo_id": "repo"}.get(e.field, e.field), e.message) from None
    except BaseException:
        write_av_config(av.path, before)
        raise


def info(av: str) -> dict:
    """The AV's recorded facts: base, domain, target, dtype, size, recommended λ, compression."""
    config = load(av).config
    return {k: config.get(k) for k in INFO_KEYS} | {"compression": config.get("compression", {})}
