"""The account at a glance: one row per table, GSI and stream, from any backend.

:func:`collect_rows` reads the inventory, Application Auto Scaling and recent metrics through
the ports, and combines them with the partition estimator and the price book: capacity,
consumed and utilisation, throttles, estimated partitions, cost per hour, and auto scaling
(including the "registered but no policy" trap).  The CLI's ``ls`` and the console's list
both show these rows.

Degrade, don't blank: :func:`read_overview` keeps everything that can be read.  A service
that refuses (access denied), fails (5xx, throttled beyond retries) or answers garbage leaves
the rest of the account on screen, with a :class:`Notice` naming the action and what is
missing because of it ("kinesis:ListStreams: access denied — streams not shown").  Auto
scaling that cannot be read is *unknown* on every row (never "none"); metrics that cannot be
read are unknown too (never zero).  Missing credentials, or an endpoint that does not answer
before anything was read, still fail the whole overview: nothing could be shown.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, TypeVar

from capcon.core.errors import (
    AccessDenied,
    BackendError,
    CredentialsMissing,
    EndpointUnreachable,
    NotFound,
    Throttled,
)
from capcon.core.model import Stream, Table, Throughput
from capcon.core.planning.partitions import PartitionEstimate, estimate_partitions
from capcon.core.planning.planner import (
    PlanContext,
    StreamTraffic,
    Usage,
    stream_cost,
    table_cost_all_regions,
)
from capcon.core.ports import (
    Backend,
    MetricQuery,
    Metrics,
    MetricSeries,
    ScalableTarget,
    ScalingPolicy,
    ScheduledAction,
    align_down,
    resource_id,
)
from capcon.core.pricing import (
    PriceBook,
)
from capcon.core.rules import RuleSettings
from capcon.core.services.metrics import LATE_MARGIN, HeldMetrics, MetricsService

T = TypeVar("T")
Kind = Literal["table", "index", "stream"]
Recent = Callable[[str], tuple[float, "datetime | None"]]
ThrottlesOf = Callable[[Sequence[str], Sequence[str], Sequence[str]], "Throttles"]
DDB = "AWS/DynamoDB"
KINESIS = "AWS/Kinesis"


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the overview could not read, and what is missing because of it.

    ``action`` is the API action that failed (``kinesis:ListStreams``), ``problem`` what
    happened in a few words (``access denied``), ``missing`` what the user does not see
    (``streams not shown``), ``detail`` the backend's full message."""

    action: str
    problem: str
    missing: str
    detail: str = ""

    @property
    def text(self) -> str:
        return f"{self.action}: {self.problem} — {self.missing}"


def problem_of(error: BackendError) -> str:
    """A backend error in a few words, for a :class:`Notice`."""
    if isinstance(error, AccessDenied):
        return "access denied"
    if isinstance(error, Throttled):
        return "throttled"
    if isinstance(error, EndpointUnreachable):
        return "unreachable"
    if isinstance(error, NotFound):
        return "not found"
    if "malformed answer" in str(error):
        return "malformed answer"
    return "failed"


def is_fatal(error: BackendError, anything_read: bool) -> bool:
    """Errors that sink the whole overview: no credentials (every call would fail the same
    way), and an unreachable endpoint before anything was read (an outage: waiting for every
    service to time out in turn would only delay the same answer)."""
    return isinstance(error, CredentialsMissing) or (
        isinstance(error, EndpointUnreachable) and not anything_read
    )


@dataclass(frozen=True, slots=True)
class AutoScalingState:
    """What AAS does for one table or GSI: targets per dimension and their policies.
    ``known`` is false when auto scaling could not be read (shown as unknown, not as none)."""

    targets: tuple[ScalableTarget, ...] = ()
    policies: tuple[ScalingPolicy, ...] = ()
    known: bool = True
    #: the scheduled actions on this table or GSI (a planned event's raise and restore…)
    scheduled: tuple[ScheduledAction, ...] = ()

    @property
    def registered(self) -> bool:
        return bool(self.targets)

    #: the traps found for this table or GSI
    #: (see :func:`capcon.core.planning.autoscaling.find_traps`)
    trap_list: tuple[str, ...] = ()

    @property
    def traps(self) -> tuple[str, ...]:
        return self.trap_list

    #: what is not a trap but worth saying: a *scheduled-only* target (scheduled actions, no
    #: policy) in words (see :func:`capcon.core.planning.autoscaling.scheduled_only`)
    note_list: tuple[str, ...] = ()

    @property
    def notes(self) -> tuple[str, ...]:
        return self.note_list

    @property
    def marker(self) -> str:
        if not self.known:
            return "?"
        if not self.targets:
            return ""
        return "AAS!" if self.traps else "AAS"


