"""Looking at one resource closely: what ``capcon show``, the scale path and the detail screen
all compute, once.

* :func:`find_resource` resolves a user's ``NAME`` (a table, ``TABLE/INDEX`` or a stream);
* :func:`shard_loads` is each open shard's write load against the per-shard limits, on
  *demand* (incoming + throttled records, the product's rule for sizing plans), so the scale
  dialog and the detail screen name the same hot shard;
* :func:`live_context` is what the planner should know beyond ``Describe*``: traffic (each
  table's and GSI's consumed *and throttled* units, so plans are sized on demand), auto
  scaling, the account's capacity in use, the stream's recent reshards;
* :func:`show_document` is ``capcon show``'s data (its ``--json`` document).

Plain data only: the CLI and the console render it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from capcon.core.errors import BackendError, CapconError, CredentialsMissing, NotFound
from capcon.core.jsonable import to_jsonable
from capcon.core.model import Stream, Table
from capcon.core.planning.partitions import estimate_partitions
from capcon.core.planning.planner import (
    PlanContext,
    StreamTraffic,
    Usage,
    stream_cost,
    stream_cost_notes,
    stream_region,
)
from capcon.core.ports import (
    Backend,
    Inventory,
    MetricQuery,
    MetricSeries,
    ReplicaAutoScaling,
    SimulationControls,
    resource_id,
)
from capcon.core.pricing import PriceBook
from capcon.core.rules import (
    AccountCapacity,
    AccountShards,
    RuleSettings,
    decrease_budget,
    fmt_time,
    shard_quota,
)
from capcon.core.services.audit import AuditLog, AuditLogError
from capcon.core.services.metrics import MetricsService
from capcon.core.services.overview import (
    KINESIS,
    Reading,
    Row,
    auto_scaled_parts,
    auto_scaling_by_resource,
    collect_rows,
    read_auto_scaling,
    state_of,
    stream_queries,
    table_queries,
    with_traps,
)

R = TypeVar("R")

#: Per-shard load: the newest this many published minutes, looked for in a longer lookback
#: because CloudWatch is late.
SHARD_LOAD_MINUTES = 5
SHARD_LOOKBACK = timedelta(minutes=15)
#: A shard at this share of its write limit (or more) is hot.
HOT_SHARD = 0.8


class NoSuchResource(LookupError):
    """The name is not a table, GSI or stream of the account; ``str()`` says what there is."""


# --------------------------------------------------------------------------------------------
# Finding a resource
# --------------------------------------------------------------------------------------------


def split_name(name: str) -> tuple[str, str | None]:
    """``("orders", "by-date")`` for ``orders/by-date``; ``(name, None)`` without a ``/``."""
    if "/" in name:
        table, index = name.split("/", 1)
        return table, index
    return name, None


def _listed(list_names: Callable[[], list[str]]) -> list[str] | BackendError:
    """A listing, or the error that stopped it (missing credentials raised)."""
    try:
        return list_names()
    except CredentialsMissing:
        raise
    except BackendError as error:
        return error


def _described(describe: Callable[[str], R], name: str) -> R | None:
    """``describe(name)``; ``None`` when there is no such resource."""
    try:
        return describe(name)
    except NotFound:
        return None


def find_resource(backend: Inventory, name: str) -> tuple[Table | Stream, str | None]:
    """The table (with the GSI named after a ``/``) or stream called ``name``.

    A listing that fails (``ListStreams`` denied to an identity that may describe streams)
    does not hide the resource: it is then described by name directly (an error other than
    "not found" is raised).  Raises :class:`NoSuchResource` naming what the account has.
    """
    table_name, index = split_name(name)
    tables = _listed(backend.list_tables)
    table: Table | None
    if isinstance(tables, BackendError):
        table = _described(backend.describe_table, table_name)
    else:
        table = backend.describe_table(table_name) if table_name in tables else None
    if table is not None:
        if index is not None:
            try:
                table.index(index)
            except KeyError as error:
                raise NoSuchResource(str(error.args[0])) from None
        return table, index
    streams = _listed(backend.list_streams)
    if index is None:
        stream: Stream | None
        if isinstance(streams, BackendError):
            stream = _described(backend.describe_stream, name)
        else:
            stream = backend.describe_stream(name) if name in streams else None
        if stream is not None:
            return stream, None

    def some(listed: list[str] | BackendError) -> str:
        if isinstance(listed, BackendError):
            return "unknown (the listing failed)"
        return ", ".join(listed[:20]) or "none"

    raise NoSuchResource(
        f"no table or stream called {name!r} (tables: {some(tables)}; streams: "
        f"{some(streams)}; a GSI is TABLE/INDEX)"
    )


# --------------------------------------------------------------------------------------------
# Shard loads
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShardLoad:
    """One open shard: its hash-range share and recent write load against the shard limits.

    ``records_per_second`` is what the shard accepted, ``throttled_per_second`` what it
    rejected in the same minutes; ``load`` is the larger of bytes ÷ the byte limit and
    demand (accepted + rejected records) ÷ the record limit.  ``None``: no per-shard metrics.
    """

    shard_id: str
    share: float
    bytes_per_second: float | None
    records_per_second: float | None
    throttled_per_second: float | None
    load: float | None

    @property
    def hot(self) -> bool:
        return self.load is not None and self.load >= HOT_SHARD


def shard_load_queries(stream: Stream) -> list[MetricQuery]:
    """Per-shard ``IncomingBytes``, ``IncomingRecords`` and throttled records (1-minute Sums)
    of every open shard; ids ``sb{n}``, ``sr{n}``, ``st{n}`` for the n-th open shard."""
    queries: list[MetricQuery] = []
    for n, shard in enumerate(stream.open_shards):
        dims = (("ShardId", shard.shard_id), ("StreamName", stream.name))
        queries += [
            MetricQuery(f"sb{n}", KINESIS, "IncomingBytes", dims),
            MetricQuery(f"sr{n}", KINESIS, "IncomingRecords", dims),
            MetricQuery(f"st{n}", KINESIS, "WriteProvisionedThroughputExceeded", dims),
        ]
    return queries


def newest_mean(series: MetricSeries | None, minutes: int) -> float | None:
    """Mean per second of the newest ``minutes`` 1-minute ``Sum`` datapoints, or ``None``."""
    if series is None or not series.values:
        return None
    newest = series.values[-minutes:]
    return sum(newest) / (60 * len(newest))


def _throttled_in(
    accepted: MetricSeries | None, throttled: MetricSeries | None, minutes: int
) -> float | None:
    """Throttled records per second in the minutes ``accepted`` has its newest datapoints.

    CloudWatch publishes throttles sparsely: a minute without a throttle datapoint had none.
    Without accepted datapoints, the newest throttle datapoints on their own.
    """
    if accepted is None or not accepted.values:
        return newest_mean(throttled, minutes)
    newest = accepted.timestamps[-minutes:]
    rejected = dict(zip(throttled.timestamps, throttled.values, strict=True)) if throttled else {}
    return sum(rejected.get(t, 0.0) for t in newest) / (60 * len(newest))


def shard_loads_from(
    stream: Stream, answers: dict[str, MetricSeries], rules: RuleSettings
) -> tuple[ShardLoad, ...]:
    """Open shards with their share and load, from the answers to :func:`shard_load_queries`."""
    out: list[ShardLoad] = []
    for n, shard in enumerate(stream.open_shards):
        accepted = answers.get(f"sr{n}")
        b = newest_mean(answers.get(f"sb{n}"), SHARD_LOAD_MINUTES)
        r = newest_mean(accepted, SHARD_LOAD_MINUTES)
        t = _throttled_in(accepted, answers.get(f"st{n}"), SHARD_LOAD_MINUTES)
        load = None
        if b is not None or r is not None:
            load = max(
                (b or 0.0) / rules.shard_write_bytes_per_second,
                ((r or 0.0) + (t or 0.0)) / rules.shard_write_records_per_second,
            )
        out.append(ShardLoad(shard.shard_id, shard.hash_range.share, b, r, t, load))
    return tuple(out)


def shard_loads(
    metrics: MetricsService, stream: Stream, rules: RuleSettings, now: datetime
) -> tuple[ShardLoad, ...]:
    """Each open shard's load over the newest published minutes (three metrics a shard,
    through the metrics service: 500 at most a call)."""
    queries = shard_load_queries(stream)
    if not queries:
        return ()
    answers = {s.id: s for s in metrics.get_metric_data(queries, now - SHARD_LOOKBACK, now)}
    return shard_loads_from(stream, answers, rules)


def hottest_shard(loads: Sequence[ShardLoad]) -> ShardLoad | None:
    """The shard with the highest load, or ``None`` without per-shard metrics."""
    measured = [s for s in loads if s.load is not None]
    return max(measured, key=lambda s: s.load or 0.0, default=None)


# --------------------------------------------------------------------------------------------
# The planner's context on live state
# --------------------------------------------------------------------------------------------


def _applied(
    audit: AuditLog, kind: str, name: str, keep: Callable[[dict[str, Any]], bool]
) -> list[datetime]:
    """When capcon applied each change to the ``kind`` resource ``name`` that ``keep``
    accepts, from the audit log.

    Lines that are not records are skipped (:meth:`AuditLog.read`), and a time without an
    offset is taken as UTC, so no line of the log can stop a resource from being planned.
    A log that cannot be read (e.g. a symbolic link) gives none: callers say their history
    may be incomplete, and applying a change is refused while the log is unusable."""
    found: list[datetime] = []
    try:
        records = audit.read()
    except AuditLogError:
        return []
    for record in records:
        if (
            record.get("phase") != "outcome"
            or record.get("outcome") != "applied"
            or record.get("kind") != kind
            or record.get("resource") != name
            or not keep(record)
        ):
            continue
        try:
            at = datetime.fromisoformat(str(record.get("at")))
        except ValueError:
            continue
        # capcon writes UTC with an offset; a bare time is UTC
        found.append(at if at.tzinfo is not None else at.replace(tzinfo=UTC))
    return found


def known_reshards(audit: AuditLog, stream: str, now: datetime) -> tuple[datetime, ...]:
    """Reshards capcon itself applied to ``stream`` in the last 24 h (from the audit log)."""

    def recent(at: datetime) -> bool:
        try:  # an offset can push year 1 or 9999 off the calendar
            return now - timedelta(hours=24) < at <= now
        except OverflowError:
            return False

    return tuple(at for at in _applied(audit, "stream", stream, lambda _: True) if recent(at))


def _demand(row: Row) -> Usage:
    """A row's use for the planner: consumed and throttled, read and write (demand =
    consumed + throttled; see :class:`~capcon.core.planning.planner.Usage`)."""
    used = row.usage or Usage(0.0, 0.0)
    return Usage(
        used.read,
        used.write,
        throttled_read=row.throttled_read_per_second,
        throttled_write=row.throttled_write_per_second,
    )


def replica_write_scaled(backend: object, table: Table) -> frozenset[str]:
    """The replica regions of a global table whose write capacity auto scaling manages
    (``DescribeTableReplicaAutoScaling``); none when the backend cannot say or the call fails
    (the plan then warns from the table's own auto scaling only)."""
    if not table.is_global or not isinstance(backend, ReplicaAutoScaling):
        return frozenset()
    try:
        found = backend.describe_table_replica_auto_scaling(table.name)
    except CapconError:
        return frozenset()
    return frozenset(s.region for s in found if s.write_scaled)


def known_class_switches(audit: AuditLog, table: str) -> tuple[datetime, ...]:
    """Table class updates capcon applied to ``table`` (from the audit log: an applied
    outcome whose ``table_class`` differs before and after); AWS reports only the last one.
    A log that cannot be read gives none (the plan says the count may be incomplete)."""

    def switched(record: dict[str, Any]) -> bool:
        before, after = record.get("before"), record.get("after")
        return (
            isinstance(before, dict)
            and isinstance(after, dict)
            and before.get("table_class") != after.get("table_class")
        )

    return tuple(_applied(audit, "table", table, switched))


def live_context(
    backend: Backend,
    resource: Table | Stream,
    rules: RuleSettings,
    prices: PriceBook,
    audit: AuditLog,
    controls: SimulationControls | None = None,
    metrics: MetricsService | None = None,
) -> PlanContext:
    """What the planner should know beyond describe: traffic, AAS, history, account usage.

    ``controls`` (the simulated account's) add the account's capacity in use and the
    stream's complete reshard history; on AWS the account quota is left to AWS to enforce
    (totalling it would take a ``DescribeTable`` per table) and the reshard history is what
    capcon's audit log recorded.  Metrics are read through ``metrics`` (the console passes
    its own service, so its status bar counts them), by default a fresh service.
    """
    metrics = metrics if metrics is not None else MetricsService(backend)
    if isinstance(resource, Table):
        rows = collect_rows(backend, rules, prices, tables=[resource], streams=[], metrics=metrics)
        account = None
        if controls is not None:
            used = controls.provisioned_in_use()
            account = AccountCapacity(used.read, used.write)
        return PlanContext(
            usage={r.index: _demand(r) for r in rows},
            auto_scaled=auto_scaled_parts(auto_scaling_by_resource(backend), resource.name),
            account_capacity=account,
            replica_auto_scaled=replica_write_scaled(backend, resource),
            class_switch_history=known_class_switches(audit, resource.name),
        )
    rows = collect_rows(backend, rules, prices, tables=[], streams=[resource], metrics=metrics)
    traffic = rows[0].stream_traffic or StreamTraffic()
    loads = shard_loads(metrics, resource, rules, backend.now())
    traffic = StreamTraffic(
        traffic.bytes_in_per_second,
        traffic.records_in_per_second,
        traffic.bytes_out_per_second,
        {s.shard_id: s.load for s in loads if s.load is not None},
        throttled_records_per_second=rows[0].throttled_per_second,
    )
    limits = backend.account_limits()
    if controls is not None:
        history, complete = controls.reshard_history(resource.name), True
    else:
        history, complete = known_reshards(audit, resource.name, backend.now()), False
    return PlanContext(
        stream_traffic=traffic,
        account_shards=AccountShards(limits.open_shard_count, limits.shard_limit),
        reshard_history=history,
        reshard_history_complete=complete,
    )


# --------------------------------------------------------------------------------------------
# capcon show
# --------------------------------------------------------------------------------------------


def series_stats(
    metrics: MetricsService, queries: list[MetricQuery], hours: int, now: datetime
) -> dict[str, Any]:
    """Mean and peak per second, datapoint count and newest minute of each query's series."""
    out: dict[str, Any] = {}
    for series in metrics.get_metric_data(queries, now - timedelta(hours=hours), now):
        per_second = [v / 60 for v in series.values]
        out[series.id] = {
            "mean_per_second": sum(per_second) / len(per_second) if per_second else None,
            "max_per_second": max(per_second) if per_second else None,
            "datapoints": len(per_second),
            "newest": series.timestamps[-1].isoformat() if series.timestamps else None,
        }
    return out


def stream_cost_document(
    stream: Stream, hour: dict[str, Any] | None, prices: PriceBook
) -> dict[str, Any]:
    """What ``stream`` costs an hour at the last hour's mean traffic (``m_b``, ``m_r``, ``m_o``
    of :func:`stream_queries`), with its parts and assumptions; ``per_hour`` ``None`` when it
    cannot be told (no metrics for an on-demand stream, an unknown On-demand Advantage price)."""

    def mean(key: str) -> float:
        value = (hour or {}).get(key, {}).get("mean_per_second")
        return float(value) if value is not None else 0.0

    traffic = StreamTraffic(mean("m_b"), mean("m_r"), mean("m_o"))
    cost = stream_cost(stream, traffic, prices, known=hour is not None)
    notes = stream_cost_notes(stream, on_demand=stream.is_on_demand)
    if cost is None:
        why = (
            "On-demand Advantage prices are not in the price book (advantage_* keys)"
            if hour is not None
            else "no metrics: the cost depends on the traffic"
        )
        return {"per_hour": None, "why": why, "notes": notes}
    return {
        "per_hour": cost.per_hour,
        "per_month": cost.per_month,
        "breakdown": [[label, amount] for label, amount in cost.breakdown],
        "notes": notes,
    }


def stream_account(
    reading: Reading, backend: Backend, stream: Stream, rules: RuleSettings
) -> dict[str, Any] | None:
    """The account's Kinesis quotas beside a stream (``DescribeLimits``): open shards, the
    shard quota and where it comes from, on-demand streams and their quota."""
    limits = reading.attempt(
        "kinesis:DescribeLimits", "account quotas not shown", backend.account_limits, counts=False
    )
    if limits is None:
        return None
    quota, source = shard_quota(rules, stream_region(stream), limits.shard_limit)
    on_demand_limit = limits.on_demand_stream_count_limit
    return {
        "open_shards": limits.open_shard_count,
        "shard_quota": quota,
        "shard_quota_source": source,
        "on_demand_streams": limits.on_demand_stream_count,
        "on_demand_streams_quota": (
            on_demand_limit if on_demand_limit is not None else rules.on_demand_streams_quota
        ),
    }


def show_document(
    backend: Backend,
    backend_label: str,
    name: str,
    rules: RuleSettings,
    prices: PriceBook | None = None,
) -> dict[str, Any]:
    """One table, GSI or stream in depth, as a JSON-ready document (``capcon show``).

    What cannot be read besides the resource itself (auto scaling, its activities, metrics)
    is left out (``null``, auto scaling ``"known": false``) with a notice in ``notices``
    naming the action: degrade, don't blank."""
    resource, index = find_resource(backend, name)
    now = backend.now()
    metrics = MetricsService(backend)
    reading = Reading(anything_read=True)
    doc: dict[str, Any] = {"name": name, "at": now.isoformat(), "backend": backend_label}

    def stats(queries: list[MetricQuery]) -> dict[str, Any] | None:
        return reading.attempt(
            "cloudwatch:GetMetricData",
            "no metrics",
            lambda: series_stats(metrics, queries, 1, now),
            counts=False,
        )

    if isinstance(resource, Table):
        aas = read_auto_scaling(reading, backend)
        doc["kind"] = "table" if index is None else "index"
        doc["resource"] = to_jsonable(resource)
        parts: list[dict[str, Any]] = []
        for part in (None, *(i.name for i in resource.indexes)):
            if index is not None and part != index:
                continue
            if part is None:
                capacity, size, warm, history = (
                    resource.provisioned, resource.size_bytes, resource.warm, resource.history,
                )  # fmt: skip
            else:
                ix = resource.index(part)
                capacity, size, warm, history = ix.provisioned, ix.size_bytes, ix.warm, ix.history
            budget = decrease_budget(history, now, rules)
            rid = resource_id(resource.name, part)
            state = with_traps(resource, part, state_of(aas, rid))
            activities = None
            if state.known:
                activities = reading.attempt(
                    "application-autoscaling:DescribeScalingActivities",
                    "auto-scaling activities not shown",
                    partial(backend.describe_scaling_activities, rid),
                    counts=False,
                )
            parts.append(
                {
                    "part": part or "table",
                    "capacity": to_jsonable(capacity),
                    "partitions_estimate": to_jsonable(
                        estimate_partitions(capacity, size, rules, warm=warm)
                    ),
                    "decrease_budget": to_jsonable(budget),
                    "next_decrease": fmt_time(budget.next_allowed_at, now),
                    "auto_scaling": {
                        "known": state.known,
                        "targets": to_jsonable(state.targets),
                        "policies": to_jsonable(state.policies),
                        "traps": list(state.traps),
                        "notes": list(state.notes),
                        "activities": None if activities is None else to_jsonable(activities[:10]),
                    },
                    "metrics_last_hour": stats(table_queries(resource.name, part, "m")),
                }
            )
        doc["parts"] = parts
    else:
        doc["kind"] = "stream"
        doc["resource"] = to_jsonable(resource)
        doc["metrics_last_hour"] = stats(stream_queries(resource.name, "m"))
        doc["account"] = stream_account(reading, backend, resource, rules)
        if prices is not None:
            doc["cost"] = stream_cost_document(resource, doc["metrics_last_hour"], prices)
        loads = reading.attempt(
            "cloudwatch:GetMetricData",
            "no metrics",
            lambda: shard_loads(metrics, resource, rules, now),
            counts=False,
        )
        if loads is None:  # the shards without their load
            loads = shard_loads_from(resource, {}, rules)
        doc["open_shards"] = [
            {
                "shard_id": s.shard_id,
                "key_space_share": s.share,
                "write_utilisation": s.load,
            }
            for s in loads
        ]
    doc["notices"] = [
        {"text": n.text, "action": n.action, "problem": n.problem, "detail": n.detail}
        for n in reading.notices
    ]
    return doc
