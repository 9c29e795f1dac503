"""A consumed-vs-provisioned sparkline that fits in a table cell.

Each column is one minute: its height is consumed ÷ provisioned (full height = at capacity,
so headroom is visible at a glance), its colour says how close to the limit it ran, and a
minute with throttling is drawn in the throttle colour whatever its height.  Missing minutes
(CloudWatch is late, or the resource is new) are blank, never zero.  Colours come from the
theme, passed in by the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text

BLOCKS = " ▁▂▃▄▅▆▇█"


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
    peak = max((v for v in values if v is not None), default=1.0)
    scale = 1.0 if peak <= 1.0 else peak  # above capacity (burst): scale to the peak
    runs: list[tuple[str, str]] = []  # (characters, style): one append per run, not per cell
    for value, mark in zip(values, marks, strict=True):
        if value is None:
            char, style = "·", colours.empty
        else:
            level = min(8, max(1 if value > 0 else 0, round(value / scale * 8)))
            char, style = BLOCKS[level], colours.normal
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
