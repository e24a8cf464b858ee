"""λ grids and λ ranges as users write them, one syntax everywhere (`--lambdas`, `--control-lambdas`, the
search's `--lambdas`, the demo's grids, serve's `--lambda-range`):

- a grid: 'start:stop:step' (inclusive, e.g. -2.0:1.0:0.1) or a comma list 'a,b,c';
- a range (an interval, not a grid): 'low:high', the grid syntax without its step.

Errors are `OptionError`s naming the field the text came from (the CLI shows its flag).
"""

from __future__ import annotations

import math

from meav.core.errors import OptionError

GRID_SYNTAX = "'start:stop:step' (inclusive, e.g. -2.0:1.0:0.1) or a comma list 'a,b,c'"


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


def parse_interval(text: str, field: str = "lambda_range") -> tuple[float, float]:
    """'low:high' (e.g. -3:3) → (low, high), low ≤ high, both finite. Errors name `field`."""
    parts = text.strip().split(":")
    try:
        if len(parts) != 2:
            raise ValueError
        low, high = float(parts[0]), float(parts[1])
    except ValueError:
        raise OptionError(field, f"{text!r}: expected low:high, e.g. -3:3") from None
    if not (math.isfinite(low) and math.isfinite(high)):
        raise OptionError(field, f"{text!r}: values must be finite")
    if low > high:
        raise OptionError(field, f"{text!r}: expected low:high with low ≤ high")
    return low, high
