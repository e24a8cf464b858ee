"""How firmly search verdicts hold over resampled confirmation queries, against resampling them directly."""

from __future__ import annotations

import pytest

from meav.evaluation.scoring import shares_of
from meav.evaluation.search.engine import margin
from meav.evaluation.search.resampling import confirmed_interval, support


def test_support_is_the_verdicts_probability_when_the_queries_are_resampled():
    """Against the definition: resample each domain's queries (which level won each one) with replacement and
    count how often the target keeps the plurality in every domain."""
    import numpy as np

    doms, n = ["medical", "legal"], {"medical": 10, "legal": 8}
    won = {"medical": ["avoidance"] * 2 + ["generic"] * 3 + ["expert"] * 5,
           "legal": ["avoidance"] * 1 + ["generic"] * 4 + ["expert"] * 3}  # fmt: skip
    shares = {
        d: {lv: w.count(lv) / len(w) for lv in ("avoidance", "generic", "expert")} for d, w in won.items()
    }
    rng = np.random.default_rng(0)

    def resampled(target: tuple[str, ...], draws: int = 20000) -> float:
        hits = 0
        for _ in range(draws):
            again = {d: rng.choice(won[d], size=len(won[d])).tolist() for d in doms}
            s = {d: {lv: w.count(lv) / len(w) for lv in shares[d]} for d, w in again.items()}
            hits += margin(s, target, doms) > 0
        return hits / draws

    for target in [("expert", "generic"), ("generic", "expert"), ("expert", "expert")]:
        assert abs(support(shares, target, doms, n) - resampled(target)) < 0.01, target
    sure = {d: {"avoidance": 0.0, "generic": 0.0, "expert": 1.0} for d in doms}
    assert (
        support(sure, ("expert", "expert"), doms, n) == 1.0
        and support(sure, ("generic", "expert"), doms, n) == 0
    )
    with pytest.raises(ValueError, match="legal: shares .* are not counts over 8 queries"):
        support(
            {**shares, "legal": {"avoidance": 0.05, "generic": 0.25, "expert": 0.7}}, ("expert",) * 2, doms, n
        )
    with pytest.raises(ValueError, match="legal: no queries to resample"):
        support(shares, ("expert",) * 2, doms, {**n, "legal": 0})


def test_joint_resamples_count_a_target_beyond_the_unedited_model_only_where_it_differs_from_it():
    """Judged on the same resampled queries, a point that wins exactly the unedited model's queries is never
    beyond it, which counts alone cannot tell (their bounds reach min(s, 1 − s)); the mean confirmed count
    agrees with the exact supports."""
    doms = ["medical", "legal"]
    unedited = {"medical": [0, 0, 0, 0, 0, 1, 1, 1, 2, 2], "legal": [0, 0, 0, 0, 0, 0, 1, 2, 2, 2]}
    expert = {"medical": [2, 2, 2, 2, 2, 2, 0, 0, 1, 1], "legal": [2, 2, 2, 2, 2, 2, 2, 0, 1, 1]}
    avd, exp = ("avoidance", "avoidance"), ("expert", "expert")
    joint = confirmed_interval([(avd, unedited), (exp, expert)], unedited, doms, draws=4000)
    n = dict.fromkeys(doms, 10)
    s_avd = support(shares_of(unedited), avd, doms, n)
    s_exp = support(shares_of(expert), exp, doms, n)
    assert 0.3 < s_avd < 0.95 and 0.5 < s_exp < 1  # both uncertain: the intervals below are not trivial
    assert abs(joint["confirmed"]["mean"] - (s_avd + s_exp)) < 0.05
    # beyond the unedited model: only the expert point, on the resamples where it holds
    assert abs(joint["beyond_unedited"]["mean"] - s_exp) < 0.05
    assert joint["beyond_unedited"]["interval"] == [0, 1]
    assert joint["confirmed"]["interval"] == [0, 2]
    with pytest.raises(ValueError, match="not the same confirmation queries"):
        confirmed_interval([(exp, {**expert, "legal": expert["legal"][:5]})], unedited, doms)


def test_the_middle_95_percent_is_that_of_resampling_the_queries_directly():
    """Five targets of mixed support: the range equals the quantiles of a direct resampling (another generator,
    Python's), and is narrower than the counts' full range, so neither min–max nor a fixed answer passes."""
    import random

    import numpy as np

    doms, levels = ["medical", "legal"], ("avoidance", "generic", "expert")
    make = np.random.default_rng(3)
    unedited = {d: make.integers(0, 3, 10).tolist() for d in doms}
    points = []
    for i, lv in enumerate(["expert", "generic", "avoidance", "expert", "generic"]):
        won = {d: [levels.index(lv) if make.random() < 0.35 + 0.08 * i else int(make.integers(0, 3)) for _ in range(10)]
               for d in doms}  # fmt: skip
        points.append(((lv, lv), won))
    joint = confirmed_interval(points, unedited, doms, draws=20000)
    pick, counts = random.Random(0), []
    for _ in range(20000):
        idx = {d: [pick.randrange(10) for _ in range(10)] for d in doms}
        again = [(t, {d: [w[d][i] for i in idx[d]] for d in doms}) for t, w in points]
        counts.append(sum(margin(shares_of(w), t, doms) > 0 for t, w in again))
    direct = [int(np.quantile(counts, q, method="inverted_cdf")) for q in (0.025, 0.975)]
    assert joint["confirmed"]["interval"] == direct != [min(counts), max(counts)]
    assert abs(joint["confirmed"]["mean"] - np.mean(counts)) < 0.03
