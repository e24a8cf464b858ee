"""λ grid parsing, the dominance rule, dominance ranges and the recommended λ per level."""

from __future__ import annotations

import pytest

from meav.core.errors import MeavError
from meav.core.grid import parse_grid
from meav.evaluation.dominance import dominance_ranges, dominant, peak_lambda
from meav.evaluation.sweep import summarize


def test_grid_is_inclusive_and_rounded():
    grid = parse_grid("-2.0:1.0:0.1")
    assert len(grid) == 31 and grid[0] == -2.0 and grid[-1] == 1.0 and 0.0 in grid and -0.7 in grid
    assert parse_grid("-1,0,0.5") == [-1.0, 0.0, 0.5]
    assert parse_grid("0:0:0.1") == [0.0]


@pytest.mark.parametrize(
    "bad", ["", "1:0:0.1", "0:1", "0:1:0", "0:1:-0.1", "a:1:0.1", "0:inf:1", "0:1e9:0.001"]
)
def test_malformed_grids_raise_one_clear_error(bad):
    with pytest.raises(MeavError, match="^lambdas: "):
        parse_grid(bad)


def test_dominance_rule():
    assert dominant({"avoidance": 0.2, "generic": 0.3, "expert": 0.5}) == "expert"
    assert dominant({"avoidance": 0.4, "generic": 0.4, "expert": 0.2}) is None  # tie: nobody dominates


def _result(lam, exp, gen, avd):
    return {"lambda": lam, "domains": {"medical": {"expert": exp, "generic": gen, "avoidance": avd}}}


def test_ranges_and_recommended_lambda_follow_the_paper_regimes():
    results = [
        _result(-1.4, 0.05, 0.20, 0.75),
        _result(-1.2, 0.03, 0.13, 0.84),
        _result(-0.7, 0.26, 0.44, 0.30),
        _result(-0.4, 0.30, 0.40, 0.30),
        _result(0.0, 0.75, 0.25, 0.00),
        _result(0.5, 0.95, 0.00, 0.05),
        _result(1.0, 0.95, 0.00, 0.05),
    ]
    s = summarize(results, "medical", 1.0)
    assert s["dominant"]["medical"] == [
        "avoidance",
        "avoidance",
        "generic",
        "generic",
        "expert",
        "expert",
        "expert",
    ]
    assert s["ranges"]["medical"] == {
        "avoidance": [[-1.4, -1.2]],
        "generic": [[-0.7, -0.4]],
        "expert": [[0.0, 1.0]],
    }
    # the peak of each level: highest share wins; among equal shares the smallest |λ| (the recommended λ, with
    # margins and fluency, is tests/evaluation/test_verdict.py's)
    assert peak_lambda(results, "medical") == {"avoidance": -1.2, "generic": -0.7, "expert": 0.5}
    assert dominance_ranges([0.0, 0.1, 0.2], ["expert", None, "expert"]) == {
        "avoidance": [],
        "generic": [],
        "expert": [[0.0, 0.0], [0.2, 0.2]],
    }
