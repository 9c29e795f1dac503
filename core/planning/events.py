"""Planned events: scale ahead of a known spike and come back down safely (``capcon event``).

An engineer says "Black Friday, 18:00–23:00 UTC, orders at 5,000 WCU"; :func:`plan_event`
answers, before anything changes, what that will really do: when the change must be sent to
be ready at the start, what the event costs against staying at the peak, against reactive
scaling on the expected shape and against on-demand, the partitions it adds for good and what
each one carries after the return, whether the return is allowed when planned (the decrease
budget of that UTC day; for a stream the reshards in a rolling 24 h and the ½…2× steps), and
how it plays with auto scaling (min/max raised and restored, not fought).

The event is expressed natively so nothing of capcon's must run for a table: Application Auto
Scaling scheduled actions (``at(...)``) raise and restore the target's min/max
(:attr:`EventPlan.actions`); a table without auto scaling gets a scalable target registered
for the purpose (:attr:`EventPlan.registers`: a *scheduled-only* target, not the "registered
but no policy" trap); an on-demand table is pre-warmed (:attr:`EventPlan.warm`).  A stream's
reshards are capcon's own schedule (:class:`StreamSchedule`), executed by the deployed engine
or ``capcon autoscale`` at their time.

Pure: every function takes ``now`` and the resource's state; nothing is read or sent.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from capcon.core.model import Stream, Table, WarmThroughput
from capcon.core.planning.planner import Refusal, Usage, Warning_, fingerprint
from capcon.core.planning.schedules import ACTION_PREFIX, ReshardStep
from capcon.core.ports import ScalableTarget, ScalingPolicy, ScheduledAction, resource_id
from capcon.core.pricing import PriceBook
from capcon.core.rules import RuleSettings

#: The longest an event may last, and the furthest ahead it may start (AAS keeps one-time
#: actions until they run; a year is a planning horizon, not an AWS limit).
MAX_EVENT = timedelta(days=31)
MAX_AHEAD = timedelta(days=366)

How = Literal["aas-scheduled", "aas-scheduled-target", "prewarm", "stream-schedule"]
StepKind = Literal["send", "ready", "start", "peak", "end", "return", "settled", "note"]

_RELATIVE = re.compile(r"\A\+\s*(\d+(?:\.\d+)?)\s*(m|min|mins|minutes?|h|hours?|d|days?)\Z", re.I)


def parse_when(text: str, now: datetime) -> datetime:
    """``text`` as a moment in UTC: ISO 8601 (``2026-12-05T18:00``, ``…Z``, ``…+01:00``; no
    offset means UTC) or relative to ``now`` (``+90m``, ``+2h``, ``+1d``).  ``ValueError``
    names what was wrong and what is allowed."""
    raise NotImplementedError


def event_id(resource: str, index: str | None, start: datetime, end: datetime) -> str:
    """A short stable id for an event (the same request gives the same id): 8 hex digits."""
    key = f"{resource}|{index or ''}|{start.isoformat()}|{end.isoformat()}"
    return hashlib.sha256(key.encode()).hexdigest()[:8]


def event_fingerprint(
    resource: Table | Stream,
    index: str | None = None,
    targets: tuple[ScalableTarget, ...] = (),
    policies: tuple[ScalingPolicy, ...] = (),
    scheduled: tuple[ScheduledAction, ...] = (),
) -> str:
    """The state an event plan depends on (:attr:`EventPlan.fingerprint`): the resource as
    the planner fingerprints it, and the scalable targets, scaling policies and scheduled
    actions of the part the event scales (the table, or GSI ``index``; those of other parts
    are ignored, so a caller may pass the whole account's).  :meth:`Scaler.apply_event`
    computes it again on fresh reads and refuses a plan whose state moved."""
    if isinstance(resource, Stream):
        parts: tuple[object, ...] = (fingerprint(resource),)
    else:
        rid = resource_id(resource.name, index)
        parts = (
            fingerprint(resource),
            sorted(repr(t) for t in targets if t.resource_id == rid),
            sorted(repr(p) for p in policies if p.resource_id == rid),
            sorted(
                repr((a.name, a.dimension, a.schedule, a.min_capacity, a.max_capacity,
                      a.timezone, a.start, a.end))
                for a in scheduled
                if a.resource_id == rid
            ),
        )  # fmt: skip
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class EventRequest:
    """What the engineer asks for: ``resource`` (a table or a stream) at the given capacity
    from ``start`` to ``end`` (UTC).  For a table ``read``/``write`` (units, ``None``: that
    dimension unchanged) on the table or on GSI ``index``, and/or ``warm`` (pre-warm to
    these read/write units per second); for a stream ``shards`` (open shards)."""

    resource: str
    start: datetime
    end: datetime
    index: str | None = None
    read: int | None = None
    write: int | None = None
    shards: int | None = None
    warm: WarmThroughput | None = None


@dataclass(frozen=True, slots=True)
class EventStep:
    """One moment of an event's timeline, in words."""

    at: datetime
    kind: StepKind
    what: str


@dataclass(frozen=True, slots=True)
class EventCost:
    """One way of living through the event and what it costs over the event's window (from
    the send to the settled return), with what it assumes; ``usd`` ``None``: unknown (a
    price missing from the book)."""

    label: str
    usd: float | None
    note: str = ""
    #: the share of requests served (1.0 = no throttling), where it was estimated
    served: float | None = None


@dataclass(frozen=True, slots=True)
class ReactiveEstimate:
    """What reactive scaling with a policy did on the expected shape (the simulated account
    runs it: :func:`capcon.core.backends.sim.rehearsal.rehearse`); handed to
    :func:`plan_event`, which cannot run a simulation (planning is pure)."""

    policy: str
    target: float
    usd: float
    served: float
    throttled_units: float
    scale_ups: int
    scale_downs: int
    peak_capacity: int
    note: str = ""


@dataclass(frozen=True, slots=True)
class EventPlan:
    """Everything an event will do, for a preview; :meth:`Scaler.apply_event` applies it as
    planned.  ``fingerprint``: the state the plan was made on (the stale check)."""

    event_id: str
    request: EventRequest
    kind: Literal["table", "stream"]
    label: str
    made_at: datetime
    fingerprint: str
    how: How
    #: the capacity before, at the peak and after the return, by dimension
    #: (``"read"``/``"write"`` for a table or GSI, ``"shards"`` for a stream)
    before: dict[str, int]
    peak: dict[str, int]
    after: dict[str, int]
    timeline: tuple[EventStep, ...]
    #: when the first change is sent (``send``) and when the return is sent
    send_at: datetime
    return_at: datetime
    #: AAS: targets registered for the event (tables without auto scaling), then the
    #: scheduled actions (raise and restore, per dimension)
    registers: tuple[ScalableTarget, ...]
    actions: tuple[ScheduledAction, ...]
    #: pre-warming sent at apply (on-demand tables)
    warm: WarmThroughput | None
    #: streams: the reshards capcon's engine runs
    reshards: tuple[ReshardStep, ...]
    costs: tuple[EventCost, ...]
    partitions_before: int
    partitions_after: int
    #: each partition's read/write units per second after the return
    per_partition_after_return: tuple[float, float] | None
    return_allowed: bool
    return_note: str
    warnings: tuple[Warning_, ...]
    assumptions: tuple[str, ...]
    price_book: str
    alternatives: tuple[str, ...] = ()
    #: the raise and restore as the planner sees them (``capcon plan`` on each): their
    #: warnings are part of :attr:`warnings`
    detail: dict[str, object] = field(default_factory=dict)


def plan_event(
    resource: Table | Stream,
    request: EventRequest,
    now: datetime,
    *,
    rules: RuleSettings,
    prices: PriceBook,
    targets: tuple[ScalableTarget, ...] = (),
    policies: tuple[ScalingPolicy, ...] = (),
    scheduled: tuple[ScheduledAction, ...] = (),
    reshard_history: tuple[datetime, ...] = (),
    reactive: ReactiveEstimate | None = None,
    usage: Usage | None = None,
    update_seconds: int = 60,
    engine_tick: timedelta | None = None,
) -> EventPlan | Refusal:
    """Plan ``request`` on ``resource`` at ``now``: an :class:`EventPlan` or a
    :class:`Refusal` naming every reason (a return not allowed that day, the reshard budget,
    a quota, an end before the start, a start in the past…).

    ``targets``/``policies``/``scheduled``: the resource's auto scaling as it is;
    ``reshard_history``: the stream's recent reshards; ``reactive``: the simulated account's
    rehearsal of reactive scaling on the expected shape; ``usage``: the resource's recent
    use (a :class:`~capcon.core.planning.planner.Usage`); ``update_seconds``: how long an
    update takes (the lead time); ``engine_tick``: how often the engine that executes a
    stream's schedule runs (its granularity)."""
    raise NotImplementedError


__all__ = [
    "ACTION_PREFIX",
    "EventCost",
    "EventPlan",
    "EventRequest",
    "EventStep",
    "ReactiveEstimate",
    "ReshardStep",
    "event_fingerprint",
    "event_id",
    "parse_when",
    "plan_event",
]
