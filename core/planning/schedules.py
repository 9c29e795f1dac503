"""capcon's schedules of planned events, and the events as ``capcon event ls`` lists them.

A table's event lives in Application Auto Scaling (scheduled actions named
``capcon-event-<event id>-<phase>-<read|write>``, :func:`action_name`); a stream's lives in
capcon's own schedule (:class:`StreamSchedule`), kept in a state store (the deployed stack's
state table, or ``capcon autoscale``'s state file) and executed by the engine at each step's
time.  :func:`list_events` groups both, with any other scheduled action of the account, into
:class:`EventRecord` rows.  Pure: nothing is read or sent here.

A stream schedule in the store is JSON (:meth:`StreamSchedule.to_json`)::

    {"format": 1, "event_id": "3fa2c1d0", "stream": "clicks",
     "start": "2026-12-05T18:00:00+00:00", "end": "2026-12-05T23:00:00+00:00",
     "created": "…", "before": 2,
     "steps": [{"at": "…", "shards": 4, "phase": "raise"}, …],
     "done": [0, 1], "cancelled": false, "cancelled_at": null}

Read back by :meth:`StreamSchedule.from_json`, which checks every key (a file or an item
can be edited by hand) and names the first bad one and what it allows; keys it does not know
are ignored (a later capcon may add some).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import ClassVar, Literal

from capcon.core.ports import ScheduledAction, parse_resource_id

#: The prefix of every scheduled action capcon creates for an event.
ACTION_PREFIX = "capcon-event-"
#: The format of a stored stream schedule (its ``format`` key).
SCHEDULE_FORMAT = 1
#: The most steps a stream schedule may have (½…2× steps: 10,000 shards from 1 is 14 each
#: way; the 10-reshards-a-day rule keeps real ones far below).
MAX_STEPS = 64
#: The most shards a step may ask for (a stream's hard limit is 10,000 by default; the
#: account quota may be raised: this only rejects nonsense).
MAX_STEP_SHARDS = 1_000_000

Phase = Literal["raise", "restore"]
EventStatus = Literal["upcoming", "running", "done", "cancelled"]

#: An event id as capcon writes it (:func:`capcon.core.planning.events.event_id`: 8 hex
#: digits); ids of this shape (letters, digits, ``_``, ``.``, ``-``) are accepted.
_EVENT_ID = re.compile(r"\A[A-Za-z0-9_.-]{1,64}\Z")
#: A Kinesis stream name (CreateStream: 1–128 of ``[a-zA-Z0-9_.-]``).
_STREAM_NAME = re.compile(r"\A[A-Za-z0-9_.-]{1,128}\Z")
_PHASES: tuple[Phase, ...] = ("raise", "restore")
_WORDS = ("read", "write")


def action_name(event_id: str, phase: Phase, dimension: Literal["read", "write"]) -> str:
    """``capcon-event-<event id>-<phase>-<read|write>``."""
    return f"{ACTION_PREFIX}{event_id}-{phase}-{dimension}"


def parse_action_name(name: str) -> tuple[str, Phase, str] | None:
    """``(event id, phase, dimension word)`` of a capcon event action, ``None`` for any other
    name.

    The inverse of :func:`action_name`: the id is whatever lies between the prefix and the
    last two ``-``-separated words (an id may hold ``-``), and must be a valid event id
    (letters, digits, ``_``, ``.``, ``-``; at most 64)."""
    if not isinstance(name, str) or not name.startswith(ACTION_PREFIX):
        return None
    parts = name[len(ACTION_PREFIX) :].rsplit("-", 2)
    if len(parts) != 3:
        return None
    event, phase, word = parts
    if not _EVENT_ID.match(event) or word not in _WORDS:
        return None
    if phase == "raise":
        return event, "raise", word
    if phase == "restore":
        return event, "restore", word
    return None


def is_event_id(text: str) -> bool:
    """Whether ``text`` has the shape of an event id (what :func:`parse_action_name` and a
    stored schedule accept)."""
    return isinstance(text, str) and _EVENT_ID.match(text) is not None


@dataclass(frozen=True, slots=True)
class ReshardStep:
    """One scheduled reshard of a stream event: at ``at``, reshard to ``shards`` open
    shards (a ½…2× step of the count before it)."""

    at: datetime
    shards: int
    phase: Literal["raise", "restore"]


def _utc(moment: datetime) -> str:
    """``moment`` as ISO 8601 in UTC (a naive time is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def _aware(moment: datetime | None) -> datetime | None:
    """``moment`` in UTC (a naive time is taken as UTC)."""
    if moment is None:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _action_at(action: ScheduledAction) -> datetime | None:
    """The UTC moment of a one-time action; ``None`` for cron/rate, a text that is not a
    time, or a moment that cannot be expressed (a time zone pushing it past year 9999)."""
    try:
        return _aware(action.at)
    except (OverflowError, ValueError):
        return None


def _when(moment: datetime | None) -> str:
    """``2026-12-05 18:00 UTC`` (seconds when not zero)."""
    if moment is None:
        return "(no time)"
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC" if moment.second else "%Y-%m-%d %H:%M UTC")


# --- reading a stored schedule ---------------------------------------------------------------


def _bad(key: str, value: object, allowed: str) -> ValueError:
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:79] + "…"
    return ValueError(f"stream schedule: {key} is {shown}; allowed: {allowed}")


