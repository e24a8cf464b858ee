"""`meav vectors recommend`: the one way a sweep's recommended λ reaches an AV folder.

Evaluation writes only into its own run folder; recording what it found in the AV is an explicit step on a
local folder the user owns. A Hub download cache is refused: rewriting it would change a file the cache
believes is the published one.
"""

from __future__ import annotations

import json
from pathlib import Path

from meav.core.av.folders import update_av_config, weights_stamp
from meav.core.errors import MeavError, OptionError
from meav.vectors.options import RecommendOptions


def in_hub_cache(path: Path) -> bool:
    """A snapshot folder of a Hub download cache (huggingface_hub's layout: models--ORG--NAME/snapshots/REV)."""
    from huggingface_hub.constants import HF_HUB_CACHE

    resolved = path.resolve()
    parts = resolved.parts
    if resolved.is_relative_to(Path(HF_HUB_CACHE).resolve()):
        return True
    return any(p.startswith("models--") for p in parts) and "snapshots" in parts


def recommend(options: RecommendOptions) -> dict:
    """Write the sweep's recommended λ per level and the AV domain's dominance ranges into the AV's config."""
    o = options
    if not (o.av / "av_config.json").is_file():
        raise OptionError("av", f"{o.av}: not an AV folder (no av_config.json)")
    if in_hub_cache(o.av):
        raise OptionError("av", f"{o.av} is a Hub download cache; copy the AV to a folder of your own first")
    try:
        data = json.loads(o.sweep.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise OptionError("sweep", f"{o.sweep}: not a readable sweep.json ({e})") from None
    if data.get("kind") != "sweep" or not isinstance(data.get("recommended_lambda"), dict):
        raise OptionError("sweep", f"{o.sweep}: not a sweep of the AV's own domain (no recommended_lambda)")
    if "fluency_rule" not in data or "av_weights" not in data:
        raise OptionError("sweep", f"{o.sweep}: written before recommendations weighed fluency; sweep again")
    if data.get("forced"):
        raise OptionError(
            "sweep", f"{o.sweep}: a forced sweep (another base than the AV's) recommends nothing"
        )
    if data["av_weights"] != weights_stamp(o.av):
        raise MeavError(f"{o.sweep}: swept another AV than {o.av} (weights differ)")
    return update_av_config(
        o.av,
        recommended_lambda=data["recommended_lambda"],
        lambda_ranges=data["ranges"][data["av_domain"]],
    )
