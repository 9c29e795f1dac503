"""The capacity model: tables, global secondary indexes and streams as frozen values.

Everything above the ports (planner, scaler, policies, console) works on these types, so they
hold exactly what AWS tells us and nothing derived: partition estimates, prices and rule
verdicts are computed elsewhere from these facts.  Build them from AWS's JSON with
:mod:`capcon.core.backends.aws.describe`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

#: Kinesis hash keys are 128-bit unsigned integers: the key space is 0 … 2**128 − 1.
HASH_KEY_SPACE = 2**128
HASH_KEY_MAX = HASH_KEY_SPACE - 1


class BillingMode(StrEnum):
    """DynamoDB capacity mode, spelt as AWS spells it."""

    PROVISIONED = "PROVISIONED"
    PAY_PER_REQUEST = "PAY_PER_REQUEST"

    @property
    def label(self) -> str:
        return "provisioned" if self is BillingMode.PROVISIONED else "on-demand"


class StreamMode(StrEnum):
    """Kinesis capacity mode, spelt as AWS spells it."""

    PROVISIONED = "PROVISIONED"
    ON_DEMAND = "ON_DEMAND"

    @property
    def label(self) -> str:
        return "provisioned" if self is StreamMode.PROVISIONED else "on-demand"


class TableClass(StrEnum):
    """DynamoDB table class (``TableClassSummary.TableClass``), spelt as AWS spells it."""

    STANDARD = "STANDARD"
    STANDARD_INFREQUENT_ACCESS = "STANDARD_INFREQUENT_ACCESS"

    @property
    def label(self) -> str:
        return "Standard" if self is TableClass.STANDARD else "Standard-IA"


ACTIVE = "ACTIVE"
UPDATING = "UPDATING"


@dataclass(frozen=True, slots=True, order=True)
class Throughput:
    """Provisioned capacity in read and write capacity units (RCU, WCU)."""

    read: int
    write: int

    def __str__(self) -> str:
        return f"{self.read:,} RCU / {self.write:,} WCU"


@dataclass(frozen=True, slots=True)
class ThroughputHistory:
    """What AWS reports about past capacity changes in ``ProvisionedThroughput``.

    ``decreases_today`` is AWS's ``NumberOfDecreasesToday`` *as of the moment it was read*;
    the rule book re-bases it on the UTC day of ``now`` (a count from yesterday is zero today).
    """

    decreases_today: int = 0
    last_decrease: datetime | None = None
    last_increase: datetime | None = None


@dataclass(frozen=True, slots=True)
class WarmThroughput:
    """``WarmThroughput`` from ``DescribeTable``: units per second served instantly.

    AWS documents that warm throughput never decreases, so it is a lower bound on the
    partitions behind a table or index.
    """

    read_units_per_second: int
    write_units_per_second: int
    status: str = ACTIVE


@dataclass(frozen=True, slots=True)
class Index:
    """A global secondary index.  It has its own capacity, status and decrease budget."""

    name: str
    status: str = ACTIVE
    provisioned: Throughput | None = None
    history: ThroughputHistory = field(default_factory=ThroughputHistory)
    warm: WarmThroughput | None = None
    size_bytes: int = 0
    item_count: int = 0
    on_demand_max: Throughput | None = None
    #: ``Backfilling`` in ``DescribeTable``: an index ``CREATING`` whose backfill has begun
    #: (AWS then accepts its capacity updates: docs/aws-rules.md#gsi-states)
    backfilling: bool = False

    @property
    def is_active(self) -> bool:
        return self.status == ACTIVE


@dataclass(frozen=True, slots=True)
class ReplicaIndex:
    """A GSI's settings in one replica region (``Replicas[].GlobalSecondaryIndexes``): the
    read capacity it overrides (``None``: the table's GSI capacity applies there too)."""

    name: str
    read_override: int | None = None
    on_demand_read_max: int | None = None
    warm: WarmThroughput | None = None


@dataclass(frozen=True, slots=True)
class Replica:
    """One other region of a global table (version 2019.11.21), as ``DescribeTable`` lists it
    in ``Replicas``.

    Write capacity is the same in every region (AWS keeps it so), so only reads can be
    overridden: ``read_override`` is ``ProvisionedThroughputOverride.ReadCapacityUnits``
    (``None``: the table's read capacity applies).  ``table_class`` is
    ``ReplicaTableClassSummary.TableClass`` (``None``: not reported, the table's class).
    """

    region: str
    status: str = ACTIVE
    read_override: int | None = None
    on_demand_read_max: int | None = None
    table_class: TableClass | None = None
    warm: WarmThroughput | None = None
    indexes: tuple[ReplicaIndex, ...] = ()
    status_description: str | None = None

    @property
    def is_active(self) -> bool:
        return self.status == ACTIVE

    def index(self, name: str) -> ReplicaIndex | None:
        return next((i for i in self.indexes if i.name == name), None)


@dataclass(frozen=True, slots=True)
class ScalingRange:
    """One dimension's auto-scaling settings of a global table's replica or replica GSI
    (``AutoScalingSettingsDescription``); ``target`` is the target-tracking utilisation (%)."""

    minimum: int | None = None
    maximum: int | None = None
    target: float | None = None
    disabled: bool = False

    @property
    def active(self) -> bool:
        return not self.disabled and (self.maximum is not None or self.target is not None)


@dataclass(frozen=True, slots=True)
class ReplicaScaling:
    """``DescribeTableReplicaAutoScaling``: one region's auto scaling of a global table
    (minimum, maximum and target are set for the whole table and passed to every replica)."""

    region: str
    status: str = ACTIVE
    read: ScalingRange | None = None
    write: ScalingRange | None = None
    indexes: tuple[tuple[str, ScalingRange | None, ScalingRange | None], ...] = ()

    @property
    def write_scaled(self) -> bool:
        return self.write is not None and self.write.active


@dataclass(frozen=True, slots=True)
class Table:
    """A DynamoDB table with its global secondary indexes.

    ``provisioned`` is ``None`` for on-demand tables: AWS (and moto) may still return old
    throughput numbers for them, so the billing mode decides, never the numbers.
    """

    name: str
    status: str = ACTIVE
    billing_mode: BillingMode = BillingMode.PROVISIONED
    provisioned: Throughput | None = None
    history: ThroughputHistory = field(default_factory=ThroughputHistory)
    warm: WarmThroughput | None = None
    size_bytes: int = 0
    item_count: int = 0
    indexes: tuple[Index, ...] = ()
    arn: str | None = None
    created: datetime | None = None
    last_switch_to_on_demand: datetime | None = None
    on_demand_max: Throughput | None = None
    table_class: TableClass = TableClass.STANDARD
    #: ``TableClassSummary.LastUpdateDateTime``: AWS reports only the last class change.
    table_class_updated: datetime | None = None
    #: The other regions of a global table; empty for a single-region table.
    replicas: tuple[Replica, ...] = ()
    global_table_version: str | None = None

    @property
    def is_active(self) -> bool:
        return self.status == ACTIVE

    @property
    def is_global(self) -> bool:
        """A global table: ``DescribeTable`` lists at least one other region."""
        return bool(self.replicas)

    @property
    def is_on_demand(self) -> bool:
        return self.billing_mode is BillingMode.PAY_PER_REQUEST

    def index(self, name: str) -> Index:
        """The GSI called ``name``; ``KeyError`` naming the ones that exist otherwise."""
        for index in self.indexes:
            if index.name == name:
                return index
        known = ", ".join(i.name for i in self.indexes) or "none"
        raise KeyError(
            f"table {self.name} has no global secondary index {name!r} (it has: {known})"
        )


@dataclass(frozen=True, slots=True, order=True)
class HashRange:
    """An inclusive range of 128-bit hash keys, as Kinesis reports them."""

    start: int
    end: int

    @property
    def width(self) -> int:
        return self.end - self.start + 1

    @property
    def share(self) -> float:
        """Fraction of the whole hash-key space this range covers."""
        return self.width / HASH_KEY_SPACE


@dataclass(frozen=True, slots=True)
class Shard:
    """A Kinesis shard.  Open shards have no ending sequence number."""

    shard_id: str
    hash_range: HashRange
    parent_id: str | None = None
    adjacent_parent_id: str | None = None
    starting_sequence: str | None = None
    ending_sequence: str | None = None

    @property
    def is_open(self) -> bool:
        return self.ending_sequence is None


@dataclass(frozen=True, slots=True)
class StreamWarmThroughput:
    """``WarmThroughput`` of an on-demand stream (``DescribeStreamSummary``; present only in
    accounts with On-demand Advantage): the write throughput, in MiB/s, the stream is scaling
    towards (``TargetMiBps``) and is scaled to handle now (``CurrentMiBps``)."""

    target_mibps: int | None = None
    current_mibps: int | None = None


@dataclass(frozen=True, slots=True)
class Stream:
    """A Kinesis data stream with every shard ``ListShards`` returned (open and closed).

    The open-shard count is always taken from the shards themselves: ``OpenShardCount`` in
    ``DescribeStreamSummary`` can be wrong (moto) and is kept only for display.
    """

    name: str
    status: str = ACTIVE
    mode: StreamMode = StreamMode.PROVISIONED
    retention_hours: int = 24
    shards: tuple[Shard, ...] = ()
    arn: str | None = None
    created: datetime | None = None
    reported_open_shards: int | None = None
    consumer_count: int = 0
    """Enhanced fan-out consumers registered (``ConsumerCount``, or ``ListStreamConsumers``)."""
    warm_throughput: StreamWarmThroughput | None = None
    on_demand_advantage: bool | None = None
    """The account's On-demand Advantage (``DescribeAccountSettings``'
    ``MinimumThroughputBillingCommitment``) for this stream's region; ``None``: unknown."""

    @property
    def is_active(self) -> bool:
        return self.status == ACTIVE

    @property
    def is_on_demand(self) -> bool:
        return self.mode is StreamMode.ON_DEMAND

    @property
    def open_shards(self) -> tuple[Shard, ...]:
        """Open shards ordered by the start of their hash range."""
        return tuple(sorted((s for s in self.shards if s.is_open), key=lambda s: s.hash_range))

    @property
    def open_shard_count(self) -> int:
        return sum(1 for s in self.shards if s.is_open)


Resource = Table | Stream
