"""Evaluation: preference accuracy and margins under steering, λ sweeps with a verdict and a control,
multidomain search, baselines, judged generation, reports (the paper's §5–6 and Tables 1–5).

A stage of its own, not part of `vectors`: it consumes the published AV folder through the AV contract in
`meav.core.av`, as serving does, and never imports the code that makes AVs.

The two jobs by name: `meav.evaluation.sweep.sweep` (one AV, a λ grid) and `meav.evaluation.search.search`
(several AVs, a coefficient search); a module is named after what it exports.
"""

from meav.core.lazy import lazy_exports

__getattr__ = lazy_exports(
    __name__,
    {
        "judge": "meav.evaluation.judging",
        "evaluate": "meav.evaluation.baselines",
        "render_run": "meav.evaluation.report",
        "SweepOptions": "meav.evaluation.options",
        "JudgeOptions": "meav.evaluation.options",
        "EvaluateOptions": "meav.evaluation.options",
    },
)
__all__ = [
    "EvaluateOptions",
    "JudgeOptions",
    "SweepOptions",
    "evaluate",
    "judge",
    "render_run",
]
