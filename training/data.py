"""The pair sets of one run (train / eval / held-out) from the corpus, the joint spec or safety data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from meav.core.errors import MeavError
from meav.training.meta import source_info
from meav.training.pairs import build_pairs, orderings, pair_counts
from meav.training.recipe import Recipe
from meav.training.safety import hold_out, load_safety_pairs


@dataclass
class RunData:
    """Pairs plus the bookkeeping that goes into training_meta.json."""

    run_name: str
    train: Any
    eval: Any | None
    heldout: Any | None
    provenance: dict[str, Any]
    summary: dict[str, Any]

    @property
    def identity(self) -> dict[str, Any]:
        """What must match for checkpoints of an interrupted run to be resumed."""
        return {"run": self.run_name, "dataset": self.provenance, "pairs": self.summary}


def _summary(train, eval_, heldout, orderings_: dict[str, list[str]]) -> dict[str, Any]:
    return {
        "train": len(train),
        "eval": len(eval_) if eval_ is not None else 0,
        "heldout": len(heldout) if heldout is not None else 0,
        "orderings": orderings_,
        "train_counts": pair_counts(train),
    }


def resolve_data(recipe: Recipe) -> RunData:
    """Build the pair sets the recipe asks for; errors name the source and split at fault."""
    if recipe.safety is not None:
        return _safety_data(recipe)
    if recipe.dataset is None:
        raise MeavError("no dataset: give --dataset DIR|REPO or set `dataset:` in the recipe")
    targets = dict(recipe.joint) if recipe.joint else {recipe.domain: recipe.target}
    opts = recipe.pairs
    common = {"skip_level": opts.skip_level, "revision": recipe.dataset_revision}
    train = build_pairs(recipe.dataset, targets, opts.train_split, max_pairs=opts.max_train_pairs, **common)
    eval_ = (
        build_pairs(recipe.dataset, targets, opts.eval_split, required=False, **common)
        if opts.eval_split
        else None
    )
    heldout = None
    if opts.heldout_split and opts.heldout_max_pairs:
        heldout = build_pairs(
            recipe.dataset, targets, opts.heldout_split, required=False, max_pairs=None, **common
        )
        if heldout is not None:
            heldout = heldout.shuffle(seed=0).select(range(min(len(heldout), opts.heldout_max_pairs)))
    if recipe.joint:
        run_name = "joint-" + "_".join(f"{d}-{t}" for d, t in targets.items())
    else:
        run_name = f"{recipe.domain}-{recipe.target}"
    provenance = source_info(recipe.dataset, "dataset", recipe.dataset_revision)
    provenance.update(configs=list(targets), splits={"train": opts.train_split, "eval": opts.eval_split})
    order = {d: [f"{a}>{b}" for a, b in orderings(t, opts.skip_level)] for d, t in targets.items()}
    return RunData(run_name, train, eval_, heldout, provenance, _summary(train, eval_, heldout, order))


def _safety_data(recipe: Recipe) -> RunData:

    s = recipe.safety
    opts = recipe.pairs
    kw = {"revision": s.revision, "when_both": s.when_both}
    train = load_safety_pairs(s.source, s.train_split, max_pairs=None, **kw)
    if s.eval_split:
        eval_ = load_safety_pairs(s.source, s.eval_split, required=False, **kw)
    else:
        train, eval_ = hold_out(train, s.eval_fraction)
        if len(train) == 0:
            raise MeavError(
                f"{s.source}: every pair was held out for evaluation (lower safety.eval_fraction)"
            )
    if opts.max_train_pairs:
        train = train.select(range(min(len(train), opts.max_train_pairs)))
    heldout = None
    if eval_ is not None and opts.heldout_max_pairs:
        heldout = eval_.select(range(min(len(eval_), opts.heldout_max_pairs)))
    provenance = source_info(s.source, "dataset", s.revision)
    provenance.update(format="PKU-SafeRLHF", splits={"train": s.train_split, "eval": s.eval_split})
    order = {"safety": ["safe>unsafe"] + (["safer>less-safe"] if s.when_both == "safer" else [])}
    return RunData("safety", train, eval_, heldout, provenance, _summary(train, eval_, heldout, order))