def _text_key(data: Mapping[str, object], key: str, pattern: re.Pattern[str], what: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not pattern.match(value):
        raise _bad(key, value, what)
    return value


def _time_value(value: object, key: str) -> datetime:
    allowed = "an ISO 8601 time such as 2026-12-05T18:00:00+00:00 (no offset: UTC)"
    if not isinstance(value, str) or len(value) > 40:
        raise _bad(key, value, allowed)
    try:
        moment = datetime.fromisoformat(value)
        # an offset can push a moment past year 1 or 9999 in UTC: not a time either
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise _bad(key, value, allowed) from None


def _whole(value: object, key: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _bad(key, value, f"a whole number from {low:,} to {high:,}")
    return value


def _flag(value: object, key: str) -> bool:
    if not isinstance(value, bool):
        raise _bad(key, value, "true or false")
    return value


def _step(value: object, key: str) -> ReshardStep:
    if not isinstance(value, Mapping):
        raise _bad(key, value, 'an object {"at": TIME, "shards": N, "phase": "raise"|"restore"}')
    phase = value.get("phase")
    if phase not in _PHASES:
        raise _bad(f"{key}.phase", phase, '"raise" or "restore"')
    return ReshardStep(
        at=_time_value(value.get("at"), f"{key}.at"),
        shards=_whole(value.get("shards"), f"{key}.shards", 1, MAX_STEP_SHARDS),
        phase="raise" if phase == "raise" else "restore",
    )


@dataclass(frozen=True, slots=True)
class StreamSchedule:
    """capcon's own schedule of a stream event, stored in a state store under
    ``schedule#<event id>`` (and listed under ``schedules``); executed by the engine
    (``capcon autoscale`` or the deployed stack) at each step's time.  ``done``: the steps
    already sent, by index.

    ``steps`` are in time order, the raises (up to the peak) before the restores (back
    down).  ``before``: the open shards when the event was planned, where known.  A
    cancelled schedule is kept (``event ls`` shows it) and never executed again."""

    SCHEDULE_PREFIX: ClassVar[str] = "schedule#"
    INDEX_KEY: ClassVar[str] = "schedules"

    event_id: str
    stream: str
    start: datetime
    end: datetime
    steps: tuple[ReshardStep, ...]
    created: datetime
    done: tuple[int, ...] = ()
    cancelled: bool = False
    cancelled_at: datetime | None = None
    before: int | None = None

    @property
    def key(self) -> str:
        """Where the schedule is stored: ``schedule#<event id>``."""
        return self.SCHEDULE_PREFIX + self.event_id

    @property
    def peak(self) -> int:
        """The most shards the event asks for (0 for a schedule without steps)."""
        return max((s.shards for s in self.steps), default=0)

    @property
    def restore_at(self) -> datetime | None:
        """When the first restore step is due (the end of the hold at the peak)."""
        return min((s.at for s in self.steps if s.phase == "restore"), default=None)

    @property
    def finished(self) -> bool:
        """Cancelled, or every step sent."""
        return self.cancelled or len(set(self.done)) >= len(self.steps)

    def to_json(self) -> dict[str, object]:
        return {
            "format": SCHEDULE_FORMAT,
            "event_id": self.event_id,
            "stream": self.stream,
            "start": _utc(self.start),
            "end": _utc(self.end),
            "created": _utc(self.created),
            "before": self.before,
            "steps": [{"at": _utc(s.at), "shards": s.shards, "phase": s.phase} for s in self.steps],
            "done": sorted(set(self.done)),
            "cancelled": self.cancelled,
            "cancelled_at": None if self.cancelled_at is None else _utc(self.cancelled_at),
        }

    @classmethod
    def from_json(cls, data: object) -> StreamSchedule:
        """``ValueError`` naming the bad key and what it allows."""
        if not isinstance(data, Mapping):
            raise ValueError(f"stream schedule: a JSON object is needed, not {type(data).__name__}")
        version = data.get("format", SCHEDULE_FORMAT)
        if version != SCHEDULE_FORMAT:
            raise _bad("format", version, f"{SCHEDULE_FORMAT} (this capcon's format)")
        event = _text_key(data, "event_id", _EVENT_ID, "1–64 letters, digits, _ . -")
        stream = _text_key(
            data, "stream", _STREAM_NAME, "a stream name (1–128 of a-z A-Z 0-9 _ . -)"
        )
        start = _time_value(data.get("start"), "start")
        end = _time_value(data.get("end"), "end")
        if end <= start:
            raise _bad("end", data.get("end"), f"a time after start ({_utc(start)})")
        created = _time_value(data.get("created"), "created")
        raw_steps = data.get("steps")
        if not isinstance(raw_steps, list) or not 1 <= len(raw_steps) <= MAX_STEPS:
            raise _bad("steps", raw_steps, f"a list of 1–{MAX_STEPS} steps")
        steps = tuple(_step(s, f"steps[{i}]") for i, s in enumerate(raw_steps))
        for i in range(1, len(steps)):
            if steps[i].at < steps[i - 1].at:
                raise _bad(f"steps[{i}].at", _utc(steps[i].at), "steps in time order")
            if steps[i - 1].phase == "restore" and steps[i].phase == "raise":
                raise _bad(f"steps[{i}].phase", "raise", "every raise step before the restores")
        raw_done = data.get("done", [])
        if not isinstance(raw_done, list) or len(raw_done) > len(steps):
            raise _bad("done", raw_done, f"a list of step indexes (0–{len(steps) - 1})")
        done = tuple(
            sorted({_whole(d, f"done[{i}]", 0, len(steps) - 1) for i, d in enumerate(raw_done)})
        )
        cancelled = _flag(data.get("cancelled", False), "cancelled")
        raw_at = data.get("cancelled_at")
        cancelled_at = None if raw_at is None else _time_value(raw_at, "cancelled_at")
        raw_before = data.get("before")
        before = None if raw_before is None else _whole(raw_before, "before", 1, MAX_STEP_SHARDS)
        return cls(
            event_id=event,
            stream=stream,
            start=start,
            end=end,
            steps=steps,
            created=created,
            done=done,
            cancelled=cancelled,
            cancelled_at=cancelled_at,
            before=before,
        )

    def due(self, now: datetime) -> list[tuple[int, ReshardStep]]:
        """The steps whose time has come and that were not sent yet (oldest first); none
        once cancelled."""
        if self.cancelled:
            return []
        sent = set(self.done)
        return [(i, s) for i, s in enumerate(self.steps) if i not in sent and s.at <= now]

    def floor(self, now: datetime) -> int | None:
        """The fewest shards the stream's own policy may go to now: from the first raise step
        sent until the first restore step is due, the highest raise step sent (the peak once
        the raise is complete); ``None`` outside that window or once cancelled."""
        if self.cancelled:
            return None
        restore = self.restore_at
        if restore is not None and now >= restore:
            return None
        sent = set(self.done)
        raised = [s.shards for i, s in enumerate(self.steps) if s.phase == "raise" and i in sent]
        return max(raised) if raised else None

    def with_done(self, *indexes: int) -> StreamSchedule:
        """This schedule with ``indexes`` marked as sent."""
        return replace(self, done=tuple(sorted(set(self.done) | set(indexes))))

    def cancel(self, now: datetime) -> StreamSchedule:
        """This schedule cancelled at ``now`` (already cancelled: unchanged)."""
        if self.cancelled:
            return self
        return replace(self, cancelled=True, cancelled_at=now)

    def status(self, now: datetime) -> EventStatus:
        """``cancelled``; ``done`` once every step was sent; ``running`` once a step was sent
        or is due; else ``upcoming``."""
        if self.cancelled:
            return "cancelled"
        if self.finished:
            return "done"
        first = min((s.at for s in self.steps), default=None)
        if self.done or (first is not None and now >= first):
            return "running"
        return "upcoming"


@dataclass(frozen=True, slots=True)
class EventRecord:
    """An event as ``capcon event ls`` lists it: capcon's (from its scheduled actions or a
    stream schedule) or another scheduled action of the account (``source`` ``"aas"``, its
    name as ``event_id``)."""

    event_id: str
    resource: str
    index: str | None
    kind: Literal["table", "stream"]
    source: Literal["capcon", "aas"]
    #: the first and the last moment of the event's actions (raise and restore)
    start: datetime | None
    end: datetime | None
    status: EventStatus
    #: the capacity at the peak, by dimension (``read``/``write``/``shards``), where known
    peak: dict[str, int]
    summary: str
    actions: tuple[ScheduledAction, ...] = ()
    schedule: StreamSchedule | None = None
    #: what looks wrong with the event (a missing restore, steps overdue…)
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        """The record as a JSON object (``capcon event ls --json``)."""
        return {
            "event_id": self.event_id,
            "resource": self.resource,
            "index": self.index,
            "kind": self.kind,
            "source": self.source,
            "start": None if self.start is None else _utc(self.start),
            "end": None if self.end is None else _utc(self.end),
            "status": self.status,
            "peak": dict(self.peak),
            "summary": self.summary,
            "notes": list(self.notes),
            "actions": [_action_json(a) for a in self.actions],
            "schedule": None if self.schedule is None else self.schedule.to_json(),
        }


# --- listing ---------------------------------------------------------------------------------


def _action_json(action: ScheduledAction) -> dict[str, object]:
    moment = _action_at(action)
    return {
        "name": action.name,
        "resource_id": action.resource_id,
        "dimension": action.dimension,
        "schedule": action.schedule,
        "timezone": action.timezone,
        "at": None if moment is None else _utc(moment),
        "min_capacity": action.min_capacity,
        "max_capacity": action.max_capacity,
    }


def _where(resource_id: str) -> tuple[str, str | None]:
    """``(table, index)`` of an AAS resource id (the id itself when it is not DynamoDB's)."""
    try:
        return parse_resource_id(resource_id)
    except ValueError:
        return resource_id, None


def _word(action: ScheduledAction, fallback: str) -> str:
    """``read`` or ``write``: from AWS's dimension when it says, else ``fallback``."""
    if "Read" in action.dimension:
        return "read"
    if "Write" in action.dimension:
        return "write"
    return fallback


def _bounds(action: ScheduledAction) -> str:
    parts = []
    if action.min_capacity is not None:
        parts.append(f"min {action.min_capacity:,}")
    if action.max_capacity is not None:
        parts.append(f"max {action.max_capacity:,}")
    return " ".join(parts) or "min/max unchanged"


def _label(table: str, index: str | None) -> str:
    return f"{table}/{index}" if index else table


def _status_by_time(start: datetime | None, end: datetime | None, now: datetime) -> EventStatus:
    if start is None or end is None:
        return "upcoming"
    if now < start:
        return "upcoming"
    return "running" if now < end else "done"


def _table_event(
    event: str, found: Sequence[tuple[Phase, str, ScheduledAction]], now: datetime
) -> EventRecord:
    ordered = sorted(found, key=lambda f: (_action_at(f[2]) or _FAR, f[2].name))
    actions = tuple(a for _, _, a in ordered)
    table, index = _where(actions[0].resource_id)
    times = [t for t in map(_action_at, actions) if t is not None]
    start, end = (min(times), max(times)) if times else (None, None)
    raises = [(w, a) for p, w, a in ordered if p == "raise"]
    restores = [(w, a) for p, w, a in ordered if p == "restore"]
    peak: dict[str, int] = {}
    for fallback, action in raises:
        value = action.min_capacity if action.min_capacity is not None else action.max_capacity
        if value is not None:
            word = _word(action, fallback)
            peak[word] = max(value, peak.get(word, 0))
    notes: list[str] = []
    raised = {_word(a, w) for w, a in raises}
    restored = {_word(a, w) for w, a in restores}
    for word in sorted(raised - restored):
        notes.append(f"no restore action for {word}s: the raised min/max stays after the event")
    if len(times) < len(actions):
        notes.append("an action is not a one-time at(...) schedule: its time is not known")
    if len({a.resource_id for a in actions}) > 1:
        notes.append(
            "its actions are on several resources: "
            + ", ".join(sorted({a.resource_id for a in actions}))
        )
    bits = []
    for word in ("read", "write"):
        up = [a for w, a in raises if _word(a, w) == word]
        down = [a for w, a in restores if _word(a, w) == word]
        if not up and not down:
            continue
        text = f"{word}s"
        if up:
            text += f" raised to {_bounds(up[0])} at {_when(_action_at(up[0]))}"
        if down:
            text += ("," if up else "") + (
                f" restored to {_bounds(down[0])} at {_when(_action_at(down[0]))}"
            )
        bits.append(text)
    summary = f"table {_label(table, index)}: " + "; ".join(bits)
    return EventRecord(
        event_id=event,
        resource=table,
        index=index,
        kind="table",
        source="capcon",
        start=start,
        end=end,
        status=_status_by_time(start, end, now),
        peak=peak,
        summary=summary,
        actions=actions,
        notes=tuple(notes),
    )


def _foreign_event(action: ScheduledAction, now: datetime) -> EventRecord:
    table, index = _where(action.resource_id)
    word = _word(action, "")
    at = _action_at(action)
    start: datetime | None
    end: datetime | None
    if at is not None:
        start = end = at
        status: EventStatus = "upcoming" if now < at else "done"
        when = f"at {_when(at)}"
    else:
        start, end = _aware(action.start), _aware(action.end)
        if end is not None and now >= end:
            status = "done"
        elif start is not None and now < start:
            status = "upcoming"
        else:
            status = "running"  # a recurring schedule in force
        zone = action.timezone or "UTC"
        when = f"{action.schedule} ({zone})"
        if start is not None:
            when += f" from {_when(start)}"
        if end is not None:
            when += f" until {_when(end)}"
    peak: dict[str, int] = {}
    value = action.min_capacity if action.min_capacity is not None else action.max_capacity
    if word and value is not None:
        peak[word] = value
    what = f"{word}s" if word else action.dimension
    return EventRecord(
        event_id=action.name,
        resource=table,
        index=index,
        kind="table",
        source="aas",
        start=start,
        end=end,
        status=status,
        peak=peak,
        summary=(
            f"scheduled action {action.name} on {_label(table, index)} {what}: "
            f"{_bounds(action)} {when}"
        ),
        actions=(action,),
    )


def _stream_event(schedule: StreamSchedule, now: datetime) -> EventRecord:
    times = [s.at for s in schedule.steps]
    start, end = (min(times), max(times)) if times else (None, None)
    status = schedule.status(now)
    peak = schedule.peak
    raises = [s for s in schedule.steps if s.phase == "raise"]
    restores = [s for s in schedule.steps if s.phase == "restore"]
    path = " → ".join(str(s.shards) for s in schedule.steps)
    if schedule.before is not None:
        path = f"{schedule.before} → {path}"
    summary = (
        f"stream {schedule.stream}: {path} shards, at the peak ({peak:,}) from "
        f"{_when(schedule.start)} to {_when(schedule.end)}; {len(raises)} raise and "
        f"{len(restores)} restore steps, {len(set(schedule.done))} of {len(schedule.steps)} sent"
    )
    notes: list[str] = []
    if schedule.cancelled:
        cut = f" at {_when(schedule.cancelled_at)}" if schedule.cancelled_at else ""
        notes.append(f"cancelled{cut}: no further step is sent")
    else:
        overdue = schedule.due(now)
        if overdue:
            late = now - overdue[0][1].at
            if late.total_seconds() >= 3600:
                notes.append(
                    f"{len(overdue)} step(s) overdue since {_when(overdue[0][1].at)}: is the "
                    "engine running (capcon autoscale --state, or the deployed stack)?"
                )
    if not restores:
        notes.append("no restore step: the stream stays at the peak after the event")
    return EventRecord(
        event_id=schedule.event_id,
        resource=schedule.stream,
        index=None,
        kind="stream",
        source="capcon",
        start=start,
        end=end,
        status=status,
        peak={"shards": peak},
        summary=summary,
        schedule=schedule,
        notes=tuple(notes),
    )


_FAR = datetime.max.replace(tzinfo=UTC)
_PAST = datetime.min.replace(tzinfo=UTC)


def _order(record: EventRecord) -> tuple[int, float, str, str]:
    """Running first, then upcoming by start, then the finished ones, newest first."""
    if record.status in ("running", "upcoming"):
        group = 0 if record.status == "running" else 1
        moment = record.start or _FAR
        return group, (moment - _PAST).total_seconds(), record.resource, record.event_id
    moment = record.end or record.start or _PAST
    return 2, -(moment - _PAST).total_seconds(), record.resource, record.event_id


def list_events(
    actions: tuple[ScheduledAction, ...],
    schedules: tuple[StreamSchedule, ...],
    now: datetime,
    *,
    recent: timedelta | None = None,
) -> list[EventRecord]:
    """Every event: capcon's grouped by event id (the table, index and dimensions read from
    the actions' resource ids), each other action on its own; sorted by start (upcoming
    first by time, then the recent ones).

    Order: the events running now (by start), the upcoming ones (soonest first), then those
    done or cancelled (the most recent first).  A table event's status comes from its
    actions' times (before the first: upcoming; until the last: running; after: done); a
    stream event's from its schedule (steps sent, cancelled).  A stream schedule and
    actions that share an event id are listed apart (they cannot come from one event).
    ``recent``: leave out the events done or cancelled that ended (or were cancelled) more
    than this long before ``now``."""
    now = _aware(now) or now
    grouped: dict[str, list[tuple[Phase, str, ScheduledAction]]] = {}
    records: list[EventRecord] = []
    for action in actions:
        parsed = parse_action_name(action.name)
        if parsed is None:
            records.append(_foreign_event(action, now))
            continue
        event, phase, word = parsed
        grouped.setdefault(event, []).append((phase, word, action))
    records += [_table_event(event, found, now) for event, found in grouped.items()]
    records += [_stream_event(schedule, now) for schedule in schedules]
    if recent is not None:
        records = [r for r in records if not _older(r, now - recent)]
    return sorted(records, key=_order)


def _older(record: EventRecord, since: datetime) -> bool:
    """Whether ``record`` is finished and ended before ``since``."""
    if record.status not in ("done", "cancelled"):
        return False
    moment = record.end or record.start
    if record.schedule is not None and record.schedule.cancelled_at is not None:
        moment = _aware(record.schedule.cancelled_at)
    return moment is not None and moment < since
