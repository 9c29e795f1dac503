"""The CloudWatch alarms that wake a deployed engine: one 1-minute datapoint on what each
dimension's policy reacts to, with thresholds that move with the capacity.

The template writes them (``AWS::CloudWatch::Alarm``) and the handler re-puts them with new
thresholds after a change (``PutMetricAlarm``), both from :func:`alarms_for`, so the two
cannot drift apart.  An alarm is only a wake-up: the handler re-observes and runs the policy,
which decides.  Pure: no AWS call is made.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from capcon.core.deploy.spec import STREAM_POLICY, DeploySpec, alarm_description, alarm_name
from capcon.core.model import Stream, Table
from capcon.core.policies import Policy, TargetTracking, make_policy
from capcon.core.policies.base import first_fresh_minute
from capcon.core.policies.capcon import Capcon
from capcon.core.policies.kinesis import KinesisPolicy
from capcon.core.ports import AlarmQuery, AlarmSpec, MetricQuery, Scalable
from capcon.core.rules.settings import SHARD_WRITE_BYTES

#: Records a shard accepts per second (Kinesis service quotas).
SHARD_WRITE_RECORDS = 1_000
PERIOD = 60


def _table_dimensions(scalable: Scalable) -> tuple[tuple[str, str], ...]:
    dims: tuple[tuple[str, str], ...] = (("TableName", scalable.name),)
    if scalable.index:
        dims += (("GlobalSecondaryIndexName", scalable.index),)
    return dims


def _number(value: float) -> str:
    """A threshold as metric math reads it (shortest round-trip decimal)."""
    return repr(float(value))


def capcon_levels(target: float, capacity: int) -> tuple[float, float]:
    """The requests per second at which capcon's policy scales out at ``capacity`` on a flat
    trend: ``(throttled, unthrottled)``.

    :class:`~capcon.core.policies.capcon.Capcon` scales out when the capacity it wants,
    ``ceil(demand / target)``, is above the capacity and either the forecast reaches the
    capacity, or requests were throttled, or the step is at least ``min_increase``.  On a
    flat trend (forecast = demand) that is: demand > target × capacity when throttled;
    otherwise demand > target × (ceil(capacity × (1 + min_increase)) − 1), or demand ≥
    capacity, whichever comes first."""
    policy = Capcon(target)
    t = target / 100
    step = math.ceil(capacity * (1 + policy.min_increase))
    return t * capacity, min(t * (step - 1), float(capacity))


def _table_alarms(
    spec: DeploySpec, scalable: Scalable, capacity: int, actions: tuple[str, ...]
) -> list[AlarmSpec]:
    word = "Read" if scalable.dimension == "read" else "Write"
    dims = _table_dimensions(scalable)
    consumed = MetricQuery("m1", "AWS/DynamoDB", f"Consumed{word}CapacityUnits", dims)
    if spec.policy == "capcon":
        throttled_level, flat_level = capcon_levels(spec.target, capacity)
        throttled = MetricQuery("m2", "AWS/DynamoDB", f"{word}ThrottleEvents", dims)
        # Requests per minute against capcon's flat-trend level; while throttled, requests
        # (consumed + throttled) raised by the gap between that level and the throttled one,
        # so one threshold serves both.  A rising trend makes capcon act earlier: the tick.
        gap = (flat_level - throttled_level) * PERIOD
        requests = f"IF(FILL(m2, 0) > 0, m1 + FILL(m2, 0) + {_number(gap)}, m1)"
        queries = (
            AlarmQuery("m1", consumed, label="consumed"),
            AlarmQuery("m2", throttled, label="throttled"),
            AlarmQuery(
                "e1",
                expression=requests,
                label="requests (weighted when throttled)",
                return_data=True,
            ),
        )
        what = (
            f"{scalable.key}: requests above {flat_level:,.1f}/s, or above "
            f"{throttled_level:,.1f}/s while throttled "
            f"({spec.target:g}% of {capacity:,}, policy capcon)"
        )
        return [
            AlarmSpec(
                alarm_name(spec.stack, scalable, "high"),
                alarm_description(spec.stack, scalable, what),
                flat_level * PERIOD,
                "GreaterThanThreshold",
                queries=queries,
                actions=actions,
            )
        ]
    # Target tracking (h1, h2, and AAS's own shape for aas): breaches on consumed capacity
    # (h2 only *sizes* on requests), ``breaches_out`` datapoints in a row.
    policy = make_policy(spec.policy, spec.target)
    breaches = policy.breaches_out if isinstance(policy, TargetTracking) else 1
    what = f"consumed {scalable.key} above {spec.target:g}% of {capacity:,} (policy {spec.policy})"
    return [
        AlarmSpec(
            alarm_name(spec.stack, scalable, "high"),
            alarm_description(spec.stack, scalable, what),
            capacity * spec.target / 100 * PERIOD,
            "GreaterThanThreshold",
            metric=consumed,
            evaluation_periods=breaches,
            datapoints_to_alarm=breaches,
            actions=actions,
        )
    ]


def stream_target(spec: DeploySpec) -> float:
    """The target the engine gives a stack's streams: the kinesis policy's own (80 %), as
    ``capcon autoscale`` does for streams beside tables (the tables' target is for tables)."""
    return spec.target if spec.policy == STREAM_POLICY else KinesisPolicy().target


def _stream_alarms(
    spec: DeploySpec, scalable: Scalable, shards: int, actions: tuple[str, ...]
) -> list[AlarmSpec]:
    dims = (("StreamName", scalable.name),)
    target = stream_target(spec)
    share = target / 100
    out: list[AlarmSpec] = []
    for watch, metric, per_shard in (
        ("bytes", "IncomingBytes", SHARD_WRITE_BYTES),
        ("records", "IncomingRecords", SHARD_WRITE_RECORDS),
    ):
        out.append(
            AlarmSpec(
                alarm_name(spec.stack, scalable, watch),
                alarm_description(
                    spec.stack,
                    scalable,
                    f"{metric} of {scalable.name} at {target:g}% of {shards:,} shards "
                    f"(policy {STREAM_POLICY})",
                ),
                shards * per_shard * PERIOD * share,
                "GreaterThanOrEqualToThreshold",
                metric=MetricQuery("m1", "AWS/Kinesis", metric, dims),
                actions=actions,
            )
        )
    out.append(
        AlarmSpec(
            alarm_name(spec.stack, scalable, "throttled"),
            alarm_description(
                spec.stack,
                scalable,
                f"writes to {scalable.name} throttled (policy {STREAM_POLICY})",
            ),
            0.0,
            "GreaterThanThreshold",
            metric=MetricQuery("m1", "AWS/Kinesis", "WriteProvisionedThroughputExceeded", dims),
            actions=actions,
        )
    )
    return out


#: The id of the expression a gated alarm watches (:func:`gated`).
GATE_ID = "fresh"


def gated(alarm: AlarmSpec, since: datetime) -> AlarmSpec:
    """``alarm`` blind to the datapoints of minutes before the first whole minute at or after
    ``since`` (a change): what it watches becomes ``IF(EPOCH(x) >= T, x, quiet)``, ``quiet``
    a value on the safe side of the threshold.

    After a change the engine's policies count only datapoints from that minute on
    (:func:`~capcon.core.policies.base.first_fresh_minute`), and CloudWatch publishes a
    minute a few minutes late: an alarm re-tuned to the new capacity would otherwise fire
    again on the minutes before the change (traffic still rising past the new threshold),
    waking the handler for a hold each minute until fresh data arrives.  Gated, it fires on
    the first fresh minute that breaches, when the policy can act on it.  ``EPOCH`` returns
    each datapoint's timestamp in seconds (CloudWatch user guide, "Metric math syntax and
    functions"); time functions of metric math are allowed in alarms (the user guide's
    example suppresses an alarm with ``IF(HOUR(m1) ...)``).  A single-metric alarm becomes
    a metric-math alarm on the same metric: still one metric billed."""
    start = int(first_fresh_minute(since).timestamp())
    quiet = "0" if alarm.comparison.startswith("Greater") else repr(abs(alarm.threshold) + 1)
    if alarm.metric is not None:
        watched = alarm.metric.id
        queries: tuple[AlarmQuery, ...] = (AlarmQuery(watched, alarm.metric, label="watched"),)
    else:
        watched = next(q.id for q in alarm.queries if q.return_data)
        queries = tuple(replace(q, return_data=False) for q in alarm.queries)
    gate = AlarmQuery(
        GATE_ID,
        expression=f"IF(EPOCH({watched}) >= {start}, {watched}, {quiet})",
        label=f"from {first_fresh_minute(since):%Y-%m-%d %H:%M} UTC (after a change)",
        return_data=True,
    )
    return replace(alarm, metric=None, queries=(*queries, gate))


def alarms_for(
    spec: DeploySpec,
    scalable: Scalable,
    capacity: int,
    *,
    actions: tuple[str, ...] = (),
    since: datetime | None = None,
) -> list[AlarmSpec]:
    """The alarms of ``spec``'s stack on ``scalable`` when its capacity (units, or open
    shards for a stream) is ``capacity``; ``actions``: the ARNs they notify; ``since``: the
    time of the change that set ``capacity``: when the dimension's policy counts only
    datapoints since a change (its ``fresh_since``; not ``capcon``, which uses every
    datapoint), the alarms ignore the minutes before it (:func:`gated`)."""
    if scalable.kind == "stream":
        found = _stream_alarms(spec, scalable, capacity, actions)
    else:
        found = _table_alarms(spec, scalable, capacity, actions)
    fresh = None if since is None else fresh_from(spec, scalable, since)
    return found if fresh is None else [gated(alarm, fresh) for alarm in found]


def fresh_from(spec: DeploySpec, scalable: Scalable, since: datetime) -> datetime | None:
    """The moment from which ``scalable``'s policy counts datapoints after a change at
    ``since`` (``None``: it counts every datapoint, and its alarms are not gated)."""
    policy: Policy = (
        KinesisPolicy() if scalable.kind == "stream" else make_policy(spec.policy, spec.target)
    )
    return policy.fresh_since(since)


def is_gated(alarm: AlarmSpec) -> bool:
    """Whether ``alarm`` ignores the minutes before a change (:func:`gated`)."""
    return any(q.id == GATE_ID for q in alarm.queries)


def capacity_of(
    scalable: Scalable, tables: Sequence[Table], streams: Sequence[Stream]
) -> int | None:
    """The capacity in force of ``scalable`` (units, or open shards), ``None`` if unknown."""
    if scalable.kind == "stream":
        for stream in streams:
            if stream.name == scalable.name and not stream.is_on_demand:
                return stream.open_shard_count
        return None
    for table in tables:
        if table.name != scalable.name or table.is_on_demand:
            continue
        throughput = table.provisioned
        if scalable.index:
            found = [i for i in table.indexes if i.name == scalable.index]
            throughput = found[0].provisioned if found else None
        if throughput is None:
            return None
        return throughput.read if scalable.dimension == "read" else throughput.write
    return None
