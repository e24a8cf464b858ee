"""The reference corpus: gold rows authored for meav (one reviewable YAML file per domain, beside this file),
their rules (rules.py) and the builder into the corpus contract (build.py); the cue probe (probe.py, the
levels without their surface cues), the neutral text set for fluency (neutral.py) and the measured surface
cues (cues.py: length, the two-rule cue baseline). Names resolve on first use."""

from meav.core.lazy import lazy_exports

__getattr__ = lazy_exports(
    __name__,
    {
        "build_reference": "meav.reference.build",
        "load_rows": "meav.reference.build",
        "check_rows": "meav.reference.rules",
        "ReferenceOptions": "meav.reference.options",
        "ProbeOptions": "meav.reference.options",
        "build_probe": "meav.reference.probe",
        "load_probe": "meav.reference.probe",
        "probe_problems": "meav.reference.probe",
        "load_neutral": "meav.reference.neutral",
        "neutral_problems": "meav.reference.neutral",
        "cue_baseline": "meav.reference.cues",
        "cue_baseline_split": "meav.reference.cues",
        "longest_counts": "meav.reference.cues",
    },
)
__all__ = [
    "ProbeOptions",
    "ReferenceOptions",
    "build_probe",
    "build_reference",
    "check_rows",
    "cue_baseline",
    "cue_baseline_split",
    "load_neutral",
    "load_probe",
    "load_rows",
    "longest_counts",
    "neutral_problems",
    "probe_problems",
]
