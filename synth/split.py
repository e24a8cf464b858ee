"""Stable ids and split assignment by hashing: a row keeps its split when the corpus grows."""

from __future__ import annotations

import hashlib

from meav.core.errors import MeavError


def _unit(key: str) -> float:
    return int(hashlib.sha256(key.encode()).hexdigest()[:12], 16) / float(16**12)


def assign_split(row_id: str, test_fraction: float, validation_fraction: float) -> str:
    """test with probability `test_fraction`; of the rest, `validation_fraction` goes to validation.

    Near-duplicate queries are removed before this point, so no query or near-duplicate spans two splits.
    """
    if _unit(f"test:{row_id}") < test_fraction:
        return "test"
    if _unit(f"validation:{row_id}") < validation_fraction:
        return "validation"
    return "train"


def split_rows(rows: list[dict], domains: list[str], test_fraction: float, validation_fraction: float):
    """Assign every row a split by hashing its id; a domain's empty split takes the train (else test) row
    nearest to it.

    Small corpora would otherwise leave a domain without validation (3% of train) or test rows; the row moved
    is chosen by hash too, so the result is still a pure function of the ids.
    """

    by_split: dict[str, list[dict]] = {"train": [], "validation": [], "test": []}
    for r in rows:
        by_split[assign_split(r["id"], test_fraction, validation_fraction)].append(r)
    for domain in domains:
        for split in ("train", "test", "validation"):
            if any(r["domain"] == domain for r in by_split[split]):
                continue
            # the donor: the first other split (train, test, validation) holding at least two of the domain's rows
            donors = [d for d in ("train", "test", "validation") if d != split]
            pools = [
                sorted(
                    (r for r in by_split[d] if r["domain"] == domain), key=lambda r: _unit(split + r["id"])
                )
                for d in donors
            ]
            donor, pool = next(
                ((d, p) for d, p in zip(donors, pools, strict=True) if len(p) >= 2), (None, [])
            )
            if donor is None:
                raise MeavError(
                    f"domain {domain!r}: too few rows after cleanup to fill train, validation and test; "
                    "grow the recipe (more personas or CreatePersona depth)"
                )
            by_split[donor].remove(pool[0])
            by_split[split].append(pool[0])
    return by_split
