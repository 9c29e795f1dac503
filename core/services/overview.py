"""The account at a glance: one row per table, GSI and stream, from any backend.

:func:`collect_rows` reads the inventory, Application Auto Scaling and recent metrics through
the ports, and combines them with the partition estimator and the price book: capacity,
consumed and utilisation, throttles, estimated partitions, cost per hour, and auto scaling
(including the "registered but no policy" trap).  The CLI's ``ls`` and the console's list
both show these rows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from capcon.core.model import Stream, Table, Throughput
from capcon.core.planning.partitions import PartitionEstimate, estimate_partitions
from capcon.core.planning.planner import StreamTraffic, Usage
from capcon.core.ports import (
    Backend,
    MetricQuery,
    Metrics,
    MetricSeries,
    ScalableTarget,
    ScalingPolicy,
    resource_id,
)
from capcon.core.pricing import (
    PriceBook,
    on_demand_stream_cost,
    on_demand_table_cost,
    provisioned_stream_cost,
    provisioned_table_cost,
)
from capcon.core.rules import RuleSettings
from capcon.core.services.metrics import MetricsService

Kind = Literal["table", "index", "stream"]
Recent = Callable[[str], tuple[float, "datetime | None"]]
DDB = "AWS/DynamoDB"
KINESIS = "AWS/Kinesis"


@dataclass(frozen=True, slots=True)
class AutoScalingState:
    """What AAS does for one table or GSI: targets per dimension and their policies."""

    targets: tuple[ScalableTarget, ...] = ()
    policies: tuple[ScalingPolicy, ...] = ()

    @property
    def registered(self) -> bool:
        return bool(self.targets)

    #: the traps found for this table or GSI
    #: (see :func:`capcon.core.planning.autoscaling.find_traps`)
    trap_list: tuple[str, ...] = ()

    @property
    def traps(self) -> tuple[str, ...]:
        return self.trap_list

    @property
    def marker(self) -> str:
        if not self.targets:
            return ""
        return "AAS!" if self.traps else "AAS"


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the overview."""

    name: str
    kind: Kind
    table: str | None
    index: str | None
    mode: str
    status: str
    capacity: Throughput | None = None
    shards: int | None = None
    usage: Usage | None = None
    throttled_per_second: float = 0.0
    stream_traffic: StreamTraffic | None = None
    utilisation: float | None = None
    partitions: PartitionEstimate | None = None
    cost_per_hour: float | None = None
    auto_scaling: AutoScalingState = AutoScalingState()
    data_until: datetime | None = None

    @property
    def throttling(self) -> bool:
        return self.throttled_per_second > 0


def table_queries(table: str, index: str | None, prefix: str) -> list[MetricQuery]:
    dims: tuple[tuple[str, str], ...] = (("TableName", table),)
    if index:
        dims = (*dims, ("GlobalSecondaryIndexName", index))
    return [
        MetricQuery(f"{prefix}_cr", DDB, "ConsumedReadCapacityUnits", dims),
        MetricQuery(f"{prefix}_cw", DDB, "ConsumedWriteCapacityUnits", dims),
        MetricQuery(f"{prefix}_tr", DDB, "ReadThrottleEvents", dims),
        MetricQuery(f"{prefix}_tw", DDB, "WriteThrottleEvents", dims),
    ]


def stream_queries(stream: str, prefix: str) -> list[MetricQuery]:
    dims = (("StreamName", stream),)
    return [
        MetricQuery(f"{prefix}_b", KINESIS, "IncomingBytes", dims),
        MetricQuery(f"{prefix}_r", KINESIS, "IncomingRecords", dims),
        MetricQuery(f"{prefix}_t", KINESIS, "WriteProvisionedThroughputExceeded", dims),
    ]


def _mean_per_second(series: MetricSeries | None) -> tuple[float, datetime | None]:
    """Average per second over the datapoints (each a 1-minute Sum), and the newest minute."""
    if series is None or not series.values:
        return 0.0, None
    return sum(series.values) / (60 * len(series.values)), series.timestamps[-1]


def with_traps(
    table: Table | None, index: str | None, state: AutoScalingState | None
) -> AutoScalingState:
    """``state`` with its traps found (``table`` None: the table no longer exists)."""
    if state is None:
        return AutoScalingState()
    from capcon.core.planning.autoscaling import find_traps

    traps = tuple(find_traps(table, index, state.targets, state.policies))
    return dataclasses.replace(state, trap_list=traps)


def orphaned(aas: dict[str, AutoScalingState], tables: Sequence[Table]) -> list[str]:
    """Auto-scaling resource ids whose table (or GSI) no longer exists."""
    known = {resource_id(t.name) for t in tables}
    known |= {resource_id(t.name, i.name) for t in tables for i in t.indexes}
    return sorted(rid for rid in aas if rid not in known)


def auto_scaling_by_resource(backend: Backend) -> dict[str, AutoScalingState]:
    """AAS targets and policies grouped by ResourceId."""
    targets = backend.describe_scalable_targets()
    policies = backend.describe_scaling_policies()
    grouped: dict[str, tuple[list[ScalableTarget], list[ScalingPolicy]]] = {}
    for target in targets:
        grouped.setdefault(target.resource_id, ([], []))[0].append(target)
    for policy in policies:
        grouped.setdefault(policy.resource_id, ([], []))[1].append(policy)
    return {rid: AutoScalingState(tuple(t), tuple(p)) for rid, (t, p) in grouped.items()}


