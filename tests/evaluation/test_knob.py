"""The knob on a real model, measured as the demo measures it: SmolLM2-135M trained toward expert answers on
the reference corpus's medical train rows, swept on its 30 medical test rows (written separately, unseen in
training: no shared word 8-gram), judged by the margin verdict, next to a norm-matched random control."""

from __future__ import annotations

import pytest

from meav.evaluation.options import SweepOptions
from meav.evaluation.sweep import sweep


@pytest.mark.slow
def test_the_knob_is_visible_on_unseen_queries_and_the_random_control_is_not(
    embedded_model, reference_corpus, reference_medical_av, tmp_path
):
    data = sweep(
        SweepOptions(
            base=str(embedded_model),
            av=str(reference_medical_av),
            dataset=str(reference_corpus),
            out=tmp_path / "sweep",
            domains=["medical"],
            lambdas="-2,0,1",
            control=True,
            baselines="",
        )  # fmt: skip
    )
    assert data["n_queries"] == {"medical": 30}
    verdict, control = data["verdict"]["medical"], data["control"]["verdict"]["medical"]
    expert = [verdict["expert"][k]["mean"] for k in ("bottom", "zero", "top")]
    avoidance = [verdict["avoidance"][k]["mean"] for k in ("bottom", "zero", "top")]
    assert expert == sorted(expert) and avoidance == sorted(
        avoidance, reverse=True
    )  # the direction, at least
    assert verdict["visible"], (
        verdict
    )  # intervals ordered: top above 0 above bottom (and the reverse for Avd)
    assert not control["visible"], control
