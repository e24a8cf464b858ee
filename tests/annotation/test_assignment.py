"""Assignment: N queries each, every pair shares ≥ M, stratified by domain, impossible settings refused."""

from __future__ import annotations

import itertools

import pytest

from meav.annotation.assignment import assign, choose_design, format_overlap, overlap_matrix
from meav.core.errors import MeavError


def pool(per_domain: int) -> dict[str, list[str]]:
    return {d: [f"{d}-{i}" for i in range(per_domain)] for d in ("medical", "financial", "legal")}


@pytest.mark.parametrize(
    ("k", "n", "m", "per_domain"),
    [(3, 30, 15, 40), (3, 30, 15, 20), (4, 10, 3, 10), (2, 5, 5, 3), (3, 4, 2, 3)],
)
def test_each_gets_n_and_every_pair_shares_at_least_m(k, n, m, per_domain):
    names = [f"a{i}" for i in range(k)]
    out = assign(names, pool(per_domain), n, m, seed=0)
    assert all(len(q) == len(set(q)) == n for q in out.values())
    matrix = overlap_matrix(out)
    assert all(matrix[a][b] >= m for a, b in itertools.combinations(names, 2))
    assert all(matrix[a][a] == n for a in names)


def test_paper_setting_covers_most_queries_and_keeps_a_core():
    design = choose_design(3, 30, 15, available=1000)
    assert (design.core, design.pair_block, design.unique, design.total) == (15, 0, 15, 60)
    tight = choose_design(3, 30, 15, available=50)  # less room: smaller core, pair blocks instead
    assert tight.total <= 50 and tight.core + tight.pair_block == 15


def test_stratified_by_domain_and_seeded():
    out = assign(["a", "b", "c"], pool(40), 30, 15, seed=7)
    for queries in out.values():
        per_domain = {d: sum(q.startswith(d) for q in queries) for d in ("medical", "financial", "legal")}
        assert max(per_domain.values()) - min(per_domain.values()) <= 3, per_domain
    assert assign(["a", "b", "c"], pool(40), 30, 15, seed=7) == out
    assert assign(["a", "b", "c"], pool(40), 30, 15, seed=8) != out


@pytest.mark.parametrize(
    ("names", "n", "m", "per_domain", "message"),
    [
        (["solo"], 30, 15, 40, "at least 2 annotators"),
        (["a", "b", "c"], 10, 11, 40, "min_shared: 11 exceeds"),
        (["a", "b", "c"], 30, 15, 9, "test split has 27 queries"),
        (["a", "a"], 3, 1, 9, "duplicate"),
    ],
)
def test_impossible_settings_are_refused_with_the_reason(names, n, m, per_domain, message):
    with pytest.raises(MeavError, match=message):
        assign(names, pool(per_domain), n, m, seed=0)


def test_overlap_matrix_prints_every_pair():
    text = format_overlap(overlap_matrix({"a": ["1", "2"], "b": ["2", "3"]}))
    assert text.splitlines()[1].split() == ["a", "2", "1"] and text.splitlines()[2].split() == ["b", "1", "2"]
