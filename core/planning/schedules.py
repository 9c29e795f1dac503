"""capcon's schedules of planned events, and the events as ``capcon event ls`` lists them.

A table's event lives in Application Auto Scaling (scheduled actions named
``capcon-event-<event id>-<phase>-<read|write>``, :func:`action_name`); a stream's lives in
capcon's own schedule (:class:`StreamSchedule`), kept in a state store (the deployed stack's
state table, or ``capcon autoscale``'s state file) and executed by the engine at each step's
time.  :func:`list_events` groups both, with any other scheduled action of the account, into
:class:`EventRecord` rows.  Pure: nothing is read or sent here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Literal

from capcon.core.ports import ScheduledAction

#: The prefix of every scheduled action capcon creates for an event.
ACTION_PREFIX = "capcon-event-"

Phase = Literal["raise", "restore"]
EventStatus = Literal["upcoming", "running", "done", "cancelled"]


def action_name(event_id: str, phase: Phase, dimension: Literal["read", "write"]) -> str:
    """``capcon-event-<event id>-<phase>-<read|write>``."""
    return f"{ACTION_PREFIX}{event_id}-{phase}-{dimension}"


def parse_action_name(name: str) -> tuple[str, Phase, str] | None:
    """``(event id, phase, dimension word)`` of a capcon event action, ``None`` for any other
    name."""
    raise NotImplementedError


@dataclass(frozen=True, slots=True)
class ReshardStep:
    """One scheduled reshard of a stream event: at ``at``, reshard to ``shards`` open
    shards (a ½…2× step of the count before it)."""

    at: datetime
    shards: int
    phase: Literal["raise", "restore"]


@dataclass(frozen=True, slots=True)
class StreamSchedule:
    """capcon's own schedule of a stream event, stored in a state store under
    ``schedule#<event id>`` (and listed under ``schedules``); executed by the engine
    (``capcon autoscale`` or the deployed stack) at each step's time.  ``done``: the steps
    already sent, by index."""

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

    def to_json(self) -> dict[str, object]:
        raise NotImplementedError

    @classmethod
    def from_json(cls, data: object) -> StreamSchedule:
        """``ValueError`` naming the bad key and what it allows."""
        raise NotImplementedError

    def due(self, now: datetime) -> list[tuple[int, ReshardStep]]:
        """The steps whose time has come and that were not sent yet (oldest first)."""
        raise NotImplementedError


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


def list_events(
    actions: tuple[ScheduledAction, ...],
    schedules: tuple[StreamSchedule, ...],
    now: datetime,
) -> list[EventRecord]:
    """Every event: capcon's grouped by event id (the table, index and dimensions read from
    the actions' resource ids), each other action on its own; sorted by start (upcoming
    first by time, then the recent ones)."""
    raise NotImplementedError
