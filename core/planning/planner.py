"""The scale planner: what a capacity change will really do, before anything changes.

:func:`plan` is one pure function from (resource state, requested change, rule settings,
prices, ``now``, context) to either a :class:`ScalePlan` or a :class:`Refusal`.  It never
reads a clock or the network; the console, the CLI, the simulated account and the
auto-scaling engine all call it, so they agree on every number and every refusal.

A plan answers the questions of field note C (docs/field-notes.md#c-permanent-side-effects)
up front: cost before and after, estimated
partitions before and after (and that an increase is permanent), what each partition gets
when capacity later returns to today's value (dilution), the decrease budget used and left
and when the next change is allowed, shards created and closed (short-lived ones included)
and how long closed shards stay readable, the throughput limits, quotas left, and warnings
such as "auto scaling will override this manual change".
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Literal

from capcon.core.model import (
    BillingMode,
    Replica,
    Stream,
    Table,
    TableClass,
    Throughput,
    ThroughputHistory,
    WarmThroughput,
)
from capcon.core.planning.partitions import (
    PartitionEstimate,
    after_capacity_change,
    after_warm_change,
    estimate_partitions,
    raised_warm,
)
from capcon.core.planning.requests import Change, ShardChange
from capcon.core.planning.reshard import ReshardPlan, targeted_plan, uniform_plan
from capcon.core.ports import TableChange
from capcon.core.pricing import (
    LONG_TERM_RETENTION_HOURS,
    ClassBreakEven,
    Cost,
    PriceBook,
    advantage_stream_cost,
    assumptions,
    class_break_even,
    closed_shards_cost,
    on_demand_stream_cost,
    on_demand_table_cost,
    provisioned_stream_cost,
    provisioned_table_cost,
)
from capcon.core.rules import (
    AccountCapacity,
    AccountShards,
    Code,
    DecreaseBudget,
    ReshardBudget,
    RuleSettings,
    Violation,
    after_decrease,
    busy_message,
    check_account_capacity,
    check_capacity_part,
    check_on_demand_max_part,
    check_shard_count,
    check_switch_to_on_demand,
    check_warm_part,
    decrease_budget,
    fmt_on_demand_max,
    fmt_time,
    index_busy_message,
    near_on_demand_max,
    part_label,
    reshard_budget,
    shard_quota,
    whole_request,
)
from capcon.core.rules.dynamodb import (
    ClassSwitchBudget,
    check_replicas_ready,
    check_table_class_switch,
    class_switch_budget,
)

# --------------------------------------------------------------------------------------------
# Context
# --------------------------------------------------------------------------------------------

#: A mebibyte: Kinesis's per-shard limits are 1 MiB/s in and 2 MiB/s out.
MIB = 2**20


@dataclass(frozen=True, slots=True)
class Usage:
    """Recent use of a table or GSI, in units per second (an average): what it consumed and,
    when known, what it throttled (``Read``/``WriteThrottleEvents`` per second).

    **Demand** is consumed + throttled: what the clients asked for.  It is an approximation
    (docs/aws-rules.md#demand-consumed-plus-throttled): each throttle event is counted as one
    request unit, although a throttled request may be larger than one unit (under-count) and a
    client that retries a throttled request is throttled again and counted again (over-count;
    the AWS SDKs retry throttled requests by default).  capcon takes the events as they are,
    so a plan sized on demand errs towards capacity during a retry storm.
    """

    JSON_PROPERTIES: ClassVar[tuple[str, ...]] = ("demand_read", "demand_write")

    read: float
    write: float
    throttled_read: float = 0.0
    throttled_write: float = 0.0

    @property
    def demand_read(self) -> float:
        """Reads asked for per second: consumed + throttled."""
        return self.read + self.throttled_read

    @property
    def demand_write(self) -> float:
        """Writes asked for per second: consumed + throttled."""
        return self.write + self.throttled_write

    @property
    def throttling(self) -> bool:
        return self.throttled_read > 0 or self.throttled_write > 0


@dataclass(frozen=True, slots=True)
class StreamTraffic:
    """Recent stream traffic: totals per second and each open shard's write utilisation.

    ``bytes_out_per_second`` is what ``GetRecords`` consumers read (``GetRecords.Bytes``);
    enhanced fan-out consumers are not in it (each receives every record: priced from
    ``bytes_in`` × the stream's ``ConsumerCount``)."""

    bytes_in_per_second: float = 0.0
    records_in_per_second: float = 0.0
    bytes_out_per_second: float = 0.0
    shard_loads: Mapping[str, float] = field(default_factory=dict)
    #: Records refused per second (``WriteProvisionedThroughputExceeded``): demand is
    #: accepted + refused, as for tables (docs/aws-rules.md#demand-consumed-plus-throttled).
    throttled_records_per_second: float = 0.0

    @property
    def average_record_bytes(self) -> float:
        if self.records_in_per_second <= 0:
            return 1024.0
        return self.bytes_in_per_second / self.records_in_per_second


@dataclass(frozen=True, slots=True)
class PlanContext:
    """What capcon knows beyond ``describe``: traffic, auto scaling, history, account usage.

    Keys ``None`` mean the table itself; a string is a GSI name.
    """

    usage: Mapping[str | None, Usage] = field(default_factory=dict)
    stream_traffic: StreamTraffic | None = None
    auto_scaled: frozenset[str | None] = frozenset()
    previous_partitions: Mapping[str | None, int] = field(default_factory=dict)
    account_capacity: AccountCapacity | None = None
    account_shards: AccountShards | None = None
    reshard_history: tuple[datetime, ...] = ()
    reshard_history_complete: bool = False
    switch_history: tuple[datetime, ...] = ()
    big_change_factor: float = 4.0
    #: The utilisation a proposal sizes capacity for (:func:`propose`), 0 < t ≤ 1.
    target_utilisation: float = 0.70
    #: Price books of a global table's replica regions (a region missing is priced at the
    #: plan's own book, and the plan says so).
    replica_prices: Mapping[str, PriceBook] = field(default_factory=dict)
    #: Table class updates capcon knows of (its audit log); AWS reports only the last.
    class_switch_history: tuple[datetime, ...] = ()
    #: Replica regions whose write capacity auto scaling manages
    #: (``DescribeTableReplicaAutoScaling``).
    replica_auto_scaled: frozenset[str] = frozenset()


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Warning_:
    """Something the user should know before confirming; ``code`` is stable for ``--json``."""

    code: str
    message: str


@dataclass(frozen=True, slots=True)
class PartPlan:
    """Before and after for one capacity part: the table or one GSI."""

    JSON_PROPERTIES: ClassVar[tuple[str, ...]] = ("partitions_permanent",)

    index: str | None
    label: str
    mode_before: BillingMode
    mode_after: BillingMode
    before: Throughput | None
    after: Throughput | None
    changed: bool
    usage: Usage | None
    cost_before: Cost | None
    cost_after: Cost | None
    partitions_before: PartitionEstimate
    partitions_after: PartitionEstimate
    per_partition_before: tuple[float, float] | None
    per_partition_after: tuple[float, float] | None
    per_partition_after_return: tuple[float, float] | None
    decrease_budget: DecreaseBudget
    is_decrease: bool
    decreases_left_after: int
    next_decrease_after: datetime
    quota_left_after: Throughput | None
    warm_before: WarmThroughput | None = None
    warm_after: WarmThroughput | None = None
    #: pre-warmed by this change (irreversible and charged), not only raised by capacity
    prewarm: bool = False
    #: the one-time pre-warming charge, ``None`` when not pre-warming or its price is unknown
    prewarm_charge: float | None = None
    on_demand_max_before: Throughput | None = None
    on_demand_max_after: Throughput | None = None

    @property
    def partitions_permanent(self) -> bool:
        """An increase in estimated partitions cannot be undone: partitions never merge."""
        return self.partitions_after.count > self.partitions_before.count


@dataclass(frozen=True, slots=True)
class StreamPlan:
    """Before and after for a stream reshard."""

    open_before: int
    open_after: int
    write_limit_before: tuple[int, int]
    write_limit_after: tuple[int, int]
    read_limit_before: int
    read_limit_after: int
    reshard: ReshardPlan
    alternative: ReshardPlan | None
    budget: ReshardBudget
    reshards_left_after: int
    next_reshard_after: datetime
    history_complete: bool
    cost_before: Cost
    cost_after: Cost
    alternative_cost_after: Cost | None
    on_demand_alternative: Cost | None
    closed_shards_cost_once: float = 0.0
    """A one-time cost, not hourly: the shards this reshard closes, billed for their retention
    when the price book assumes closed shards are billed (``bill_closed_shards``)."""
    efo_consumers: int = 0
    account_shard_quota: int | None = None
    account_shard_quota_source: str = ""


@dataclass(frozen=True, slots=True)
class RegionCost:
    """One region of a global table in a plan: its status, class, and the table's cost there
    (table and GSIs) before and after; ``prices_from`` names the book it was priced with."""

    region: str
    status: str
    table_class_before: TableClass
    table_class_after: TableClass
    read_override: int | None
    cost_before: Cost | None
    cost_after: Cost | None
    prices_from: str
    home: bool = False


@dataclass(frozen=True, slots=True)
class ScalePlan:
    """Everything a change will do, for a preview; the scaler applies it as planned."""

    resource: str
    kind: Literal["table", "stream"]
    summary: str
    made_at: datetime
    fingerprint: str
    change: Change
    parts: tuple[PartPlan, ...]
    stream: StreamPlan | None
    cost_before: Cost | None
    cost_after: Cost | None
    on_demand_alternative: Cost | None
    account_left: Throughput | None
    warnings: tuple[Warning_, ...]
    assumptions: tuple[str, ...]
    #: A global table's cost region by region (empty for a single-region table or a stream).
    regions: tuple[RegionCost, ...] = ()
    #: A class switch's storage saving against its throughput premium, per month.
    class_break_even: ClassBreakEven | None = None
    class_budget: ClassSwitchBudget | None = None

    @property
    def change_factor(self) -> float:
        """The largest ratio between after and before of any changed dimension or shard count
        (2.0 for a doubling or a halving): how big the change is, for typed confirmation."""
        worst = 1.0
        for part in self.parts:
            if part.changed and part.before and part.after:
                for b, a in (
                    (part.before.read, part.after.read),
                    (part.before.write, part.after.write),
                ):
                    if b and a:
                        worst = max(worst, a / b, b / a)
        s = self.stream
        if s is not None and s.open_before and s.open_after:
            worst = max(worst, s.open_after / s.open_before, s.open_before / s.open_after)
        return worst


@dataclass(frozen=True, slots=True)
class Refusal:
    """A change that AWS would reject (or that makes no sense), with every reason."""

    JSON_PROPERTIES: ClassVar[tuple[str, ...]] = ("whole_request", "allowed_at")

    resource: str
    kind: Literal["table", "stream"]
    summary: str
    made_at: datetime
    violations: tuple[Violation, ...]

    @property
    def whole_request(self) -> bool:
        return any(v.code is Code.WHOLE_REQUEST for v in self.violations)

    @property
    def allowed_at(self) -> datetime | None:
        """When every time-bound reason clears, if they all are time-bound."""
        times = [v.allowed_at for v in self.violations if v.code is not Code.WHOLE_REQUEST]
        if not times or any(t is None for t in times):
            return None
        return max(t for t in times if t is not None)


# --------------------------------------------------------------------------------------------
# Fingerprints: "has the resource changed since the preview?"
# --------------------------------------------------------------------------------------------


def fingerprint(resource: Table | Stream) -> str:
    """A short digest of the state a plan depends on; the scaler refuses if it differs."""
    if isinstance(resource, Table):
        parts: tuple[object, ...] = (
            "table",
            resource.name,
            resource.status,
            resource.billing_mode.value,
            resource.provisioned,
            resource.history.decreases_today,
            tuple(
                (i.name, i.status, i.provisioned, i.history.decreases_today)
                for i in resource.indexes
            ),
            resource.table_class.value,
            tuple((r.region, r.status, r.read_override, r.table_class) for r in resource.replicas),
        )
    else:
        parts = (
            "stream",
            resource.name,
            resource.status,
            resource.mode.value,
            tuple((s.shard_id, s.hash_range.start, s.hash_range.end) for s in resource.open_shards),
        )
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------


def _fmt_units(t: Throughput | None) -> str:
    return "on-demand" if t is None else str(t)


def _table_parts(table: Table) -> list[tuple[str | None, str]]:
    return [
        (None, part_label(table.name)),
        *((i.name, part_label(table.name, i.name)) for i in table.indexes),
    ]


def _table_summary(table: Table, change: TableChange) -> str:
    bits: list[str] = []
    if change.table_class is not None:
        bits.append(
            f"{table.name}: table class {table.table_class.label} → {change.table_class.label}"
        )
    if change.billing_mode is not None and change.billing_mode is not table.billing_mode:
        bits.append(f"switch {table.name} to {change.billing_mode.label}")
    if change.table is not None:
        bits.append(f"{table.name}: {_fmt_units(table.provisioned)} → {change.table}")
    for name, capacity in change.indexes:
        current = next((i.provisioned for i in table.indexes if i.name == name), None)
        bits.append(f"{table.name}/{name}: {_fmt_units(current)} → {capacity}")
    warm_parts = ((None, change.warm),) if change.warm is not None else ()
    for name, warm in (*warm_parts, *change.index_warm):
        where = table.name if name is None else f"{table.name}/{name}"
        bits.append(f"pre-warm {where} to {_fmt_warm(warm)}")
    limit_parts = ((None, change.on_demand_max),) if change.on_demand_max is not None else ()
    for name, limit in (*limit_parts, *change.index_on_demand_max):
        where = table.name if name is None else f"{table.name}/{name}"
        bits.append(f"{where}: on-demand maximum {fmt_on_demand_max(limit)}")
    return "; ".join(bits) or f"{table.name}: no change"


def _fmt_warm(warm: WarmThroughput | None) -> str:
    if warm is None:
        return "unknown"
    return f"{warm.read_units_per_second:,} read / {warm.write_units_per_second:,} write units/s"


def _requested(table: Table, change: TableChange) -> dict[str | None, Throughput | None]:
    """Capacity after the change for every part (``None`` = on-demand)."""
    mode = change.billing_mode or table.billing_mode
    after: dict[str | None, Throughput | None] = {None: table.provisioned}
    after.update({i.name: i.provisioned for i in table.indexes})
    if mode is BillingMode.PAY_PER_REQUEST:
        return dict.fromkeys(after)
    if change.table is not None:
        after[None] = change.table
    after.update(dict(change.indexes))
    return after


def check_table_change(
    table: Table,
    change: TableChange,
    now: datetime,
    rules: RuleSettings,
    context: PlanContext,
) -> list[Violation]:
    """Every rule an ``UpdateTable`` carrying ``change`` breaks (empty: AWS accepts it).

    The same check serves the planner and the simulated account, so both refuse alike.
    """
    label = part_label(table.name)
    found: list[Violation] = []
    known = {i.name for i in table.indexes}
    named = [name for name, _ in (*change.indexes, *change.index_warm, *change.index_on_demand_max)]
    for name in dict.fromkeys(named):
        if name not in known:
            have = ", ".join(sorted(known)) or "none"
            found.append(
                Violation(
                    Code.UNKNOWN_INDEX,
                    part_label(table.name, name),
                    f"table {table.name} has no global secondary index {name!r} (it has: {have})",
                )
            )
    if found:
        return found
    if change.table_class is not None:
        if change.table is not None or change.indexes or change.billing_mode is not None:
            return [
                Violation(
                    Code.SEPARATE_REQUEST,
                    label,
                    f"{label}: a table class switch is planned and sent on its own; change "
                    "capacity or mode in a separate request",
                )
            ]
        return check_table_class_switch(
            table, change.table_class, now, rules, context.class_switch_history
        )
    found += check_replicas_ready(table)
    switching = change.billing_mode is not None and change.billing_mode is not table.billing_mode
    extras, extra_parts = _check_extras(table, change, rules)
    if change.billing_mode is BillingMode.PAY_PER_REQUEST:
        if change.table is not None or change.indexes:
            found.append(
                Violation(
                    Code.NO_CHANGE,
                    label,
                    f"{label}: on-demand tables take no provisioned capacity; "
                    "leave out RCU/WCU to switch to on-demand",
                )
            )
        if switching or not change.sets_extras:
            found += check_switch_to_on_demand(table, now, rules, context.switch_history)
        if table.status != "ACTIVE":
            found.append(
                Violation(Code.RESOURCE_BUSY, label, f"{label} is {table.status}: wait for ACTIVE")
            )
        found += [v for v in extras if v.code is not Code.RESOURCE_BUSY or v.part != label]
        return found
    if not change.sets_capacity and not switching and change.sets_extras:
        return whole_request(extras, extra_parts)
    if table.is_on_demand and not switching:
        return [
            Violation(
                Code.NOT_PROVISIONED,
                label,
                f"{label} is on-demand: it has no capacity to set; switch it to provisioned "
                "mode with RCU and WCU (capcon plan … --mode provisioned)",
            )
        ]
    if switching:
        missing = [label] if change.table is None else []
        given = {name for name, _ in change.indexes}
        missing += [part_label(table.name, i.name) for i in table.indexes if i.name not in given]
        found += [
            Violation(
                Code.MISSING_CAPACITY,
                part,
                f"{part}: switching to provisioned needs its RCU and WCU",
            )
            for part in missing
        ]
        if found:
            return found
    if change.table is None and not change.indexes:
        if change.billing_mode is table.billing_mode:
            return [
                Violation(
                    Code.NO_CHANGE,
                    label,
                    f"{label} is already {table.billing_mode.label}: give --rcu/--wcu to change "
                    "its capacity",
                )
            ]
        return [Violation(Code.NO_CHANGE, label, f"{label}: no capacity was given")]

    after = _requested(table, change)
    parts: list[str] = []
    if change.table is not None:
        parts.append(label)
        current = None if switching else table.provisioned
        found += check_capacity_part(
            label, table.status, current, change.table, table.history, now, rules
        )
    for name, capacity in change.indexes:
        index = table.index(name)
        ilabel = part_label(table.name, name)
        parts.append(ilabel)
        status = index.status if table.status == "ACTIVE" else table.status
        current = None if switching else index.provisioned
        found += check_capacity_part(
            ilabel, status, current, capacity, index.history, now, rules,
            backfilling=index.backfilling and table.status == "ACTIVE",
        )  # fmt: skip
    if context.account_capacity is not None:
        before_read = sum(t.read for t in _current(table).values() if t is not None)
        before_write = sum(t.write for t in _current(table).values() if t is not None)
        after_read = sum(t.read for t in after.values() if t is not None)
        after_write = sum(t.write for t in after.values() if t is not None)
        found += check_account_capacity(
            label,
            Throughput(after_read - before_read, after_write - before_write),
            context.account_capacity,
            rules,
        )
    busy_parts = {v.part for v in found if v.code is Code.RESOURCE_BUSY}
    found += [v for v in extras if v.code is not Code.RESOURCE_BUSY or v.part not in busy_parts]
    parts += [p for p in extra_parts if p not in parts]
    return whole_request(found, parts)


def _check_extras(
    table: Table, change: TableChange, rules: RuleSettings
) -> tuple[list[Violation], list[str]]:
    """The rules for the pre-warming and on-demand maximums of ``change``, and the parts they
    touch (docs/aws-rules.md#pre-warming, docs/aws-rules.md#on-demand-maximums)."""
    found: list[Violation] = []
    parts: list[str] = []
    on_demand_after = (change.billing_mode or table.billing_mode) is BillingMode.PAY_PER_REQUEST
    label = part_label(table.name)
    indexes = {i.name: i for i in table.indexes}
    if change.warm is not None or change.on_demand_max is not None:
        parts.append(label)
        busy = busy_message(label, table.status)
        if busy is not None:
            found.append(Violation(Code.RESOURCE_BUSY, label, busy))
        if change.warm is not None:
            found += check_warm_part(label, table.warm, change.warm, rules)
        if change.on_demand_max is not None:
            found += check_on_demand_max_part(
                label, table.on_demand_max, change.on_demand_max, on_demand_after
            )
    for name in dict.fromkeys(n for n, _ in (*change.index_warm, *change.index_on_demand_max)):
        ilabel = part_label(table.name, name)
        parts.append(ilabel)
        busy = index_busy_message(ilabel, table, indexes[name])
        if busy is not None:
            found.append(Violation(Code.RESOURCE_BUSY, ilabel, busy))
    for name, warm in change.index_warm:
        found += check_warm_part(part_label(table.name, name), indexes[name].warm, warm, rules)
    for name, limit in change.index_on_demand_max:
        found += check_on_demand_max_part(
            part_label(table.name, name), indexes[name].on_demand_max, limit, on_demand_after
        )
    return found, parts


def _current(table: Table) -> dict[str | None, Throughput | None]:
    current: dict[str | None, Throughput | None] = {None: table.provisioned}
    current.update({i.name: i.provisioned for i in table.indexes})
    return current


def _part_cost(
    capacity: Throughput | None,
    usage: Usage | None,
    size_bytes: int,
    prices: PriceBook,
    table_class: TableClass = TableClass.STANDARD,
    *,
    replicated: bool = False,
    region: str | None = None,
) -> Cost | None:
    if capacity is not None:
        return provisioned_table_cost(
            capacity,
            prices,
            storage_bytes=size_bytes,
            table_class=table_class,
            replicated=replicated,
            region=region,
        )
    if usage is None:
        return None
    return on_demand_table_cost(
        usage.read,
        usage.write,
        prices,
        storage_bytes=size_bytes,
        table_class=table_class,
        replicated=replicated,
        region=region,
    )


# --------------------------------------------------------------------------------------------
# Global tables: every region's cost (docs/aws-rules.md#global-tables-and-table-classes)
# --------------------------------------------------------------------------------------------


def priced_replicas(table: Table, prices: PriceBook) -> tuple[Replica, ...]:
    """The replicas priced besides the plan's own region (a replica listed for the region
    the plan is priced in is that region: it is not counted twice)."""
    return tuple(r for r in table.replicas if r.region != prices.region)


def _read_override(replica: Replica, index: str | None) -> int | None:
    if index is None:
        return replica.read_override
    found = replica.index(index)
    return found.read_override if found is not None else None


def _replica_cost(
    replica: Replica,
    index: str | None,
    capacity: Throughput | None,
    usage: Usage | None,
    size_bytes: int,
    book: PriceBook,
    table_class: TableClass,
) -> Cost | None:
    """One part (table or GSI) in one replica region: the same write capacity (billed as
    replicated writes), its own read capacity where overridden, the same storage.  On-demand:
    every write is replicated there; its reads are not measured here and not priced."""
    if capacity is not None:
        override = _read_override(replica, index)
        capacity = Throughput(override if override is not None else capacity.read, capacity.write)
    elif usage is not None:
        usage = Usage(0.0, usage.write)
    return _part_cost(
        capacity, usage, size_bytes, book, table_class, replicated=True, region=replica.region
    )


def table_cost_all_regions(
    table: Table,
    index: str | None,
    capacity: Throughput | None,
    usage: Usage | None,
    size_bytes: int,
    prices: PriceBook,
    context: PlanContext,
    table_class: TableClass | None = None,
) -> Cost | None:
    """A part (table or GSI) priced in its own region and, for a global table, in every
    replica region; ``table_class`` is the class of this region (default: the table's)."""
    own_class = table_class or table.table_class
    if not table.is_global:
        return _part_cost(capacity, usage, size_bytes, prices, own_class)
    costs: list[Cost | None] = [
        _part_cost(
            capacity, usage, size_bytes, prices, own_class, replicated=True, region=prices.region
        )
    ]
    for replica in priced_replicas(table, prices):
        book = context.replica_prices.get(replica.region, prices)
        replica_class = replica.table_class or own_class
        costs.append(
            _replica_cost(replica, index, capacity, usage, size_bytes, book, replica_class)
        )
    return _sum_costs(costs)


def _sum_costs(costs: list[Cost | None]) -> Cost | None:
    if any(c is None for c in costs):
        return None
    total = Cost(0.0)
    for cost in costs:
        assert cost is not None
        total = total + cost
    return total


def _fmt_pp(pp: tuple[float, float]) -> str:
    return f"{pp[0]:,.0f} RCU / {pp[1]:,.0f} WCU"


def _plan_table(
    table: Table,
    change: TableChange,
    now: datetime,
    rules: RuleSettings,
    prices: PriceBook,
    context: PlanContext,
) -> ScalePlan | Refusal:
    summary = _table_summary(table, change)
    violations = check_table_change(table, change, now, rules, context)
    if violations:
        return Refusal(table.name, "table", summary, now, tuple(violations))

    mode_after = change.billing_mode or table.billing_mode
    class_after = change.table_class or table.table_class
    current = _current(table)
    after = _requested(table, change)
    changed_names: set[str | None] = {None} if change.table is not None else set()
    changed_names |= {name for name, _ in change.indexes}
    warm_asked: dict[str | None, WarmThroughput] = dict(change.index_warm)
    limit_asked: dict[str | None, Throughput] = dict(change.index_on_demand_max)
    if change.warm is not None:
        warm_asked[None] = change.warm
    if change.on_demand_max is not None:
        limit_asked[None] = change.on_demand_max
    changed_names |= set(warm_asked) | set(limit_asked)
    limits: dict[str | None, Throughput | None] = {None: table.on_demand_max}
    limits.update({i.name: i.on_demand_max for i in table.indexes})
    if mode_after is not table.billing_mode:
        changed_names = set(current)
    sizes: dict[str | None, int] = {None: table.size_bytes}
    sizes.update({i.name: i.size_bytes for i in table.indexes})
    warms: dict[str | None, WarmThroughput | None] = {None: table.warm}
    warms.update({i.name: i.warm for i in table.indexes})
    histories: dict[str | None, ThroughputHistory] = {None: table.history}
    histories.update({i.name: i.history for i in table.indexes})

    parts: list[PartPlan] = []
    warnings: list[Warning_] = []
    for name, label in _table_parts(table):
        before_cap, after_cap = current[name], after[name]
        usage = context.usage.get(name)
        p_before = estimate_partitions(
            before_cap,
            sizes[name],
            rules,
            warm=warms[name],
            previous=context.previous_partitions.get(name),
        )
        warm_before = warms[name]
        provisioned_after = None if mode_after is BillingMode.PAY_PER_REQUEST else after_cap
        p_after = after_capacity_change(
            p_before, provisioned_after, sizes[name], rules, warm=warm_before
        )
        warm_after = None if warm_before is None else raised_warm(warm_before, provisioned_after)
        asked = warm_asked.get(name)
        if asked is not None:
            warm_after = _merged_warm(warm_after, asked)
            p_after = after_warm_change(p_after, warm_after, rules)
        budget = decrease_budget(histories[name], now, rules)
        is_decrease = (
            before_cap is not None
            and after_cap is not None
            and (after_cap.read < before_cap.read or after_cap.write < before_cap.write)
        )
        left_after, next_after = budget.left_today, budget.next_allowed_at
        if is_decrease:
            later = decrease_budget(after_decrease(histories[name], now), now, rules)
            left_after, next_after = later.left_today, later.next_allowed_at
        quota_left = (
            None
            if after_cap is None
            else Throughput(
                rules.table_max_read_units - after_cap.read,
                rules.table_max_write_units - after_cap.write,
            )
        )
        part = PartPlan(
            index=name,
            label=label,
            mode_before=table.billing_mode,
            mode_after=mode_after,
            before=before_cap,
            after=after_cap,
            changed=name in changed_names,
            usage=usage,
            cost_before=table_cost_all_regions(
                table, name, before_cap, usage, sizes[name], prices, context
            ),
            cost_after=table_cost_all_regions(
                table, name, after_cap, usage, sizes[name], prices, context, class_after
            ),
            partitions_before=p_before,
            partitions_after=p_after,
            per_partition_before=p_before.per_partition(before_cap),
            per_partition_after=p_after.per_partition(after_cap),
            per_partition_after_return=p_after.per_partition(before_cap),
            decrease_budget=budget,
            is_decrease=is_decrease,
            decreases_left_after=left_after,
            next_decrease_after=next_after,
            quota_left_after=quota_left,
            warm_before=warm_before,
            warm_after=warm_after,
            prewarm=asked is not None,
            prewarm_charge=(None if asked is None else prewarm_charge(warm_before, asked, prices)),
            on_demand_max_before=limits[name],
            on_demand_max_after=limit_asked.get(name, limits[name]),
        )
        parts.append(part)
        if part.changed:
            warnings += _part_warnings(part, now, rules, context)
            warnings += _warm_and_limit_warnings(part, rules)
    warnings += gsi_write_warnings(table, current, after, context, rules)

    cost_before = _sum_costs([p.cost_before for p in parts])
    cost_after = _sum_costs([p.cost_after for p in parts])
    on_demand: Cost | None = None
    if mode_after is BillingMode.PROVISIONED and all(
        context.usage.get(name) is not None for name, _ in _table_parts(table)
    ):
        on_demand = _sum_costs(
            [
                table_cost_all_regions(
                    table, n, None, context.usage[n], sizes[n], prices, context, class_after
                )
                for n, _ in _table_parts(table)
            ]
        )
        if (
            on_demand is not None
            and cost_after is not None
            and on_demand.per_hour < cost_after.per_hour
        ):
            warnings.append(
                Warning_(
                    "on-demand-cheaper",
                    f"at current traffic on-demand would cost ${on_demand.per_hour:.4f}/h "
                    f"(${on_demand.per_month:,.2f}/month) against ${cost_after.per_hour:.4f}/h "
                    "provisioned after this change",
                )
            )
    account_left: Throughput | None = None
    if context.account_capacity is not None:
        delta_r = sum(t.read for t in after.values() if t) - sum(
            t.read for t in current.values() if t
        )
        delta_w = sum(t.write for t in after.values() if t) - sum(
            t.write for t in current.values() if t
        )
        account_left = Throughput(
            rules.account_max_read_units - context.account_capacity.read_units - delta_r,
            rules.account_max_write_units - context.account_capacity.write_units - delta_w,
        )
    regions = _region_costs(table, current, after, class_after, sizes, prices, context)
    warnings += _global_warnings(table, change, mode_after, regions, context)
    break_even: ClassBreakEven | None = None
    class_budget: ClassSwitchBudget | None = None
    if change.table_class is not None:
        stored = sum(sizes.values())
        if cost_before is not None and cost_after is not None:
            own_before = _own_region(regions, cost_before)
            own_after = _own_region(regions, cost_after, after=True)
            break_even = class_break_even(own_before, own_after, stored)
        else:  # on-demand without measured traffic: the storage side alone
            warnings.append(_storage_only(table, change.table_class, stored, prices))
        class_budget = class_switch_budget(table, now, rules, context.class_switch_history)
        warnings += _class_warnings(table, change.table_class, break_even, class_budget)
    return ScalePlan(
        resource=table.name,
        kind="table",
        summary=summary,
        made_at=now,
        fingerprint=fingerprint(table),
        change=change,
        parts=tuple(parts),
        stream=None,
        cost_before=cost_before,
        cost_after=cost_after,
        on_demand_alternative=on_demand,
        account_left=account_left,
        warnings=tuple(warnings),
        assumptions=(
            "partition counts are estimates: DynamoDB does not report them (historical "
            "formula ceil(RCU/3000 + WCU/1000), size/10 GB, warm throughput, earlier estimates)",
            *_demand_assumptions(context),
            *(a for a in assumptions(prices) if "closed shards" not in a),
            *_global_assumptions(table, mode_after, prices, context),
        ),
        regions=regions,
        class_break_even=break_even,
        class_budget=class_budget,
    )


def _merged_warm(warm: WarmThroughput | None, asked: WarmThroughput) -> WarmThroughput:
    """Warm throughput after pre-warming to ``asked``: never below what it already is."""
    if warm is None:
        return WarmThroughput(asked.read_units_per_second, asked.write_units_per_second)
    return WarmThroughput(
        max(warm.read_units_per_second, asked.read_units_per_second),
        max(warm.write_units_per_second, asked.write_units_per_second),
    )


def prewarm_charge(
    before: WarmThroughput | None, asked: WarmThroughput, prices: PriceBook
) -> float | None:
    """The one-time charge of pre-warming from ``before`` to ``asked``: the units per second
    raised in each dimension times the price book's rate (``prewarm_read_units``,
    ``prewarm_write_units``); ``None`` when a rate it needs, or today's warm value, is
    unknown (docs/aws-rules.md#pre-warming)."""
    if before is None:
        return None
    total = 0.0
    for raised, rate in (
        (asked.read_units_per_second - before.read_units_per_second, prices.prewarm_read_units),
        (asked.write_units_per_second - before.write_units_per_second, prices.prewarm_write_units),
    ):
        if raised <= 0:
            continue
        if rate is None:
            return None
        total += raised * rate
    return total


def _warm_and_limit_warnings(part: PartPlan, rules: RuleSettings) -> list[Warning_]:
    """Pre-warming (irreversible, charged) and on-demand maximums near or below traffic."""
    found: list[Warning_] = []
    if part.prewarm:
        found.append(
            Warning_(
                "prewarm-irreversible",
                f"{part.label}: pre-warming is irreversible: warm throughput can never be "
                "decreased (on a global table it applies to every replica)",
            )
        )
        if part.prewarm_charge is not None:
            charge = f"a one-time charge of ${part.prewarm_charge:,.2f}"
        elif part.warm_before is None:
            charge = (
                "charged by AWS for the units raised; their number is unknown, as today's warm "
                "throughput is not known (DescribeTable's WarmThroughput)"
            )
        else:
            charge = (
                "charged by AWS; price unknown to capcon (set prewarm_read_units and "
                "prewarm_write_units in a price file)"
            )
        found.append(Warning_("prewarm-charge", f"{part.label}: pre-warming is {charge}"))
    if part.mode_after is BillingMode.PAY_PER_REQUEST and part.usage is not None:
        found += [
            Warning_("near-on-demand-max", message)
            for message in near_on_demand_max(
                part.label, part.usage.read, part.usage.write, part.on_demand_max_after, rules
            )
        ]
    return found


def _own_region(regions: tuple[RegionCost, ...], total: Cost, *, after: bool = False) -> Cost:
    """The plan's own region's cost: the total for a single-region table."""
    for region in regions:
        if region.home:
            cost = region.cost_after if after else region.cost_before
            return cost if cost is not None else total
    return total


def _region_costs(
    table: Table,
    current: Mapping[str | None, Throughput | None],
    after: Mapping[str | None, Throughput | None],
    class_after: TableClass,
    sizes: Mapping[str | None, int],
    prices: PriceBook,
    context: PlanContext,
) -> tuple[RegionCost, ...]:
    """A global table's cost region by region (the table and its GSIs together)."""
    if not table.is_global:
        return ()
    names = [name for name, _ in _table_parts(table)]

    def own(caps: Mapping[str | None, Throughput | None], cls: TableClass) -> Cost | None:
        return _sum_costs(
            [
                _part_cost(
                    caps[n],
                    context.usage.get(n),
                    sizes[n],
                    prices,
                    cls,
                    replicated=True,
                    region=prices.region,
                )
                for n in names
            ]
        )

    found = [
        RegionCost(
            region=prices.region,
            status=table.status,
            table_class_before=table.table_class,
            table_class_after=class_after,
            read_override=None,
            cost_before=own(current, table.table_class),
            cost_after=own(after, class_after),
            prices_from=prices.assumed_from or prices.region,
            home=True,
        )
    ]

    def replica_total(
        replica: Replica,
        caps: Mapping[str | None, Throughput | None],
        book: PriceBook,
        cls: TableClass,
    ) -> Cost | None:
        return _sum_costs(
            [
                _replica_cost(replica, n, caps[n], context.usage.get(n), sizes[n], book, cls)
                for n in names
            ]
        )

    for replica in priced_replicas(table, prices):
        book = context.replica_prices.get(replica.region)
        used = book or prices
        before_class = replica.table_class or table.table_class
        after_class = replica.table_class or class_after

        found.append(
            RegionCost(
                region=replica.region,
                status=replica.status,
                table_class_before=before_class,
                table_class_after=after_class,
                read_override=replica.read_override,
                cost_before=replica_total(replica, current, used, before_class),
                cost_after=replica_total(replica, after, used, after_class),
                prices_from=(prices.region if book is None else (book.assumed_from or book.region)),
            )
        )
    return tuple(found)


#: Replica states in which replication to the replica has stopped (botocore ``ReplicaStatus``).
REPLICA_UNAVAILABLE = frozenset(
    {
        "CREATION_FAILED",
        "REGION_DISABLED",
        "INACCESSIBLE_ENCRYPTION_CREDENTIALS",
        "ARCHIVED",
        "REPLICATION_NOT_AUTHORIZED",
    }
)


def _regions_text(replicas: list[Replica] | tuple[Replica, ...]) -> str:
    return ", ".join(r.region for r in replicas)


def _global_warnings(
    table: Table,
    change: TableChange,
    mode_after: BillingMode,
    regions: tuple[RegionCost, ...],
    context: PlanContext,
) -> list[Warning_]:
    """What a change to a global table does in its other regions."""
    if not table.is_global:
        return []
    found: list[Warning_] = []
    replicas = table.replicas
    everywhere = _regions_text(replicas)
    per_region = [
        f"{r.region} {_cost_move(r.cost_before, r.cost_after)}"
        for r in regions
        if r.cost_before is not None
        and r.cost_after is not None
        and abs(r.cost_after.per_hour - r.cost_before.per_hour) > 1e-12
    ]
    moves = f" (cost per hour: {'; '.join(per_region)})" if per_region else ""
    if change.billing_mode is not None and change.billing_mode is not table.billing_mode:
        found.append(
            Warning_(
                "replicas-switch-mode",
                f"{table.name} is a global table: switching its capacity mode switches every "
                f"replica too ({everywhere}) to {change.billing_mode.label}{moves}",
            )
        )
        if (
            change.billing_mode is BillingMode.PROVISIONED
            and None not in context.auto_scaled
            and not context.replica_auto_scaled
        ):
            found.append(
                Warning_(
                    "global-needs-auto-scaling",
                    f"{table.name}: AWS requires a global table in provisioned mode to have "
                    "write auto scaling (or to stay on-demand) so every replica can take the "
                    "replicated writes; set it up after the switch (capcon aas)",
                )
            )
    writes_changed: list[str] = []
    for name, capacity in _changed_capacity(table, change):
        before = table.provisioned if name is None else table.index(name).provisioned
        label = table.name if name is None else f"{table.name}/{name}"
        if before is None:
            continue
        if capacity.write != before.write:
            writes_changed.append(label)
            found.append(
                Warning_(
                    "replicas-write-capacity",
                    f"{label}: write capacity is the same in every region of a global table, "
                    f"so {before.write:,} → {capacity.write:,} WCU applies in {everywhere} "
                    f"too, billed as replicated WCU in each{moves}",
                )
            )
        if capacity.read != before.read:
            follow = [r for r in replicas if _read_override(r, name) is None]
            own = [r for r in replicas if _read_override(r, name) is not None]
            words = f"{label}: {before.read:,} → {capacity.read:,} RCU applies "
            words += f"in {_regions_text(follow)} too" if follow else "here only"
            if own:
                kept = ", ".join(f"{r.region} ({_read_override(r, name):,} RCU)" for r in own)
                verb = "keeps its" if len(own) == 1 else "keep their"
                words += f"; {kept} {verb} own read capacity (ProvisionedThroughputOverride)"
            found.append(Warning_("replicas-read-capacity", words))
    if writes_changed and context.replica_auto_scaled:
        scaled = ", ".join(sorted(context.replica_auto_scaled))
        found.append(
            Warning_(
                "replica-auto-scaling",
                f"auto scaling manages the write capacity of {table.name}'s replicas in "
                f"{scaled} (DescribeTableReplicaAutoScaling): a manual change may be undone at "
                "its next alarm; change the table's replica auto-scaling settings instead",
            )
        )
    down = [r for r in replicas if r.status in REPLICA_UNAVAILABLE]
    if down:
        found.append(
            Warning_(
                "replica-unavailable",
                f"{table.name}: replica "
                + ", ".join(f"{r.region} is {r.status}" for r in down)
                + ": replication to it has stopped (AWS removes a replica that stays "
                "inaccessible for more than 20 hours from the replication group); it is still "
                "priced here",
            )
        )
    return found


def _cost_move(before: Cost | None, after: Cost | None) -> str:
    if before is None or after is None:
        return "unknown"
    return f"${before.per_hour:.4f} → ${after.per_hour:.4f}"


def _changed_capacity(table: Table, change: TableChange) -> list[tuple[str | None, Throughput]]:
    found: list[tuple[str | None, Throughput]] = []
    if change.billing_mode is BillingMode.PAY_PER_REQUEST:
        return found
    if change.table is not None:
        found.append((None, change.table))
    found += list(change.indexes)
    return found


#: The first global tables' version: its replicas are listed by ``DescribeGlobalTable``, not
#: in ``DescribeTable``'s ``Replicas`` (DynamoDB developer guide, global tables version 2017).
LEGACY_GLOBAL_TABLE_VERSION = "2017.11.29"


def _global_assumptions(
    table: Table, mode_after: BillingMode, prices: PriceBook, context: PlanContext
) -> list[str]:
    if table.global_table_version == LEGACY_GLOBAL_TABLE_VERSION and not table.is_global:
        return [
            f"global table version {LEGACY_GLOBAL_TABLE_VERSION} (legacy): its replicas are "
            "not listed by DescribeTable, so only this region is priced and no replica is "
            "checked; each replica is a table of its own region, changed there (give every "
            "replica the same write capacity)"
        ]
    if not table.is_global:
        return []
    notes = [
        f"global table: priced in {prices.region} and in every replica region "
        f"({_regions_text(priced_replicas(table, prices))}): the same write capacity "
        "everywhere (replicated WCU or replicated write request units), each region's read "
        "capacity or override, and storage taken as this region's size in each region",
    ]
    if table.is_on_demand or mode_after is BillingMode.PAY_PER_REQUEST:
        notes.append(
            "on-demand reads in replica regions are not measured here (CloudWatch of "
            f"{prices.region}) and not priced"
        )
    for replica in priced_replicas(table, prices):
        book = context.replica_prices.get(replica.region)
        if book is None:
            notes.append(
                f"no price book loaded for {replica.region}: priced at {prices.region}'s prices"
            )
        elif book.assumed_from is not None:
            notes.append(
                f"no prices for {replica.region}: {book.assumed_from} prices used for any not "
                f"set under [regions.{replica.region}] in a price file"
            )
    return notes


def _storage_only(table: Table, target: TableClass, stored: int, prices: PriceBook) -> Warning_:
    def storage(cls: TableClass) -> float:
        cost = provisioned_table_cost(
            Throughput(0, 0), prices, storage_bytes=stored, table_class=cls
        )
        return cost.per_month

    saving = storage(table.table_class) - storage(target)
    return Warning_(
        "class-break-even",
        f"{table.name} → {target.label} in this region: storage "
        f"{'saves' if saving >= 0 else 'costs'} ${abs(saving):,.2f}/month; the throughput "
        "side depends on traffic, which is not known here (on-demand: measure it first)",
    )


def _class_warnings(
    table: Table,
    target: TableClass,
    break_even: ClassBreakEven | None,
    budget: ClassSwitchBudget,
) -> list[Warning_]:
    found: list[Warning_] = []
    if break_even is not None:
        found += _break_even_warnings(table, target, break_even)
    if table.is_global:
        found.append(
            Warning_(
                "class-this-region",
                f"{table.name} is a global table: UpdateTable TableClass changes this region's "
                "table; each replica has its own class (ReplicaTableClassSummary) and keeps it",
            )
        )
    last = table.table_class_updated
    known = (
        f"AWS reports only the last class update ({last:%Y-%m-%d %H:%M} UTC)"
        if last is not None
        else "AWS reports no earlier class update"
    )
    found.append(
        Warning_(
            "class-switch-limit",
            f"{table.name}: this is class update {budget.used + 1} known in the trailing window "
            f"(AWS allows {budget.used + budget.left}); {known}, so an earlier one made by "
            "other tools would not be counted and AWS could refuse it (LimitExceededException)",
        )
    )
    return found


def _break_even_warnings(
    table: Table, target: TableClass, break_even: ClassBreakEven
) -> list[Warning_]:
    found = [
        Warning_(
            "class-break-even",
            f"{table.name} → {target.label} in this region: storage "
            f"{break_even.storage_gb:,.1f} GB "
            f"{'saves' if break_even.storage_saving >= 0 else 'costs'} "
            f"${abs(break_even.storage_saving):,.2f}/month, throughput "
            f"{'costs' if break_even.throughput_premium >= 0 else 'saves'} "
            f"${abs(break_even.throughput_premium):,.2f}/month "
            f"{'more' if break_even.throughput_premium >= 0 else ''}".rstrip()
            + f": net {'saving' if break_even.net_saving >= 0 else 'extra cost'} "
            f"${abs(break_even.net_saving):,.2f}/month"
            + (
                f"; it pays above about {break_even.break_even_gb:,.1f} GB stored at today's "
                "capacity"
                if break_even.break_even_gb is not None
                else ""
            ),
        )
    ]
    if break_even.net_saving < 0:
        found.append(
            Warning_(
                "class-costs-more",
                f"{table.name}: at today's capacity and size {target.label} costs "
                f"${-break_even.net_saving:,.2f}/month more than {table.table_class.label}",
            )
        )
    return found


def _part_warnings(
    part: PartPlan, now: datetime, rules: RuleSettings, context: PlanContext
) -> list[Warning_]:
    found: list[Warning_] = []
    before, after = part.before, part.after
    if part.index in context.auto_scaled:
        found.append(
            Warning_(
                "auto-scaling-override",
                f"Application Auto Scaling manages {part.label}: a manual change may be undone "
                "at its next alarm; change its auto-scaling min/max instead",
            )
        )
    if part.partitions_permanent:
        message = (
            f"{part.label}: estimated partitions {part.partitions_before.count} → "
            f"{part.partitions_after.count}, permanently (partitions never merge)"
        )
        if part.per_partition_before and part.per_partition_after_return:
            message += (
                f"; back at {before} later, each partition gets "
                f"{_fmt_pp(part.per_partition_after_return)} instead of "
                f"{_fmt_pp(part.per_partition_before)}, so hot keys throttle sooner"
            )
        found.append(Warning_("permanent-partitions", message))
    if part.is_decrease:
        found.append(
            Warning_(
                "decrease-budget",
                f"{part.label}: uses decrease {part.decrease_budget.used_today + 1} of this UTC "
                f"day; {part.decreases_left_after} left today; next decrease allowed at "
                f"{fmt_time(part.next_decrease_after, now)}",
            )
        )
        if part.decreases_left_after == 0:
            found.append(
                Warning_(
                    "last-decrease",
                    f"{part.label}: this is the last decrease possible today; no further "
                    f"decrease until {fmt_time(part.decrease_budget.resets_at, now)}",
                )
            )
    if after is not None and part.usage is not None:
        for unit, used, throttled, cap in (
            ("RCU", part.usage.read, part.usage.throttled_read, after.read),
            ("WCU", part.usage.write, part.usage.throttled_write, after.write),
        ):
            if throttled > 0 and used + throttled > cap:
                found.append(below_demand(part.label, unit, used, throttled, cap))
            elif used > cap:
                found.append(
                    Warning_(
                        "below-traffic",
                        f"{part.label}: {cap:,} {unit} is below current consumption "
                        f"({used:,.0f} {unit}/s): expect throttling once burst credit is spent",
                    )
                )
    if before is not None and after is not None:
        for unit, b, a in (("RCU", before.read, after.read), ("WCU", before.write, after.write)):
            if b > 0 and a >= b * context.big_change_factor:
                found.append(
                    Warning_(
                        "big-increase",
                        f"{part.label}: {unit} × {a / b:.1f} ({b:,} → {a:,}); if this is for a "
                        "temporary spike, weigh the permanent partitions",
                    )
                )
    if after is not None:
        for unit, a, cap in (
            ("RCU", after.read, rules.table_max_read_units),
            ("WCU", after.write, rules.table_max_write_units),
        ):
            if a >= 0.8 * cap:
                found.append(
                    Warning_(
                        "near-quota",
                        f"{part.label}: {a:,} {unit} is {a / cap:.0%} of the {cap:,} {unit} "
                        "per-table/GSI quota",
                    )
                )
    return found


# --------------------------------------------------------------------------------------------
# Demand: consumed + throttled (docs/aws-rules.md#demand-consumed-plus-throttled)
# --------------------------------------------------------------------------------------------

#: The utilisation a proposal sizes capacity for when nothing else is chosen.
DEFAULT_TARGET_UTILISATION = 0.70
#: Floating-point slack when rounding capacity up (70 / 0.7 is 100.00000000000001).
_ROUNDING_SLACK = 1e-9


def _ceil_units(value: float) -> int:
    return math.ceil(value - _ROUNDING_SLACK) if value > 0 else 0


def _pct(part: float, whole: float) -> str:
    """``part`` as a whole percentage of ``whole``, rounded down (a share below 100 % never
    reads as 100 %)."""
    return f"{math.floor(100 * part / whole + _ROUNDING_SLACK)} %"


def below_demand(
    label: str, unit: str, consumed: float, throttled: float, capacity: int
) -> Warning_:
    """A plan whose capacity is below demand: the numbers, and the share of demand it serves."""
    demand = consumed + throttled
    return Warning_(
        "below-demand",
        f"{label}: demand ≈ {demand:,.0f} {unit}/s ({consumed:,.0f} consumed + "
        f"{throttled:,.0f} throttled); {capacity:,} {unit} serves {_pct(capacity, demand)} of "
        "it: expect throttling to go on",
    )


def _demand_assumptions(context: PlanContext) -> tuple[str, ...]:
    if not any(u.throttling for u in context.usage.values()):
        return ()
    return (
        "demand = consumed + throttled: each throttle event is counted as one request unit; "
        "clients that retry throttled requests are counted again, so demand may be "
        "over-estimated while they retry",
    )


@dataclass(frozen=True, slots=True)
class Proposal:
    """The capacity that serves a table's or GSI's demand at a target utilisation."""

    JSON_PROPERTIES: ClassVar[tuple[str, ...]] = ("line",)

    index: str | None
    label: str
    usage: Usage
    target: float
    capacity: Throughput
    current: Throughput | None
    #: Dimensions whose use was not given (``"read"``, ``"write"``): their capacity is kept.
    unknown: tuple[str, ...] = ()

    @property
    def line(self) -> str:
        """One line for the CLI and the scale dialog."""
        u = self.usage
        parts = []
        for unit, dimension, consumed, throttled in (
            ("RCU", "read", u.read, u.throttled_read),
            ("WCU", "write", u.write, u.throttled_write),
        ):
            if dimension in self.unknown:
                parts.append(f"? {unit}/s (not given: kept)")
                continue
            text = f"{consumed + throttled:,.0f} {unit}/s"
            if throttled > 0:
                text += f" ({consumed:,.0f} consumed + {throttled:,.0f} throttled)"
            parts.append(text)
        now = "on-demand" if self.current is None else str(self.current)
        return (
            f"{self.label}: demand ≈ {', '.join(parts)}; at {self.target * 100:.0f} % utilisation: "
            f"{self.capacity} (now {now})"
        )


def propose(
    table: Table,
    index: str | None,
    context: PlanContext,
    rules: RuleSettings,
    target: float | None = None,
) -> Proposal | None:
    """The capacity that serves the demand of ``table`` (or its GSI ``index``) at ``target``
    utilisation (default ``context.target_utilisation``): demand ÷ target, rounded up, at
    least the minimum capacity.  ``None`` when the part's use is not known."""
    target = context.target_utilisation if target is None else target
    if not (0 < target <= 1):
        raise ValueError(f"target utilisation must be above 0 and at most 1, got {target!r}")
    usage = context.usage.get(index)
    if usage is None:
        return None
    current = table.provisioned if index is None else table.index(index).provisioned
    capacity = Throughput(
        max(rules.min_capacity_units, _ceil_units(usage.demand_read / target)),
        max(rules.min_capacity_units, _ceil_units(usage.demand_write / target)),
    )
    return Proposal(index, part_label(table.name, index), usage, target, capacity, current)


def gsi_write_warnings(
    table: Table,
    before: Mapping[str | None, Throughput | None],
    after: Mapping[str | None, Throughput | None],
    context: PlanContext,
    rules: RuleSettings,
) -> list[Warning_]:
    """The GSIs that receive a table's writes, when its write capacity changes, and those
    that would throttle after the change.

    Every write of an item that carries a GSI's key attributes is written to the GSI too, so a
    GSI receives a share of the table's writes: estimated as its consumed writes ÷ the
    table's.  After the change the table serves ``min(demand, WCU after)`` writes a second
    instead of what it consumed, and each GSI's write demand is taken to grow in the same
    proportion: ``GSI demand × served after ÷ served before``.  A GSI that cannot absorb it
    (above its provisioned WCU) throttles, and its throttling throttles the table's writes
    (GSI back-pressure: DynamoDB developer guide, "Understanding GSI write throttling and back
    pressure"; docs/aws-rules.md#gsi-write-back-pressure).
    """
    table_before, table_after = before.get(None), after.get(None)
    if not table.indexes or table_after is None:
        return []
    if table_before is not None and table_before.write == table_after.write:
        return []
    label = part_label(table.name)
    usage_t = context.usage.get(None)
    served_before = usage_t.write if usage_t is not None else 0.0
    served_after = min(usage_t.demand_write, table_after.write) if usage_t is not None else 0.0
    listed: list[str] = []
    found: list[Warning_] = []
    for index in table.indexes:
        # the billing mode is the table's: with the table provisioned after, so is the GSI
        cap = after.get(index.name)
        limit = None if cap is None else cap.write
        limit_text = "capacity unknown" if cap is None else f"{cap.write:,} WCU"
        usage_g = context.usage.get(index.name)
        if usage_g is None or served_before <= 0:
            listed.append(f"{index.name} (share unknown; {limit_text})")
            continue
        share = usage_g.write / served_before
        listed.append(f"{index.name} (≈ {share * 100:.0f} % of the table's writes; {limit_text})")
        demand_after = usage_g.demand_write * served_after / served_before
        if limit is not None and demand_after > limit:
            want = max(
                rules.min_capacity_units,
                _ceil_units(demand_after / context.target_utilisation),
            )
            glabel = part_label(table.name, index.name)
            found.append(
                Warning_(
                    "gsi-would-throttle",
                    f"{glabel}: after this change it would receive ≈ {demand_after:,.0f} "
                    f"writes/s ({usage_g.demand_write:,.0f} now × {served_after:,.0f} ÷ "
                    f"{served_before:,.0f} table writes served) against {limit_text}: it "
                    "would throttle, and a GSI that throttles writes throttles the table's "
                    "writes too (GSI back-pressure); include it in the same request at "
                    f"{want:,} WCU or more ({context.target_utilisation * 100:.0f} % utilisation)",
                )
            )
    return [
        Warning_(
            "gsi-writes",
            f"{label}: every write of an item with a GSI's key attributes also goes to that "
            f"GSI: {', '.join(listed)}",
        ),
        *found,
    ]


@dataclass(frozen=True, slots=True)
class ShardProposal:
    """The open shards that serve a stream's write demand at a target utilisation."""

    JSON_PROPERTIES: ClassVar[tuple[str, ...]] = ("line",)

    stream: str
    demand_records_per_second: float
    throttled_records_per_second: float
    demand_bytes_per_second: float
    target: float
    shards: int
    current: int

    @property
    def line(self) -> str:
        accepted = self.demand_records_per_second - self.throttled_records_per_second
        records = f"{self.demand_records_per_second:,.0f} records/s"
        if self.throttled_records_per_second > 0:
            records += (
                f" ({accepted:,.0f} accepted + {self.throttled_records_per_second:,.0f} throttled)"
            )
        return (
            f"stream {self.stream}: demand ≈ {records}, "
            f"{self.demand_bytes_per_second / 1e6:,.2f} MB/s; at {self.target * 100:.0f} % "
            f"utilisation: {self.shards} open shards (now {self.current})"
        )


def propose_shards(
    stream: Stream, context: PlanContext, rules: RuleSettings, target: float | None = None
) -> ShardProposal | None:
    """The open shards that serve ``stream``'s write demand at ``target`` utilisation:
    demand ÷ (per-shard limit × target), the larger of records and bytes, at least 1.
    Refused records are taken at the average record size for their bytes.  ``None``
    without traffic."""
    target = context.target_utilisation if target is None else target
    if not (0 < target <= 1):
        raise ValueError(f"target utilisation must be above 0 and at most 1, got {target!r}")
    traffic = context.stream_traffic
    if traffic is None:
        return None
    refused = traffic.throttled_records_per_second
    records = traffic.records_in_per_second + refused
    size = traffic.average_record_bytes
    data = traffic.bytes_in_per_second + refused * size
    need = max(
        records / rules.shard_write_records_per_second,
        data / rules.shard_write_bytes_per_second,
    )
    shards = max(1, _ceil_units(need / target))
    return ShardProposal(
        stream.name, records, refused, data, target, shards, stream.open_shard_count
    )


# --------------------------------------------------------------------------------------------
# Streams
# --------------------------------------------------------------------------------------------


def _stream_cost(
    stream: Stream, open_shards: int, traffic: StreamTraffic | None, prices: PriceBook
) -> Cost:
    """``stream`` as a provisioned stream with ``open_shards`` open, per hour."""
    t = traffic or StreamTraffic()
    return provisioned_stream_cost(
        open_shards,
        prices,
        retention_hours=stream.retention_hours,
        records_per_second=t.records_in_per_second,
        average_record_bytes=t.average_record_bytes,
        bytes_in_per_second=t.bytes_in_per_second,
        efo_consumers=stream.consumer_count,
    )


def _on_demand_cost(stream: Stream, traffic: StreamTraffic, prices: PriceBook) -> Cost | None:
    """``stream`` as an on-demand stream per hour: On-demand Advantage prices when the account
    uses it (``None`` if one of them is unknown), else On-demand Standard."""
    price = advantage_stream_cost if stream.on_demand_advantage else on_demand_stream_cost
    return price(
        traffic.bytes_in_per_second,
        traffic.bytes_out_per_second,
        prices,
        records_in_per_second=traffic.records_in_per_second,
        efo_consumers=stream.consumer_count,
        retention_hours=stream.retention_hours,
    )


def stream_cost(
    stream: Stream, traffic: StreamTraffic | None, prices: PriceBook, *, known: bool = True
) -> Cost | None:
    """What ``stream`` costs per hour at ``traffic``, in its own mode (the overview's cost).

    ``None`` when it cannot be told: an On-demand Advantage price the book does not know, or
    (``known`` false) no metrics for a cost that depends on them.
    """
    if stream.is_on_demand:
        if not known:
            return None
        return _on_demand_cost(stream, traffic or StreamTraffic(), prices)
    return _stream_cost(stream, stream.open_shard_count, traffic if known else None, prices)


def stream_cost_notes(stream: Stream, *, on_demand: bool) -> list[str]:
    """The assumptions behind :func:`stream_cost` (and a plan's stream costs)."""
    notes: list[str] = []
    if stream.consumer_count:
        notes.append(
            f"{stream.consumer_count} enhanced fan-out consumer"
            f"{'s' if stream.consumer_count != 1 else ''}: each is assumed to receive every "
            "record (EFO data = consumers × data in)"
            + ("" if on_demand else "; each pays a consumer-shard-hour for every open shard")
        )
    if on_demand:
        notes.append(
            "on-demand data in: each record rounded up to 1 KB, estimated from the average "
            "record size (IncomingBytes ÷ IncomingRecords); records of mixed sizes may cost more"
        )
        if stream.on_demand_advantage is None:
            notes.append(
                "On-demand Advantage unknown (DescribeAccountSettings not read): On-demand "
                "Standard prices used"
            )
        elif stream.on_demand_advantage:
            notes.append(
                "On-demand Advantage: the account's commitment (25 MiB/s in and out across all "
                "on-demand streams of the region) is billed on the account, not included here"
            )
    else:
        notes.append(
            "PUT payload units estimated from the average record size; a mix of small and "
            "large records may use more"
        )
    if stream.retention_hours > 24 and (on_demand or stream.retention_hours > 7 * 24):
        notes.append(
            f"retention of {stream.retention_hours} h: data stored beyond "
            f"{'24 h' if on_demand else f'{LONG_TERM_RETENTION_HOURS} h'} estimated as "
            "ingest rate × retention (an estimate: your stored bytes may differ)"
        )
    return notes


def _plan_stream(
    stream: Stream,
    change: ShardChange,
    now: datetime,
    rules: RuleSettings,
    prices: PriceBook,
    context: PlanContext,
) -> ScalePlan | Refusal:
    current = stream.open_shard_count
    summary = f"{stream.name}: {current} → {change.target} open shards ({change.strategy})"
    traffic = context.stream_traffic
    loads = dict(traffic.shard_loads) if traffic and traffic.shard_loads else None
    shaped: ReshardPlan | None = None
    if not stream.is_on_demand and current > 0 and change.target >= 1:
        if change.strategy == "uniform" and change.target <= rules.max_shards_per_stream:
            shaped = uniform_plan(stream, change.target, now, loads)
        elif change.strategy == "targeted" and change.target <= rules.max_shards_per_stream:
            shaped = targeted_plan(stream, change.target, now, loads)
    account = context.account_shards
    if account is not None and account.region is None:
        account = dataclasses.replace(account, region=stream_region(stream))
    if change.strategy == "uniform":
        violations = check_shard_count(
            stream,
            change.target,
            now,
            rules,
            context.reshard_history,
            account,
            shaped.peak_open if shaped else None,
        )
    else:
        violations = _check_targeted(stream, change.target, rules, context, shaped)
    if violations or shaped is None:
        return Refusal(stream.name, "stream", summary, now, tuple(violations))

    alternative: ReshardPlan | None
    if change.strategy == "uniform":
        alternative = targeted_plan(stream, change.target, now, loads)
    else:
        alternative = None
    budget = reshard_budget(context.reshard_history, now, rules)
    history_after = (
        (*context.reshard_history, now) if change.strategy == "uniform" else context.reshard_history
    )
    later = reshard_budget(history_after, now, rules)
    after_open = shaped.target_open
    closed_after = len(shaped.shards_closed)
    cost_before = _stream_cost(stream, current, traffic, prices)
    cost_after = _stream_cost(stream, after_open, traffic, prices)
    alt_cost = (
        _stream_cost(stream, alternative.target_open, traffic, prices) if alternative else None
    )
    on_demand = _on_demand_cost(stream, traffic, prices) if traffic else None
    closed_once = closed_shards_cost(closed_after, stream.retention_hours, prices)
    quota, quota_source = shard_quota(
        rules, stream_region(stream), account.shard_quota if account else None
    )
    warnings = _stream_warnings(stream, shaped, alternative, now, rules, context, budget)
    if closed_once:
        warnings.append(
            Warning_(
                "closed-shards-cost",
                f"{stream.name}: the {closed_after} shards closed are billed once for their "
                f"{stream.retention_hours} h retention: about {closed_once:.2f} "
                f"{prices.currency} (bill_closed_shards = true; a one-time cost, not part of "
                "the hourly cost)",
            )
        )
    if traffic and stream.on_demand_advantage and on_demand is None:
        warnings.append(
            Warning_(
                "price-unknown",
                f"{stream.name}: the account uses On-demand Advantage, whose prices capcon "
                "does not know: set advantage_gb_in, advantage_gb_out, advantage_efo_gb and "
                "advantage_extended_retention_gb_month in a price file",
            )
        )
    stream_plan = StreamPlan(
        open_before=current,
        open_after=after_open,
        write_limit_before=(
            current * rules.shard_write_bytes_per_second,
            current * rules.shard_write_records_per_second,
        ),
        write_limit_after=(
            after_open * rules.shard_write_bytes_per_second,
            after_open * rules.shard_write_records_per_second,
        ),
        read_limit_before=current * rules.shard_read_bytes_per_second,
        read_limit_after=after_open * rules.shard_read_bytes_per_second,
        reshard=shaped,
        alternative=alternative,
        budget=budget,
        reshards_left_after=later.left,
        next_reshard_after=later.next_allowed_at,
        history_complete=context.reshard_history_complete,
        cost_before=cost_before,
        cost_after=cost_after,
        alternative_cost_after=alt_cost,
        on_demand_alternative=on_demand,
        closed_shards_cost_once=closed_once,
        efo_consumers=stream.consumer_count,
        account_shard_quota=quota,
        account_shard_quota_source=quota_source,
    )
    stream_assumptions = [
        "UpdateShardCount's split/merge sequence is chosen by AWS; the shards created and "
        "closed shown here are capcon's estimate of the same end state",
        *stream_cost_notes(stream, on_demand=False),
    ]
    if traffic is not None:
        stream_assumptions += [
            f"on-demand alternative: {note}"
            for note in stream_cost_notes(stream, on_demand=True)
            if "1 KB" in note or "Advantage" in note
        ]
    if context.account_shards is not None and not context.account_shards.complete:
        stream_assumptions.append(
            "only this stream's shards are known: the account shard quota check counts no "
            "other stream"
        )
    if not context.reshard_history_complete:
        stream_assumptions.append(
            f"AWS does not report past UpdateShardCount calls: capcon counts the "
            f"{budget.used} it knows of in the last 24 h; calls made by other tools are not seen"
        )
    return ScalePlan(
        resource=stream.name,
        kind="stream",
        summary=summary,
        made_at=now,
        fingerprint=fingerprint(stream),
        change=change,
        parts=(),
        stream=stream_plan,
        cost_before=cost_before,
        cost_after=cost_after,
        on_demand_alternative=on_demand,
        account_left=None,
        warnings=tuple(warnings),
        assumptions=(*stream_assumptions, *assumptions(prices)),
    )


def stream_region(stream: Stream) -> str | None:
    """The region in ``stream``'s ARN (``arn:aws:kinesis:REGION:…``), if it has one."""
    fields = (stream.arn or "").split(":")
    return fields[3] if len(fields) > 5 and fields[3] else None


def _check_targeted(
    stream: Stream,
    target: int,
    rules: RuleSettings,
    context: PlanContext,
    shaped: ReshardPlan | None,
) -> list[Violation]:
    """Split/merge is not ``UpdateShardCount``: no ½…2× and no 10-per-day cap, but the
    stream must be provisioned and ACTIVE, within 10,000 shards and the account quota."""
    label = f"stream {stream.name}"
    found: list[Violation] = []
    if stream.is_on_demand:
        found.append(
            Violation(
                Code.NOT_PROVISIONED,
                label,
                f"{label} is on-demand: AWS manages its shards (switch it to provisioned first)",
            )
        )
    if stream.status != "ACTIVE":
        found.append(
            Violation(
                Code.RESOURCE_BUSY,
                label,
                f"{label} is {stream.status}: SplitShard and MergeShards need an ACTIVE stream",
            )
        )
    if target < 1 or target > rules.max_shards_per_stream:
        found.append(
            Violation(
                Code.STREAM_SHARD_MAX if target > 1 else Code.BELOW_MINIMUM,
                label,
                f"{label}: {target:,} shards asked; 1…{rules.max_shards_per_stream:,} allowed",
            )
        )
    if target == stream.open_shard_count:
        found.append(Violation(Code.NO_CHANGE, label, f"{label} already has {target} open shards"))
    if shaped is not None and context.account_shards is not None:
        quota, _ = shard_quota(
            rules,
            context.account_shards.region or stream_region(stream),
            context.account_shards.shard_quota,
        )
        in_use = context.account_shards.open_shards - stream.open_shard_count + shaped.peak_open
        if shaped.peak_open > stream.open_shard_count and in_use > quota:
            found.append(
                Violation(
                    Code.ACCOUNT_SHARD_QUOTA,
                    label,
                    f"{label}: the splits need {shaped.peak_open} open shards, bringing the "
                    f"account to {in_use:,}; the account shard quota is {quota:,}",
                )
            )
    return found


def _stream_warnings(
    stream: Stream,
    shaped: ReshardPlan,
    alternative: ReshardPlan | None,
    now: datetime,
    rules: RuleSettings,
    context: PlanContext,
    budget: ReshardBudget,
) -> list[Warning_]:
    found: list[Warning_] = []
    if shaped.short_lived:
        found.append(
            Warning_(
                "short-lived-shards",
                f"{stream.name}: this reshard creates {len(shaped.short_lived)} short-lived "
                "shards (created and closed again); doubling or halving leaves none, and AWS "
                "says multiples of 25% of the current count are fastest",
            )
        )
    if shaped.shards_closed:
        found.append(
            Warning_(
                "closed-shards",
                f"{stream.name}: {len(shaped.shards_closed)} shards will be CLOSED; their data "
                f"stays readable until about {fmt_time(shaped.closed_readable_until, now)} "
                f"({stream.retention_hours} h retention), then they expire",
            )
        )
    if shaped.strategy == "uniform":
        if budget.used + 1 >= rules.reshards_per_window:
            found.append(
                Warning_(
                    "last-reshard",
                    f"{stream.name}: this uses UpdateShardCount call {budget.used + 1} of "
                    f"{rules.reshards_per_window} in the rolling 24 h",
                )
            )
        if shaped.max_load_before is not None and shaped.max_load_before >= 0.8 and alternative:
            found.append(
                Warning_(
                    "hot-shard",
                    f"{stream.name}: the hottest shard runs at {shaped.max_load_before:.0%} of a "
                    "shard's write limit; uniform scaling spreads the key space evenly, the "
                    "targeted plan splits the hot shard instead "
                    f"({len(alternative.steps)} steps)",
                )
            )
    if not shaped.reached_target:
        found.append(
            Warning_(
                "target-not-reached",
                f"{stream.name}: the plan stops at {shaped.target_open} shards, not "
                f"{shaped.requested_target}: " + " ".join(shaped.notes),
            )
        )
    traffic = context.stream_traffic
    if traffic is not None:
        limit_bytes = shaped.target_open * rules.shard_write_bytes_per_second
        limit_records = shaped.target_open * rules.shard_write_records_per_second
        accepted, refused = traffic.records_in_per_second, traffic.throttled_records_per_second
        if refused > 0 and accepted <= limit_records < accepted + refused:
            found.append(
                Warning_(
                    "below-demand",
                    f"{stream.name}: demand ≈ {accepted + refused:,.0f} records/s "
                    f"({accepted:,.0f} accepted + {refused:,.0f} throttled); "
                    f"{shaped.target_open} shards accept {limit_records:,} records/s, "
                    f"{_pct(limit_records, accepted + refused)} of it: expect throttling to go on",
                )
            )
        if (
            traffic.bytes_in_per_second > limit_bytes
            or traffic.records_in_per_second > limit_records
        ):
            found.append(
                Warning_(
                    "below-traffic",
                    f"{stream.name}: {shaped.target_open} shards accept "
                    f"{limit_bytes / MIB:g} MiB/s and {limit_records:,} records/s, below current "
                    f"traffic ({traffic.bytes_in_per_second / MIB:.2f} MiB/s, "
                    f"{traffic.records_in_per_second:,.0f} records/s): writes will be throttled",
                )
            )
    return found


# --------------------------------------------------------------------------------------------
# The entry point
# --------------------------------------------------------------------------------------------


def plan(
    resource: Table | Stream,
    change: Change,
    now: datetime,
    *,
    rules: RuleSettings,
    prices: PriceBook,
    context: PlanContext | None = None,
) -> ScalePlan | Refusal:
    """Plan ``change`` on ``resource`` at ``now``: a :class:`ScalePlan` or a :class:`Refusal`.

    Pure: the same arguments always give the same answer, and nothing is called or changed.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")
    ctx = context or PlanContext()
    if isinstance(resource, Table):
        if not isinstance(change, TableChange):
            raise TypeError("a table takes a TableChange")
        return _plan_table(resource, change, now, rules, prices, ctx)
    if not isinstance(change, ShardChange):
        raise TypeError("a stream takes a ShardChange")
    return _plan_stream(resource, change, now, rules, prices, ctx)
