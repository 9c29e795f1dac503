"""Stream schedules of planned events in a state store: save, read, cancel, mark steps sent.

A stream's event (``capcon event apply`` on a stream) is capcon's own
:class:`~capcon.core.planning.schedules.StreamSchedule`, executed by the engine at each
step's time (:class:`~capcon.core.services.engine.AutoscaleEngine` with a ``schedules``
store: ``capcon autoscale --state FILE`` or the deployed stack's tick).  It is kept in a
:class:`~capcon.core.ports.StateStore` — the deployed stack's state table, or the local
state file — as two kinds of entry:

``schedule#<event id>``
    the schedule itself (:meth:`StreamSchedule.to_json`);
``schedules``
    the index: ``{"format": 1, "ids": ["<event id>", …], "active": ["<event id>", …]}``, the
    ids in the order they were added (a store cannot list its keys), and those not finished
    yet: the engine reads only these each round (``event ls`` reads them all).  An id leaves
    ``active`` only after its schedule is stored finished (cancelled, or every step sent),
    so a stale ``active`` costs a read, never a step; an index without ``active`` counts
    every id as active.

Every write is version-conditional (the port's optimistic concurrency): the engine marking
a step sent and an operator cancelling the event cannot overwrite each other; the loser
re-reads and tries again (the index, the cancel) or says so (a step marked sent).  A new
schedule goes into the index *before* it is written, so a crash in between leaves an id
without a schedule (skipped when read), never a schedule the engine cannot find.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime

from capcon.core.errors import CapconError, StateConflict
from capcon.core.planning.schedules import StreamSchedule, is_event_id
from capcon.core.ports import StateStore

#: The index of the schedules in a store, and the prefix of each schedule's key.
INDEX_KEY = StreamSchedule.INDEX_KEY
SCHEDULE_PREFIX = StreamSchedule.SCHEDULE_PREFIX
#: The format of the index (its ``format`` key).
INDEX_FORMAT = 1
#: How many times a write that lost a race is retried after re-reading.
RETRIES = 5
#: The most schedules an index lists (far beyond any real use; a bigger one is not ours).
MAX_INDEX = 10_000


class ScheduleError(CapconError):
    """A stream schedule that cannot be saved, found, read or cancelled: the message says
    which and why."""


@dataclass(frozen=True, slots=True)
class StoredSchedule:
    """A schedule as read from the store, with the version a conditional write expects."""

    schedule: StreamSchedule
    version: int


@dataclass(frozen=True, slots=True)
class ScheduleRead:
    """Every schedule that could be read, and a message for each one that could not."""

    schedules: tuple[StoredSchedule, ...]
    problems: tuple[str, ...] = ()


def schedule_key(event_id: str) -> str:
    """``schedule#<event id>``."""
    return SCHEDULE_PREFIX + event_id


def _check_id(event_id: str) -> None:
    if not is_event_id(event_id):
        shown = repr(event_id)
        shown = shown if len(shown) <= 80 else shown[:79] + "…"
        raise ScheduleError(
            f"{shown} is not an event id (1–64 letters, digits, _ . -, as `capcon event ls` "
            "shows them)"
        )


@dataclass(frozen=True, slots=True)
class _Index:
    ids: list[str]
    active: list[str]
    version: int | None

    def data(self) -> dict[str, object]:
        return {"format": INDEX_FORMAT, "ids": self.ids, "active": self.active}


def _ids(value: object) -> list[str] | None:
    if not isinstance(value, list) or len(value) > MAX_INDEX:
        return None
    if not all(isinstance(i, str) and is_event_id(i) for i in value):
        return None
    return list(dict.fromkeys(value))


def _index(store: StateStore) -> _Index:
    """The index (empty, version ``None``, when there is none)."""
    loaded = store.load(INDEX_KEY)
    if loaded is None:
        return _Index([], [], None)
    ids = _ids(loaded.data.get("ids"))
    active = _ids(loaded.data.get("active", loaded.data.get("ids")))
    if loaded.data.get("format", INDEX_FORMAT) != INDEX_FORMAT or ids is None or active is None:
        raise ScheduleError(
            f"the schedule index {INDEX_KEY!r} is not capcon's "
            f'({{"format": {INDEX_FORMAT}, "ids": [event ids], "active": [event ids]}}, at '
            f"most {MAX_INDEX:,} each): fix or remove it"
        )
    return _Index(ids, [i for i in active if i in ids], loaded.version)


def _add_to_index(store: StateStore, event_id: str) -> None:
    for _ in range(RETRIES):
        index = _index(store)
        if event_id in index.ids and event_id in index.active:
            return
        ids = index.ids if event_id in index.ids else [*index.ids, event_id]
        if len(ids) > MAX_INDEX:
            raise ScheduleError(
                f"the schedule index holds {MAX_INDEX:,} events already: nothing was scheduled"
            )
        try:
            store.save(
                INDEX_KEY, _Index(ids, [*index.active, event_id], None).data(), index.version
            )
            return
        except StateConflict:
            continue  # someone else added one meanwhile: read it again
    raise ScheduleError(
        f"the schedule index kept changing under {RETRIES} attempts to add {event_id}: "
        "nothing was scheduled; try again"
    )


def retire(store: StateStore, event_id: str) -> None:
    """Take ``event_id`` off the index's active list (its schedule is stored finished), so
    the engine stops reading it each round.  A failure leaves it listed: a read more per
    round, never a step missed."""
    for _ in range(RETRIES):
        index = _index(store)
        if event_id not in index.active:
            return
        active = [i for i in index.active if i != event_id]
        try:
            store.save(INDEX_KEY, _Index(index.ids, active, None).data(), index.version)
            return
        except StateConflict:
            continue


