"""A search's verdicts: which found targets hold on the confirmation queries, how firmly (resampled), and
which of them the unedited model already holds."""

from __future__ import annotations

from meav.evaluation.search.log import log_key
from meav.evaluation.search.resampling import confirmed_interval, support


def add_verdicts(data: dict, confirmations: dict | None, unedited: dict, unedited_won: dict | None) -> dict:
    """Per target: confirmed (None when confirmation is off), its confirmation shares, its support (the
    probability it holds when the confirmation queries are resampled) and the unedited model's, held by the
    unedited model; the run's counts.

    The supports' sum is the confirmed count expected over resamples. Beyond the unedited model, both are
    judged on the same resampled queries: from counts alone P(run holds, unedited does not) is only bounded, by
    max(0, s − u) and min(s, 1 − u). Where the log holds which level won each query (every found point's and the
    unedited model's), the joint resamples give that expectation and both counts the middle 95% of resamples.
    """
    doms, n = data["domains"], {d: v["confirm"] for d, v in data["n_queries"].items()}
    for t in data["targets"]:
        c, target = (confirmations or {}).get(tuple(t["target"])), tuple(t["target"])
        t["confirmed"] = None if confirmations is None else bool(c and c["margin"] > 0)
        t["confirm_shares"] = c["shares"] if c else None
        t["confirm_support"] = round(support(c["shares"], target, doms, n), 4) if c else None
        t["unedited_support"] = round(support(unedited["confirm"], target, doms, n), 4) if c else None
        t["unedited_holds"] = t["target"] in unedited["holds"]
    found = (confirmations or {}).values()
    data["confirm_evaluations"] = len({log_key("confirm", c["coeffs"]) for c in found})
    for key in ("targets_confirmed", "targets_confirmed_beyond_unedited"):
        data[key] = data[f"{key}_expected"] = data[f"{key}_interval"] = None
    data["targets_confirmed_beyond_unedited_bounds"] = None
    if confirmations is None:
        return data
    ts = [t for t in data["targets"] if t["reached"]]
    data["targets_confirmed"] = sum(t["confirmed"] for t in ts)
    data["targets_confirmed_beyond_unedited"] = sum(t["confirmed"] and not t["unedited_holds"] for t in ts)
    data["targets_confirmed_expected"] = round(sum(t["confirm_support"] for t in ts), 2)
    points = [(tuple(t["target"]), confirmations[tuple(t["target"])]["won"]) for t in ts]
    if unedited_won is not None and all(w is not None for _, w in points):
        joint = confirmed_interval(points, unedited_won, doms)
        data["targets_confirmed_interval"] = joint["confirmed"]["interval"]
        data["targets_confirmed_beyond_unedited_interval"] = joint["beyond_unedited"]["interval"]
        data["targets_confirmed_beyond_unedited_expected"] = joint["beyond_unedited"]["mean"]
    else:  # counts only: the unedited model's verdict on the same resamples is unknown, so only bounded
        s_u = [(t["confirm_support"], t["unedited_support"]) for t in ts]
        data["targets_confirmed_beyond_unedited_bounds"] = [
            round(sum(max(0.0, s - u) for s, u in s_u), 2),
            round(sum(min(s, 1 - u) for s, u in s_u), 2),
        ]
    return data
