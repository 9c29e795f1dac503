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
import itertools
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Literal

from capcon.core.model import (
    ACTIVE,
    UPDATING,
    Stream,
    Table,
    Throughput,
    ThroughputHistory,
    WarmThroughput,
)
from capcon.core.planning.partitions import estimate_partitions, split_above
from capcon.core.planning.planner import (
    PartPlan,
    PlanContext,
    Refusal,
    ScalePlan,
    StreamTraffic,
    Usage,
    Warning_,
    fingerprint,
    plan,
    stream_cost_notes,
    stream_region,
    table_cost_all_regions,
)
from capcon.core.planning.requests import scalable_dimension
from capcon.core.planning.reshard import uniform_shards
from capcon.core.planning.schedules import (
    ACTION_PREFIX,
    ReshardStep,
    action_name,
    parse_action_name,
)
from capcon.core.ports import (
    ScalableTarget,
    ScalingPolicy,
    ScheduledAction,
    TableChange,
    at_schedule,
    resource_id,
)
from capcon.core.pricing import (
    HOURS_PER_MONTH,
    PriceBook,
    advantage_stream_cost,
    on_demand_stream_cost,
    provisioned_stream_cost,
)
from capcon.core.pricing import assumptions as price_assumptions
from capcon.core.rules import (
    Code,
    RuleSettings,
    Violation,
    after_decrease,
    check_shard_count,
    decrease_budget,
    fmt_duration,
    part_label,
    reshard_budget,
    shard_count_bounds,
)

#: The longest an event may last, and the furthest ahead it may start (AAS keeps one-time
#: actions until they run; a year is a planning horizon, not an AWS limit).
MAX_EVENT = timedelta(days=31)
MAX_AHEAD = timedelta(days=366)

How = Literal["aas-scheduled", "aas-scheduled-target", "prewarm", "stream-schedule"]
StepKind = Literal["send", "ready", "start", "peak", "end", "return", "settled", "note"]

_RELATIVE = re.compile(r"\A\+\s*(\d+(?:\.\d+)?)\s*(m|min|mins|minutes?|h|hours?|d|days?)\Z", re.I)


#: What ``--start``/``--end`` accept, in the words every error repeats.
WHEN_ALLOWED = (
    "an ISO 8601 time in UTC (2026-12-05T18:00, 2026-12-05T18:00Z, 2026-12-05T19:00+01:00) "
    "or a time relative to now (+90m, +2h, +1d)"
)
_UNIT_SECONDS = {"m": 60.0, "h": 3600.0, "d": 86400.0}


def _shown(text: str) -> str:
    """``text`` quoted for an error message, cut to 40 characters."""
    return repr(text[:40] + ("…" if len(text) > 40 else ""))


def parse_when(text: str, now: datetime) -> datetime:
    """``text`` as a moment in UTC: ISO 8601 (``2026-12-05T18:00``, ``…Z``, ``…+01:00``; no
    offset means UTC) or relative to ``now`` (``+90m``, ``+2h``, ``+1d``).  ``ValueError``
    names what was wrong and what is allowed."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")
    if not isinstance(text, str):
        raise ValueError(f"a time must be text: give {WHEN_ALLOWED}")
    raw = text.strip()
    if not raw:
        raise ValueError(f"no time given: give {WHEN_ALLOWED}")
    if raw.lower() == "now":
        return now.astimezone(UTC).replace(microsecond=0)
    relative = _RELATIVE.match(raw)
    if relative is not None:
        seconds = float(relative[1]) * _UNIT_SECONDS[relative[2].lower()[0]]
        try:
            moment = now.astimezone(UTC) + timedelta(seconds=seconds)
        except OverflowError:
            raise ValueError(
                f"{_shown(raw)} is too far ahead: an event starts at most "
                f"{MAX_AHEAD.days} days from now"
            ) from None
        return moment.replace(microsecond=0)
    if raw[0] in "+-":
        raise ValueError(
            f"{_shown(raw)} is not a relative time: give a positive number and a unit, "
            "m, h or d (+90m, +2h, +1.5d)"
        )
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{_shown(raw)} is not a time: give {WHEN_ALLOWED}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC).replace(microsecond=0)
    except OverflowError:
        raise ValueError(f"{_shown(raw)} is out of range: give {WHEN_ALLOWED}") from None


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
    #: what this way costs per month once the event is over (``None``: unknown)
    after_per_month: float | None = None


@dataclass(frozen=True, slots=True)
class ReactiveEstimate:
    """What reactive scaling with a policy did on the expected shape (the simulated account
    runs it: :func:`capcon.core.backends.sim.rehearsal.rehearse`); handed to
    :func:`plan_event`, which cannot run a simulation (planning is pure).  ``usd`` is taken
    as the cost of the event's dimension over the plan's window (:attr:`EventPlan.send_at` →
    :attr:`EventPlan.costs_until`): the raise, the event, and :data:`EVENT_AFTER` after it."""

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
    #: when the return is over
    settled_at: datetime | None = None
    #: the end of the window the costs cover (from :attr:`send_at`): :data:`EVENT_AFTER`
    #: after the end, or the settled return if later; a rehearsal of reactive scaling handed
    #: to :func:`plan_event` should cover the same span
    costs_until: datetime | None = None


#: AWS does not say how soon after its time a scheduled action starts; capcon allows this
#: much (docs/aws-rules.md#planned-events).
AAS_START = timedelta(minutes=1)
#: The earliest moment after the plan a raise is scheduled: time to confirm and apply.
APPLY_MARGIN = timedelta(minutes=2)
#: Target tracking scales in after 15 consecutive 1-minute datapoints below target − 20
#: points (docs/aws-rules.md#target-tracking): the earliest a policy brings capacity down.
SCALE_IN_DELAY = timedelta(minutes=15)
#: The costs of an event are compared up to this long after its end: reactive scaling is
#: still coming back then (the rehearsal's tail, ``rehearse(after_s=3600)``).
EVENT_AFTER = timedelta(hours=1)
#: How often the engine that runs a stream's schedule ticks, when not told.
DEFAULT_ENGINE_TICK = timedelta(minutes=1)
#: The share of the peak capacity the event's demand is taken to use (for the on-demand
#: comparison), when not told: the usual target utilisation.
DEFAULT_PEAK_UTILISATION = 0.70

Dimension = Literal["read", "write"]


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _floor_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def _ceil_minute(moment: datetime) -> datetime:
    floor = _floor_minute(moment)
    return floor if floor == moment else floor + timedelta(minutes=1)


def _hours(a: datetime, b: datetime) -> float:
    return max(0.0, (b - a).total_seconds() / 3600)


def _at(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _usd(value: float | None) -> str:
    return "unknown" if value is None else f"${value:,.2f}"


def price_book_label(prices: PriceBook) -> str:
    """Which price book a plan's money comes from, in words."""
    text = f"{prices.region} prices as of {prices.as_of.isoformat()} from {prices.source}"
    if prices.assumed_from is not None:
        text += f" ({prices.assumed_from}'s prices used where {prices.region} has none)"
    return text


def _check_window(label: str, start: datetime, end: datetime, now: datetime) -> list[Violation]:
    """The event's own times: an end after the start, a start not in the past, at most
    :data:`MAX_EVENT` long and :data:`MAX_AHEAD` ahead."""
    found: list[Violation] = []
    if end <= start:
        found.append(
            Violation(
                Code.EVENT_TIME,
                label,
                f"{label}: the event ends ({_at(end)}) at or before its start ({_at(start)}): "
                "give an end after the start",
            )
        )
    if start < now:
        found.append(
            Violation(
                Code.EVENT_TIME,
                label,
                f"{label}: the start {_at(start)} is in the past (now {_at(now)}): give a start "
                "from now on (+90m, +2h, or a later time)",
            )
        )
    elif start - now > MAX_AHEAD:
        allowed = start - MAX_AHEAD
        found.append(
            Violation(
                Code.EVENT_TIME,
                label,
                f"{label}: the start {_at(start)} is more than {MAX_AHEAD.days} days ahead; "
                f"an event is planned at most {MAX_AHEAD.days} days ahead (from {_at(allowed)})",
                allowed_at=allowed,
            )
        )
    if end - start > MAX_EVENT:
        days = (end - start).total_seconds() / 86400
        found.append(
            Violation(
                Code.EVENT_TIME,
                label,
                f"{label}: the event lasts {days:,.1f} days; at most {MAX_EVENT.days} days are "
                "allowed (a longer change is a capacity change: capcon scale)",
            )
        )
    return found


