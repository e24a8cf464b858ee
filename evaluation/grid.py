"""λ and coefficient grids as users write them: 'start:stop:step' or a comma list (one syntax everywhere)."""

from __future__ import annotations

import math

from meav.core.errors import OptionError


def parse_grid(text: str, field: str = "lambdas") -> list[float]:
    """'start:stop:step' (inclusive, e.g. -2.0:1.0:0.1) or a comma list '-1,0,0.5'; rounded to 6 decimals.
    Errors name `field`, the option the text came from."""
    t = text.strip()
    try:
        if ":" not in t:
            values = [float(x) for x in t.split(",") if x.strip()]
            if not values:
                raise ValueError
            return values
        parts = [float(x) for x in t.split(":")]
    except ValueError:
        raise OptionError(field, f"{text!r}: expected start:stop:step (e.g. -2.0:1.0:0.1) or a,b,c") from None
    if len(parts) != 3:
        raise OptionError(field, f"{text!r}: expected three numbers start:stop:step, got {len(parts)}")
    start, stop, step = parts
    if not all(math.isfinite(x) for x in parts):
        raise OptionError(field, f"{text!r}: values must be finite")
    if step <= 0:
        raise OptionError(field, f"{text!r}: step must be > 0")
    if stop < start:
        raise OptionError(field, f"{text!r}: stop {stop} is below start {start}")
    n = math.floor((stop - start) / step + 1e-9)
    if n > 10_000:
        raise OptionError(field, f"{text!r}: {n + 1} values, more than 10,000")
    return [round(start + i * step, 6) for i in range(n + 1)]
