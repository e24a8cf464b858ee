"""Agreement between annotators (paper §3.3) and labels vs generation level (Table 7).

Input everywhere: `units`, one dict per item mapping annotator -> label (only the annotators who submitted
a label for that item). Cohen's kappa comes from scikit-learn; Fleiss' kappa and Krippendorff's alpha
(nominal) are written from their formulas (no maintained implementation is a dependency of meav).
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections import Counter

import numpy as np
from sklearn.metrics import cohen_kappa_score

from meav.core.corpus import LEVELS, PAPER_ORDER

TABLE7_ORDER = PAPER_ORDER  # rows/cols as in the paper's Table 7


def _clean(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def cohen_pairs(units: list[dict], annotators: list[str]) -> dict[str, tuple[float | None, int]]:
    """ "a|b" -> (Cohen's kappa on the items both labelled, number of such items)."""

    out = {}
    for a, b in itertools.combinations(annotators, 2):
        both = [u for u in units if a in u and b in u]
        if len(both) < 2:
            out[f"{a}|{b}"] = (None, len(both))
            continue
        ya, yb = [u[a] for u in both], [u[b] for u in both]
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # undefined (one shared label) → nan → reported as None
            k = cohen_kappa_score(ya, yb, labels=list(LEVELS))
        out[f"{a}|{b}"] = (_clean(k), len(both))
    return out


def fleiss_kappa(units: list[dict], annotators: list[str], categories=LEVELS) -> tuple[float | None, int]:
    """Fleiss (1971) over the items labelled by all annotators: κ = (P̄ − P̄e) / (1 − P̄e)."""
    full = [u for u in units if all(a in u for a in annotators)]
    n = len(annotators)
    if len(full) < 2:
        return None, len(full)
    counts = np.array(
        [[sum(1 for a in annotators if u[a] == c) for c in categories] for u in full], dtype=float
    )
    p_i = (np.sum(counts**2, axis=1) - n) / (n * (n - 1))  # agreement on item i
    p_j = counts.sum(axis=0) / (len(full) * n)  # share of category j
    p_bar, p_e = p_i.mean(), np.sum(p_j**2)
    if p_e == 1.0:
        return None, len(full)
    return float((p_bar - p_e) / (1 - p_e)), len(full)


def krippendorff_alpha(units: list[dict], categories=LEVELS) -> tuple[float | None, int]:
    """Nominal α = 1 − D_o / D_e from the coincidence matrix, over items with ≥ 2 labels (missing allowed)."""
    pairable = [list(u.values()) for u in units if len(u) >= 2]
    index = {c: i for i, c in enumerate(categories)}
    o = np.zeros((len(index), len(index)))
    for values in pairable:
        m = len(values)
        for i, j in itertools.permutations(range(m), 2):
            o[index[values[i]], index[values[j]]] += 1.0 / (m - 1)
    n_c = o.sum(axis=1)
    n = n_c.sum()
    if n <= 1:
        return None, len(pairable)
    disagree_observed = o.sum() - np.trace(o)
    disagree_expected = (n_c.sum() ** 2 - np.sum(n_c**2)) / (n - 1)
    if disagree_expected == 0:
        return None, len(pairable)
    return float(1.0 - disagree_observed / disagree_expected), len(pairable)


def statistics(units: list[dict], annotators: list[str]) -> dict:
    pairs = cohen_pairs(units, annotators)
    values = [v for v, _ in pairs.values() if v is not None]
    fleiss, n_full = fleiss_kappa(units, annotators)
    alpha, n_pairable = krippendorff_alpha(units)
    return {
        "kappa_pairs": {k: v for k, (v, _) in pairs.items()},
        "kappa_items": {k: n for k, (_, n) in pairs.items()},
        "kappa_mean": float(np.mean(values)) if values else None,
        "fleiss_kappa": fleiss,
        "fleiss_items": n_full,
        "krippendorff_alpha": alpha,
        "krippendorff_items": n_pairable,
    }


def bootstrap_ci(units: list[dict], annotators: list[str], resamples: int = 1000, seed: int = 0) -> dict:
    """Percentile 95% intervals, resampling items with replacement (seeded; undefined draws skipped)."""
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {}
    for _ in range(resamples):
        sample = [units[i] for i in rng.integers(0, len(units), len(units))] if units else []
        s = statistics(sample, annotators)
        flat = {f"kappa_pairs/{k}": v for k, v in s["kappa_pairs"].items()}
        flat |= {k: s[k] for k in ("kappa_mean", "fleiss_kappa", "krippendorff_alpha")}
        for k, v in flat.items():
            if v is not None:
                draws.setdefault(k, []).append(v)

    def ci(key: str) -> list[float] | None:
        d = draws.get(key)
        return [float(np.percentile(d, 2.5)), float(np.percentile(d, 97.5))] if d else None

    pair_keys = [f"{a}|{b}" for a, b in itertools.combinations(annotators, 2)]
    return {
        "kappa_pairs": {k: ci(f"kappa_pairs/{k}") for k in pair_keys},
        **{k: ci(k) for k in ("kappa_mean", "fleiss_kappa", "krippendorff_alpha")},
    }


def confusion(pairs: list[tuple[str, str]]) -> dict:
    """(generation level, label) pairs → Table 7: rows = level, cols = label, row-normalised."""
    counts = Counter(pairs)
    matrix = [[counts[(r, c)] for c in TABLE7_ORDER] for r in TABLE7_ORDER]
    values = [[(x / sum(row)) if sum(row) else None for x in row] for row in matrix]
    return {"rows": list(TABLE7_ORDER), "cols": list(TABLE7_ORDER), "values": values, "counts": matrix}