UNKNOWN_AUTO_SCALING = AutoScalingState(known=False)


class UnknownAutoScaling(dict[str, AutoScalingState]):
    """Auto scaling that could not be read: empty (no targets to list, none orphaned), and
    every table's state is :data:`UNKNOWN_AUTO_SCALING` (:func:`state_of`)."""


def state_of(aas: Mapping[str, AutoScalingState], rid: str) -> AutoScalingState | None:
    """The auto-scaling state of ``rid``: unknown when ``aas`` could not be read."""
    if isinstance(aas, UnknownAutoScaling):
        return UNKNOWN_AUTO_SCALING
    return aas.get(rid)


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
    metrics_known: bool = True
    """False when metrics could not be read: use, throttles and utilisation are unknown."""
    throttled_read_per_second: float = 0.0
    """Throttled reads per second in :attr:`throttle_minute` (a stream: always 0)."""
    throttled_write_per_second: float = 0.0
    """Throttled writes (a stream: records) per second in :attr:`throttle_minute`."""
    throttle_minute: datetime | None = None
    """The minute :attr:`throttled_per_second` is the rate of: the last complete minute
    (:func:`complete_minute`); ``None`` when none is known yet."""
    last_read_throttled: datetime | None = None
    """Start of the newest minute with throttled reads seen (``None``: none since
    :attr:`throttles_since`)."""
    last_write_throttled: datetime | None = None
    """Start of the newest minute with throttled writes (a stream: records) seen."""
    throttles_since: datetime | None = None
    """How far back throttles were looked for: no throttling seen since then."""
    on_demand_max: Throughput | None = None
    """An on-demand table's or GSI's ``OnDemandThroughput`` (0 in a dimension: no maximum);
    :attr:`utilisation` is then consumed ÷ that maximum (requests above it throttle)."""

    @property
    def throttling(self) -> bool:
        return self.throttled_per_second > 0

    @property
    def last_throttled(self) -> datetime | None:
        """Start of the newest minute with throttled reads or writes seen."""
        times = [t for t in (self.last_read_throttled, self.last_write_throttled) if t]
        return max(times) if times else None


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
        MetricQuery(f"{prefix}_o", KINESIS, "GetRecords.Bytes", dims),
    ]


def _mean_per_second(series: MetricSeries | None) -> tuple[float, datetime | None]:
    """Average per second over the datapoints (each a 1-minute Sum), and the newest minute."""
    if series is None or not series.values:
        return 0.0, None
    return sum(series.values) / (60 * len(series.values)), series.timestamps[-1]


MINUTE = timedelta(minutes=1)
#: How far back each row looks for the last minute it throttled (``ls``: one request either
#: way; GetMetricData is billed per metric, not per datapoint).
THROTTLE_LOOKBACK = timedelta(hours=1)


def complete_minute(
    activity: Sequence[MetricSeries | None], fetched_until: datetime, margin: timedelta
) -> datetime | None:
    """The last complete minute of a resource: the newest minute whose throttle count is known.

    CloudWatch publishes throttle metrics only in minutes that throttle, and every metric
    1–3 minutes late, so a minute with no throttle datapoint is a zero only once it is
    complete; before that it is not yet known.  A minute is complete when

    - an *activity* metric of the resource (consumed capacity; a stream's incoming bytes or
      records), published in the same batch as its throttles, has a datapoint for it or for
      a later minute, or
    - it ended at least ``margin`` before ``fetched_until`` (when the metrics were last asked
      for): a late minute has had its time; this is how an idle resource clears.

    See docs/aws-rules.md#cloudwatch-data-as-aws-writes-it.
    """
    by_age = align_down(fetched_until - margin) - MINUTE
    newest = [s.timestamps[-1] for s in activity if s is not None and s.timestamps]
    seen = max(newest, default=None)
    return by_age if seen is None or by_age > seen else seen


def _rate_at(series: MetricSeries | None, minute: datetime | None) -> float:
    """``series``' 1-minute Sum at ``minute`` per second; a missing datapoint is a zero."""
    if series is None or minute is None:
        return 0.0
    for t, v in zip(reversed(series.timestamps), reversed(series.values), strict=True):
        if t == minute:
            return v / 60
        if t < minute:
            break
    return 0.0


