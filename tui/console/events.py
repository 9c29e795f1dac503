"""Planned events in the console: which rows have one, and where they fall on a chart.

The events themselves are the core's (:func:`capcon.core.planning.schedules.list_events`
groups Application Auto Scaling's scheduled actions and capcon's stream schedules into
:class:`EventRecord` rows); this module reads them through the console's ports, in the poll
worker, and turns them into what the list and the detail charts show: a mark and the time to
the next step on each row (``◷ 2h10`` before the raise, ``▲ 45m`` while raised, until the
restore), and the raise and restore moments on a chart's time axis.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from capcon.core.planning.schedules import EventRecord, StreamSchedule, list_events
from capcon.core.ports import ScheduledAction, StateStore
from capcon.core.services.overview import Row

#: The row's mark before an event's raise, and while it is raised (until its restore).
#: A clock face from Geometric Shapes (U+25F7), not the stopwatch emoji (U+23F1): it is in
#: the common monospace fonts (DejaVu Sans Mono has it; the stopwatch drew as a box there).
UPCOMING_MARK = "◷"
RAISED_MARK = "▲"
#: A recurring scheduled action of the account (``cron(...)``, ``rate(...)``).
RECURRING_MARK = "↻"
#: The chart's marks for a raise and a restore (arrows: in every monospace font).
RAISE_MARK = "↑"
RESTORE_MARK = "↓"

MarkPhase = Literal["raise", "restore", "scheduled"]


def events_of(
    rows: Iterable[Row], stored: Iterable[StreamSchedule], now: datetime
) -> list[EventRecord]:
    """Every event the account holds at ``now``: the scheduled actions the overview read with
    each table's and GSI's auto scaling (no call of its own), and capcon's stream schedules
    ``stored`` (:func:`read_stream_schedules`)."""
    seen: set[tuple[str, str, str]] = set()
    actions: list[ScheduledAction] = []
    for row in rows:
        for action in row.auto_scaling.scheduled:
            key = (action.name, action.resource_id, action.dimension)
            if key not in seen:
                seen.add(key)
                actions.append(action)
    return list_events(tuple(actions), tuple(stored), now)


def read_stream_schedules(store: StateStore) -> tuple[tuple[StreamSchedule, ...], tuple[str, ...]]:
    """capcon's stream schedules in ``store``, and a message for each one that could not be
    read (the others are still shown)."""
    from capcon.core.services.schedules import read_schedules

    read = read_schedules(store)
    return tuple(s.schedule for s in read.schedules), read.problems


def row_name(record: EventRecord) -> str:
    """The list's row name of an event's resource: ``TABLE``, ``TABLE/INDEX`` or the stream."""
    if record.kind == "table" and record.index:
        return f"{record.resource}/{record.index}"
    return record.resource


def by_row(records: Iterable[EventRecord]) -> dict[str, tuple[EventRecord, ...]]:
    """Events that are not over yet (upcoming or running), by row name, soonest first."""
    out: dict[str, list[EventRecord]] = {}
    for record in records:
        if record.status in ("upcoming", "running"):
            out.setdefault(row_name(record), []).append(record)
    return {
        name: tuple(sorted(found, key=lambda r: (r.start is None, r.start or datetime.max)))
        for name, found in out.items()
    }


def compact_duration(delta: timedelta) -> str:
    """A short time for a narrow cell: ``45m``, ``2h10``, ``3d04`` (days and hours), ``0m``.

    The list's cells are a few characters wide; everywhere else durations are written by
    :func:`capcon.core.rules.fmt_duration`."""
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}"


def row_cell(records: Sequence[EventRecord], now: datetime) -> str:
    """The list's event cell for a row: the soonest event's mark and time to its next step
    (``◷ 2h10``: raised in 2 h 10 min; ``▲ 45m``: raised now, restored in 45 min), and
    ``+N`` when more events follow; ``↻`` for a recurring scheduled action (``cron``/``rate``,
    another tool's scheduled scaling); ``""`` with none."""
    live = [r for r in records if r.status in ("upcoming", "running")]
    if not live:
        return ""
    first = live[0]
    text = ""
    if first.start is None and first.end is None:  # cron(...)/rate(...): no one moment
        text = RECURRING_MARK
    elif first.status == "running" or (first.start is not None and first.start <= now):
        text = RAISED_MARK + (f" {compact_duration(first.end - now)}" if first.end else "")
    elif first.start is not None:
        text = f"{UPCOMING_MARK} {compact_duration(first.start - now)}"
    else:
        text = UPCOMING_MARK
    if len(live) > 1:
        text += f" +{len(live) - 1}"
    return text


@dataclass(frozen=True, slots=True)
class EventMark:
    """One moment of an event on a chart: a raise, a restore (capcon's events) or another
    scheduled action of the account; ``capacity``: the minimum it sets (``None``: unknown
    or unchanged), ``dimension``: ``"read"``, ``"write"``, ``"shards"`` or ``""``."""

    at: datetime
    phase: MarkPhase
    event_id: str
    dimension: str
    capacity: int | None = None

    @property
    def symbol(self) -> str:
        return RESTORE_MARK if self.phase == "restore" else RAISE_MARK


def _dimension(text: str) -> str:
    lowered = text.lower()
    if "read" in lowered:
        return "read"
    if "write" in lowered:
        return "write"
    return ""


def chart_marks(records: Iterable[EventRecord], row: str) -> tuple[EventMark, ...]:
    """The raise and restore moments of ``row``'s events (past ones too: a chart's window
    may hold them), from their scheduled actions or stream schedule steps; oldest first."""
    from capcon.core.planning.schedules import parse_action_name

    marks: list[EventMark] = []
    for record in records:
        if row_name(record) != row or record.status == "cancelled":
            continue
        for action in record.actions:
            at = action.at
            if at is None:
                continue
            parsed = parse_action_name(action.name)
            phase: MarkPhase = parsed[1] if parsed is not None else "scheduled"
            marks.append(
                EventMark(
                    at, phase, record.event_id, _dimension(action.dimension), action.min_capacity
                )
            )
        if record.schedule is not None:
            for step in record.schedule.steps:
                marks.append(EventMark(step.at, step.phase, record.event_id, "shards", step.shards))
    return tuple(sorted(marks, key=lambda m: m.at))


def planned_floor(
    marks: Sequence[EventMark], dimension: str
) -> tuple[tuple[datetime, datetime, int], ...]:
    """For each capcon event on ``dimension``: from its raise to its restore, the capacity the
    raise guarantees (its minimum; shards for a stream) — drawn as the planned line."""
    raises: dict[str, EventMark] = {}
    spans: list[tuple[datetime, datetime, int]] = []
    for mark in marks:
        if mark.dimension != dimension:
            continue
        if mark.phase == "raise" and mark.capacity is not None:
            previous = raises.get(mark.event_id)
            # a stream raised in steps: from the first raise, at the highest step's count
            if previous is not None:
                top = max(mark.capacity, previous.capacity or 0)
                mark = EventMark(previous.at, "raise", mark.event_id, dimension, top)
            raises[mark.event_id] = mark
        elif mark.phase == "restore" and mark.event_id in raises:
            raised = raises.pop(mark.event_id)
            if mark.at > raised.at and raised.capacity is not None:
                spans.append((raised.at, mark.at, raised.capacity))
    return tuple(spans)