def collect_rows(
    backend: Backend,
    rules: RuleSettings,
    prices: PriceBook,
    *,
    window: timedelta = timedelta(minutes=5),
    tables: Sequence[Table] | None = None,
    streams: Sequence[Stream] | None = None,
    auto_scaling: dict[str, AutoScalingState] | None = None,
    metrics: Metrics | None = None,
) -> list[Row]:
    """Every table, GSI and stream with capacity, recent use, throttles, partitions and cost.

    Metrics are the newest ``window`` of published 1-minute datapoints (looked for in the
    last ``window`` + 10 minutes, since CloudWatch is late), read through ``metrics``: by
    default a :class:`~capcon.core.services.metrics.MetricsService` over ``backend`` (batched
    calls), the console's list passes what its service already holds.
    """
    now = backend.now()
    if tables is None:
        tables = backend.describe_tables(backend.list_tables())
    if streams is None:
        streams = backend.describe_streams(backend.list_streams())
    aas = auto_scaling_by_resource(backend) if auto_scaling is None else auto_scaling
    queries: list[MetricQuery] = []
    keys: list[tuple[Table | Stream, str | None, str]] = []
    for t_i, table in enumerate(tables):
        for i_i, index in enumerate((None, *(ix.name for ix in table.indexes))):
            prefix = f"t{t_i}i{i_i}"
            queries += table_queries(table.name, index, prefix)
            keys.append((table, index, prefix))
    for s_i, stream in enumerate(streams):
        prefix = f"s{s_i}"
        queries += stream_queries(stream.name, prefix)
        keys.append((stream, None, prefix))
    lookback = window + timedelta(minutes=10)
    source = metrics if metrics is not None else MetricsService(backend)
    results = {s.id: s for s in source.get_metric_data(queries, now - lookback, now)}
    minutes = max(1, round(window.total_seconds() / 60))

    def recent(series_id: str) -> tuple[float, datetime | None]:
        series = results.get(series_id)
        if series is None:
            return 0.0, None
        trimmed = MetricSeries(series.id, series.timestamps[-minutes:], series.values[-minutes:])
        return _mean_per_second(trimmed)

    rows: list[Row] = []
    for resource, index, prefix in keys:
        if isinstance(resource, Table):
            rows.append(_table_row(resource, index, prefix, recent, aas, rules, prices))
        else:
            rows.append(_stream_row(resource, prefix, recent, rules, prices))
    return rows


def _table_row(
    table: Table,
    index: str | None,
    prefix: str,
    recent: Recent,
    aas: dict[str, AutoScalingState],
    rules: RuleSettings,
    prices: PriceBook,
) -> Row:
    read, t1 = recent(f"{prefix}_cr")
    write, _ = recent(f"{prefix}_cw")
    thr_r, _ = recent(f"{prefix}_tr")
    thr_w, _ = recent(f"{prefix}_tw")
    if index is None:
        capacity, status, size, warm = table.provisioned, table.status, table.size_bytes, table.warm
        name = table.name
    else:
        ix = table.index(index)
        capacity, status, size, warm = ix.provisioned, ix.status, ix.size_bytes, ix.warm
        name = f"{table.name}/{index}"
    usage = Usage(read, write)
    utilisation = None
    if capacity is not None:
        utilisation = max(
            read / capacity.read if capacity.read else 0.0,
            write / capacity.write if capacity.write else 0.0,
        )
    cost = (
        provisioned_table_cost(capacity, prices, storage_bytes=size).per_hour
        if capacity is not None
        else on_demand_table_cost(read, write, prices, storage_bytes=size).per_hour
    )
    return Row(
        name=name,
        kind="table" if index is None else "index",
        table=table.name,
        index=index,
        mode=table.billing_mode.label,
        status=status,
        capacity=capacity,
        usage=usage,
        throttled_per_second=thr_r + thr_w,
        utilisation=utilisation,
        partitions=estimate_partitions(capacity, size, rules, warm=warm),
        cost_per_hour=cost,
        auto_scaling=with_traps(table, index, aas.get(resource_id(table.name, index))),
        data_until=t1,
    )


def _stream_row(
    stream: Stream, prefix: str, recent: Recent, rules: RuleSettings, prices: PriceBook
) -> Row:
    bytes_in, t1 = recent(f"{prefix}_b")
    records_in, _ = recent(f"{prefix}_r")
    throttled, _ = recent(f"{prefix}_t")
    shards = stream.open_shard_count
    traffic = StreamTraffic(bytes_in, records_in, bytes_in * max(1, stream.consumer_count))
    utilisation = None
    if not stream.is_on_demand and shards:
        utilisation = max(
            bytes_in / (shards * rules.shard_write_bytes_per_second),
            records_in / (shards * rules.shard_write_records_per_second),
        )
        cost = provisioned_stream_cost(
            shards,
            prices,
            retention_hours=stream.retention_hours,
            records_per_second=records_in,
            average_record_bytes=traffic.average_record_bytes,
        ).per_hour
    else:
        cost = on_demand_stream_cost(bytes_in, traffic.bytes_out_per_second, prices).per_hour
    return Row(
        name=stream.name,
        kind="stream",
        table=None,
        index=None,
        mode=stream.mode.label,
        status=stream.status,
        shards=shards,
        throttled_per_second=throttled,
        stream_traffic=traffic,
        utilisation=utilisation,
        cost_per_hour=cost,
        data_until=t1,
    )


def auto_scaled_parts(
    state_by_rid: dict[str, AutoScalingState], table: str
) -> frozenset[str | None]:
    """Parts (``None`` = the table, else a GSI name) with a scalable target registered."""
    parts: set[str | None] = set()
    for rid, state in state_by_rid.items():
        if not state.registered:
            continue
        if rid == resource_id(table):
            parts.add(None)
        elif rid.startswith(resource_id(table) + "/index/"):
            parts.add(rid.rsplit("/", 1)[1])
    return frozenset(parts)