def last_positive(series: MetricSeries | None) -> datetime | None:
    """Start of the newest minute with a datapoint above zero."""
    if series is None:
        return None
    for t, v in zip(reversed(series.timestamps), reversed(series.values), strict=True):
        if v > 0:
            return t
    return None


@dataclass(frozen=True, slots=True)
class Throttles:
    """A row's throttles: per dimension in the last complete minute, and when last seen."""

    read: float = 0.0
    write: float = 0.0
    minute: datetime | None = None
    last_read: datetime | None = None
    last_write: datetime | None = None
    since: datetime | None = None


def with_traps(
    table: Table | None, index: str | None, state: AutoScalingState | None
) -> AutoScalingState:
    """``state`` with its traps found (``table`` None: the table no longer exists)."""
    if state is None:
        return AutoScalingState()
    if not state.known:
        return state
    from capcon.core.planning.autoscaling import find_traps, scheduled_only

    traps = tuple(find_traps(table, index, state.targets, state.policies, state.scheduled))
    notes = tuple(scheduled_only(state.targets, state.policies, state.scheduled))
    return dataclasses.replace(state, trap_list=traps, note_list=notes)


def orphaned(aas: Mapping[str, AutoScalingState], tables: Sequence[Table]) -> list[str]:
    """Auto-scaling resource ids whose table (or GSI) no longer exists."""
    known = {resource_id(t.name) for t in tables}
    known |= {resource_id(t.name, i.name) for t in tables for i in t.indexes}
    return sorted(rid for rid in aas if rid not in known)


def auto_scaling_by_resource(backend: Backend) -> dict[str, AutoScalingState]:
    """AAS targets, policies and scheduled actions grouped by ResourceId."""
    return group_auto_scaling(
        backend.describe_scalable_targets(),
        backend.describe_scaling_policies(),
        backend.describe_scheduled_actions(),
    )


def group_auto_scaling(
    targets: Sequence[ScalableTarget],
    policies: Sequence[ScalingPolicy],
    scheduled: Sequence[ScheduledAction] = (),
) -> dict[str, AutoScalingState]:
    """Targets, policies and scheduled actions grouped by ResourceId."""
    grouped: dict[str, tuple[list[ScalableTarget], list[ScalingPolicy], list[ScheduledAction]]] = {}
    for target in targets:
        grouped.setdefault(target.resource_id, ([], [], []))[0].append(target)
    for policy in policies:
        grouped.setdefault(policy.resource_id, ([], [], []))[1].append(policy)
    for action in scheduled:
        grouped.setdefault(action.resource_id, ([], [], []))[2].append(action)
    return {
        rid: AutoScalingState(tuple(t), tuple(p), scheduled=tuple(a))
        for rid, (t, p, a) in grouped.items()
    }


