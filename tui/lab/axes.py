"""Round axis ticks for the lab's charts: time as h:mm (0:00, 0:30, 1:00 …) and values on
1-2-5 steps, as few as the chart's size leaves room for (labels never run into each other)."""

from __future__ import annotations

import math

#: Time steps in minutes, smallest first.
TIME_STEPS: tuple[int, ...] = (1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 4320)
#: Columns one time label needs, with the gap to the next ("10:30" and two spaces).
TIME_LABEL_COLUMNS = 8


def clock_label(minutes: float) -> str:
    """``minutes`` since the start as h:mm (``0:00``, ``1:30``, ``27:00``)."""
    whole = round(minutes)
    return f"{whole // 60}:{whole % 60:02d}"


def time_ticks(span_minutes: float, columns: int) -> tuple[list[float], list[str]]:
    """Round ticks from 0 to ``span_minutes``: the smallest step of :data:`TIME_STEPS`
    whose labels fit in ``columns`` (at least two ticks: the start and one step)."""
    room = max(2, columns // TIME_LABEL_COLUMNS)
    span = max(1.0, span_minutes)
    step = TIME_STEPS[-1]
    for candidate in TIME_STEPS:
        if math.floor(span / candidate) + 1 <= room:
            step = candidate
            break
    positions = [float(m) for m in range(0, math.floor(span) + 1, step)]
    return positions, [clock_label(m) for m in positions]


def value_ticks(top: float, rows: int) -> tuple[float, list[float], list[str]]:
    """(axis top, tick positions, labels) for values from 0 to at least ``top``: a 1-2-5 step
    with at most one tick every other row (at least two ticks), the top a whole step."""
    room = max(2, rows // 2)
    top = max(top, 1.0)
    magnitude = 10 ** math.floor(math.log10(top / room)) if top / room >= 1 else 1
    best: tuple[float, float] | None = None  # (axis top, step): the tightest top that fits
    for factor in (1, 2, 2.5, 5, 10, 20, 25, 50, 100):
        step = float(magnitude * factor)
        if step != int(step):
            continue
        count = max(1, math.ceil(top / step - 1e-9))
        if count + 1 <= room and (best is None or step * count < best[0]):
            best = (step * count, step)
    axis_top, step = best if best is not None else (top, top)
    count = round(axis_top / step)
    positions = [step * i for i in range(count + 1)]
    return axis_top, positions, [f"{v:,.0f}" for v in positions]
