"""The whole flow against the real server: push → three annotators submit (REST calls of the UI) → report.

Designed labels: ann1 and ann2 label every response with its true level; ann3 too, except the expert
response of one query all three share, which ann3 calls generic. With N=4, M=2 on the toy corpus (9 test
queries) the design is a core of 2 queries shared by all (6 items), so by hand:
  κ(ann1, ann2) = 1; κ(annX, ann3): p_o = 5/6, p_e = (2·1 + 2·3 + 2·2)/36 = 1/3 → κ = (1/2)/(2/3) = 3/4;
  Fleiss: P̄ = (5 + 1/3)/6 = 8/9, P̄e = (5² + 7² + 6²)/18² = 55/162 → κ = 89/107;
  Krippendorff: D_o = 2, D_e = (18² − 110)/17 = 214/17 → α = 1 − 34/214 = 90/107.
The server is restarted half-way: nothing is lost and the queues continue.
"""

from __future__ import annotations

import json
import os
import stat

import pytest

from meav.annotation import ReportOptions, push, report
from tests.annotation.rest import ANNOTATORS, Annotator
from tests.toy_corpus import EXPERT

pytestmark = pytest.mark.slow


def level_of(response: str) -> str:
    """What a careful annotator reads in the toy corpus's responses."""
    if response.startswith("I am unable"):
        return "avoidance"
    if response.startswith("Generally speaking"):
        return "generic"
    assert response in EXPERT.values(), response
    return "expert"


def _label(annotator: Annotator, record: dict, core_query: str) -> str:
    level = level_of(record["fields"]["response"])
    if annotator.username == "ann3" and record["metadata"]["query_id"] == core_query and level == "expert":
        return "generic"
    return level


def test_push_layout_and_idempotence(argilla, toy_corpus, pushed, tmp_path):
    overlap = pushed["overlap"]
    assert all(overlap[a][a] == 4 for a in ANNOTATORS)
    assert all(overlap[a][b] >= 2 for a in ANNOTATORS for b in ANNOTATORS)
    creds = pushed["credentials"]
    assert stat.S_IMODE(os.stat(creds).st_mode) == 0o600
    again = push(pushed["options"])
    assert again["assignment"] == pushed["assignment"]
    for a in ANNOTATORS:
        ann = Annotator(argilla.url, a, pushed["password"][a])
        records, total = ann.queue()
        assert total == 12 and len({r["external_id"] for r in records}) == 12  # nothing added twice
        mine = {q for r in records for q in [r["metadata"]["query_id"]]}
        assert mine == set(pushed["assignment"][a])  # exactly the assigned queries
        assert all(set(r["metadata"]) == {"domain", "query_id"} for r in records)  # level hidden


def agreement_report(argilla, out, dataset: str = "meav-levels", **kw) -> dict:
    """`meav annotate report` of the session's server (owner key) into `out`."""
    return report(
        ReportOptions(url=argilla.url, api_key=argilla.api_key(), argilla_dataset=dataset, out=out, **kw)
    )


def test_annotate_restart_and_report(argilla, pushed, tmp_path):
    core = sorted(set.intersection(*(set(q) for q in pushed["assignment"].values())))[0]
    annotators = [Annotator(argilla.url, a, pushed["password"][a]) for a in ANNOTATORS]
    for ann in annotators:  # first half
        records, _ = ann.queue()
        for rec in records[:6]:
            assert ann.submit(rec["id"], _label(ann, rec, core)).status_code == 201
    mid = agreement_report(argilla, tmp_path / "mid", resamples=50)
    assert {a: (p["submitted"], p["pending"]) for a, p in mid["progress"].items()} == {
        a: (6, 6) for a in ANNOTATORS
    }

    argilla.stop()
    argilla.start()
    for ann in annotators:  # the same login tokens still work; the queue goes on where it stopped
        records, total = ann.queue()
        assert total == 6 and len(records) == 6
        for rec in records:
            assert not rec.get("responses")
            assert ann.submit(rec["id"], _label(ann, rec, core)).status_code == 201
        assert ann.queue()[1] == 0

    rep = agreement_report(argilla, tmp_path / "final", resamples=200, seed=3)
    assert rep["kappa_pairs"]["ann1|ann2"] == pytest.approx(1.0)
    assert rep["kappa_pairs"]["ann1|ann3"] == pytest.approx(0.75)
    assert rep["kappa_pairs"]["ann2|ann3"] == pytest.approx(0.75)
    assert rep["kappa_items"] == {"ann1|ann2": 6, "ann1|ann3": 6, "ann2|ann3": 6}
    assert rep["kappa_mean"] == pytest.approx(2.5 / 3)
    assert rep["fleiss_kappa"] == pytest.approx(89 / 107)
    assert rep["krippendorff_alpha"] == pytest.approx(90 / 107)
    conf = rep["confusion"]
    assert conf["rows"] == conf["cols"] == ["expert", "generic", "avoidance"]
    expected = [[11 / 12, 1 / 12, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    assert [v for row in conf["values"] for v in row] == pytest.approx([v for row in expected for v in row])
    assert {a: p["submitted"] for a, p in rep["progress"].items()} == {a: 12 for a in ANNOTATORS}
    lo, hi = rep["ci95"]["kappa_mean"]
    assert -1.0 <= lo <= hi <= 1.0
    saved = json.loads((tmp_path / "final" / "report.json").read_text())
    assert (
        saved["kappa_pairs"] == rep["kappa_pairs"]
        and "Table 7" in (tmp_path / "final" / "report.md").read_text()
    )
    assert (tmp_path / "final" / "confusion.png").read_bytes()[:4] == b"\x89PNG"