def load_schedule(store: StateStore, event_id: str) -> StoredSchedule | None:
    """The schedule of ``event_id`` and its version (``None``: none stored);
    :class:`ScheduleError` when what is stored is not a schedule."""
    _check_id(event_id)
    key = schedule_key(event_id)
    loaded = store.load(key)
    if loaded is None:
        return None
    try:
        schedule = StreamSchedule.from_json(loaded.data)
    except ValueError as error:
        raise ScheduleError(f"{key}: {error}") from None
    if schedule.event_id != event_id:
        raise ScheduleError(f"{key} holds the schedule of event {schedule.event_id}, not its own")
    return StoredSchedule(schedule, loaded.version)


def save_schedule(store: StateStore, schedule: StreamSchedule) -> int:
    """Store ``schedule`` (a new event, or one whose earlier schedule of the same id is
    finished: cancelled or every step sent) and list it in the index; its version.

    :class:`ScheduleError` when the schedule is not valid (what
    :meth:`StreamSchedule.from_json` would refuse) or the event is already scheduled and
    not finished (cancel it first); :class:`StateConflict` when someone else wrote the same
    event meanwhile (nothing written)."""
    _check_id(schedule.event_id)
    data = schedule.to_json()
    try:
        StreamSchedule.from_json(data)
    except ValueError as error:
        raise ScheduleError(f"event {schedule.event_id}: {error}: nothing was scheduled") from None
    existing = load_schedule(store, schedule.event_id)
    if existing is not None and not existing.schedule.finished:
        raise ScheduleError(
            f"event {schedule.event_id} is already scheduled on stream "
            f"{existing.schedule.stream} and not finished: cancel it first "
            f"(capcon event cancel {schedule.event_id})"
        )
    _add_to_index(store, schedule.event_id)
    return store.save(
        schedule_key(schedule.event_id), data, None if existing is None else existing.version
    )


def read_schedules(store: StateStore, *, active_only: bool = False) -> ScheduleRead:
    """Every schedule in the index (``active_only``: those not known to be finished), in
    the order added; an entry that cannot be read is a problem (a message naming it), never
    an exception, so one bad entry does not stop the engine from running the others.  An id
    whose schedule is missing is skipped (a save interrupted between the index and the
    schedule)."""
    problems: list[str] = []
    try:
        index = _index(store)
    except CapconError as error:
        return ScheduleRead((), (str(error),))
    found: list[StoredSchedule] = []
    for event_id in index.active if active_only else index.ids:
        try:
            stored = load_schedule(store, event_id)
        except CapconError as error:
            problems.append(str(error))
            continue
        if stored is not None:
            found.append(stored)
    return ScheduleRead(tuple(found), tuple(problems))


def load_schedules(store: StateStore) -> list[StreamSchedule]:
    """Every stream schedule in ``store`` (cancelled and finished ones too), in the order
    added; :class:`ScheduleError` naming every entry that cannot be read."""
    read = read_schedules(store)
    if read.problems:
        raise ScheduleError("; ".join(read.problems))
    return [s.schedule for s in read.schedules]


def cancel_schedule(store: StateStore, event_id: str, now: datetime) -> StreamSchedule:
    """Cancel the schedule of ``event_id`` at ``now``: the engine sends no further step.
    The steps already sent stay sent (the stream keeps its shards; its policy takes over).
    Cancelling a cancelled schedule changes nothing.  :class:`ScheduleError` when there is
    no such schedule (naming the ones there are)."""
    _check_id(event_id)
    for _ in range(RETRIES):
        stored = load_schedule(store, event_id)
        if stored is None:
            known = ", ".join(s.schedule.event_id for s in read_schedules(store).schedules)
            raise ScheduleError(
                f"no stream schedule {event_id} in this store"
                + (f" (stream events here: {known})" if known else " (it holds none)")
            )
        if stored.schedule.cancelled:
            return stored.schedule
        cancelled = stored.schedule.cancel(now)
        try:
            store.save(schedule_key(event_id), cancelled.to_json(), stored.version)
        except StateConflict:
            continue  # the engine marked a step meanwhile: read it again
        with contextlib.suppress(CapconError):  # still active: the engine finds it cancelled
            retire(store, event_id)
        return cancelled
    raise ScheduleError(
        f"the schedule of event {event_id} kept changing under {RETRIES} attempts to cancel "
        "it: try again"
    )


def mark_done(store: StateStore, stored: StoredSchedule, *indexes: int) -> StoredSchedule:
    """Mark ``indexes`` of ``stored``'s steps as sent, only if the stored version is still
    ``stored.version``; :class:`StateConflict` (nothing written) when it changed.  The last
    step sent takes the event off the index's active list (:func:`retire`)."""
    updated = stored.schedule.with_done(*indexes)
    version = store.save(schedule_key(updated.event_id), updated.to_json(), stored.version)
    if updated.finished:
        with contextlib.suppress(CapconError):  # still active: a read more per round
            retire(store, updated.event_id)
    return StoredSchedule(updated, version)


__all__ = [
    "INDEX_KEY",
    "SCHEDULE_PREFIX",
    "ScheduleError",
    "ScheduleRead",
    "StoredSchedule",
    "cancel_schedule",
    "load_schedule",
    "load_schedules",
    "mark_done",
    "read_schedules",
    "retire",
    "save_schedule",
    "schedule_key",
]
