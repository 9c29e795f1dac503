"""A consumed-vs-provisioned sparkline that fits in a table cell.

Each column is one minute: its height is consumed ÷ provisioned (full height = at capacity,
always: the scale never stretches, so headroom is visible at a glance), its colour says how
close to the limit it ran, and a minute with throttling *of this sparkline's dimension* is
drawn in the throttle colour whatever its height (the caller passes a table's read throttles
to its reads sparkline and its write throttles to its writes).  A minute above capacity
(DynamoDB's burst capacity) is drawn full height with its own glyph, :data:`ABOVE`.  Missing
minutes (CloudWatch is late, or the resource is new) are ``·``, never zero.  Colours come
from the theme, passed in by the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text

BLOCKS = " ▁▂▃▄▅▆▇█"
#: A minute above capacity (burst): full height, shaded so it reads apart from "at capacity".
ABOVE = "▓"
#: How far above 1.0 a fraction must be to count as above capacity (float noise is not).
ABOVE_TOLERANCE = 1e-6


@dataclass(frozen=True)
class SparkColours:
    normal: str
    high: str
    throttle: str
    empty: str


def sparkline(
    fractions: Sequence[float | None],
    throttled: Sequence[float | None],
    colours: SparkColours,
    width: int,
) -> Text:
    """``width`` cells of the newest minutes; ``fractions`` is consumed ÷ provisioned."""
    values = list(fractions)[-width:]
    marks = list(throttled)[-width:]
    marks += [None] * (len(values) - len(marks))
    text = Text(" " * (width - len(values)))
    runs: list[tuple[str, str]] = []  # (characters, style): one append per run, not per cell
    for value, mark in zip(values, marks, strict=True):
        if value is None:  # no datapoint yet (a throttle datapoint alone still shows)
            char, style = "·", colours.throttle if mark else colours.empty
        else:
            if value > 1.0 + ABOVE_TOLERANCE:
                char = ABOVE  # full height is capacity: above it is marked, not rescaled
            else:
                char = BLOCKS[min(8, max(1 if value > 0 else 0, round(value * 8)))]
            style = colours.normal
            if mark:
                style = colours.throttle
            elif value >= 0.8:
                style = colours.high
        if runs and runs[-1][1] == style:
            runs[-1] = (runs[-1][0] + char, style)
        else:
            runs.append((char, style))
    for chars, style in runs:
        text.append(chars, style=style)
    return text