def collect_rows(
    backend: Backend,
    rules: RuleSettings,
    prices: PriceBook,
    *,
    window: timedelta = timedelta(minutes=5),
    tables: Sequence[Table] | None = None,
    streams: Sequence[Stream] | None = None,
    auto_scaling: Mapping[str, AutoScalingState] | None = None,
    metrics: Metrics | None = None,
    notices: list[Notice] | None = None,
    throttle_lookback: timedelta = THROTTLE_LOOKBACK,
) -> list[Row]:
    """Every table, GSI and stream with capacity, recent use, throttles, partitions and cost.

    Use is the mean of the newest ``window`` of published 1-minute datapoints (looked for in
    the last ``window`` + 10 minutes, since CloudWatch is late).  Throttles are those of the
    last complete minute (:func:`complete_minute`: a missing throttle datapoint is a zero once
    its minute is complete), per dimension, with the newest minute that throttled in the last
    ``throttle_lookback``.  Metrics are read through ``metrics``: by default a
    :class:`~capcon.core.services.metrics.MetricsService` over ``backend`` (batched calls),
    the console's list passes what its service already holds.

    With ``notices`` given, metrics that cannot be read (a :class:`BackendError` other than
    missing credentials) leave the rows without metrics (``metrics_known`` false) and add a
    notice; without, the error is raised.
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
    lookback = max(window + timedelta(minutes=10), throttle_lookback)
    source = metrics if metrics is not None else MetricsService(backend)
    known = True
    try:
        answered = source.get_metric_data(queries, now - lookback, now) if queries else []
    except BackendError as error:
        if notices is None or isinstance(error, CredentialsMissing):
            raise
        notices.append(_notice("cloudwatch:GetMetricData", error, "no metrics (use unknown)"))
        answered, known = [], False
    results = {s.id: s for s in answered}
    minutes = max(1, round(window.total_seconds() / 60))

    def recent(series_id: str) -> tuple[float, datetime | None]:
        series = results.get(series_id)
        if series is None:
            return 0.0, None
        trimmed = MetricSeries(series.id, series.timestamps[-minutes:], series.values[-minutes:])
        return _mean_per_second(trimmed)

    by_id = {q.id: q for q in queries}
    asked_at = align_down(now)

    def fetched_until(ids: Sequence[str]) -> datetime | None:
        """When the row's metrics were asked for: now, or (from what a service holds) the
        end of the last request for them."""
        if not isinstance(source, MetricsService | HeldMetrics):
            return asked_at
        return source.fetched_until([by_id[i] for i in ids])

    def throttles(activity: Sequence[str], read: Sequence[str], write: Sequence[str]) -> Throttles:
        until = fetched_until([*activity, *read, *write])
        if until is None:  # never asked for: nothing is known
            return Throttles()
        minute = complete_minute([results.get(i) for i in activity], until, LATE_MARGIN)
        last_read = [last_positive(results.get(i)) for i in read]
        last_write = [last_positive(results.get(i)) for i in write]
        return Throttles(
            read=sum(_rate_at(results.get(i), minute) for i in read),
            write=sum(_rate_at(results.get(i), minute) for i in write),
            minute=minute,
            last_read=max((t for t in last_read if t), default=None),
            last_write=max((t for t in last_write if t), default=None),
            since=now - lookback,
        )

    rows: list[Row] = []
    for resource, index, prefix in keys:
        if isinstance(resource, Table):
            row = _table_row(resource, index, prefix, recent, aas, rules, prices, throttles)
        else:
            row = _stream_row(resource, prefix, recent, rules, prices, throttles)
        rows.append(row if known else _without_metrics(row))
    return rows


def _without_metrics(row: Row) -> Row:
    """``row`` as it is known without metrics: no use, no utilisation, and no cost where the
    cost depends on use (on-demand; a stream's PUT payload units)."""
    keeps_cost = row.kind != "stream" and row.capacity is not None
    return dataclasses.replace(
        row,
        usage=None,
        stream_traffic=None,
        utilisation=None,
        throttled_per_second=0.0,
        cost_per_hour=row.cost_per_hour if keeps_cost else None,
        data_until=None,
        metrics_known=False,
        throttled_read_per_second=0.0,
        throttled_write_per_second=0.0,
        throttle_minute=None,
        last_read_throttled=None,
        last_write_throttled=None,
        throttles_since=None,
    )


def _table_row(
    table: Table,
    index: str | None,
    prefix: str,
    recent: Recent,
    aas: Mapping[str, AutoScalingState],
    rules: RuleSettings,
    prices: PriceBook,
    throttles_of: ThrottlesOf,
) -> Row:
    read, t1 = recent(f"{prefix}_cr")
    write, _ = recent(f"{prefix}_cw")
    thr = throttles_of((f"{prefix}_cr", f"{prefix}_cw"), (f"{prefix}_tr",), (f"{prefix}_tw",))
    if index is None:
        capacity, status, size, warm = table.provisioned, table.status, table.size_bytes, table.warm
        name = table.name
    else:
        ix = table.index(index)
        capacity, status, size, warm = ix.provisioned, ix.status, ix.size_bytes, ix.warm
        name = f"{table.name}/{index}"
    usage = Usage(read, write)
    utilisation = None
    limit = None
    if table.is_on_demand:
        limit = table.on_demand_max if index is None else table.index(index).on_demand_max
    ceiling = capacity if capacity is not None else limit
    if ceiling is not None and (ceiling.read or ceiling.write):
        # provisioned: consumed ÷ capacity; on-demand with a maximum: consumed ÷ the maximum
        utilisation = max(
            read / ceiling.read if ceiling.read else 0.0,
            write / ceiling.write if ceiling.write else 0.0,
        )
    # every region of a global table, at its table class's prices (planner.py)
    all_regions = table_cost_all_regions(table, index, capacity, usage, size, prices, PlanContext())
    cost = all_regions.per_hour if all_regions is not None else 0.0
    return Row(
        name=name,
        kind="table" if index is None else "index",
        table=table.name,
        index=index,
        mode=table.billing_mode.label,
        status=status,
        capacity=capacity,
        usage=usage,
        throttled_per_second=thr.read + thr.write,
        utilisation=utilisation,
        partitions=estimate_partitions(capacity, size, rules, warm=warm),
        cost_per_hour=cost,
        auto_scaling=with_traps(table, index, state_of(aas, resource_id(table.name, index))),
        data_until=t1,
        throttled_read_per_second=thr.read,
        throttled_write_per_second=thr.write,
        throttle_minute=thr.minute,
        last_read_throttled=thr.last_read,
        last_write_throttled=thr.last_write,
        throttles_since=thr.since,
        on_demand_max=limit,
    )


def _stream_row(
    stream: Stream,
    prefix: str,
    recent: Recent,
    rules: RuleSettings,
    prices: PriceBook,
    throttles_of: ThrottlesOf,
) -> Row:
    bytes_in, t1 = recent(f"{prefix}_b")
    records_in, _ = recent(f"{prefix}_r")
    thr = throttles_of((f"{prefix}_b", f"{prefix}_r"), (), (f"{prefix}_t",))
    shards = stream.open_shard_count
    traffic = StreamTraffic(bytes_in, records_in, recent(f"{prefix}_o")[0])
    utilisation = None
    if not stream.is_on_demand and shards:
        utilisation = max(
            bytes_in / (shards * rules.shard_write_bytes_per_second),
            records_in / (shards * rules.shard_write_records_per_second),
        )
    cost = stream_cost(stream, traffic, prices)
    return Row(
        name=stream.name,
        kind="stream",
        table=None,
        index=None,
        mode=stream.mode.label,
        status=stream.status,
        shards=shards,
        throttled_per_second=thr.write,
        stream_traffic=traffic,
        utilisation=utilisation,
        cost_per_hour=cost.per_hour if cost is not None else None,
        data_until=t1,
        throttled_write_per_second=thr.write,
        throttle_minute=thr.minute,
        last_write_throttled=thr.last_write,
        throttles_since=thr.since,
    )


def auto_scaled_parts(
    state_by_rid: Mapping[str, AutoScalingState], table: str
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


# --------------------------------------------------------------------------------------------
# Degrade, don't blank: every part of the account read on its own
# --------------------------------------------------------------------------------------------

#: After this many resources in a row that could not be described (and none that could),
#: the rest are not tried: the call is refused for all of them, not for a few.
DESCRIBE_GIVE_UP = 3


def _notice(action: str, error: BackendError, missing: str) -> Notice:
    return Notice(action, problem_of(error), missing, str(error))


@dataclass
class Reading:
    """What one pass over the account has read so far, and what it could not read."""

    notices: list[Notice] = field(default_factory=list)
    anything_read: bool = False
    first_error: BackendError | None = None
    failed: set[str] = field(default_factory=set)
    """Actions that failed: not asked again in this reading (one notice each)."""

    def attempt(
        self, action: str, missing: str, read: Callable[[], T], *, counts: bool = True
    ) -> T | None:
        """``read()``, or ``None`` and a notice when it fails (fatal errors re-raised).
        ``counts``: a success means something of the account was read."""
        if action in self.failed:
            return None
        try:
            value = read()
        except BackendError as error:
            if is_fatal(error, self.anything_read):
                raise
            self.first_error = self.first_error or error
            self.failed.add(action)
            self.notices.append(_notice(action, error, missing))
            return None
        if counts:
            self.anything_read = True
        return value

    def describe(
        self,
        action: str,
        kind: str,
        names: Sequence[str],
        many: Callable[[Sequence[str]], list[T]],
        one: Callable[[str], T],
    ) -> list[T]:
        """``many(names)``; if it fails, each name on its own (so one table this identity may
        not describe, or one answer that is garbage, hides only that resource), giving up
        after :data:`DESCRIBE_GIVE_UP` failures in a row before any success."""
        if not names:
            return []
        try:
            found = many(names)
        except BackendError as error:
            if is_fatal(error, self.anything_read):
                raise
        else:
            self.anything_read = True
            return found
        found = []
        failed: dict[str, list[str]] = {}
        details: dict[str, BackendError] = {}
        for position, name in enumerate(names):
            try:
                found.append(one(name))
                self.anything_read = True
            except NotFound:
                continue  # deleted since it was listed
            except BackendError as error:
                if is_fatal(error, self.anything_read):
                    raise
                problem = problem_of(error)
                failed.setdefault(problem, []).append(name)
                details.setdefault(problem, error)
                if not found and position + 1 >= DESCRIBE_GIVE_UP:
                    failed[problem] += names[position + 1 :]
                    break
        for problem, skipped in failed.items():
            shown = ", ".join(skipped[:5]) + (
                f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
            )
            plural = kind if len(skipped) == 1 else f"{kind}s"
            self.first_error = self.first_error or details[problem]
            self.notices.append(
                Notice(
                    action,
                    problem,
                    f"{len(skipped)} {plural} not shown ({shown})",
                    str(details[problem]),
                )
            )
        return found


def read_tables(
    reading: Reading, backend: Backend, names: Sequence[str] | None = None
) -> list[Table]:
    """The tables ``names`` (default: every table listed), as far as they can be read."""
    if names is None:
        listed = reading.attempt("dynamodb:ListTables", "tables not shown", backend.list_tables)
        if listed is None:
            return []
        names = listed
    return reading.describe(
        "dynamodb:DescribeTable", "table", names, backend.describe_tables, backend.describe_table
    )


def read_streams(
    reading: Reading, backend: Backend, names: Sequence[str] | None = None
) -> list[Stream]:
    """The streams ``names`` (default: every stream listed), as far as they can be read."""
    if names is None:
        listed = reading.attempt("kinesis:ListStreams", "streams not shown", backend.list_streams)
        if listed is None:
            return []
        names = listed
    return reading.describe(
        "kinesis:DescribeStreamSummary",
        "stream",
        names,
        backend.describe_streams,
        backend.describe_stream,
    )


def read_auto_scaling(reading: Reading, backend: Backend) -> Mapping[str, AutoScalingState]:
    """Auto scaling by resource id, or :class:`UnknownAutoScaling` (and a notice): targets
    without their policies would show the "registered but no policy" trap everywhere."""
    missing = "auto scaling unknown"
    targets = reading.attempt(
        "application-autoscaling:DescribeScalableTargets",
        missing,
        backend.describe_scalable_targets,
        counts=False,
    )
    if targets is None:
        return UnknownAutoScaling()
    policies = reading.attempt(
        "application-autoscaling:DescribeScalingPolicies",
        missing,
        backend.describe_scaling_policies,
        counts=False,
    )
    if policies is None:
        return UnknownAutoScaling()
    # unreadable scheduled actions: a scheduled-only target shows as the no-policy trap (the
    # notice says why), as it did before capcon knew of them
    scheduled = reading.attempt(
        "application-autoscaling:DescribeScheduledActions",
        "scheduled actions unknown",
        backend.describe_scheduled_actions,
        counts=False,
    )
    return group_auto_scaling(targets, policies, scheduled or ())


@dataclass(frozen=True)
class Overview:
    """The account as far as it could be read: rows, and a notice for each part that could
    not be (empty when everything was read)."""

    rows: list[Row]
    notices: tuple[Notice, ...]
    tables: tuple[Table, ...]
    streams: tuple[Stream, ...]
    auto_scaling: Mapping[str, AutoScalingState]

    @property
    def partial(self) -> bool:
        return bool(self.notices)


def read_overview(
    backend: Backend,
    rules: RuleSettings,
    prices: PriceBook,
    *,
    window: timedelta = timedelta(minutes=5),
    metrics: Metrics | None = None,
) -> Overview:
    """Every table, GSI and stream that can be read, with a :class:`Notice` for each part
    that could not.  Raises the first error when no part of the inventory (neither tables
    nor streams) could be listed: there is nothing to show."""
    reading = Reading()
    tables = read_tables(reading, backend)
    streams = read_streams(reading, backend)
    if not reading.anything_read and reading.first_error is not None:
        raise reading.first_error
    aas = read_auto_scaling(reading, backend)
    notices = reading.notices
    rows = collect_rows(
        backend,
        rules,
        prices,
        window=window,
        tables=tables,
        streams=streams,
        auto_scaling=aas,
        metrics=metrics,
        notices=notices,
    )
    return Overview(rows, tuple(notices), tuple(tables), tuple(streams), aas)
