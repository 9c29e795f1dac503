"""Times and durations as the rule book's messages say them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def fmt_time(moment: datetime, now: datetime) -> str:
    """``2026-11-23 14:05 UTC (in 1 h 12 min)``: absolute for the log, relative for 3 a.m."""
    delta = moment - now
    minutes = max(0, round(delta.total_seconds() / 60))
    if minutes == 0:
        relative = "now"
    elif minutes < 60:
        relative = f"in {minutes} min"
    else:
        hours, mins = divmod(minutes, 60)
        relative = f"in {hours} h {mins} min" if mins else f"in {hours} h"
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC ({relative})"


def next_utc_midnight(now: datetime) -> datetime:
    start = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return start + DAY


def fmt_gap(gap: timedelta) -> str:
    minutes = round(gap.total_seconds() / 60)
    return "an hour" if minutes == 60 else f"{minutes} min"


def fmt_window(window: timedelta) -> str:
    hours = window.total_seconds() / 3600
    return f"{hours:g} h"