def _is_capcon(action: ScheduledAction) -> str | None:
    """The event id of a capcon event action, ``None`` for any other action."""
    parsed = parse_action_name(action.name)
    return None if parsed is None else parsed[0]


def _phase(action: ScheduledAction) -> str | None:
    parsed = parse_action_name(action.name)
    return None if parsed is None else parsed[1]


def _conflicts(
    label: str,
    eid: str,
    pairs: list[tuple[str, str]],
    scheduled: tuple[ScheduledAction, ...],
    send_at: datetime,
    until: datetime,
    now: datetime,
) -> tuple[list[Violation], list[Warning_]]:
    """The scheduled actions already on the event's capacity (``pairs`` of resource id and
    scalable dimension): the same event (already scheduled), another capcon event whose
    raise-to-restore overlaps this one's (refused: one event's restore would end the other's
    raise), any other action in the window or recurring (a warning)."""
    found: list[Violation] = []
    warnings: list[Warning_] = []
    spans: dict[str, list[datetime]] = {}
    for action in scheduled:
        if (action.resource_id, action.dimension) not in pairs:
            continue
        other = _is_capcon(action)
        at = action.at
        if other is not None:
            spans.setdefault(other, [])
            if at is not None:
                spans[other].append(at)
            continue
        if at is None:
            warnings.append(
                Warning_(
                    "recurring-action",
                    f"{label}: the recurring scheduled action {action.name} ({action.schedule}) "
                    "also sets min/max of this capacity and may change it during the event",
                )
            )
        elif send_at <= at <= until and at >= now:
            warnings.append(
                Warning_(
                    "scheduled-action-in-window",
                    f"{label}: scheduled action {action.name} sets min/max of this capacity at "
                    f"{_at(at)}, during the event (min {action.min_capacity}, max "
                    f"{action.max_capacity})",
                )
            )
    for other, times in sorted(spans.items()):
        if other == eid:
            found.append(
                Violation(
                    Code.EVENT_CONFLICT,
                    label,
                    f"{label}: this event ({eid}) is already scheduled: see capcon event ls, "
                    f"or cancel it first (capcon event cancel {eid})",
                )
            )
            continue
        if not times:
            continue  # not a one-time schedule (a finished event ends before our raise)
        first, last = min(times), max(times)
        if first <= until and last >= send_at:
            found.append(
                Violation(
                    Code.EVENT_CONFLICT,
                    label,
                    f"{label}: event {other} changes the same capacity from {_at(first)} to "
                    f"{_at(last)}, overlapping this one: one event's restore would end the "
                    f"other's raise; cancel it (capcon event cancel {other}) or choose times "
                    "that do not overlap",
                )
            )
    return found, warnings


@dataclass(frozen=True, slots=True)
class _Dim:
    """One dimension of a table event and what auto scaling does with it."""

    word: Dimension
    scalable: str
    current: int
    asked: int
    raise_min: int
    raise_max: int
    restore_min: int
    restore_max: int
    register: ScalableTarget | None
    #: how capacity comes back: AAS brings it down at the end (the restored max, or a
    #: scheduled-only target), the policy scales it in later, or nothing brings it down
    comes_back: Literal["at-end", "policy", "stays"]
    policy: ScalingPolicy | None


def _ongoing_restore(
    eid: str, rid: str, scalable: str, scheduled: tuple[ScheduledAction, ...], now: datetime
) -> ScheduledAction | None:
    """The restore action of another capcon event that is under way on this capacity (its
    raise has run, its restore has not): the target's min/max now are that event's raise,
    and its restore holds the values to come back to."""
    raises = {
        _is_capcon(a)
        for a in scheduled
        if a.resource_id == rid
        and a.dimension == scalable
        and _phase(a) == "raise"
        and a.at is not None
        and a.at <= now
    }
    for action in scheduled:
        other = _is_capcon(action)
        if (
            other is not None
            and other != eid
            and other in raises
            and action.resource_id == rid
            and action.dimension == scalable
            and _phase(action) == "restore"
            and action.at is not None
            and action.at > now
        ):
            return action
    return None


def _part_capacity(table: Table, index: str | None) -> Throughput | None:
    return table.provisioned if index is None else table.index(index).provisioned


def _part_history(table: Table, index: str | None) -> ThroughputHistory:
    return table.history if index is None else table.index(index).history


def _part_size(table: Table, index: str | None) -> int:
    return table.size_bytes if index is None else table.index(index).size_bytes


def _part_warm(table: Table, index: str | None) -> WarmThroughput | None:
    return table.warm if index is None else table.index(index).warm


def _as_active(table: Table, index: str | None) -> Table:
    """The table as the raise will find it: an update under way now (``UPDATING``) is done."""
    if index is None:
        return replace(table, status=ACTIVE) if table.status == UPDATING else table
    indexes = tuple(
        replace(i, status=ACTIVE) if i.name == index and i.status == UPDATING else i
        for i in table.indexes
    )
    status = ACTIVE if table.status == UPDATING else table.status
    return replace(table, status=status, indexes=indexes)


def _with_usage(context: PlanContext, index: str | None, usage: Usage | None) -> PlanContext:
    """The planner's context for the event: ``usage`` for the part, and no auto scaling (the
    event sets min/max through AAS, so the "manual change undone" warning does not apply)."""
    used = dict(context.usage)
    if usage is not None:
        used[index] = usage
    return replace(context, usage=used, auto_scaled=frozenset())


def _return_check(
    label: str,
    history: ThroughputHistory,
    moments: list[tuple[datetime, bool]],
    now: datetime,
    rules: RuleSettings,
) -> tuple[list[Violation], str, list[str], list[Warning_]]:
    """Whether the decreases of the return are allowed at their moments by the decrease
    budget of their UTC day: ``moments`` are (when, forced) in time order, one per decrease
    (AAS updates each dimension on its own).  A forced decrease (AAS brings capacity down to a
    restored max) not allowed refuses the event; a policy's later scale-in not allowed is a
    warning (AAS tries again; capacity stays up until then).  Also the note the plan shows,
    the assumptions made and the warnings."""
    assumed: list[str] = []
    warnings: list[Warning_] = []
    if not moments:
        return [], "nothing comes down at the end: no decrease is used", assumed, warnings
    today = now.astimezone(UTC).date()
    known = history
    day = moments[0][0].astimezone(UTC).date()
    if day > today:
        known = ThroughputHistory()
        assumed.append(
            f"the return falls on {day.isoformat()} (UTC), a later day than today: its "
            "decreases cannot be known yet, so capcon assumes none before the return (each UTC "
            "day starts with a fresh budget)"
        )
    else:
        assumed.append(
            "decreases made between now and the return by other tools or by auto scaling are "
            "not known to capcon: they would use the same budget of that UTC day"
        )
    notes: list[str] = []
    for moment, forced in moments:
        budget = decrease_budget(known, moment, rules)
        if not budget.allowed_now:
            if budget.used_today >= rules.max_decreases_per_day:
                why = f"all {rules.max_decreases_per_day} decreases of that UTC day are used"
            else:
                why = (
                    f"it would be decrease {budget.used_today + 1} of that UTC day and the one "
                    f"before was less than {fmt_duration(rules.decrease_gap)} earlier (after "
                    f"{rules.decreases_any_time_per_day}, one more an hour)"
                )
            if forced:
                violation = Violation(
                    Code.DECREASE_BUDGET,
                    label,
                    f"{label}: the return at {_at(moment)} is not allowed: {why}; a return "
                    f"from {_at(budget.next_allowed_at)} is (end the event then, or later)",
                    allowed_at=budget.next_allowed_at,
                )
                return (
                    [violation],
                    f"the return at {_at(moment)} is not allowed: {why}",
                    assumed,
                    warnings,
                )
            warnings.append(
                Warning_(
                    "scale-in-delayed",
                    f"{label}: the policy's scale-in after the event (from {_at(moment)}) is "
                    f"not allowed then: {why}; AAS tries again, capacity stays up until "
                    f"{_at(budget.next_allowed_at)} at least",
                )
            )
            break
        notes.append(f"decrease {budget.used_today + 1} of {moment:%Y-%m-%d} (UTC)")
        known = after_decrease(known, moment)
    if not notes:
        return [], "the return uses no decrease at the end", assumed, warnings
    left = decrease_budget(known, moments[len(notes) - 1][0], rules).left_today
    note = (
        f"the return is allowed: it uses {', '.join(notes)}; {left} left that day after it"
        if len(notes) > 1
        else f"the return is allowed: it is {notes[0]}; {left} left that day after it"
    )
    return [], note, assumed, warnings


