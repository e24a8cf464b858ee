"""`meav synth --recipe FILE --out DIR [--backend SPEC] [--scale S] [--dry-run]`: a thin adapter over
`meav.synth.run_synth(SynthOptions)` (distilabel is imported when the command runs, not at `meav --help`)."""

from __future__ import annotations

import json
from pathlib import Path

from meav.core.flags import flag, options
from meav.synth.options import SynthOptions as S


def synth(
    recipe: Path = flag(S, "recipe"), out: Path = flag(S, "out"), backend: str | None = flag(S, "backend"),
    scale: float = flag(S, "scale"), dry_run: bool = flag(S, "dry_run"),
) -> None:  # fmt: skip
    """Generate the three-level preference corpus with a distilabel pipeline."""
    o = options(S, **locals())
    from rich.console import Console  # distilabel and torch: imported when the command runs

    from meav.synth.api import estimate_synth, run_synth
    from meav.synth.report import print_estimate

    console = Console(stderr=True)
    if o.dry_run:
        est = estimate_synth(o)
        print_estimate(est, console)
        print(json.dumps(est))
        return
    run_synth(o, console)
    console.print(f"corpus written to {o.out}")
