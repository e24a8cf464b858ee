"""Agreement statistics against hand-computed and textbook values; Table 7 layout."""

from __future__ import annotations

import pytest

from meav.annotation import agreement


def units_from(columns: dict[str, list]) -> list[dict]:
    n = len(next(iter(columns.values())))
    return [{a: col[i] for a, col in columns.items() if col[i] is not None} for i in range(n)]


def test_perfect_agreement_is_one():
    labels = ["expert", "generic", "avoidance"] * 3
    units = units_from({"a": labels, "b": labels, "c": labels})
    stats = agreement.statistics(units, ["a", "b", "c"])
    assert stats["kappa_pairs"] == {"a|b": 1.0, "a|c": 1.0, "b|c": 1.0} and stats["kappa_mean"] == 1.0
    assert stats["fleiss_kappa"] == pytest.approx(1.0) and stats["krippendorff_alpha"] == pytest.approx(1.0)


def test_known_confusion():
    # a: e g a e g a ; b: g g a e g a → p_o = 5/6, p_e = (2·1 + 2·3 + 2·2)/36 = 1/3 → κ = 3/4
    a = ["expert", "generic", "avoidance"] * 2
    b = ["generic", "generic", "avoidance", "expert", "generic", "avoidance"]
    stats = agreement.statistics(units_from({"a": a, "b": b}), ["a", "b"])
    assert stats["kappa_pairs"]["a|b"] == pytest.approx(0.75)
    # Krippendorff for two coders: o_eg = o_ge = 1, n_c = (3, 5, 4), n = 12 → α = 1 − 11·2/(144 − 50) = 1 − 22/94
    assert stats["krippendorff_alpha"] == pytest.approx(1 - 22 / 94)


def test_fleiss_kappa_textbook_example():
    # Fleiss (1971) as in Wikipedia's worked example: 10 subjects, 14 raters, 5 categories → κ = 0.210
    table = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
             [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]  # fmt: skip
    raters = [f"r{i}" for i in range(14)]
    units = []
    for row in table:
        labels = [c for c, count in enumerate(row) for _ in range(count)]
        units.append(dict(zip(raters, labels, strict=True)))
    kappa, n = agreement.fleiss_kappa(units, raters, categories=range(5))
    assert n == 10 and kappa == pytest.approx(0.2099, abs=1e-4)


def test_krippendorff_alpha_textbook_example_with_missing_values():
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability", nominal example: α = 0.743
    coders = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    ]
    units = units_from({f"c{i}": col for i, col in enumerate(coders)})
    alpha, n = agreement.krippendorff_alpha(units, categories=range(1, 6))
    assert n == 11 and alpha == pytest.approx(0.743, abs=1e-3)


def test_bootstrap_is_seeded_and_skips_undefined_draws():
    a = ["expert", "generic", "avoidance"] * 4
    b = ["generic", "generic", "avoidance"] + a[3:]
    units = units_from({"a": a, "b": b})
    first = agreement.bootstrap_ci(units, ["a", "b"], resamples=100, seed=5)
    assert first == agreement.bootstrap_ci(units, ["a", "b"], resamples=100, seed=5)
    lo, hi = first["kappa_pairs"]["a|b"]
    assert -1 <= lo <= hi <= 1
    assert first["fleiss_kappa"] is not None  # two raters labelled every item


def test_confusion_is_row_normalised_in_table7_order():
    pairs = [("expert", "expert")] * 3 + [("expert", "generic")] + [("avoidance", "avoidance")] * 2
    conf = agreement.confusion(pairs)
    assert conf["rows"] == conf["cols"] == ["expert", "generic", "avoidance"]
    assert conf["values"][0] == [0.75, 0.25, 0.0] and conf["values"][1] == [None, None, None]
    assert conf["values"][2] == [0.0, 0.0, 1.0] and conf["counts"][0] == [3, 1, 0]
