"""The CloudWatch alarms that wake a deployed engine: one 1-minute datapoint on what each
dimension's policy reacts to, with thresholds that move with the capacity.

The template writes them (``AWS::CloudWatch::Alarm``) and the handler re-puts them with new
thresholds after a change (``PutMetricAlarm``), both from :func:`alarms_for`, so the two
cannot drift apart.  An alarm is only a wake-up: the handler re-observes and runs the policy,
which decides.  Pure: no AWS call is made.
"""

from __future__ import annotations

from capcon.core.deploy.spec import STREAM_POLICY, DeploySpec, alarm_description, alarm_name
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


def _table_alarms(
    spec: DeploySpec, scalable: Scalable, capacity: int, actions: tuple[str, ...]
) -> list[AlarmSpec]:
    word = "Read" if scalable.dimension == "read" else "Write"
    dims = _table_dimensions(scalable)
    consumed = MetricQuery("m1", "AWS/DynamoDB", f"Consumed{word}CapacityUnits", dims)
    threshold = capacity * spec.target / 100 * PERIOD
    what = f"{scalable.key} above {spec.target:g}% of {capacity:,} (policy {spec.policy})"
    if spec.policy == "capcon":
        throttled = MetricQuery("m2", "AWS/DynamoDB", f"{word}ThrottleEvents", dims)
        queries = (
            AlarmQuery("m1", consumed, label="consumed"),
            AlarmQuery("m2", throttled, label="throttled"),
            AlarmQuery("e1", expression="m1 + FILL(m2, 0)", label="requests", return_data=True),
        )
        return [
            AlarmSpec(
                alarm_name(spec.stack, scalable, "high"),
                alarm_description(spec.stack, scalable, f"requests {what}"),
                threshold,
                "GreaterThanThreshold",
                queries=queries,
                actions=actions,
            )
        ]
    return [
        AlarmSpec(
            alarm_name(spec.stack, scalable, "high"),
            alarm_description(spec.stack, scalable, f"consumed {what}"),
            threshold,
            "GreaterThanThreshold",
            metric=consumed,
            actions=actions,
        )
    ]


def _stream_alarms(
    spec: DeploySpec, scalable: Scalable, shards: int, actions: tuple[str, ...]
) -> list[AlarmSpec]:
    dims = (("StreamName", scalable.name),)
    share = spec.target / 100
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
                    f"{metric} of {scalable.name} at {spec.target:g}% of {shards:,} shards "
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


def alarms_for(
    spec: DeploySpec, scalable: Scalable, capacity: int, *, actions: tuple[str, ...] = ()
) -> list[AlarmSpec]:
    """The alarms of ``spec``'s stack on ``scalable`` when its capacity (units, or open
    shards for a stream) is ``capacity``; ``actions``: the ARNs they notify."""
    if scalable.kind == "stream":
        return _stream_alarms(spec, scalable, capacity, actions)
    return _table_alarms(spec, scalable, capacity, actions)