def _table_summary(table: Table, request: EventRequest) -> str:
    where = table.name if request.index is None else f"{table.name}/{request.index}"
    bits = []
    if request.read is not None:
        bits.append(f"{request.read:,} RCU")
    if request.write is not None:
        bits.append(f"{request.write:,} WCU")
    if request.warm is not None:
        bits.append(
            f"pre-warmed to {request.warm.read_units_per_second:,} read / "
            f"{request.warm.write_units_per_second:,} write units/s"
        )
    what = " / ".join(bits) or "no capacity given"
    return f"{where}: {what} from {_at(request.start)} to {_at(request.end)}"


def _table_shape(table: Table, request: EventRequest, label: str) -> list[Violation]:
    """What a table event must ask for: capacity on a provisioned table, pre-warming on an
    on-demand one, never shards."""
    found: list[Violation] = []
    if request.shards is not None:
        found.append(
            Violation(
                Code.NO_CHANGE,
                label,
                f"{label}: --shards is for streams; a table takes --rcu/--wcu (or --warm R/W "
                "on an on-demand table)",
            )
        )
    if table.is_on_demand:
        if request.read is not None or request.write is not None:
            found.append(
                Violation(
                    Code.NOT_PROVISIONED,
                    label,
                    f"{label} is on-demand: it has no capacity to raise; pre-warm it for the "
                    "event with --warm R/W (read/write units per second), or switch it to "
                    "provisioned first (capcon scale … --mode provisioned)",
                )
            )
        elif request.warm is None:
            found.append(
                Violation(
                    Code.NO_CHANGE,
                    label,
                    f"{label} is on-demand: give --warm R/W, the read/write units per second "
                    "to pre-warm it to for the event",
                )
            )
    else:
        if request.warm is not None:
            found.append(
                Violation(
                    Code.SEPARATE_REQUEST,
                    label,
                    f"{label} is provisioned: --warm pre-warms an on-demand table; an event "
                    "on a provisioned table raises --rcu/--wcu (pre-warm it on its own with "
                    "capcon scale … --warm)",
                )
            )
        if request.read is None and request.write is None:
            found.append(
                Violation(
                    Code.NO_CHANGE,
                    label,
                    f"{label}: give --rcu and/or --wcu, the capacity at the event's peak",
                )
            )
    return found


def _dims(
    table: Table,
    request: EventRequest,
    current: Throughput,
    eid: str,
    label: str,
    targets: tuple[ScalableTarget, ...],
    policies: tuple[ScalingPolicy, ...],
    scheduled: tuple[ScheduledAction, ...],
    now: datetime,
    rules: RuleSettings,
) -> tuple[list[_Dim], list[Violation], list[Warning_]]:
    """Each dimension asked for: its raise and restore min/max, the target to register, how
    its capacity comes back (docs/aws-rules.md#planned-events)."""
    rid = resource_id(table.name, request.index)
    dims: list[_Dim] = []
    found: list[Violation] = []
    warnings: list[Warning_] = []
    for word, asked in (("read", request.read), ("write", request.write)):
        if asked is None:
            continue
        dim: Dimension = "read" if word == "read" else "write"
        unit = "RCU" if dim == "read" else "WCU"
        scalable = scalable_dimension(request.index, dim)
        cur = current.read if dim == "read" else current.write
        target = next(
            (t for t in targets if t.resource_id == rid and t.dimension == scalable), None
        )
        policy = next(
            (
                p
                for p in policies
                if p.resource_id == rid
                and p.dimension == scalable
                and p.policy_type == "TargetTrackingScaling"
            ),
            None,
        )
        base_min, base_max = (target.min_capacity, target.max_capacity) if target else (cur, cur)
        if target is not None and target.suspended:
            warnings.append(
                Warning_(
                    "target-suspended",
                    f"{label}: scaling is suspended on the {dim}s target: while it is, its "
                    "policy does not scale, and if scheduled scaling is suspended too the "
                    "event's actions do not run (resume it before the event)",
                )
            )
        ongoing = _ongoing_restore(eid, rid, scalable, scheduled, now)
        if ongoing is not None:
            base_min = ongoing.min_capacity if ongoing.min_capacity is not None else base_min
            base_max = ongoing.max_capacity if ongoing.max_capacity is not None else base_max
        if asked < rules.min_capacity_units:
            found.append(
                Violation(
                    Code.BELOW_MINIMUM,
                    label,
                    f"{label}: {asked:,} {unit} asked; the minimum is "
                    f"{rules.min_capacity_units} {unit}",
                )
            )
            continue
        if target is not None and policy is not None:
            if asked <= base_min:
                found.append(
                    Violation(
                        Code.NO_CHANGE,
                        label,
                        f"{label}: auto scaling already keeps {dim}s at {base_min:,} {unit} or "
                        f"more (its min): an event's peak must be above it",
                    )
                )
                continue
            if asked > base_max:
                comes_back: Literal["at-end", "policy", "stays"] = "at-end"
            elif policy.disable_scale_in:
                comes_back = "stays"
                warnings.append(
                    Warning_(
                        "no-scale-in",
                        f"{label}: the policy {policy.name} has scale-in disabled: after the "
                        f"event {dim}s stay at {asked:,} {unit} until you lower them",
                    )
                )
            else:
                comes_back = "policy"
            dims.append(
                _Dim(dim, scalable, cur, asked, asked, max(base_max, asked),
                     base_min, base_max, None, comes_back, policy)
            )  # fmt: skip
            continue
        if asked < cur:
            found.append(
                Violation(
                    Code.NO_CHANGE,
                    label,
                    f"{label}: {asked:,} {unit} is below the current {cur:,} {unit}: an event "
                    "raises capacity for a spike (lower it with capcon scale)",
                )
            )
            continue
        if asked == cur:
            found.append(
                Violation(
                    Code.NO_CHANGE,
                    label,
                    f"{label}: {dim}s are already {cur:,} {unit}",
                )
            )
            continue
        if target is not None:
            # a target without a policy: a scheduled-only target (another event's) or the
            # "registered but no policy" trap; either way only min/max move capacity
            comes_back = "at-end" if asked > base_max else "stays"
            if comes_back == "stays":
                warnings.append(
                    Warning_(
                        "stays-at-peak",
                        f"{label}: the scalable target of {dim}s ({base_min:,}–{base_max:,}) "
                        f"has no policy: after the event {dim}s stay at {asked:,} {unit} "
                        "(nothing scales them in)",
                    )
                )
            dims.append(
                _Dim(dim, scalable, cur, asked, asked, max(base_max, asked),
                     base_min, base_max, None, comes_back, None)
            )  # fmt: skip
            continue
        register = ScalableTarget(rid, scalable, cur, cur)
        dims.append(
            _Dim(dim, scalable, cur, asked, asked, asked, cur, cur, register, "at-end", None)
        )
    return dims, found, warnings


