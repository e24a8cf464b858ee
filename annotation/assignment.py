"""Which queries each annotator reviews: N each, every pair sharing at least M (paper §3.3: 30 and 15).

Construction (blocks): a core of `c` queries seen by everyone, for each pair a block of `M - c` queries seen
by exactly that pair, and `u = N - c - (K-1)(M - c)` queries seen by one annotator only. Every pair then
shares exactly M, each annotator gets exactly N, and the number of distinct queries is
`T(c) = c + C(K,2)(M - c) + K·u`, which grows with c for K ≥ 3. We take the largest c the test split can
feed: the most queries covered, and the most items rated by all (Fleiss' kappa needs those).
"""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from dataclasses import dataclass

from meav.core.errors import MeavError, OptionError


@dataclass(frozen=True)
class Design:
    core: int
    pair_block: int
    unique: int
    annotators: int

    @property
    def total(self) -> int:
        k = self.annotators
        return self.core + k * (k - 1) // 2 * self.pair_block + k * self.unique


def choose_design(k: int, n: int, m: int, available: int) -> Design:
    """The design with the largest core that fits `available` queries; MeavError says why none does."""
    if k < 2:
        raise OptionError("annotators", f"need at least 2 annotators to measure agreement, got {k}")
    if n < 1 or m < 0:
        raise OptionError("queries_per_annotator", f"must be ≥ 1, and min_shared ≥ 0 (got {n} and {m})")
    if m > n:
        raise OptionError(
            "min_shared", f"{m} exceeds queries_per_annotator {n}: a pair cannot share more than N"
        )
    designs = []
    for c in range(m + 1):
        unique = n - c - (k - 1) * (m - c)
        if unique >= 0:
            designs.append(Design(core=c, pair_block=m - c, unique=unique, annotators=k))
    fitting = [d for d in designs if d.total <= available]
    if not fitting:
        need = min(d.total for d in designs)
        raise MeavError(
            f"the test split has {available} queries; {k} annotators × {n} queries with ≥ {m} shared per pair "
            f"need at least {need}: lower --queries-per-annotator or --min-shared"
        )
    return max(fitting, key=lambda d: d.core)


def stratified_pick(queries_by_domain: dict[str, list[str]], total: int, seed: int) -> list[str]:
    """`total` query ids, domains in turn (round-robin over shuffled lists): every block stays balanced."""
    rng = random.Random(seed)
    pools = {d: rng.sample(sorted(ids), len(ids)) for d, ids in sorted(queries_by_domain.items())}
    picked: list[str] = []
    while len(picked) < total:
        progressed = False
        for d in pools:
            if pools[d] and len(picked) < total:
                picked.append(pools[d].pop())
                progressed = True
        if not progressed:
            raise MeavError(f"the test split has fewer than {total} queries")
    return picked


def assign(
    annotators: list[str], queries_by_domain: dict[str, list[str]], n: int, m: int, seed: int
) -> dict[str, list[str]]:
    """annotator -> the query ids they review (each exactly n; every pair shares ≥ m)."""
    if len(set(annotators)) != len(annotators):
        raise OptionError("annotators", f"duplicate names in {','.join(annotators)}")
    available = sum(len(v) for v in queries_by_domain.values())
    design = choose_design(len(annotators), n, m, available)
    picked = iter(stratified_pick(queries_by_domain, design.total, seed))
    out: dict[str, list[str]] = defaultdict(list)
    core = [next(picked) for _ in range(design.core)]
    for a in annotators:
        out[a] += core
    for a, b in itertools.combinations(annotators, 2):
        block = [next(picked) for _ in range(design.pair_block)]
        out[a] += block
        out[b] += block
    for a in annotators:
        out[a] += [next(picked) for _ in range(design.unique)]
    return {a: out[a] for a in annotators}


def overlap_matrix(assignment: dict[str, list[str]]) -> dict[str, dict[str, int]]:
    """Shared queries for every pair (the diagonal is each annotator's own count)."""
    sets = {a: set(q) for a, q in assignment.items()}
    return {a: {b: len(sets[a] & sets[b]) for b in sets} for a in sets}


def format_overlap(matrix: dict[str, dict[str, int]]) -> str:
    names = list(matrix)
    width = max(6, *(len(n) for n in names)) + 1
    lines = [" " * width + "".join(f"{n:>{width}}" for n in names)]
    lines += [f"{a:<{width}}" + "".join(f"{matrix[a][b]:>{width}}" for b in names) for a in names]
    return "\n".join(lines)
