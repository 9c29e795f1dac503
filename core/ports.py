"""Ports: the small protocols every backend implements.

The console, the CLI, the scaler and the auto-scaling engine talk only to these, so nothing
above them can tell the AWS adapter (boto3) from the simulated account.  The shapes follow
AWS's APIs closely (names, dimensions, statistics, AAS resource ids) so the adapter stays thin.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol, runtime_checkable

from capcon.core.model import (
    BillingMode,
    ReplicaScaling,
    Stream,
    StreamMode,
    Table,
    TableClass,
    Throughput,
    WarmThroughput,
)

# --------------------------------------------------------------------------------------------
# Inventory
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccountLimits:
    """``dynamodb:DescribeLimits`` and ``kinesis:DescribeLimits`` in one value."""

    account_max_read_units: int = 80_000
    account_max_write_units: int = 80_000
    table_max_read_units: int = 40_000
    table_max_write_units: int = 40_000
    shard_limit: int | None = None
    """Kinesis ``ShardLimit``; ``None``: not reported (the region's default then applies)."""
    open_shard_count: int = 0
    on_demand_stream_count: int | None = None
    on_demand_stream_count_limit: int | None = None


@runtime_checkable
class Inventory(Protocol):
    """List and describe tables (with GSIs) and streams (with all their shards)."""

    def list_tables(self) -> list[str]: ...

    def describe_table(self, name: str) -> Table: ...

    def describe_tables(self, names: Sequence[str]) -> list[Table]:
        """Many tables at once (the AWS adapter uses a bounded thread pool); a table deleted
        since it was listed is left out."""
        ...

    def list_streams(self) -> list[str]: ...

    def describe_stream(self, name: str) -> Stream: ...

    def describe_streams(self, names: Sequence[str]) -> list[Stream]: ...

    def account_limits(self) -> AccountLimits: ...


# --------------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------------

Statistic = Literal["Sum", "Average", "Maximum", "Minimum", "SampleCount"]


#: Metrics CloudWatch has datapoints for only in minutes where they are above zero (throttles):
#: a missing minute is a zero once complete (docs/aws-rules.md#cloudwatch-data-as-aws-writes-it).
SPARSE_METRICS = frozenset(
    {
        "ReadThrottleEvents",
        "WriteThrottleEvents",
        "ThrottledRequests",
        "ReadProvisionedThroughputExceeded",
        "WriteProvisionedThroughputExceeded",
    }
)


@dataclass(frozen=True, slots=True)
class MetricQuery:
    """One ``MetricDataQuery``: a metric, its dimensions and a statistic over ``period``."""

    id: str
    namespace: str
    metric: str
    dimensions: tuple[tuple[str, str], ...]
    stat: Statistic = "Sum"
    period: int = 60


@dataclass(frozen=True, slots=True)
class MetricSeries:
    """One query's answer: datapoints in time order.  Minutes with no data are absent (a gap,
    never a zero), as CloudWatch returns them."""

    id: str
    timestamps: tuple[datetime, ...] = ()
    values: tuple[float, ...] = ()


#: Told the number of queries of each ``GetMetricData`` request a backend sends.
RequestCounter = Callable[[int], None]


@runtime_checkable
class Metrics(Protocol):
    """CloudWatch-shaped metrics: ``GetMetricData`` over ``[start, end)``.

    A backend answers raw: one request (the AWS adapter follows its ``NextToken`` pages), no
    cache, no batching.  :class:`capcon.core.services.metrics.MetricsService` is the one caller:
    it keeps each request within CloudWatch's limits, asks only for what it does not hold, and
    counts what ``sent`` is told: the backend calls it with the number of queries of every
    request it sends (each page is a request, billed again).
    """

    def get_metric_data(
        self,
        queries: Sequence[MetricQuery],
        start: datetime,
        end: datetime,
        *,
        sent: RequestCounter | None = None,
    ) -> list[MetricSeries]: ...


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def align_down(moment: datetime, seconds: int = 60) -> datetime:
    """``moment`` in UTC, rounded down to a multiple of ``seconds`` since the epoch.

    CloudWatch (and moto, and the simulated account) count periods from ``StartTime``: a start
    aligned to the period gives the same datapoint times whichever request asks.
    """
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    offset = (moment - EPOCH) // timedelta(seconds=seconds)
    return EPOCH + timedelta(seconds=offset * seconds)


# --------------------------------------------------------------------------------------------
# Actuation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TableChange:
    """One ``UpdateTable``: new capacity for the table and/or GSIs, or a billing-mode switch.

    ``billing_mode`` ``None`` keeps the mode.  Switching to provisioned needs capacity for the
    table and every GSI; switching to on-demand takes none.  The planner plans it, the
    actuator applies it.
    """

    table: Throughput | None = None
    indexes: tuple[tuple[str, Throughput], ...] = ()
    billing_mode: BillingMode | None = None
    #: ``TableClass``: switch the table's class (sent alone; ``None`` keeps it).
    table_class: TableClass | None = None
    #: Pre-warming (``WarmThroughput``): the table's (and each named GSI's) new warm read and
    #: write units per second; irreversible and charged (docs/aws-rules.md#pre-warming).
    warm: WarmThroughput | None = None
    index_warm: tuple[tuple[str, WarmThroughput], ...] = ()
    #: ``OnDemandThroughput``: the most request units a second an on-demand table (or GSI)
    #: serves; a dimension of 0 removes its maximum (sent as AWS's -1).
    on_demand_max: Throughput | None = None
    index_on_demand_max: tuple[tuple[str, Throughput], ...] = ()

    @property
    def sets_capacity(self) -> bool:
        """Whether the change sets provisioned capacity of the table or a GSI."""
        return self.table is not None or bool(self.indexes)

    @property
    def sets_extras(self) -> bool:
        """Whether the change pre-warms or sets an on-demand maximum."""
        return (
            self.warm is not None
            or bool(self.index_warm)
            or self.on_demand_max is not None
            or bool(self.index_on_demand_max)
        )


@runtime_checkable
class Actuator(Protocol):
    """The calls that change capacity.  Each raises a :class:`capcon.core.errors.BackendError`
    (with the rule violations when it is a rule) and changes nothing when refused."""

    def update_table(self, name: str, change: TableChange) -> Table: ...

    def update_shard_count(self, name: str, target: int) -> Stream: ...

    def split_shard(self, name: str, shard_id: str, new_starting_hash_key: int) -> None: ...

    def merge_shards(self, name: str, shard_id: str, adjacent_shard_id: str) -> None: ...

    def update_stream_mode(self, name: str, mode: StreamMode) -> None: ...


# --------------------------------------------------------------------------------------------
# Application Auto Scaling
# --------------------------------------------------------------------------------------------

#: AAS scalable dimensions for DynamoDB.
TABLE_READ = "dynamodb:table:ReadCapacityUnits"
TABLE_WRITE = "dynamodb:table:WriteCapacityUnits"
INDEX_READ = "dynamodb:index:ReadCapacityUnits"
INDEX_WRITE = "dynamodb:index:WriteCapacityUnits"

#: Predefined target-tracking metrics for DynamoDB.
READ_UTILIZATION = "DynamoDBReadCapacityUtilization"
WRITE_UTILIZATION = "DynamoDBWriteCapacityUtilization"


def resource_id(table: str, index: str | None = None) -> str:
    """AAS ``ResourceId``: ``table/NAME`` or ``table/NAME/index/IDX`` (no leading slash)."""
    return f"table/{table}/index/{index}" if index else f"table/{table}"


def parse_resource_id(rid: str) -> tuple[str, str | None]:
    """``(table, index)`` from an AAS ``ResourceId``; ``ValueError`` if it is not one."""
    parts = rid.split("/")
    if len(parts) == 2 and parts[0] == "table" and parts[1]:
        return parts[1], None
    if len(parts) == 4 and parts[0] == "table" and parts[2] == "index" and parts[1] and parts[3]:
        return parts[1], parts[3]
    raise ValueError(f"{rid!r} is not a DynamoDB ResourceId (table/NAME or table/NAME/index/IDX)")


@dataclass(frozen=True, slots=True)
class ScalableTarget:
    """A registered scalable target (``RegisterScalableTarget``)."""

    resource_id: str
    dimension: str
    min_capacity: int
    max_capacity: int
    suspended: bool = False


@dataclass(frozen=True, slots=True)
class ScalingPolicy:
    """A scaling policy (``PutScalingPolicy``).  DynamoDB supports only target tracking;
    ``policy_type`` keeps what AWS returned so a StepScaling policy can be flagged."""

    name: str
    resource_id: str
    dimension: str
    policy_type: str = "TargetTrackingScaling"
    target_value: float = 70.0
    predefined_metric: str | None = None
    scale_out_cooldown: int = 0
    scale_in_cooldown: int = 0
    disable_scale_in: bool = False


@dataclass(frozen=True, slots=True)
class ScalingActivity:
    """What auto scaling did or declined to do, and why (``DescribeScalingActivities``)."""

    resource_id: str
    dimension: str
    start: datetime
    description: str
    cause: str
    status: Literal["Successful", "Failed", "InProgress", "Unfulfilled"] = "Successful"
    end: datetime | None = None
    status_message: str = ""
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ScheduledAction:
    """An Application Auto Scaling scheduled action (``PutScheduledAction``) on a DynamoDB
    table or GSI dimension: when ``schedule`` comes, AAS sets the scalable target's min and
    max to ``min_capacity`` / ``max_capacity`` (``None``: that bound unchanged) and moves the
    capacity inside them (up to the new min, down to the new max).

    ``schedule`` is AAS's own text: ``at(yyyy-mm-ddThh:mm:ss)`` (one time), ``cron(...)``
    or ``rate(...)``; ``timezone`` an IANA name (``None``: UTC).  ``created``: when AWS
    created it (``DescribeScheduledActions`` ``CreationTime``)."""

    name: str
    resource_id: str
    dimension: str
    schedule: str
    min_capacity: int | None = None
    max_capacity: int | None = None
    timezone: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    created: datetime | None = None

    @property
    def at(self) -> datetime | None:
        """The moment of a one-time ``at(...)`` action in UTC, ``None`` for ``cron``/``rate``
        or a text that is not a time (a time zone other than UTC is applied)."""
        text = self.schedule.strip()
        if not (text.startswith("at(") and text.endswith(")")):
            return None
        try:
            moment = datetime.fromisoformat(text[3:-1])
        except ValueError:
            return None
        try:  # a zone or an offset can push a moment past year 1 or 9999: not a time
            if moment.tzinfo is not None:
                return moment.astimezone(UTC)
            if self.timezone in (None, "", "UTC", "Etc/UTC"):
                return moment.replace(tzinfo=UTC)
            from zoneinfo import ZoneInfo

            return moment.replace(tzinfo=ZoneInfo(str(self.timezone))).astimezone(UTC)
        except (ValueError, KeyError, OSError, OverflowError):
            return None


def at_schedule(moment: datetime) -> str:
    """AAS's one-time schedule for ``moment`` (to the second, in UTC)."""
    return f"at({moment.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat()})"


@runtime_checkable
class AutoScaling(Protocol):
    """Application Auto Scaling for DynamoDB tables and GSIs."""

    def describe_scalable_targets(self) -> list[ScalableTarget]: ...

    def describe_scaling_policies(self) -> list[ScalingPolicy]: ...

    def describe_scaling_activities(
        self, resource_id: str | None = None
    ) -> list[ScalingActivity]: ...

    def register_scalable_target(self, target: ScalableTarget) -> None: ...

    def deregister_scalable_target(self, resource_id: str, dimension: str) -> None: ...

    def put_scaling_policy(self, policy: ScalingPolicy) -> None: ...

    def delete_scaling_policy(self, name: str, resource_id: str, dimension: str) -> None: ...

    def describe_scheduled_actions(
        self, resource_id: str | None = None
    ) -> list[ScheduledAction]: ...

    def put_scheduled_action(self, action: ScheduledAction) -> None: ...

    def delete_scheduled_action(self, name: str, resource_id: str, dimension: str) -> None: ...


@runtime_checkable
class ReplicaAutoScaling(Protocol):
    """``DescribeTableReplicaAutoScaling``: the auto scaling of a global table's replicas.

    Not part of :class:`Backend`: a backend that offers it (the AWS adapter, the simulated
    account) implements it too, and a caller asks ``isinstance(backend, ReplicaAutoScaling)``.
    """

    def describe_table_replica_auto_scaling(self, name: str) -> tuple[ReplicaScaling, ...]: ...


# --------------------------------------------------------------------------------------------
# The engine: what it scales, where it keeps its state and its audit, and its alarms
# --------------------------------------------------------------------------------------------

ScalableKind = Literal["table", "index", "stream"]
ScalableDimension = Literal["read", "write", "shards"]
_SCALABLE_FORMS = "table/NAME:read|write, table/NAME/index/INDEX:read|write or stream/NAME:shards"


@dataclass(frozen=True, slots=True, order=True)
class Scalable:
    """One dimension the auto-scaling engine scales: a table's or a GSI's reads or writes, or
    a stream's open shards.

    ``key`` is its one spelling everywhere (the Lambda's settings, alarm descriptions, state
    keys, audit items): ``table/NAME:read``, ``table/NAME/index/INDEX:write`` or
    ``stream/NAME:shards``.  DynamoDB and Kinesis names never hold ``/`` or ``:``, so a key
    parses back unambiguously (:meth:`parse`).
    """

    name: str
    dimension: ScalableDimension
    index: str | None = None

    @property
    def kind(self) -> ScalableKind:
        if self.dimension == "shards":
            return "stream"
        return "index" if self.index else "table"

    @property
    def key(self) -> str:
        if self.dimension == "shards":
            return f"stream/{self.name}:shards"
        return f"{resource_id(self.name, self.index)}:{self.dimension}"

    @classmethod
    def parse(cls, key: str) -> Scalable:
        """The :class:`Scalable` spelt ``key``; ``ValueError`` naming the forms allowed."""
        where, sep, dimension = key.rpartition(":")
        bad = ValueError(f"{key!r} is not a scalable dimension ({_SCALABLE_FORMS})")
        if not sep or not where:
            raise bad
        if where.startswith("stream/"):
            name = where[len("stream/") :]
            if dimension != "shards" or not name or "/" in name:
                raise bad
            return cls(name, "shards")
        if dimension not in ("read", "write"):
            raise bad
        try:
            table, index = parse_resource_id(where)
        except ValueError:
            raise bad from None
        return cls(table, "read" if dimension == "read" else "write", index)


@dataclass(frozen=True, slots=True)
class VersionedState:
    """A stored JSON object and its version (1 for the first save, +1 for each after)."""

    version: int
    data: dict[str, object]


@runtime_checkable
class StateStore(Protocol):
    """Where the engine keeps what must outlive one process or one Lambda invocation (each
    policy's state, the events already handled), with optimistic concurrency.

    ``save(key, data, expected_version)`` writes only if the stored version is still
    ``expected_version`` (``None``: only if nothing is stored under ``key``) and returns the
    new version; otherwise it raises :class:`capcon.core.errors.StateConflict` and changes
    nothing.  Implementations: in memory and a local file (``capcon.core.services.state``),
    a DynamoDB table in the deployed engine (``capcon.core.backends.aws.statestore``).
    """

    def load(self, key: str) -> VersionedState | None: ...

    def save(self, key: str, data: dict[str, object], expected_version: int | None) -> int: ...


@runtime_checkable
class AuditStore(Protocol):
    """Where audit records go when not to the local JSON-lines file: each record is a JSON
    object (:class:`capcon.core.services.audit.AuditRecord`'s fields), appended durably before
    ``append`` returns (the intent before the call depends on it); ``read`` gives the newest
    ``limit`` records, oldest first.  A record that cannot be stored raises a
    :class:`capcon.core.errors.CapconError` and the scaler refuses the change."""

    def append(self, record: dict[str, object]) -> None: ...

    def read(self, limit: int | None = None) -> list[dict[str, object]]: ...


AlarmState = Literal["OK", "ALARM", "INSUFFICIENT_DATA"]
Comparison = Literal[
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
]


@dataclass(frozen=True, slots=True)
class AlarmQuery:
    """One ``MetricDataQuery`` of a metric-math alarm: a metric (``metric``) or an expression
    over the others' ids (``expression``); exactly one query of an alarm returns data."""

    id: str
    metric: MetricQuery | None = None
    expression: str | None = None
    label: str | None = None
    return_data: bool = False


@dataclass(frozen=True, slots=True)
class AlarmSpec:
    """A CloudWatch metric alarm as capcon defines it, for ``PutMetricAlarm`` and for the
    template's ``AWS::CloudWatch::Alarm`` alike: either one metric (``metric``: its
    namespace, name, dimensions, statistic and period) or metric math (``queries``).
    ``actions`` are the ARNs told on ALARM (the template writes its topic's ``Ref``)."""

    name: str
    description: str
    threshold: float
    comparison: Comparison
    metric: MetricQuery | None = None
    queries: tuple[AlarmQuery, ...] = ()
    evaluation_periods: int = 1
    datapoints_to_alarm: int = 1
    treat_missing_data: Literal["breaching", "notBreaching", "ignore", "missing"] = "notBreaching"
    actions: tuple[str, ...] = ()
    actions_enabled: bool = True


@dataclass(frozen=True, slots=True)
class AlarmStatus:
    """An alarm as ``DescribeAlarms`` reports it."""

    name: str
    state: AlarmState
    threshold: float | None
    actions_enabled: bool
    description: str = ""


@runtime_checkable
class Alarms(Protocol):
    """CloudWatch alarms the deployed engine owns (those of its stack, by name prefix)."""

    def put_metric_alarm(self, alarm: AlarmSpec) -> None: ...

    def set_alarm_state(self, name: str, state: AlarmState, reason: str) -> None: ...

    def describe_alarms(self, prefix: str) -> list[AlarmStatus]: ...

    def set_alarm_actions(self, names: Sequence[str], enabled: bool) -> None: ...


# --------------------------------------------------------------------------------------------
# Time
# --------------------------------------------------------------------------------------------


@runtime_checkable
class Clock(Protocol):
    """The backend's notion of now: wall time for AWS, simulated time for the account."""

    def now(self) -> datetime: ...


class Backend(Inventory, Metrics, Actuator, AutoScaling, Clock, Protocol):
    """Everything a backend offers; the console and the CLI take one of these."""

    label: str


# --------------------------------------------------------------------------------------------
# Simulation
# --------------------------------------------------------------------------------------------


@runtime_checkable
class SimulationControls(Protocol):
    """What a simulated backend offers beyond the ports: its clock, and what it knows exactly.

    The simulated account provides one; the AWS adapter provides none.  Whoever builds a
    session hands the controls (or ``None``) to the console and the CLI next to the backend,
    so "is this simulated?" is always "were controls given?", never a look at a backend's
    class.  Time moves only through :meth:`tick` and :meth:`step`: nothing here reads the wall
    clock, the caller passes real elapsed seconds.
    """

    def now(self) -> datetime:
        """Simulated time (the backend's :meth:`Clock.now`)."""
        ...

    @property
    def paused(self) -> bool:
        """``True`` while the clock is frozen (:meth:`tick` moves nothing)."""
        ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    @property
    def speed(self) -> float:
        """Simulated seconds per real second (1× is real time, 60× a minute per second)."""
        ...

    @speed.setter
    def speed(self, value: float) -> None:
        """A ``ValueError`` naming the allowed range when ``value`` is outside
        :attr:`speed_range` (the clock is left as it was)."""
        ...

    @property
    def speed_range(self) -> tuple[float, float]:
        """The slowest and the fastest speed allowed."""
        ...

    def tick(self, real_seconds: float) -> int:
        """Advance by ``real_seconds`` × speed (nothing while paused); returns the simulated
        seconds that passed."""
        ...

    def step(self, seconds: int) -> None:
        """Advance exactly ``seconds`` simulated seconds, paused or not."""
        ...

    def provisioned_in_use(self) -> Throughput:
        """Provisioned units in use, summed over every table and GSI of the account (AWS
        would need a ``DescribeTable`` per table, so it is asked only of the simulation)."""
        ...

    def reshard_history(self, stream: str) -> tuple[datetime, ...]:
        """Every counted reshard of ``stream`` (``UpdateShardCount``), oldest first: the
        simulation keeps them all, AWS tells none."""
        ...

    def hot_key(self, table: str, index: str | None = None) -> float:
        """Share of the traffic of ``table`` (or its GSI ``index``) on one hot partition key
        (0: uniform keys): the simulation knows it exactly, AWS tells none."""
        ...

    def set_hot_key(self, table: str, share: float, index: str | None = None) -> None:
        """A trainer's hot key: ``share`` (0 … 1) of the traffic of ``table`` (or its GSI
        ``index``) on one partition key (``ValueError`` outside 0 … 1, nothing changed)."""
        ...

    def shard_times(self, stream: str) -> dict[str, tuple[datetime, datetime | None]]:
        """When each listed shard of ``stream`` (open, or closed and still readable) opened
        and closed (``None``: open): AWS's ``ListShards`` gives neither time."""
        ...