def _cost_per_hour(
    table: Table,
    index: str | None,
    capacity: Throughput | None,
    usage: Usage | None,
    prices: PriceBook,
    context: PlanContext,
    *,
    storage: bool = True,
) -> float | None:
    size = _part_size(table, index) if storage else 0
    cost = table_cost_all_regions(table, index, capacity, usage, size, prices, context)
    return None if cost is None else cost.per_hour


def _only(value: Throughput | Usage, words: set[str]) -> Throughput | Usage:
    """``value`` with the dimensions not in ``words`` zeroed (they cost the same either way)."""
    if isinstance(value, Throughput):
        return Throughput(
            value.read if "read" in words else 0, value.write if "write" in words else 0
        )
    return Usage(
        value.demand_read if "read" in words else 0.0,
        value.demand_write if "write" in words else 0.0,
    )


def _table_costs(
    table: Table,
    index: str | None,
    dims: list[_Dim],
    current: Throughput,
    peak: Throughput,
    usage: Usage | None,
    window: tuple[datetime, datetime, datetime, datetime, datetime],
    prices: PriceBook,
    context: PlanContext,
    reactive: ReactiveEstimate | None,
    share: float,
) -> tuple[tuple[EventCost, ...], list[str]]:
    """The event against staying at peak, reactive scaling and on-demand, over the window
    (the raise → an hour after the end, as the rehearsal runs: :data:`EVENT_AFTER`); each with
    what it costs per month afterwards.  Only the event's dimensions are priced: the other
    one and storage cost the same whichever way the event is lived through."""
    send_at, start, end, back_at, until = window
    words: set[str] = {d.word for d in dims}
    base_cap = _only(current, words)
    peak_cap = _only(peak, words)
    assert isinstance(base_cap, Throughput) and isinstance(peak_cap, Throughput)

    def hourly(capacity: Throughput | None, demand: Usage | None) -> float | None:
        return _cost_per_hour(table, index, capacity, demand, prices, context, storage=False)

    base_h = hourly(base_cap, None) or 0.0
    peak_h = hourly(peak_cap, None) or 0.0
    span = _hours(send_at, until)
    event_usd = peak_h * _hours(send_at, back_at) + base_h * _hours(back_at, until)
    # on-demand: the event's demand is a share of the peak; outside it, recent use
    event_demand = _only(Usage(peak.read * share, peak.write * share), words)
    base_demand = _only(usage, words) if usage is not None else event_demand
    assert isinstance(event_demand, Usage) and isinstance(base_demand, Usage)
    od_event = hourly(None, event_demand)
    od_base = hourly(None, base_demand)
    od_usd = (
        None
        if od_event is None or od_base is None
        else od_event * _hours(start, end) + od_base * (span - _hours(start, end))
    )
    shown = " and ".join(f"{w}s" for w in ("read", "write") if w in words)
    costs = [
        EventCost(
            "scheduled (this plan)",
            event_usd,
            f"{_usd(peak_h)}/h at the peak from the raise to the return, {_usd(base_h)}/h at "
            "today's capacity after",
            after_per_month=base_h * HOURS_PER_MONTH,
        ),
        EventCost(
            "stay at peak",
            peak_h * span,
            f"{_usd((peak_h - base_h) * HOURS_PER_MONTH)}/month more afterwards, for as long "
            "as it stays",
            after_per_month=peak_h * HOURS_PER_MONTH,
        ),
    ]
    if reactive is not None:
        costs.append(_reactive_cost(reactive))
    else:
        costs.append(
            EventCost(
                "reactive",
                None,
                "not rehearsed: the simulated account runs the configured policy on the "
                "event's shape (capcon event plan does)",
            )
        )
    costs.append(
        EventCost(
            "on-demand",
            od_usd,
            f"{shown} at {share:.0%} of the peak during the event"
            + (
                ", recent use outside it"
                if usage is not None
                else ", and outside it (recent use unknown)"
            )
            + "; a provisioned table switches to on-demand at most 4 times per 24 h",
            after_per_month=(None if od_base is None else od_base * HOURS_PER_MONTH),
        )
    )
    notes = [
        f"costs are {part_label(table.name, index)}'s {shown} over the window "
        f"{_at(send_at)} → {_at(until)} ({span:,.2f} h: from the raise to "
        f"{fmt_duration(EVENT_AFTER)} after the end, as the reactive rehearsal runs), from the "
        "price book; the other dimension and storage cost the same in every case and are left "
        f"out; the event's demand, for on-demand, is taken as {share:.0%} of the peak capacity"
    ]
    return tuple(costs), notes


def _reactive_cost(reactive: ReactiveEstimate) -> EventCost:
    note = (
        f"rehearsed on the simulated account: {reactive.served:.1%} of requests served, "
        f"{reactive.throttled_units:,.0f} units throttled, {reactive.scale_ups} scale-ups and "
        f"{reactive.scale_downs} scale-downs, up to {reactive.peak_capacity:,}"
    )
    if reactive.note:
        note += f"; {reactive.note}"
    return EventCost(
        f"reactive ({reactive.policy} at {reactive.target:g} %)",
        reactive.usd,
        note,
        served=reactive.served,
    )


def _table_alternatives(
    part: PartPlan | None,
    current: Throughput,
    dims: list[_Dim],
    late: bool,
    rules: RuleSettings,
) -> list[str]:
    found: list[str] = []
    if part is not None and part.partitions_permanent:
        before = part.partitions_before.count
        for dim in dims:
            most = split_above(current, before, dim.word == "read", rules)
            unit = "RCU" if dim.word == "read" else "WCU"
            if most is not None and dim.current < most < dim.asked:
                found.append(
                    f"a peak of at most {most:,} {unit} keeps the ~{before} "
                    f"partition{'s' if before != 1 else ''}: "
                    "nothing is split, nothing diluted after the return"
                )
        found.append(
            "on-demand for the event: no provisioned capacity is spread over partitions, "
            "AWS adds them for the traffic itself (a provisioned table switches to on-demand "
            "at most 4 times per 24 h, back to provisioned at any time)"
        )
    if late or (part is not None and part.partitions_permanent):
        found.append(
            "pre-warming the table to the peak ahead (capcon scale --warm) makes the raise "
            "instant (within warm throughput no new partitions are waited for); it is "
            "irreversible, charged, and needs the same partitions"
        )
    return found


