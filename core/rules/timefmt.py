"""Times and durations as capcon says them: one formatter for every duration it shows."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def _plain(value: float) -> str:
    """``1,200``, ``2.5``, ``0.333``: whole numbers without a point, at most 3 decimals."""
    if not math.isfinite(value):
        return "∞" if math.isinf(value) else "nan"
    if value == int(value) and value < 1e15:
        return f"{int(value):,}"
    return f"{value:,.3f}".rstrip("0").rstrip(".")


def fmt_duration(
    duration: timedelta | float, *, step: float | None = None, approx: bool = False
) -> str:
    """A duration (a ``timedelta``, or seconds) as words: ``45 s``, ``15 min``, ``1 h``,
    ``1 h 30 min``, ``2.5 s``, ``−10 min``; the one formatter for every duration capcon shows.

    Whole seconds are split into hours, minutes and seconds, zero parts left out (``24 h``;
    never days); under a minute, or with a fraction of a second, it is seconds only.  Exact
    by default, for a set interval or window.  ``step`` (seconds) rounds first: ``step=60``
    says whole minutes (``3 min``, ``0 min``).  ``approx`` is for a measured span: to the
    second under an hour, to the minute from an hour on (``4 min 37 s``, ``22 h 30 min``).
    """
    seconds = duration.total_seconds() if isinstance(duration, timedelta) else float(duration)
    sign = "−" if seconds < 0 else ""
    seconds = abs(seconds)
    if approx:
        step = 60.0 if seconds >= 3600 else 1.0
    if step is not None:
        seconds = round(seconds / step) * step
        if seconds == 0:
            return "0 min" if step >= 60 else "0 s"
    if not math.isfinite(seconds) or seconds < 60 or seconds != int(seconds):
        return f"{sign}{_plain(seconds)} s"
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{n} {unit}" for n, unit in ((hours, "h"), (minutes, "min"), (secs, "s")) if n]
    return sign + " ".join(parts)


def fmt_time(moment: datetime, now: datetime) -> str:
    """``2026-11-23 14:05 UTC (in 1 h 12 min)``: absolute for the log, relative for 3 a.m."""
    minutes = max(0, round((moment - now).total_seconds() / 60))
    relative = f"in {fmt_duration(minutes * 60)}" if minutes else "now"
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC ({relative})"


def next_utc_midnight(now: datetime) -> datetime:
    start = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return start + DAY
