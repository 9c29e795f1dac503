"""Rehearse a planned event with reactive scaling, on the simulated account.

``capcon event plan`` compares scaling ahead of a known spike with what reactive scaling
would do on the same spike.  Planning is pure and cannot run a simulation, so the estimate is
made here and handed to :func:`capcon.core.planning.events.plan_event` as a
:class:`~capcon.core.planning.events.ReactiveEstimate`.

:func:`rehearse` is field note B's experiment (:mod:`capcon.core.backends.sim.experiment`)
on the event's own shape: one table at the event's current capacity, demand at ``base`` that
jumps to ``peak`` when the event starts and falls back to ``base`` when it ends (top-heavy:
the whole peak from the first second, the worst case for a policy that reacts), auto scaled
by ``policy`` at ``target`` % on the event's dimension.  It measures what the studio
measured: the share of requests served, the throttled units, the scaling actions, the highest
capacity reached, and what the dimension's provisioned capacity cost over the window.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Literal

from capcon.core.backends.sim.account import SimAccount, TableSpec
from capcon.core.backends.sim.experiment import START, check_inputs
from capcon.core.backends.sim.traffic import Spike, Steady
from capcon.core.config.prices import load_price_book
from capcon.core.model import Table, TableClass, Throughput
from capcon.core.planning.events import EventRequest, ReactiveEstimate
from capcon.core.policies import Oracle, Policy
from capcon.core.ports import (
    READ_UTILIZATION,
    TABLE_READ,
    TABLE_WRITE,
    WRITE_UTILIZATION,
    MetricQuery,
    ScalableTarget,
    ScalingPolicy,
)
from capcon.core.pricing import PriceBook
from capcon.core.rules import RuleSettings, fmt_duration

#: The rehearsal's table (its own account: nothing else runs in it).
TABLE = "rehearsal"
RESOURCE = f"table/{TABLE}"
#: Minutes of base traffic before the window, already published when the policy starts:
#: the policy sees history, as it would on a table that has been running (not measured).
WARMUP_S = 20 * 60
#: After the event: how long the rehearsal keeps running by default (the policy scales in).
AFTER_S = 60 * 60
#: The longest window rehearsed (the longest event plus a lead and a tail).
MAX_WINDOW_S = 40 * 24 * 3600
#: The other dimension's steady demand and capacity (not measured).
OTHER_DEMAND = 1.0
OTHER_CAPACITY = 5

Dimension = Literal["read", "write"]


@dataclass(frozen=True, slots=True)
class _Measured:
    requested: float
    served: float
    throttled: float
    unit_hours: float


def _whole(name: str, value: object, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name} must be a whole number ≥ {low:,}, not {value!r}")
    return value


def _rate(name: str, value: object) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(f"{name} must be a finite number of units per second ≥ 0, not {value!r}")
    return float(value)


def rehearse(
    table_capacity: int,
    base_demand: float,
    peak_demand: float,
    start_offset_s: int,
    duration_s: int,
    policy: str,
    target: float,
    dimension: Dimension = "write",
    prices: PriceBook | None = None,
    *,
    min_capacity: int = 1,
    max_capacity: int | None = None,
    after_s: int = AFTER_S,
    at: datetime | None = None,
    table_class: TableClass = TableClass.STANDARD,
    rules: RuleSettings | None = None,
) -> ReactiveEstimate:
    """What ``policy`` at ``target`` % does on the event's shape, on the simulated account.

    The window starts at ``at`` (the moment capcon would send the raise: pass the real one so
    the UTC day's decrease budget falls as it will; default a Monday 09:00 UTC) with the
    table's ``dimension`` at ``table_capacity`` units and demand at ``base_demand`` units/s;
    the event starts ``start_offset_s`` later, demand is ``peak_demand`` for ``duration_s``,
    then ``base_demand`` again for ``after_s`` (the policy scaling back in); the window ends
    there.  The policy's scalable target is ``min_capacity`` … ``max_capacity`` (default: the
    per-table quota of ``rules``), as the table's own target would be.

    ``base_demand``/``peak_demand`` are demand (units/s asked for), not capacity: an event
    planned at P units with no forecast of its demand is a demand of about P × target / 100
    for a policy that aims at ``target`` %.

    ``usd``: the dimension's provisioned capacity over the whole window, priced with
    ``prices`` (capcon's us-east-1 defaults when not given) for ``table_class``;
    ``served``: consumed / requested (1.0 = no throttling) over the window.

    Bad inputs raise ``ValueError`` naming the input and what is allowed.
    """
    rules = rules or RuleSettings()
    if dimension not in ("read", "write"):
        raise ValueError(f"dimension must be 'read' or 'write', not {dimension!r}")
    quota = rules.table_max_read_units if dimension == "read" else rules.table_max_write_units
    table_capacity = _whole("table_capacity", table_capacity, 1)
    base = _rate("base_demand", base_demand)
    peak = _rate("peak_demand", peak_demand)
    lead = _whole("start_offset_s", start_offset_s, 0)
    duration = _whole("duration_s", duration_s, 1)
    tail = _whole("after_s", after_s, 0)
    low = _whole("min_capacity", min_capacity, 1)
    high = quota if max_capacity is None else _whole("max_capacity", max_capacity, 1)
    if low > high:
        raise ValueError(f"min_capacity {low:,} is above max_capacity {high:,}")
    if high > quota:
        raise ValueError(f"max_capacity {high:,} is above the per-table quota of {quota:,}")
    if table_capacity > quota:
        raise ValueError(
            f"table_capacity {table_capacity:,} is above the per-table quota of {quota:,}"
        )
    window = lead + duration + tail
    if window > MAX_WINDOW_S:
        raise ValueError(
            f"the window (lead + event + after) is {window / 86400:.1f} days; at most "
            f"{MAX_WINDOW_S // 86400} days can be rehearsed"
        )
    if not isinstance(table_class, TableClass):
        raise ValueError(
            f"table_class must be one of {', '.join(c.value for c in TableClass)}, "
            f"not {table_class!r}"
        )
    check_inputs("steady:1", target, policy, 1.0)  # the policy name and the target
    if at is None:
        begin = START
    elif not isinstance(at, datetime) or at.tzinfo is None:
        raise ValueError(f"at must be a time with a time zone (UTC), not {at!r}")
    else:
        begin = at.astimezone(UTC).replace(second=0, microsecond=0)

    account, shape_at = _account(
        begin, table_capacity, base, peak, lead, duration, dimension, window, rules, policy
    )
    measured_start = begin
    account.advance(WARMUP_S, resolution=60)  # steady base: every sample is the same
    # the policy starts now, with the warm-up minutes already published behind it
    scalable = TABLE_READ if dimension == "read" else TABLE_WRITE
    account.register_scalable_target(ScalableTarget(RESOURCE, scalable, low, high))
    account.put_scaling_policy(
        ScalingPolicy(
            f"{TABLE}-{dimension}",
            RESOURCE,
            scalable,
            target_value=float(target),
            predefined_metric=READ_UTILIZATION if dimension == "read" else WRITE_UTILIZATION,
        )
    )
    part = account.tables[TABLE].table
    # demand changes only at the event's edges: sampling every `step` seconds is exact
    step = math.gcd(60, shape_at, duration)
    ups = downs = 0
    assert part.capacity is not None
    last = _value(part.capacity, dimension)
    highest = last
    while account.clock.elapsed < WARMUP_S + window:
        left = WARMUP_S + window - account.clock.elapsed
        account.advance(min(60 - account.clock.elapsed % 60, left), resolution=step)
        assert part.capacity is not None
        now = _value(part.capacity, dimension)
        if now > last:
            ups += 1
        elif now < last:
            downs += 1
        last = now
        highest = max(highest, now)
    end = measured_start + timedelta(seconds=window)
    measured = _measure(account, dimension, measured_start, end)
    book = prices or _default_prices()
    ia = table_class is TableClass.STANDARD_INFREQUENT_ACCESS
    if dimension == "read":
        hourly = book.ia_rcu_hour if ia else book.rcu_hour
    else:
        hourly = book.ia_wcu_hour if ia else book.wcu_hour
    word = "RCU" if dimension == "read" else "WCU"
    note = (
        f"simulated: {policy} at {target:g}% on {dimension}s ({low:,}–{high:,} {word}), "
        f"from {table_capacity:,} {word} at {base:,.0f}/s; {fmt_duration(lead)} later the "
        f"event jumps to {peak:,.0f}/s for {fmt_duration(duration)}, then "
        f"{fmt_duration(tail)} back at base; cost: provisioned {word} over those "
        f"{fmt_duration(window)} ({book.source}, {book.as_of})"
    )
    return ReactiveEstimate(
        policy=policy,
        target=float(target),
        usd=measured.unit_hours * hourly,
        served=measured.served / measured.requested if measured.requested > 0 else 1.0,
        throttled_units=measured.throttled,
        scale_ups=ups,
        scale_downs=downs,
        peak_capacity=highest,
        note=note,
    )


def _account(
    begin: datetime,
    capacity: int,
    base: float,
    peak: float,
    lead: int,
    duration: int,
    dimension: Dimension,
    window: int,
    rules: RuleSettings,
    policy: str,
) -> tuple[SimAccount, int]:
    """The rehearsal's account (its epoch :data:`WARMUP_S` before ``begin``) and when the
    event starts in the demand pattern's time."""
    epoch = begin - timedelta(seconds=WARMUP_S)
    retention = timedelta(minutes=math.ceil((WARMUP_S + window) / 60) + 60)
    account = SimAccount(epoch, rules=rules, aas_policy=policy, minute_retention=retention)
    shape_at = WARMUP_S + lead
    demand = Spike(base=base, peak=peak, at_s=shape_at, duration_s=duration, ramp_s=0.0)

    def forecast(start: datetime, end: datetime) -> Sequence[float]:
        t0 = math.ceil((start - epoch).total_seconds())
        t1 = math.ceil((end - epoch).total_seconds())
        return demand.rates(t0, max(0, t1 - t0))

    def setup(instance: Policy, spec: ScalingPolicy) -> None:
        if isinstance(instance, Oracle):
            instance.forecast = forecast  # the oracle alone is told the future

    account.policy_setup = setup
    other = Steady(OTHER_DEMAND)
    read, write = (capacity, OTHER_CAPACITY) if dimension == "read" else (OTHER_CAPACITY, capacity)
    account.add_table(
        TableSpec(
            TABLE,
            Throughput(read, write),
            reads=demand if dimension == "read" else other,
            writes=other if dimension == "read" else demand,
        )
    )
    return account, shape_at


def _value(capacity: Throughput, dimension: Dimension) -> int:
    return capacity.read if dimension == "read" else capacity.write


def _measure(
    account: SimAccount, dimension: Dimension, start: datetime, end: datetime
) -> _Measured:
    word = "Read" if dimension == "read" else "Write"
    dims = (("TableName", TABLE),)
    consumed, throttled, provisioned = account.store.query(
        [
            MetricQuery("c", "AWS/DynamoDB", f"Consumed{word}CapacityUnits", dims),
            MetricQuery("t", "AWS/DynamoDB", f"{word}ThrottleEvents", dims),
            MetricQuery("p", "AWS/DynamoDB", f"Provisioned{word}CapacityUnits", dims),
        ],
        start,
        end,
        end + timedelta(days=1),  # as if every minute were published
    )
    served, refused = sum(consumed.values), sum(throttled.values)
    # the provisioned series records capacity × seconds: its sum is unit-seconds
    return _Measured(served + refused, served, refused, sum(provisioned.values) / 3600)


@cache
def _default_prices() -> PriceBook:
    return load_price_book("us-east-1")


__all__ = ["AFTER_S", "WARMUP_S", "rehearse"]


#: How long before the event the rehearsal starts (the policy's history at today's use).
EVENT_LEAD_SECONDS = 3_600
#: The policy reactive scaling is rehearsed with when the part has no AAS policy.
DEFAULT_POLICY, DEFAULT_TARGET = "capcon", 70.0


def rehearse_event(
    table: Table,
    request: EventRequest,
    *,
    policy: str,
    target: float,
    targets: Sequence[ScalableTarget],
    base_demand: float,
    prices: PriceBook,
    rules: RuleSettings,
) -> ReactiveEstimate:
    """Reactive scaling on ``request``'s event, as ``capcon event plan`` and the console's
    event preview both show it: the part (table or ``request.index``) from its capacity now
    and ``base_demand``, a jump at the start to the peak asked at
    :data:`~capcon.core.planning.events.DEFAULT_PEAK_UTILISATION` use, back at the end;
    ``policy`` at ``target`` within the dimension's registered min/max (``targets``).
    ``ValueError`` naming why there is nothing to rehearse (an on-demand part, no capacity
    asked) or what the rehearsal refused."""
    from capcon.core.planning.events import DEFAULT_PEAK_UTILISATION
    from capcon.core.planning.requests import dimension_word

    part = table.index(request.index) if request.index else table
    capacity = part.provisioned
    if capacity is None or table.is_on_demand:
        raise ValueError("reactive scaling is not rehearsed for an on-demand table")
    dimension: Dimension = "write" if request.write is not None else "read"
    peak_units = request.write if dimension == "write" else request.read
    if peak_units is None:
        raise ValueError("no capacity peak asked: reactive scaling not rehearsed")
    registered = next((t for t in targets if dimension_word(t.dimension) == dimension), None)
    return rehearse(
        table_capacity=max(1, capacity.write if dimension == "write" else capacity.read),
        base_demand=base_demand,
        peak_demand=peak_units * DEFAULT_PEAK_UTILISATION,
        start_offset_s=EVENT_LEAD_SECONDS,
        duration_s=int((request.end - request.start).total_seconds()),
        policy=policy,
        target=target,
        dimension=dimension,
        prices=prices,
        min_capacity=registered.min_capacity if registered is not None else 1,
        max_capacity=registered.max_capacity if registered is not None else None,
        at=request.start - timedelta(seconds=EVENT_LEAD_SECONDS),
        table_class=table.table_class,
        rules=rules,
    )