def _plan_table_event(
    table: Table,
    request: EventRequest,
    now: datetime,
    found: list[Violation],
    *,
    rules: RuleSettings,
    prices: PriceBook,
    targets: tuple[ScalableTarget, ...],
    policies: tuple[ScalingPolicy, ...],
    scheduled: tuple[ScheduledAction, ...],
    reactive: ReactiveEstimate | None,
    usage: Usage | None,
    update: timedelta,
    context: PlanContext,
    share: float,
) -> EventPlan | Refusal:
    index = request.index
    label = part_label(table.name, index)
    summary = _table_summary(table, request)
    if index is not None and index not in {i.name for i in table.indexes}:
        have = ", ".join(i.name for i in table.indexes) or "none"
        found.append(
            Violation(
                Code.UNKNOWN_INDEX,
                label,
                f"table {table.name} has no global secondary index {index!r} (it has: {have})",
            )
        )
        return Refusal(table.name, "table", summary, now, tuple(found))
    shape = _table_shape(table, request, label)
    if shape or (found and table.is_on_demand):
        return Refusal(table.name, "table", summary, now, (*found, *shape))
    if table.is_on_demand:
        return _plan_prewarm_event(
            table, request, now, rules=rules, prices=prices, reactive=reactive, usage=usage,
            context=context, share=share,
        )  # fmt: skip
    current = _part_capacity(table, index)
    if current is None:
        return Refusal(
            table.name,
            "table",
            summary,
            now,
            (Violation(Code.NOT_PROVISIONED, label, f"{label}: its capacity is not known"),),
        )
    eid = event_id(table.name, index, request.start, request.end)
    dims, wrong, warnings = _dims(
        table, request, current, eid, label, targets, policies, scheduled, now, rules
    )
    if found and dims and not wrong:
        # the times are wrong: name what the planner says of the peak too, checked now
        asked = Throughput(
            max([current.read, *(d.asked for d in dims if d.word == "read")]),
            max([current.write, *(d.asked for d in dims if d.word == "write")]),
        )
        if asked != current:
            change = (
                TableChange(table=asked)
                if index is None
                else TableChange(indexes=((index, asked),))
            )
            checked = plan(_as_active(table, index), change, now, rules=rules, prices=prices,
                           context=_with_usage(context, index, usage))  # fmt: skip
            if isinstance(checked, Refusal):
                found += checked.violations
    if found or wrong:
        return Refusal(table.name, "table", summary, now, (*found, *wrong))

    start, end = request.start, request.end
    lead = update + AAS_START
    earliest = _ceil_minute(now + APPLY_MARGIN)
    send_at = max(_floor_minute(start - lead), earliest)
    if end <= send_at:
        return Refusal(
            table.name,
            "table",
            summary,
            now,
            (
                Violation(
                    Code.EVENT_TIME,
                    label,
                    f"{label}: the event ends at {_at(end)}, before its raise can be sent "
                    f"({_at(send_at)} at the earliest): give a later end",
                ),
            ),
        )
    ready = send_at + lead
    peak = Throughput(
        max([current.read, *(d.asked for d in dims if d.word == "read")]),
        max([current.write, *(d.asked for d in dims if d.word == "write")]),
    )
    ctx = _with_usage(context, index, usage)
    raise_plan: ScalePlan | None = None
    part: PartPlan | None = None
    if peak != current:
        change = TableChange(table=peak) if index is None else TableChange(indexes=((index, peak),))
        planned = plan(_as_active(table, index), change, send_at, rules=rules, prices=prices,
                       context=ctx)  # fmt: skip
        if isinstance(planned, Refusal):
            return Refusal(table.name, "table", summary, now, planned.violations)
        raise_plan = planned
        part = next(p for p in planned.parts if p.index == index)
    busy = table.status if index is None else table.index(index).status
    if busy == UPDATING:
        warnings.append(
            Warning_(
                "busy-now",
                f"{label} is UPDATING now: the raise at {_at(send_at)} needs it ACTIVE again "
                "(an update finishes in minutes)",
            )
        )
    if table.is_global:
        warnings.append(
            Warning_(
                "global-table-event",
                f"{table.name} is a global table: the scheduled actions change this region's "
                "scalable targets; write capacity is the same in every replica, and whether "
                "replica auto scaling (UpdateTableReplicaAutoScaling) follows them is not "
                "confirmed: check every region after the raise",
            )
        )
    pairs = [(resource_id(table.name, index), d.scalable) for d in dims]
    clash, clash_warnings = _conflicts(label, eid, pairs, scheduled, send_at, end, now)
    warnings += clash_warnings
    # the return: one decrease per dimension AAS brings down (each its own UpdateTable);
    # where a policy stays in charge it scales in later, from its scale-in alarm on
    moments = sorted(
        [(end, True) for d in dims if d.comes_back == "at-end"]
        + [
            (end + SCALE_IN_DELAY, False)
            for d in dims
            if d.comes_back == "policy"
            or (
                d.comes_back == "at-end"
                and d.policy is not None
                and not d.policy.disable_scale_in
                and d.current < d.restore_max
            )
        ]
    )
    refused, return_note, return_assumed, return_warnings = _return_check(
        label, _part_history(table, index), moments, now, rules
    )
    warnings += return_warnings
    if clash or refused:
        return Refusal(table.name, "table", summary, now, (*clash, *refused))
    back_at = moments[-1][0] if moments else end
    settled = back_at + lead
    if ready > start:
        warnings.append(
            Warning_(
                "late",
                f"{label}: the event starts at {_at(start)}, too soon for the lead time "
                f"({fmt_duration(lead)}): the raise is sent at {_at(send_at)} and ready about "
                f"{_at(ready)}, {fmt_duration(ready - start, step=60)} after the start",
            )
        )
    registers = tuple(d.register for d in dims if d.register is not None)
    actions: list[ScheduledAction] = []
    for d in dims:
        rid = resource_id(table.name, index)
        actions.append(
            ScheduledAction(action_name(eid, "raise", d.word), rid, d.scalable,
                            at_schedule(send_at), d.raise_min, d.raise_max)
        )  # fmt: skip
    for d in dims:
        rid = resource_id(table.name, index)
        actions.append(
            ScheduledAction(action_name(eid, "restore", d.word), rid, d.scalable,
                            at_schedule(end), d.restore_min, d.restore_max)
        )  # fmt: skip
    timeline = _table_timeline(
        label, dims, current, peak, (send_at, ready, start, end, settled), part, update
    )
    until = max(settled, end + EVENT_AFTER)
    costs, cost_notes = _table_costs(
        table, index, dims, current, peak, usage, (send_at, start, end, back_at, until),
        prices, ctx, reactive, share,
    )  # fmt: skip
    if part is None:
        estimate = estimate_partitions(
            current, _part_size(table, index), rules, warm=_part_warm(table, index)
        )
        p_before = p_after = estimate.count
        per_partition = estimate.per_partition(current)
    else:
        p_before, p_after = part.partitions_before.count, part.partitions_after.count
        per_partition = part.per_partition_after_return
    assumed = [
        f"Application Auto Scaling does not say how soon after its time a scheduled action "
        f"runs: capcon allows {fmt_duration(AAS_START)}, and {fmt_duration(update)} for the "
        "update itself (an increase that adds partitions can take longer: AWS says it depends "
        "on the table's size and the new peak)",
        *return_assumed,
        *cost_notes,
    ]
    if len(moments) > 1:
        assumed.append(
            "Application Auto Scaling changes each dimension with its own UpdateTable, and a "
            f"policy scales in with one of its own: the return is counted as {len(moments)} "
            "decreases"
        )
    if any(d.comes_back == "policy" for d in dims):
        assumed.append(
            "where a target-tracking policy stays in charge, the restore gives back its min and "
            "max and the policy scales in: no sooner than its scale-in alarm "
            f"({fmt_duration(SCALE_IN_DELAY)} of low use) after the end"
        )
    base_assumptions = raise_plan.assumptions if raise_plan else price_assumptions(prices)
    detail: dict[str, object] = {"raise": raise_plan} if raise_plan else {}
    return EventPlan(
        event_id=eid,
        request=request,
        kind="table",
        label=summary,
        made_at=now,
        fingerprint=event_fingerprint(table, index, targets, policies, scheduled),
        how="aas-scheduled-target" if registers else "aas-scheduled",
        before={"read": current.read, "write": current.write},
        peak={"read": peak.read, "write": peak.write},
        after={"read": current.read, "write": current.write},
        timeline=timeline,
        send_at=send_at,
        return_at=end,
        registers=registers,
        actions=tuple(actions),
        warm=None,
        reshards=(),
        costs=costs,
        partitions_before=p_before,
        partitions_after=p_after,
        per_partition_after_return=per_partition,
        return_allowed=True,
        return_note=return_note,
        warnings=(*(raise_plan.warnings if raise_plan else ()), *warnings),
        assumptions=tuple(dict.fromkeys((*base_assumptions, *assumed))),
        price_book=price_book_label(prices),
        alternatives=tuple(_table_alternatives(part, current, dims, ready > start, rules)),
        detail=detail,
        settled_at=settled,
        costs_until=until,
    )


def _table_timeline(
    label: str,
    dims: list[_Dim],
    current: Throughput,
    peak: Throughput,
    times: tuple[datetime, datetime, datetime, datetime, datetime],
    part: PartPlan | None,
    update: timedelta,
) -> tuple[EventStep, ...]:
    send_at, ready, start, end, settled = times

    def minmax(d: _Dim, raised: bool) -> str:
        lo, hi = (d.raise_min, d.raise_max) if raised else (d.restore_min, d.restore_max)
        return f"{d.word}s min {lo:,} max {hi:,}"

    registered = [d for d in dims if d.register is not None]
    steps: list[EventStep] = []
    if registered:
        steps.append(
            EventStep(
                send_at,
                "note",
                "at apply: a scheduled-only scalable target is registered for "
                + " and ".join(f"{d.word}s (min = max = {d.current:,})" for d in registered)
                + ": capacity does not move until the raise",
            )
        )
    steps.append(
        EventStep(
            send_at,
            "send",
            f"Application Auto Scaling raises {label}: "
            + "; ".join(minmax(d, True) for d in dims)
            + " (scheduled action at(...))",
        )
    )
    steps.append(
        EventStep(ready, "ready", f"{label} at {peak} (now {current}; an update takes about "
                  f"{fmt_duration(update)})")
    )  # fmt: skip
    steps.append(EventStep(start, "start", f"the event starts: {label} at {peak}"))
    if part is not None and part.partitions_permanent:
        steps.append(
            EventStep(
                ready,
                "note",
                f"estimated partitions {part.partitions_before.count} → "
                f"{part.partitions_after.count}, for good (partitions never merge)",
            )
        )
    steps.append(
        EventStep(
            end,
            "end",
            "the event ends: Application Auto Scaling restores "
            + "; ".join(minmax(d, False) for d in dims),
        )
    )
    for d in dims:
        unit = "RCU" if d.word == "read" else "WCU"
        if d.comes_back == "at-end":
            steps.append(
                EventStep(
                    end,
                    "return",
                    f"{d.word}s come down to {d.restore_max:,} {unit} "
                    "(a decrease: Application Auto Scaling's UpdateTable)",
                )
            )
        if d.comes_back == "policy" or (
            d.comes_back == "at-end"
            and d.policy is not None
            and not d.policy.disable_scale_in
            and d.current < d.restore_max
        ):
            steps.append(
                EventStep(
                    end + SCALE_IN_DELAY,
                    "return",
                    f"{d.word}s: the target-tracking policy scales in as traffic allows, no "
                    f"sooner than its {fmt_duration(SCALE_IN_DELAY)} scale-in alarm (a decrease)",
                )
            )
        if d.comes_back == "stays":
            steps.append(EventStep(end, "note", f"{d.word}s stay at {d.asked:,} after the end"))
    if any(d.comes_back == "stays" for d in dims):
        # nothing brings those back: no "back at today's capacity" moment to promise
        steps.append(
            EventStep(
                settled,
                "note",
                f"{label} does not come back by itself (no policy lowers it): "
                "capcon scale, or a target-tracking policy, brings it down",
            )
        )
    else:
        steps.append(EventStep(settled, "settled", f"{label} back at {current}"))
    return _ordered(steps)


_KIND_ORDER: dict[str, int] = {
    kind: n
    for n, kind in enumerate(("note", "send", "ready", "start", "peak", "end", "return", "settled"))
}


def _ordered(steps: list[EventStep]) -> tuple[EventStep, ...]:
    """The timeline by time; at the same moment in the order things happen."""
    return tuple(sorted(steps, key=lambda s: (s.at, _KIND_ORDER[s.kind])))


def _plan_prewarm_event(
    table: Table,
    request: EventRequest,
    now: datetime,
    *,
    rules: RuleSettings,
    prices: PriceBook,
    reactive: ReactiveEstimate | None,
    usage: Usage | None,
    context: PlanContext,
    share: float,
) -> EventPlan | Refusal:
    """An on-demand table's event: pre-warming sent at apply (irreversible, charged)."""
    index = request.index
    label = part_label(table.name, index)
    summary = _table_summary(table, request)
    warm = request.warm
    assert warm is not None
    change = TableChange(warm=warm) if index is None else TableChange(index_warm=((index, warm),))
    ctx = _with_usage(context, index, usage)
    planned = plan(_as_active(table, index), change, now, rules=rules, prices=prices, context=ctx)
    if isinstance(planned, Refusal):
        return Refusal(table.name, "table", summary, now, planned.violations)
    part = next(p for p in planned.parts if p.index == index)
    start, end = request.start, request.end
    send_at = now
    span = _hours(send_at, end)
    event_demand = Usage(warm.read_units_per_second * share, warm.write_units_per_second * share)
    base_demand = usage if usage is not None else event_demand
    od_event = _cost_per_hour(table, index, None, event_demand, prices, ctx)
    od_base = _cost_per_hour(table, index, None, base_demand, prices, ctx)
    od_usd = (
        None
        if od_event is None or od_base is None
        else od_event * _hours(start, end) + od_base * (span - _hours(start, end))
    )
    charge = part.prewarm_charge
    costs = [
        EventCost(
            "pre-warmed (this plan)",
            None if od_usd is None or charge is None else od_usd + charge,
            f"a one-time pre-warming charge of {_usd(charge)}"
            + (
                " (its price is unknown: set prewarm_read_units and prewarm_write_units in a "
                "price file)"
                if charge is None
                else ""
            )
            + f", then on-demand requests: {_usd(od_usd)} over the window",
            after_per_month=None if od_base is None else od_base * HOURS_PER_MONTH,
        ),
        EventCost(
            "on-demand, not pre-warmed",
            od_usd,
            "the same requests; on-demand serves up to double its previous peak at once, "
            "beyond that it throttles while AWS adds partitions",
            after_per_month=None if od_base is None else od_base * HOURS_PER_MONTH,
        ),
    ]
    if reactive is not None:
        costs.append(_reactive_cost(reactive))
    before_warm = part.warm_before
    after_warm = part.warm_after or warm
    steps = (
        EventStep(send_at, "send", f"at apply: {label} pre-warmed to "
                  f"{warm.read_units_per_second:,} read / {warm.write_units_per_second:,} "
                  "write units/s (UpdateTable WarmThroughput)"),
        EventStep(start, "start", "the event starts: served at once up to the warm throughput"),
        EventStep(end, "end", "the event ends: nothing to undo (warm throughput never "
                  "decreases; on-demand bills per request)"),
    )  # fmt: skip
    return EventPlan(
        event_id=event_id(table.name, index, start, end),
        request=request,
        kind="table",
        label=summary,
        made_at=now,
        fingerprint=event_fingerprint(table, index),
        how="prewarm",
        before=(
            {}
            if before_warm is None
            else {
                "read": before_warm.read_units_per_second,
                "write": before_warm.write_units_per_second,
            }
        ),
        peak={"read": warm.read_units_per_second, "write": warm.write_units_per_second},
        after={
            "read": after_warm.read_units_per_second,
            "write": after_warm.write_units_per_second,
        },
        timeline=steps,
        send_at=send_at,
        return_at=end,
        registers=(),
        actions=(),
        warm=warm,
        reshards=(),
        costs=tuple(costs),
        partitions_before=part.partitions_before.count,
        partitions_after=part.partitions_after.count,
        per_partition_after_return=None,
        return_allowed=True,
        return_note="nothing to return: pre-warming is irreversible and an on-demand table "
        "has no capacity to bring down",
        warnings=planned.warnings,
        assumptions=(
            *planned.assumptions,
            f"costs over the window {_at(send_at)} → {_at(end)}: the event's demand taken as "
            f"{share:.0%} of the pre-warmed throughput"
            + ("" if usage is not None else ", and outside it (recent use unknown)"),
            "AWS gives no duration for pre-warming: WarmThroughput's status is UPDATING until "
            "it is done; it is sent at apply, well ahead of the start",
        ),
        price_book=price_book_label(prices),
        alternatives=(),
        detail={"raise": planned},
        settled_at=send_at,
        costs_until=end,
    )


def shard_steps(current: int, target: int, rules: RuleSettings) -> tuple[int, ...]:
    """The open-shard counts ``UpdateShardCount`` goes through from ``current`` to
    ``target``, each within ½…2× of the one before: 4 → 16 is (8, 16), 16 → 4 is (8, 4)."""
    steps: list[int] = []
    at = current
    while at != target and current >= 1 and target >= 1:
        low, high = shard_count_bounds(at, rules)
        following = min(target, high) if target > at else max(target, low)
        if following == at:  # the factors allow no move (a rules file set them to 1)
            break
        steps.append(following)
        at = following
    return tuple(steps)


def _stream_hour(stream: Stream, shards: int, traffic: StreamTraffic, prices: PriceBook) -> float:
    return provisioned_stream_cost(
        shards,
        prices,
        retention_hours=stream.retention_hours,
        records_per_second=traffic.records_in_per_second,
        average_record_bytes=traffic.average_record_bytes,
        bytes_in_per_second=traffic.bytes_in_per_second,
        efo_consumers=stream.consumer_count,
    ).per_hour


def _stream_on_demand_hour(
    stream: Stream, traffic: StreamTraffic, prices: PriceBook
) -> float | None:
    price = advantage_stream_cost if stream.on_demand_advantage else on_demand_stream_cost
    cost = price(
        traffic.bytes_in_per_second,
        traffic.bytes_out_per_second,
        prices,
        records_in_per_second=traffic.records_in_per_second,
        efo_consumers=stream.consumer_count,
        retention_hours=stream.retention_hours,
    )
    return None if cost is None else cost.per_hour


def _event_traffic(
    peak: int, base: StreamTraffic | None, rules: RuleSettings, share: float
) -> StreamTraffic:
    """The event's traffic: ``share`` of what ``peak`` shards take in, at today's record size
    (1 KiB when unknown), read out as today's ratio of out to in (once when unknown)."""
    size = base.average_record_bytes if base is not None else 1024.0
    records = peak * rules.shard_write_records_per_second * share
    data = min(records * size, peak * rules.shard_write_bytes_per_second * share)
    ratio = 1.0
    if base is not None and base.bytes_in_per_second > 0:
        ratio = base.bytes_out_per_second / base.bytes_in_per_second
    return StreamTraffic(
        bytes_in_per_second=data,
        records_in_per_second=data / size if size > 0 else records,
        bytes_out_per_second=data * ratio,
    )


def _plan_stream_event(
    stream: Stream,
    request: EventRequest,
    now: datetime,
    found: list[Violation],
    *,
    rules: RuleSettings,
    prices: PriceBook,
    history: tuple[datetime, ...],
    reactive: ReactiveEstimate | None,
    update: timedelta,
    tick: timedelta,
    context: PlanContext,
    share: float,
) -> EventPlan | Refusal:
    label = f"stream {stream.name}"
    start, end = request.start, request.end
    summary = (
        f"{stream.name}: {request.shards if request.shards is not None else '?'} open shards "
        f"from {_at(start)} to {_at(end)}"
    )
    if (
        request.read is not None
        or request.write is not None
        or request.warm is not None
        or request.index is not None
    ):
        found.append(
            Violation(
                Code.NO_CHANGE,
                label,
                f"{label}: a stream takes --shards N (open shards at the peak); --rcu, --wcu, "
                "--warm and --index are for tables",
            )
        )
    current = stream.open_shard_count
    peak = request.shards
    if peak is None:
        found.append(
            Violation(
                Code.NO_CHANGE, label, f"{label}: give --shards N, the open shards at the peak"
            )
        )
    elif peak < 1:
        found.append(
            Violation(Code.BELOW_MINIMUM, label, f"{label}: {peak} shards asked; minimum 1")
        )
    elif peak > rules.max_shards_per_stream:
        found.append(
            Violation(
                Code.STREAM_SHARD_MAX,
                label,
                f"{label}: {peak:,} shards asked; a stream can have at most "
                f"{rules.max_shards_per_stream:,}",
            )
        )
    elif peak == current:
        found.append(Violation(Code.NO_CHANGE, label, f"{label} already has {current} open shards"))
    elif peak < current:
        found.append(
            Violation(
                Code.NO_CHANGE,
                label,
                f"{label}: {peak} shards is below the {current} open now: an event raises "
                "shards for a spike (lower them with capcon scale)",
            )
        )
    if stream.is_on_demand:
        found.append(
            Violation(
                Code.NOT_PROVISIONED,
                label,
                f"{label} is on-demand: AWS manages its shards, there is nothing to schedule "
                "(switch it to provisioned first to plan shards)",
            )
        )
    elif stream.status not in (ACTIVE, UPDATING):
        found.append(
            Violation(
                Code.RESOURCE_BUSY,
                label,
                f"{label} is {stream.status}: a schedule needs an ACTIVE stream",
            )
        )
    if found or peak is None:
        return Refusal(stream.name, "stream", summary, now, tuple(found))
    up = shard_steps(current, peak, rules)
    down = shard_steps(up[-1] if up else current, current, rules)
    if not up or up[-1] != peak or not down or down[-1] != current:
        return Refusal(
            stream.name,
            "stream",
            summary,
            now,
            (
                Violation(
                    Code.SHARD_FACTOR,
                    label,
                    f"{label}: {current} → {peak} shards cannot be reached with the "
                    "UpdateShardCount factors of your rule settings",
                ),
            ),
        )
    slot = update + tick
    earliest = _ceil_minute(now + APPLY_MARGIN)
    first = max(_floor_minute(start - len(up) * slot), earliest)
    if end < first + len(up) * slot:
        return Refusal(
            stream.name,
            "stream",
            summary,
            now,
            (
                Violation(
                    Code.EVENT_TIME,
                    label,
                    f"{label}: the event ends at {_at(end)}, before its {len(up)} raising "
                    f"reshards are done (from {_at(first)}, one every {fmt_duration(slot)}, "
                    f"the last done about {_at(first + len(up) * slot)}): give a later end",
                ),
            ),
        )
    steps = [ReshardStep(first + i * slot, n, "raise") for i, n in enumerate(up)]
    steps += [ReshardStep(end + i * slot, n, "restore") for i, n in enumerate(down)]
    eid = event_id(stream.name, None, start, end)
    account = context.account_shards
    if account is not None and account.region is None:
        account = replace(account, region=stream_region(stream))
    violations: list[Violation] = []
    known = list(history)
    before = current
    for n, step in enumerate(steps, start=1):
        shaped = replace(stream, status=ACTIVE, shards=uniform_shards(before))
        at_step = (
            None
            if account is None
            else replace(account, open_shards=account.open_shards - current + before)
        )
        where = (
            f"{step.phase} step {n} of {len(steps)} ({before} → {step.shards} shards at "
            f"{_at(step.at)})"
        )
        for v in check_shard_count(shaped, step.shards, step.at, rules, known, at_step):
            violations.append(replace(v, message=f"{where}: {v.message}"))
        known.append(step.at)
        before = step.shards
    if violations:
        return Refusal(stream.name, "stream", summary, now, tuple(violations))
    raised_at = steps[len(up) - 1].at + slot
    settled = steps[-1].at + slot
    budget_after = reshard_budget(known, settled, rules)
    until = max(settled, end + EVENT_AFTER)
    warnings: list[Warning_] = []
    if raised_at > start:
        warnings.append(
            Warning_(
                "late",
                f"{label}: the event starts at {_at(start)}, too soon for {len(up)} reshards "
                f"(one every {fmt_duration(slot)}): the peak is reached about {_at(raised_at)}",
            )
        )
    odd = [
        f"{a} → {b}"
        for a, b in zip((current, *up, *down[:-1]), (*up, *down), strict=True)
        if b not in (2 * a, a / 2)
    ]
    if odd:
        warnings.append(
            Warning_(
                "short-lived-shards",
                f"{label}: {', '.join(odd)} are not doublings or halvings: UpdateShardCount "
                "creates short-lived shards on the way (they count against the account quota)",
            )
        )
    closed = sum(up) + sum(down[:-1])
    warnings.append(
        Warning_(
            "closed-shards",
            f"{label}: the reshards close about {closed} shards in all; their data stays "
            f"readable for the {stream.retention_hours} h retention, then expires",
        )
    )
    traffic = context.stream_traffic
    base_traffic = traffic or StreamTraffic()
    base_h = _stream_hour(stream, current, base_traffic, prices)
    peak_traffic = _event_traffic(peak, traffic, rules, share)
    peak_h = _stream_hour(stream, peak, peak_traffic, prices)
    moments = sorted({first, start, end, until, *(s.at for s in steps)})
    event_usd = 0.0
    for t0, t1 in itertools.pairwise(moments):
        open_now = current
        for step in steps:
            if step.at <= t0:
                open_now = step.shards
        inside = start <= t0 < end
        traffic_now = peak_traffic if inside else base_traffic
        event_usd += _hours(t0, t1) * _stream_hour(stream, open_now, traffic_now, prices)
    span = _hours(first, until)
    od_event = _stream_on_demand_hour(stream, peak_traffic, prices)
    od_base = _stream_on_demand_hour(stream, base_traffic if traffic else peak_traffic, prices)
    od_usd = (
        None
        if od_event is None or od_base is None
        else od_event * _hours(start, end) + od_base * (span - _hours(start, end))
    )
    costs: list[EventCost] = [
        EventCost(
            "scheduled (this plan)",
            event_usd,
            f"shard-hours step by step: {current} → {' → '.join(map(str, up))} and back",
            after_per_month=base_h * HOURS_PER_MONTH,
        ),
        EventCost(
            "stay at peak",
            _stream_hour(stream, peak, base_traffic, prices) * _hours(first, start)
            + peak_h * _hours(start, end)
            + _stream_hour(stream, peak, base_traffic, prices) * _hours(end, until),
            f"{peak} shards from the first reshard on, and "
            f"{_usd((_stream_hour(stream, peak, base_traffic, prices) - base_h) * HOURS_PER_MONTH)}"
            "/month more afterwards",
            after_per_month=_stream_hour(stream, peak, base_traffic, prices) * HOURS_PER_MONTH,
        ),
        _reactive_cost(reactive)
        if reactive is not None
        else EventCost(
            "reactive",
            None,
            "not rehearsed: the simulated account runs the configured policy on the event's "
            "shape (capcon event plan does)",
        ),
        EventCost(
            "on-demand",
            od_usd,
            f"at {share:.0%} of what {peak} shards take in during the event"
            + (", today's traffic outside it" if traffic else "")
            + "; a stream switches mode at most twice per 24 h",
            after_per_month=None if od_base is None else od_base * HOURS_PER_MONTH,
        ),
    ]
    timeline: list[EventStep] = []
    before = current
    for step in steps:
        kind: StepKind = "send" if step.phase == "raise" else "return"
        timeline.append(
            EventStep(
                step.at,
                kind,
                f"capcon's engine reshards {before} → {step.shards} (UpdateShardCount, "
                "uniform; a few minutes)",
            )
        )
        before = step.shards
    timeline += [
        EventStep(raised_at, "ready", f"{label} at {peak} open shards"),
        EventStep(start, "start", f"the event starts: {label} at {peak} open shards"),
        EventStep(end, "end", "the event ends: the engine starts the return"),
        EventStep(settled, "settled", f"{label} back at {current} open shards"),
    ]
    assumed = [
        "the reshards are capcon's own schedule: the deployed engine (or capcon autoscale "
        "running locally) must run to send them; between the raise and the restore it keeps "
        f"the kinesis policy from scaling below {peak} shards",
        f"a reshard takes a few minutes (AWS: depending on the stream's size): capcon allows "
        f"{fmt_duration(update)} each, plus the engine's tick of {fmt_duration(tick)}",
        "AWS does not report past UpdateShardCount calls: the rolling 24 h budget counts the "
        f"{len(history)} capcon knows of and the event's own {len(steps)}",
        f"costs over the window {_at(first)} → {_at(until)}: the event's traffic taken as "
        f"{share:.0%} of what {peak} shards take in",
        *stream_cost_notes(stream, on_demand=False),
        *price_assumptions(prices),
    ]
    return EventPlan(
        event_id=eid,
        request=request,
        kind="stream",
        label=summary,
        made_at=now,
        fingerprint=event_fingerprint(stream),
        how="stream-schedule",
        before={"shards": current},
        peak={"shards": peak},
        after={"shards": current},
        timeline=_ordered(timeline),
        send_at=first,
        return_at=end,
        registers=(),
        actions=(),
        warm=None,
        reshards=tuple(steps),
        costs=tuple(costs),
        partitions_before=current,
        partitions_after=current,
        per_partition_after_return=None,
        return_allowed=True,
        return_note=(
            f"the return is allowed: {len(down)} reshard{'s' if len(down) != 1 else ''} "
            f"({peak} → {' → '.join(map(str, down))}); {budget_after.used} of "
            f"{rules.reshards_per_window} in the 24 h before {_at(settled)}"
        ),
        warnings=tuple(warnings),
        assumptions=tuple(dict.fromkeys(assumed)),
        price_book=price_book_label(prices),
        alternatives=(
            "on-demand for the event: AWS manages the shards (a stream switches capacity mode "
            "at most twice per 24 h)",
        ),
        detail={},
        settled_at=settled,
        costs_until=until,
    )


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
    context: PlanContext | None = None,
    peak_utilisation: float = DEFAULT_PEAK_UTILISATION,
) -> EventPlan | Refusal:
    """Plan ``request`` on ``resource`` at ``now``: an :class:`EventPlan` or a
    :class:`Refusal` naming every reason (a return not allowed that day, the reshard budget,
    a quota, an end before the start, a start in the past…).

    ``targets``/``policies``/``scheduled``: the resource's auto scaling as it is;
    ``reshard_history``: the stream's recent reshards; ``reactive``: the simulated account's
    rehearsal of reactive scaling on the expected shape; ``usage``: the resource's recent
    use (a :class:`~capcon.core.planning.planner.Usage`); ``update_seconds``: how long an
    update takes (the lead time); ``engine_tick``: how often the engine that executes a
    stream's schedule runs (its granularity).  ``context``: what else the planner knows
    (the account's capacity and shards, a stream's traffic, replica prices);
    ``peak_utilisation``: the share of the peak capacity the event's demand is taken to use
    (the on-demand comparison)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")
    now = now.astimezone(UTC)
    request = replace(request, start=_utc(request.start), end=_utc(request.end))
    ctx = context or PlanContext()
    # a day at most: a longer "update" is a typo, and would run dates off the calendar
    update = timedelta(seconds=min(max(0, update_seconds), 86_400))
    tick = engine_tick if engine_tick is not None else DEFAULT_ENGINE_TICK
    tick = min(max(tick, timedelta(0)), timedelta(days=1))
    share = min(1.0, max(0.01, peak_utilisation))
    if isinstance(resource, Table):
        label = part_label(resource.name, request.index)
        found = _check_window(label, request.start, request.end, now)
        return _plan_table_event(
            resource, request, now, found, rules=rules, prices=prices, targets=targets,
            policies=policies, scheduled=scheduled, reactive=reactive, usage=usage,
            update=update, context=ctx, share=share,
        )  # fmt: skip
    found = _check_window(f"stream {resource.name}", request.start, request.end, now)
    # the argument is the stream's history; a context's is used when none is given (two
    # calls at the same moment are two calls: the histories are not merged)
    history = reshard_history or ctx.reshard_history
    return _plan_stream_event(
        resource, request, now, found, rules=rules, prices=prices, history=history,
        reactive=reactive, update=update, tick=tick, context=ctx,
        share=share,
    )  # fmt: skip


__all__ = [
    "AAS_START",
    "ACTION_PREFIX",
    "APPLY_MARGIN",
    "DEFAULT_ENGINE_TICK",
    "DEFAULT_PEAK_UTILISATION",
    "EVENT_AFTER",
    "SCALE_IN_DELAY",
    "WHEN_ALLOWED",
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
    "price_book_label",
    "shard_steps",
]
