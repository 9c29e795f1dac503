"""The detail screen: charts, partitions, budget and shards of one table, GSI or stream.

Data flow (docs/architecture.md#the-consoles-data-flow): a thread worker reads the backend
through the app's lock-wrapped ports (metrics through the app's metrics service, shared with the
list: it keeps each window's datapoints, asks only for the newest and counts what it sends) and
turns CloudWatch's answers into immutable :class:`DetailData` (series of ``(time, value)``
points, panel lines, shard loads); it posts that in a
:class:`DetailScreen.Loaded` message, and the handler builds the plotext plots on the main
thread.  The next refresh is a one-shot timer set only after a fetch completed, so fetches
never overlap; backend errors become notifications, never a crash.

Charts show rates per second (CloudWatch ``Sum`` over the period ÷ the period).  Minutes
CloudWatch has no datapoint for are gaps in the line, never zeros.  Colours come from the
theme's app variables (``consumed``, ``provisioned``, ``throttle``, ``demand``, ``hot``).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.color import Color
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Static
from textual.worker import Worker, WorkerState, get_current_worker
from textual_plotext import PlotextPlot

from capcon.core.errors import CapconError
from capcon.core.model import (
    Index,
    ReplicaScaling,
    ScalingRange,
    Stream,
    Table,
    Throughput,
    ThroughputHistory,
    WarmThroughput,
)
from capcon.core.planning.partitions import estimate_partitions
from capcon.core.planning.requests import dimension_word
from capcon.core.ports import (
    Backend,
    MetricQuery,
    MetricSeries,
    ReplicaAutoScaling,
    ScalingActivity,
    SimulationControls,
    resource_id,
)
from capcon.core.pricing import PriceBook, closed_shards_cost
from capcon.core.rules import RuleSettings, decrease_budget, fmt_duration, fmt_time
from capcon.core.services.audit import AuditLog, AuditSink
from capcon.core.services.changes import (
    RECENT,
    RecentChange,
    changes_from_activities,
    changes_from_audit,
    recent_for,
)
from capcon.core.services.inspect import (
    SHARD_LOOKBACK,
    ShardLoad,
    shard_load_queries,
    shard_loads_from,
)
from capcon.core.services.metrics import MetricsService
from capcon.core.services.overview import (
    DDB,
    KINESIS,
    AutoScalingState,
    Row,
    auto_scaling_by_resource,
    last_positive,
    stream_queries,
    table_queries,
    with_traps,
)
from capcon.tui.console.events import (
    RAISE_MARK,
    RESTORE_MARK,
    EventMark,
    chart_marks,
    planned_floor,
)
from capcon.tui.console.failures import error_text
from capcon.tui.text import markup_safe, printable, warm_text

if TYPE_CHECKING:
    from capcon.tui.console.app import CapconApp

Point = tuple[datetime, float]

#: Refresh cadence.  The simulated account moves fast (the app's own poll advances its
#: clock), so a couple of seconds keeps the charts moving; on AWS the data are 1-minute
#: CloudWatch points that arrive minutes late and every request is billed per metric, so
#: refreshing faster than a quarter of the period buys nothing.
SIM_REFRESH_SECONDS = 2.0
AWS_REFRESH_SECONDS = 15.0
#: Retry after a failed fetch (no faster than this, so an outage does not hammer the API).
RETRY_SECONDS = 10.0
#: The recent changes the panel lists (newest first), and the audit records read for them.
MAX_CHANGES_LISTED = 6
AUDIT_RECORDS_READ = 500
GIB = 2**30
AAS_MARK = "▼"
#: capcon's own changes (audit log) on the charts, as on the list's rows
CAPCON_MARK = "✎"
#: a stream's reshards (its shards closed and opened) on its charts
RESHARD_MARK = "◆"
DAY = timedelta(days=1)
UNITS = {"read": " RCU", "write": " WCU", "shards": " shards"}


# --------------------------------------------------------------------------------------------
# Immutable data handed from the worker to the widgets
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Window:
    """A chart window: what the keys 1–4 choose."""

    key: str
    label: str
    span: timedelta
    period: int  # seconds per CloudWatch datapoint
    tick: timedelta  # spacing of the time axis labels
    tick_format: str


WINDOWS: tuple[Window, ...] = (
    Window("1", "1 h", timedelta(hours=1), 60, timedelta(minutes=10), "%H:%M"),
    Window("2", "3 h", timedelta(hours=3), 60, timedelta(minutes=30), "%H:%M"),
    Window("3", "24 h", timedelta(hours=24), 300, timedelta(hours=3), "%H:%M"),
    Window("4", "7 d", timedelta(days=7), 3600, timedelta(days=1), "%a"),
)


def window_bounds(window: Window, now: datetime) -> tuple[datetime, datetime]:
    """``[start, now]`` with ``start`` on a period boundary (CloudWatch, and moto, anchor
    periods at the start time, so an aligned start gives stable datapoint times)."""
    start = now - window.span
    seconds = start.timestamp()
    aligned = seconds - seconds % window.period
    return datetime.fromtimestamp(aligned, tz=UTC), now


@dataclass(frozen=True, slots=True)
class Series:
    """One line on a chart.  ``role`` names the theme variable it is drawn in.

    Points further apart than ``max_gap`` seconds are not joined: a missing datapoint is a
    gap on the chart, never a zero.
    """

    label: str
    role: str
    points: tuple[Point, ...]
    max_gap: float

    def segments(self, *, skip_zero_runs: bool = False) -> list[list[Point]]:
        """The points split where datapoints are missing.

        ``skip_zero_runs`` also leaves out runs of zeros (keeping the zero next to a
        non-zero value, so a rise starts from the axis): a throttle line lying on the axis
        for hours reads as an alarm when it says "nothing happened".
        """
        out: list[list[Point]] = [[]]
        points = self.points
        for n, point in enumerate(points):
            if skip_zero_runs and point[1] == 0:
                before = points[n - 1][1] if n > 0 else 0.0
                after = points[n + 1][1] if n + 1 < len(points) else 0.0
                if before == 0 and after == 0:
                    out.append([])
                    continue
            current = out[-1]
            if current and (point[0] - current[-1][0]).total_seconds() > self.max_gap:
                out.append([point])
            else:
                current.append(point)
        return [segment for segment in out if segment]


@dataclass(frozen=True, slots=True)
class Mark:
    """A change to mark on a chart: an auto scaling activity (``source`` ``"aas"``) or one
    of capcon's own changes from the audit log (``"capcon"``)."""

    at: datetime
    text: str
    ok: bool
    source: str = "aas"

    @property
    def symbol(self) -> str:
        return {"capcon": CAPCON_MARK, "reshard": RESHARD_MARK}.get(self.source, AAS_MARK)


@dataclass(frozen=True, slots=True)
class Chart:
    """One chart: a title with its unit, lines, and vertical marks."""

    key: str
    title: str
    series: tuple[Series, ...]
    marks: tuple[Mark, ...] = ()

    @property
    def has_data(self) -> bool:
        return any(s.points for s in self.series if s.role != "provisioned")

    @property
    def top(self) -> float:
        values = [v for s in self.series for _, v in s.points]
        return max(values, default=0.0)


@dataclass(frozen=True, slots=True)
class PanelLine:
    """A line of the side panel; ``role`` is "", "head", "hot", "throttle" or "muted"."""

    text: str
    role: str = ""


@dataclass(frozen=True, slots=True)
class DetailData:
    """Everything the screen shows, fetched at ``now`` for ``window``."""

    window: Window
    start: datetime
    end: datetime
    name: str
    kind: str
    mode: str
    status: str
    capacity: str
    charts: tuple[Chart, ...]
    panel: tuple[PanelLine, ...]
    shards: tuple[ShardLoad, ...] | None = None
    data_until: datetime | None = None
    last_throttled: datetime | None = None
    """Start of the newest period with throttling in the window (or seen by the list)."""
    throttled_sides: str = ""
    """Which throttled then: ``reads``, ``writes``, ``reads and writes`` (``""``: a stream)."""
    changes: tuple[RecentChange, ...] = ()
    """The row's recent changes (capcon's and auto scaling's), newest first."""
    partition_loads: tuple[PartitionLoad, ...] = ()
    """A provisioned table's or GSI's reads and writes, partition by partition."""


# --------------------------------------------------------------------------------------------
# Series arithmetic (pure)
# --------------------------------------------------------------------------------------------


def per_second(series: MetricSeries | None, period: int, scale: float = 1.0) -> tuple[Point, ...]:
    """A ``Sum`` series as a rate per second: each datapoint ÷ ``period`` (× ``scale``)."""
    if series is None:
        return ()
    return tuple(
        (t, v / period * scale) for t, v in zip(series.timestamps, series.values, strict=True)
    )


def values_of(series: MetricSeries | None, scale: float = 1.0) -> tuple[Point, ...]:
    """A gauge series (``Average``, ``Maximum``) as it is, × ``scale``."""
    if series is None:
        return ()
    return tuple((t, v * scale) for t, v in zip(series.timestamps, series.values, strict=True))


def demand_points(consumed: Sequence[Point], throttled: Sequence[Point]) -> tuple[Point, ...]:
    """Demand = consumed + throttled, where consumed has a datapoint.

    A minute with no throttle datapoint had no throttling (CloudWatch publishes throttle
    events sparsely); a minute with no consumed datapoint stays a gap.
    """
    extra = dict(throttled)
    return tuple((t, v + extra.get(t, 0.0)) for t, v in consumed)


def throttle_points(activity: Sequence[Point], throttled: Sequence[Point]) -> tuple[Point, ...]:
    """The throttle line: its datapoints, and a zero in every other minute with an activity
    datapoint (consumed, incoming): CloudWatch publishes throttles only in minutes that
    throttle, so such a minute had none.  Minutes with neither stay a gap."""
    points = dict(activity)
    for t in points:
        points[t] = 0.0
    points.update(throttled)
    return tuple(sorted(points.items()))


def capacity_points(
    metric: Sequence[Point], current: float | None, start: datetime, end: datetime, period: int
) -> tuple[Point, ...]:
    """The provisioned line: the ``Provisioned*CapacityUnits`` datapoints when present,
    carried on to ``end`` at the capacity ``DescribeTable`` reports now; without datapoints,
    a flat line at the described capacity."""
    if current is None:
        return tuple(metric)
    if not metric:
        return ((start, current), (end, current))
    points = list(metric)
    last_t, last_v = points[-1]
    if last_v != current:
        points.append((last_t + timedelta(seconds=period), current))
    if points[-1][0] < end:
        points.append((end, current))
    return tuple(points)


# --------------------------------------------------------------------------------------------
# Fetching (runs in the worker thread; I/O only through the ports)
# --------------------------------------------------------------------------------------------


def _metrics_for(
    metrics: MetricsService, queries: Sequence[MetricQuery], start: datetime, end: datetime
) -> dict[str, MetricSeries]:
    """Series by query id, through the console's metrics service (batched, incremental and
    counted there: the status bar shows this screen's requests with the list's)."""
    return {s.id: s for s in metrics.get_metric_data(queries, start, end)}


def _with_period(queries: Sequence[MetricQuery], period: int) -> list[MetricQuery]:
    return [dataclasses.replace(q, period=period) for q in queries]


def _newest(answers: dict[str, MetricSeries]) -> datetime | None:
    times = [s.timestamps[-1] for s in answers.values() if s.timestamps]
    return max(times) if times else None


def _fmt_rate(value: float | None) -> str:
    if value is None:
        return "—"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def _fmt_units(capacity: Throughput | None) -> str:
    return "on-demand" if capacity is None else f"{capacity.read:,} RCU / {capacity.write:,} WCU"


def _fmt_size(size_bytes: int) -> str:
    return f"{size_bytes / GIB:,.1f} GiB"


class AuditRecords(Protocol):
    """Where the detail screen reads capcon's changes: an audit sink's ``read``."""

    def read(self, limit: int | None = None) -> list[dict[str, Any]]: ...


class CachedAudit:
    """The newest audit records, read again only when the local log changed (its size or
    modification time): the detail screen refreshes every few seconds, and an idle console
    must not parse the whole log each time.  Another sink (a stack's store) is read each
    time.  Used by one worker at a time (the screen's fetches never overlap)."""

    def __init__(self, audit: AuditSink) -> None:
        self.audit = audit
        self.reads = 0
        self._key: tuple[int, int] | None = None
        self._records: list[dict[str, Any]] = []

    def read(self, limit: int | None = None) -> list[dict[str, Any]]:
        key = None
        if isinstance(self.audit, AuditLog):
            try:
                stat = os.stat(self.audit.path)
            except OSError:
                key = None
            else:
                key = (stat.st_size, stat.st_mtime_ns)
        if key is not None and key == self._key:
            return self._records
        self.reads += 1
        records = self.audit.read(limit)
        self._key, self._records = key, records
        return records


def recent_changes(
    audit: AuditRecords | None,
    activities: Sequence[ScalingActivity],
    row: str,
    now: datetime,
    span: timedelta = RECENT,
) -> tuple[RecentChange, ...]:
    """``row``'s changes of the last day (or of the window, when longer), newest first:
    capcon's from the newest audit records, auto scaling's from its activities.  An audit
    log that cannot be read lists none of capcon's (the audit screen says why): the charts
    do not wait on it."""
    records: list[dict[str, object]] = []
    if audit is not None:
        try:
            records = audit.read(AUDIT_RECORDS_READ)
        except CapconError:
            records = []
    changes = [*changes_from_audit(records), *changes_from_activities(activities)]
    return tuple(recent_for(changes, row, now, max(RECENT, span)))


def change_marks(changes: Sequence[RecentChange], start: datetime, chart: str) -> tuple[Mark, ...]:
    """capcon's changes in the window, as marks for ``chart`` (``reads``, ``writes``, or a
    stream's chart): a change that names only RCU marks the reads chart, only WCU the
    writes chart, anything else every chart."""
    marks = []
    for change in changes:
        if change.source != "capcon" or change.at < start:
            continue
        reads, writes = "RCU" in change.what, "WCU" in change.what
        if (chart == "reads" and writes and not reads) or (
            chart == "writes" and reads and not writes
        ):
            continue
        ok = change.outcome in ("applied", "pending", "accepted")
        marks.append(Mark(change.at, change.what, ok, "capcon"))
    return tuple(marks)


def load_detail(
    backend: Backend,
    row: Row,
    window: Window,
    rules: RuleSettings,
    metrics: MetricsService,
    audit: AuditRecords | None = None,
    controls: SimulationControls | None = None,
    prices: PriceBook | None = None,
) -> DetailData:
    """Read everything the detail screen shows for ``row`` over ``window`` (metrics through
    ``metrics``, which keeps each window's datapoints and asks only for the newest; capcon's
    own changes from ``audit``; on the simulated account, what only ``controls`` know: a
    table's hot key, when a stream's shards opened and closed)."""
    if row.kind == "stream":
        return _load_stream(backend, row.name, window, rules, metrics, audit, controls, prices)
    assert row.table is not None
    return _load_table(backend, row.table, row.index, window, rules, metrics, audit, controls)


def _load_table(
    backend: Backend,
    table_name: str,
    index_name: str | None,
    window: Window,
    rules: RuleSettings,
    metrics: MetricsService,
    audit: AuditRecords | None = None,
    controls: SimulationControls | None = None,
) -> DetailData:
    now: datetime = backend.now()
    start, end = window_bounds(window, now)
    table: Table = backend.describe_table(table_name)
    part: Table | Index = table if index_name is None else table.index(index_name)
    capacity = part.provisioned if not table.is_on_demand else None
    period = window.period
    base = table_queries(table_name, index_name, "m")
    dims = base[0].dimensions
    queries = [
        *_with_period(base, period),
        MetricQuery("m_pr", DDB, "ProvisionedReadCapacityUnits", dims, "Average", period),
        MetricQuery("m_pw", DDB, "ProvisionedWriteCapacityUnits", dims, "Average", period),
    ]
    # a base table's GSIs' write throttles (same call): a GSI short of write capacity
    # throttles the table's writes, which is not the table's own partition running out
    gsi_ids: dict[str, str] = {}
    if index_name is None:
        for number, index in enumerate(table.indexes):
            gsi_ids[f"g{number}_tw"] = index.name
            gsi_dims = (("TableName", table_name), ("GlobalSecondaryIndexName", index.name))
            queries.append(
                MetricQuery(f"g{number}_tw", DDB, "WriteThrottleEvents", gsi_dims, "Sum", period)
            )
    answers = _metrics_for(metrics, queries, start, end)
    rid = resource_id(table_name, index_name)
    every_activity = backend.describe_scaling_activities(rid)
    activities = [a for a in every_activity if start <= a.start <= end]
    row_name = table_name if index_name is None else f"{table_name}/{index_name}"
    changes = recent_changes(audit, every_activity, row_name, now, window.span)
    aas = with_traps(table, index_name, auto_scaling_by_resource(backend).get(rid))

    charts = []
    for word, unit, c_id, t_id, p_id, cap in (
        ("reads", "RCU/s", "m_cr", "m_tr", "m_pr", capacity.read if capacity else None),
        ("writes", "WCU/s", "m_cw", "m_tw", "m_pw", capacity.write if capacity else None),
    ):
        consumed = per_second(answers.get(c_id), period)
        throttled = throttle_points(consumed, per_second(answers.get(t_id), period))
        provisioned = capacity_points(
            values_of(answers.get(p_id)), None if cap is None else float(cap), start, end, period
        )
        gap = float(period)
        demand = demand_points(consumed, throttled)
        series = [
            # drawn in this order: consumed over demand (demand shows only where requests
            # were throttled), consumed over the ceiling (running at capacity stays visible)
            Series("demand", "demand", demand, gap),
            # capacity is a state, not a rate: it holds between its datapoints (AWS publishes
            # Provisioned*CapacityUnits only every 5 minutes) and up to now (DescribeTable)
            Series("provisioned", "provisioned", provisioned, window.span.total_seconds()),
            Series("consumed", "consumed", consumed, gap),
            Series("throttled", "throttle", throttled, gap),
        ]
        if capacity is None:
            series = [s for s in series if s.role != "provisioned"]
        marks = tuple(
            Mark(a.start, a.description, a.status in ("Successful", "InProgress"))
            for a in activities
            if word == f"{dimension_word(a.dimension)}s"
        ) + change_marks(changes, start, word)
        charts.append(Chart(word, f"{word} · {unit}", tuple(series), marks))

    hot_share: float | None = None
    if controls is not None:
        try:
            hot_share = controls.hot_key(table_name, index_name)
        except CapconError:
            hot_share = None
    partitions = estimate_partitions(capacity, part.size_bytes, rules, warm=part.warm).count
    loads: tuple[PartitionLoad, ...] = ()
    if capacity is not None:
        loads = tuple(
            partition_load(
                chart, float(cap), partitions, hot_share, gsis_throttling(answers, gsi_ids)
            )
            for chart, cap in zip(charts, (capacity.read, capacity.write), strict=True)
        )
    panel = (
        *partition_lines(loads, controls is not None),
        *_table_panel(table, part, capacity, aas, changes, now, rules),
    )
    panel += replica_panel(table, index_name, _replica_scaling(backend, table))
    last = {
        "reads": last_positive(answers.get("m_tr")),
        "writes": last_positive(answers.get("m_tw")),
    }
    newest = max((t for t in last.values() if t), default=None)
    return DetailData(
        window=window,
        start=start,
        end=end,
        name=row_name,
        kind="table" if index_name is None else "index",
        mode=table.billing_mode.label,
        status=part.status,
        capacity="" if capacity is None else _fmt_units(capacity),
        charts=tuple(charts),
        panel=panel,
        data_until=_newest(answers),
        last_throttled=newest,
        throttled_sides=" and ".join(w for w, t in last.items() if t and t == newest),
        changes=changes,
        partition_loads=loads,
    )


#: How many of the newest datapoints judge "throttling now" for the hot-partition verdict.
RECENT_POINTS = 5
#: The shares of traffic on one key the trainer's ``k`` cycles through (0: uniform keys).
HOT_KEY_STEPS = (0.0, 0.25, 0.5, 0.8)


@dataclass(frozen=True, slots=True)
class PartitionLoad:
    """One dimension of a provisioned table or GSI, partition by partition (field note C:
    docs/field-notes.md#partition-dilution): the table's capacity spread evenly over its
    estimated partitions against what its hottest partition is asked for.

    ``demand`` and ``throttled`` are the table's units per second over the newest datapoints;
    ``hot_share`` the share of the traffic on one key when known (the simulated account knows
    it; AWS does not say), else ``None``."""

    word: str  # "reads" / "writes"
    unit: str  # "RCU" / "WCU"
    capacity: float
    partitions: int
    demand: float | None
    throttled: float
    hot_share: float | None = None
    gsis_throttling: tuple[str, ...] = ()
    """A base table's writes: its GSIs that throttled writes over the same datapoints.  A GSI
    short of write capacity throttles the table's writes (docs/aws-rules.md, "GSI write
    back-pressure"): then the GSI, not a hot partition, is the cause."""

    @property
    def per_partition(self) -> float:
        return self.capacity / max(1, self.partitions)

    @property
    def hot_key_demand(self) -> float | None:
        """Units per second the hot key alone asks of its one partition (``None``: no hot
        key known).  Its partition's even share of the other keys comes on top; the
        simulated account, like this figure, leaves that out."""
        if self.demand is None or not self.hot_share:
            return None
        return self.demand * self.hot_share

    @property
    def partition_is_the_cause(self) -> bool:
        """Throttled while the table as a whole asked for no more than its capacity: one
        partition ran out, not the table."""
        return (
            self.throttled > 0
            and self.demand is not None
            and self.demand <= self.capacity
            and not self.gsis_throttling
        )

    @property
    def gsi_is_the_cause(self) -> bool:
        """Throttled below capacity while a GSI throttled its writes: back-pressure."""
        return (
            self.throttled > 0
            and self.demand is not None
            and self.demand <= self.capacity
            and bool(self.gsis_throttling)
        )


def partition_load(
    chart: Chart,
    capacity: float,
    partitions: int,
    hot_share: float | None,
    gsis_throttling: tuple[str, ...] = (),
) -> PartitionLoad:
    """A :class:`PartitionLoad` from a table chart's demand and throttle lines (the mean of
    the newest :data:`RECENT_POINTS` datapoints); ``gsis_throttling`` only counts for
    writes."""
    lines = {s.role: s.points for s in chart.series}
    demand = [v for _, v in lines.get("demand", ())[-RECENT_POINTS:]]
    throttled = [v for _, v in lines.get("throttle", ())[-RECENT_POINTS:]]
    unit = "RCU" if chart.key == "reads" else "WCU"
    return PartitionLoad(
        chart.key,
        unit,
        capacity,
        partitions,
        sum(demand) / len(demand) if demand else None,
        sum(throttled) / len(throttled) if throttled else 0.0,
        hot_share,
        gsis_throttling if chart.key == "writes" else (),
    )


def gsis_throttling(
    answers: Mapping[str, MetricSeries], ids: Mapping[str, str], points: int = RECENT_POINTS
) -> tuple[str, ...]:
    """The GSIs (``ids``: query id → index name) with throttled writes among their newest
    ``points`` datapoints."""
    names = []
    for query_id, name in ids.items():
        series = answers.get(query_id)
        if series is not None and any(v > 0 for v in series.values[-points:]):
            names.append(name)
    return tuple(names)


def _each(partitions: int) -> str:
    return "its one partition" if partitions == 1 else f"each of {partitions:,} partitions"


def partition_lines(loads: Sequence[PartitionLoad], simulated: bool) -> tuple[PanelLine, ...]:
    """The "Hot partition" section: each dimension's per-partition capacity against its
    hottest partition's demand, and the verdict when throttling is below table capacity."""
    cause = any(load.partition_is_the_cause for load in loads)
    back_pressure = any(load.gsi_is_the_cause for load in loads)
    hot = next((load.hot_share for load in loads if load.hot_share is not None), None)
    if not cause and not hot and not back_pressure:  # the "Per partition" lines say the share
        return ()
    title = "Hot partition (dilution)" if cause or hot else "Throttled below capacity"
    lines = [PanelLine(title, "throttle" if cause or back_pressure else "head")]
    if hot:
        change = " · k: change" if simulated else ""
        lines.append(PanelLine(f"  hot key: {hot:.0%} of the traffic on one key{change}"))
    for load in loads:
        unit, per = load.unit, load.per_partition
        needs = load.hot_key_demand
        if needs is not None:
            role = "hot" if needs > per else ""
            lines.append(
                PanelLine(
                    f"  {load.word}: hottest partition needs {needs:,.0f} {unit}/s (its hot key); "
                    f"{_each(load.partitions)} gets {per:,.0f}",
                    role,
                )
            )
        else:
            lines.append(PanelLine(f"  {load.word}: {_each(load.partitions)} gets {per:,.0f}"))
        if load.partition_is_the_cause:
            assert load.demand is not None
            lines.append(
                PanelLine(
                    f"  ! throttled below table capacity ({load.demand:,.0f} of "
                    f"{load.capacity:,.0f} {unit}/s): the hot partition is the cause",
                    "throttle",
                )
            )
        elif load.gsi_is_the_cause:
            assert load.demand is not None
            gsis = ", ".join(printable(name) for name in load.gsis_throttling)
            lines.append(
                PanelLine(
                    f"  ! throttled below table capacity ({load.demand:,.0f} of "
                    f"{load.capacity:,.0f} {unit}/s): GSI {gsis} throttles its writes, and a "
                    "GSI short of write capacity throttles the table's writes (back-pressure)",
                    "throttle",
                )
            )
    if cause:
        parts = max(load.partitions for load in loads)
        lines.append(PanelLine(f"  more capacity adds 1/{parts:,} of it per partition", "muted"))
    return tuple(lines)


#: Outcomes that did not take effect (capcon's audit outcomes, AAS activity statuses).
FAILED_OUTCOMES = frozenset(
    {"refused", "failed", "unknown", "interrupted", "Failed", "Unfulfilled"}
)


def change_lines(changes: Sequence[RecentChange], now: datetime) -> tuple[PanelLine, ...]:
    """The "Recent changes" section: newest first, each with its source, what, outcome and
    age (what comes from the audit log or AWS: painted with :func:`printable`)."""
    lines = [PanelLine(f"Recent changes ({len(changes)})", "head")]
    if not changes:
        lines.append(PanelLine("  none in the last day", "muted"))
        return tuple(lines)
    for change in changes[:MAX_CHANGES_LISTED]:
        symbol, source = (CAPCON_MARK, "capcon") if change.source == "capcon" else (AAS_MARK, "AAS")
        what = change.what.removeprefix("Setting ").rstrip(".")
        age = fmt_duration(max(timedelta(0), now - change.at), step=60)
        role = "hot" if change.outcome in FAILED_OUTCOMES else ""
        lines.append(
            PanelLine(
                f"  {symbol} {change.at:%H:%M} {source} · {what} · {change.outcome} · {age} ago",
                role,
            )
        )
    if len(changes) > MAX_CHANGES_LISTED:
        lines.append(PanelLine(f"  … {len(changes) - MAX_CHANGES_LISTED} earlier", "muted"))
    return tuple(lines)


def _table_panel(
    table: Table,
    part: Table | Index,
    capacity: Throughput | None,
    aas: AutoScalingState,
    changes: Sequence[RecentChange],
    now: datetime,
    rules: RuleSettings,
) -> tuple[PanelLine, ...]:
    lines: list[PanelLine] = list(change_lines(changes, now))
    add = lines.append
    warm: WarmThroughput | None = part.warm
    estimate = estimate_partitions(capacity, part.size_bytes, rules, warm=warm)
    add(PanelLine("Partitions", "head"))
    add(PanelLine(f"  ~{estimate.count} (estimate, from {estimate.basis})"))
    add(PanelLine("  DynamoDB does not report partitions", "muted"))
    basis = f"  by throughput {estimate.by_throughput} · size {estimate.by_size}"
    if estimate.by_warm is not None:
        basis += f" · warm {estimate.by_warm}"
    add(PanelLine(basis, "muted"))
    add(PanelLine("Warm throughput", "head"))
    if warm is None:
        add(PanelLine("  not reported", "muted"))
    else:
        add(
            PanelLine(
                f"  {warm.read_units_per_second:,} reads/s · "
                f"{warm.write_units_per_second:,} writes/s"
            )
        )
        add(PanelLine("  served instantly; never decreases", "muted"))
    add(PanelLine("Per partition (even spread)", "head"))
    per = estimate.per_partition(capacity)
    if per is None:
        add(PanelLine("  on-demand: no provisioned share", "muted"))
    else:
        add(PanelLine(f"  {per[0]:,.0f} RCU / {per[1]:,.0f} WCU"))
        add(
            PanelLine(
                f"  max {rules.read_units_per_partition:,} RCU / "
                f"{rules.write_units_per_partition:,} WCU per partition",
                "muted",
            )
        )
    add(PanelLine("Decrease budget (UTC day)", "head"))
    if capacity is None:
        add(PanelLine("  on-demand: no capacity to decrease", "muted"))
    else:
        history: ThroughputHistory = part.history
        budget = decrease_budget(history, now, rules)
        add(PanelLine(f"  used {budget.used_today} · left {budget.left_today} today"))
        role = "" if budget.allowed_now else "hot"
        add(PanelLine(f"  next allowed {fmt_time(budget.next_allowed_at, now)}", role))
        add(PanelLine(f"  resets {fmt_time(budget.resets_at, now)}", "muted"))
    add(PanelLine("Auto scaling", "head"))
    if not aas.registered and not aas.policies:
        add(PanelLine("  not registered", "muted"))
    unit = {"reads": "RCU", "writes": "WCU"}
    for target in aas.targets:
        word = f"{dimension_word(target.dimension)}s"
        line = f"  {word} {target.min_capacity:,}–{target.max_capacity:,} {unit.get(word, '')}"
        targets = [
            f"{p.target_value:g}%"
            for p in aas.policies
            if p.dimension == target.dimension and p.policy_type == "TargetTrackingScaling"
        ]
        if targets:
            line += ", target " + " / ".join(targets)
        if target.suspended:
            line += " (suspended)"
        add(PanelLine(line))
    for trap in aas.traps:
        add(PanelLine(f"  ! {trap}", "hot"))
    add(PanelLine("Storage", "head"))
    add(PanelLine(f"  {_fmt_size(part.size_bytes)} · {part.item_count:,} items"))
    if table.is_on_demand and part.on_demand_max is not None:
        add(PanelLine(f"  on-demand max {_fmt_units(part.on_demand_max)}"))
    add(PanelLine("Reading the charts", "head"))
    add(PanelLine("  units per second (Sum ÷ period)", "muted"))
    add(PanelLine("  demand = consumed + throttled", "muted"))
    add(PanelLine(f"  {AAS_MARK} auto scaling · {CAPCON_MARK} capcon change", "muted"))
    add(PanelLine("  gap = no data", "muted"))
    return tuple(lines)


def _replica_scaling(backend: Backend, table: Table) -> tuple[ReplicaScaling, ...] | None:
    """``DescribeTableReplicaAutoScaling`` for a global table; ``None`` when it cannot be
    read (the panel says unknown, the rest of the screen is shown)."""
    if not table.is_global or not isinstance(backend, ReplicaAutoScaling):
        return ()
    try:
        return backend.describe_table_replica_auto_scaling(table.name)
    except CapconError:
        return None


def _scaling_words(scaling: ScalingRange | None) -> str:
    if scaling is None or not scaling.active:
        return "off"
    target = f", target {scaling.target:g}%" if scaling.target is not None else ""
    return f"{scaling.minimum or 0:,}–{scaling.maximum or 0:,}{target}"


def replica_panel(
    table: Table, index: str | None, scaling: tuple[ReplicaScaling, ...] | None
) -> tuple[PanelLine, ...]:
    """The table class and, for a global table, each replica: region, status, class, read
    capacity (its override or the table's) and write auto scaling."""
    lines = [PanelLine("Table class", "head"), PanelLine(f"  {table.table_class.label}")]
    if not table.is_global:
        return tuple(lines)
    lines.append(PanelLine(f"Replicas ({len(table.replicas)} other regions)", "head"))
    lines.append(PanelLine("  write capacity is the same in every region", "muted"))
    by_region = {s.region: s for s in scaling or ()}
    for replica in table.replicas:
        cls = (replica.table_class or table.table_class).label
        role = "" if replica.is_active else "hot"
        lines.append(PanelLine(f"  {replica.region} · {replica.status} · {cls}", role))
        override = replica.read_override
        if index is not None:
            found = replica.index(index)
            override = found.read_override if found is not None else None
        reads = f"{override:,} RCU (override)" if override is not None else "the table's RCU"
        lines.append(PanelLine(f"    reads {reads}", "muted"))
        if scaling is None:
            lines.append(PanelLine("    auto scaling unknown (could not be read)", "muted"))
        elif replica.region in by_region:
            writes = _scaling_words(by_region[replica.region].write)
            lines.append(PanelLine(f"    write auto scaling {writes}", "muted"))
    return tuple(lines)


def _load_stream(
    backend: Backend,
    name: str,
    window: Window,
    rules: RuleSettings,
    metrics: MetricsService,
    audit: AuditRecords | None = None,
    controls: SimulationControls | None = None,
    prices: PriceBook | None = None,
) -> DetailData:
    now: datetime = backend.now()
    start, end = window_bounds(window, now)
    stream: Stream = backend.describe_stream(name)
    period = window.period
    queries = [
        *_with_period(stream_queries(name, "m"), period),
        MetricQuery(
            "m_age", KINESIS, "GetRecords.IteratorAgeMilliseconds",
            (("StreamName", name),), "Maximum", period,
        ),
    ]  # fmt: skip
    answers = _metrics_for(metrics, queries, start, end)
    shard_answers = _metrics_for(metrics, shard_load_queries(stream), now - SHARD_LOOKBACK, now)
    changes = recent_changes(audit, (), name, now, window.span)
    times = controls.shard_times(name) if controls is not None else None
    counts = shard_count_steps(stream, times, start, end)

    shards = stream.open_shard_count
    provisioned = not stream.is_on_demand
    gap = float(period)
    incoming_b = per_second(answers.get("m_b"), period, 1 / 2**20)
    incoming_r = per_second(answers.get("m_r"), period)
    throttled = throttle_points(incoming_r, per_second(answers.get("m_t"), period))

    def limit(per_shard: float) -> tuple[Series, ...]:
        """The write limit as it was: open shards × the per-shard limit, stepping at each
        reshard (without the shards' history: today's count over the whole window)."""
        if not provisioned:
            return ()
        points = tuple((t, n * per_shard) for t, n in counts)
        # AWS does not say when shards opened or closed: the line is today's, and says so
        label = "limit" if times else "limit (today's shards)"
        return (Series(label, "provisioned", points, 1e12),)

    reshards = reshard_marks(counts, start)
    charts = (
        Chart(
            "bytes",
            "incoming · MiB/s",
            (
                Series("incoming", "consumed", incoming_b, gap),
                *limit(rules.shard_write_bytes_per_second / 2**20),
            ),
            reshards + change_marks(changes, start, "bytes"),
        ),
        Chart(
            "records",
            "incoming · records/s",
            (
                Series("demand", "demand", demand_points(incoming_r, throttled), gap),
                Series("incoming", "consumed", incoming_r, gap),
                *limit(float(rules.shard_write_records_per_second)),
            ),
            reshards + change_marks(changes, start, "records"),
        ),
        Chart(
            "throttled",
            "throttled · records/s",
            (Series("throttled", "throttle", throttled, gap),),
            reshards,
        ),
        Chart(
            "age",
            "iterator age · s (max)",
            (Series("iterator age", "demand", values_of(answers.get("m_age"), 1e-3), gap),),
        ),
    )
    loads = shard_loads_from(stream, shard_answers, rules)  # the scale dialog's loads too
    panel = (
        *change_lines(changes, now),
        *_stream_panel(stream, loads, rules),
        *closed_shard_lines(stream, times, now, prices),
    )
    closed = len(stream.shards) - shards
    capacity = f"{shards} open shard{'s' if shards != 1 else ''}"
    if closed:
        capacity += f" ({closed} closed)"
    return DetailData(
        window=window,
        start=start,
        end=end,
        name=name,
        kind="stream",
        mode=stream.mode.label,
        status=stream.status,
        capacity=capacity,
        charts=charts,
        panel=panel,
        shards=loads,
        data_until=_newest(answers),
        last_throttled=last_positive(answers.get("m_t")),
        changes=changes,
    )


ShardTimes = dict[str, tuple[datetime, datetime | None]]


def shard_count_steps(
    stream: Stream, times: ShardTimes | None, start: datetime, end: datetime
) -> tuple[Point, ...]:
    """The open-shard count over ``[start, end]`` as a step line: a point where each count
    begins (and one at ``end``), from when each shard opened and closed.  Shards expired
    before the stream's retention are not listed: before the oldest change known, the count
    is what it was then.  Without the times (AWS says none): today's count throughout."""
    today = float(stream.open_shard_count)
    if not times:
        return ((start, today), (end, today))
    moments = sorted({t for opened, closed in times.values() for t in (opened, closed) if t})

    def open_at(moment: datetime) -> int:
        return sum(
            1
            for opened, closed in times.values()
            if opened <= moment and (closed is None or closed > moment)
        )

    changes = [m for m in moments if start < m <= end]
    first = open_at(start)
    if not first:  # the window starts before the oldest shard listed: its count then
        first = open_at(moments[0])
    points: list[Point] = [(start, float(first))]
    for moment in changes:
        count = float(open_at(moment))
        if count != points[-1][1]:
            points += [(moment, points[-1][1]), (moment, count)]
    points.append((end, points[-1][1]))
    return tuple(points)


def reshard_marks(counts: Sequence[Point], start: datetime) -> tuple[Mark, ...]:
    """A mark at each step of the shard count in the window (``4 → 8 shards``)."""
    marks = []
    for (t0, before), (t1, after) in itertools.pairwise(counts):
        if t0 == t1 and before != after and t1 >= start:
            marks.append(Mark(t1, f"{before:.0f} → {after:.0f} shards", True, "reshard"))
    return tuple(marks)


def closed_shard_lines(
    stream: Stream, times: ShardTimes | None, now: datetime, prices: PriceBook | None
) -> tuple[PanelLine, ...]:
    """Each closed shard still listed: its id, when it closed, until when it stays readable
    (the retention), and the cost assumption (``bill_closed_shards`` in the price book,
    docs/aws-rules.md#open-and-closed-shards)."""
    closed = [s for s in stream.shards if not s.is_open]
    lines = [PanelLine(f"Closed shards ({len(closed)})", "head")]
    if not closed:
        lines.append(PanelLine("  none", "muted"))
        return tuple(lines)
    retention = timedelta(hours=stream.retention_hours)
    known = times or {}
    # grouped by when they closed: one reshard closes many (uniform scaling: 4 → 5 closes 10)
    groups: dict[datetime | None, list[str]] = {}
    for shard in closed:
        groups.setdefault(known.get(shard.shard_id, (None, None))[1], []).append(shard.shard_id)
    for closed_at in sorted(groups, key=lambda t: (t is None, t or now), reverse=True):
        ids = groups[closed_at]
        if closed_at is None:
            lines.append(
                PanelLine(
                    f"  {len(ids)} closed (AWS does not say when), readable "
                    f"{stream.retention_hours} h after closing:"
                )
            )
        else:
            until = closed_at + retention
            day = "%H:%M" if until.date() == now.date() else "%d %b %H:%M"
            lines.append(
                PanelLine(
                    f"  {len(ids)} closed {_moment(closed_at, now)}, readable until "
                    f"{until:{day}} (in {fmt_duration(max(timedelta(0), until - now), step=60)}):"
                )
            )
        lines.append(PanelLine("    " + ", ".join(sorted(ids)), "muted"))
    if prices is not None:
        one = closed_shards_cost(1, stream.retention_hours, prices)
        if prices.bill_closed_shards:
            lines.append(
                PanelLine(
                    f"  assumed billed until they expire: ${one:,.2f} each "
                    f"({stream.retention_hours} h), ${one * len(closed):,.2f} in all",
                    "hot",
                )
            )
        else:
            lines.append(PanelLine("  assumed not billed (AWS bills open shard-hours;", "muted"))
            lines.append(PanelLine("  bill_closed_shards = true if your bill says so)", "muted"))
    return tuple(lines)


def _stream_panel(
    stream: Stream, loads: Sequence[ShardLoad], rules: RuleSettings
) -> tuple[PanelLine, ...]:
    lines: list[PanelLine] = []
    add = lines.append
    shards = stream.open_shard_count
    add(PanelLine("Write limits", "head"))
    if stream.is_on_demand:
        add(PanelLine("  on-demand: up to 2× the recent peak", "muted"))
        warm = stream.warm_throughput
        if warm is not None:
            add(PanelLine(f"  warm throughput {warm_text(warm)}"))
    else:
        add(
            PanelLine(
                f"  {shards} × {rules.shard_write_bytes_per_second / 2**20:g} MiB/s = "
                f"{shards * rules.shard_write_bytes_per_second / 2**20:g} MiB/s"
            )
        )
        add(
            PanelLine(
                f"  {shards} × {rules.shard_write_records_per_second:,} rec/s = "
                f"{shards * rules.shard_write_records_per_second:,} rec/s"
            )
        )
    add(PanelLine("Shards", "head"))
    add(PanelLine(f"  {shards} open · {len(stream.shards) - shards} closed (still readable)"))
    consumers = stream.consumer_count
    add(
        PanelLine(
            f"  retention {stream.retention_hours} h · {consumers} enhanced fan-out "
            f"consumer{'s' if consumers != 1 else ''}"
        )
    )
    add(PanelLine("Hot shards (≥ 80% of a shard's limit)", "head"))
    if all(load.load is None for load in loads):
        add(PanelLine("  no per-shard metrics: enable", "muted"))
        add(PanelLine("  enhanced shard-level monitoring", "muted"))
    else:
        hot = [load for load in loads if load.hot]
        if not hot:
            add(PanelLine("  none"))
        for load in hot:
            assert load.load is not None
            add(PanelLine(f"  {load.shard_id} {load.load:.0%} of its limit", "hot"))
        widest = max(loads, key=lambda s: s.share, default=None)
        if hot and widest is not None:
            add(PanelLine("  a hot key: split the hot shard,", "muted"))
            add(PanelLine("  or add shards (uniform scaling)", "muted"))
    add(PanelLine("Reading the charts", "head"))
    add(PanelLine("  per second (Sum ÷ period)", "muted"))
    add(PanelLine("  demand = incoming + throttled", "muted"))
    add(PanelLine("  shard load: newest 5 published min", "muted"))
    return tuple(lines)


# --------------------------------------------------------------------------------------------
# Widgets
# --------------------------------------------------------------------------------------------


class ChartPanel(Vertical):
    """A chart with its title and a legend in theme colours, plotext underneath."""

    DEFAULT_CSS = """
    ChartPanel { height: 1fr; }
    ChartPanel > .chart-head { height: 1; padding: 0 1; }
    ChartPanel > PlotextPlot { height: 1fr; }
    """

    #: how far past now the last drawing's time axis ran (planned events ahead)
    ahead = timedelta(0)

    def compose(self) -> ComposeResult:
        yield Static(classes="chart-head")
        yield PlotextPlot()

    @property
    def plot(self) -> PlotextPlot:
        return self.query_one(PlotextPlot)

    def show(
        self,
        chart: Chart,
        start: datetime,
        end: datetime,
        window: Window,
        colour: Callable[[str], str],
        events: Sequence[EventMark] = (),
        planned: Sequence[tuple[datetime, datetime, int]] = (),
        ahead: timedelta = timedelta(0),
        log: bool = False,
    ) -> int:
        """Draw ``chart`` (main thread only); returns how many series had points.

        ``log``: a logarithmic y-axis, so a quiet period stays readable under a big
        scale-up's line (50 WCU under 5,000: :class:`LogScale`).

        ``events``: planned events' raises and restores, marked on the time axis (past ones
        in the window, and upcoming ones: the axis then runs on past now, up to half a
        window, and says where now is); ``planned``: the capacity each event's raise
        guarantees from its raise to its restore, drawn as the planned line; ``ahead``: how
        far past now the time axis runs (the same for every chart of the screen, so their
        times line up: :func:`event_horizon`)."""
        head = chart_legend(chart, colour)
        self.ahead = ahead
        shown = [m for m in events if start <= m.at <= end + ahead]
        upcoming = [m for m in events if m.at > end]
        if upcoming:  # the planned events to come: the line's legend, then each step's time
            head.append("━ planned ", style=f"bold {colour('event')}")
            for mark in upcoming[:4]:
                when = f"{mark.at:%H:%M}" if mark.at - end < DAY else f"{mark.at:%d %b %H:%M}"
                head.append(f"{mark.symbol}{when} ", style=colour("event"))
            head.append(" ")
        self.query_one(".chart-head", Static).update(head)

        plt = self.plot.plt
        plt.clear_figure()
        span = (end - start).total_seconds() / 60

        def x(moment: datetime) -> float:
            return (moment - end).total_seconds() / 60

        floors = [(a, b, cap) for a, b, cap in planned if b >= start and a <= end + ahead]
        scale = LogScale.over(chart, [cap for *_, cap in floors]) if log else None

        def y(value: float) -> float:
            return value if scale is None else scale.y(value)

        plotted = 0
        for series in chart.series:
            rgb = _rgb(colour(series.role))
            if series.points:
                plotted += 1
            for segment in series.segments(skip_zero_runs=series.role == "throttle"):
                xs = [x(t) for t, _ in segment]
                ys = [y(v) for _, v in segment]
                # "hd" (quadrant blocks) rather than braille: block elements are in every
                # monospace font, braille is not (and drifts in SVG screenshots)
                if len(segment) == 1:
                    plt.scatter(xs, ys, color=rgb, marker="hd")
                else:
                    plt.plot(xs, ys, color=rgb, marker="hd")
        for a, b, cap in floors:
            xs = [x(max(a, start)), x(min(b, end + ahead))]
            plt.plot(xs, [y(cap), y(cap)], color=_rgb(colour("event")), marker="hd")
        if scale is None:
            y_ticks = nice_ticks(max([chart.top, *(cap for *_, cap in floors)]))
            lower, upper = 0.0, y_ticks[-1]
            tick_labels = [_fmt_tick(v, y_ticks) for v in y_ticks]
        else:
            y_ticks, tick_labels = scale.ticks()
            lower, upper = y_ticks[0], y_ticks[-1]
        # planned events: their raises and restores on the top edge, in the event colour
        for symbol in (RAISE_MARK, RESTORE_MARK):
            times = [x(m.at) for m in shown if m.symbol == symbol]
            if times:
                plt.scatter(times, [upper] * len(times), color=_rgb(colour("event")), marker=symbol)
        # changes (capcon's, auto scaling's, a stream's reshards): a marker on the top edge
        # at their time, not a line through the data; failed ones in the hot colour.  What
        # took effect is drawn last: a reshard hides the capcon request a minute before it
        for mark_symbol in (CAPCON_MARK, AAS_MARK, RESHARD_MARK):
            for ok in (True, False):
                times = [x(m.at) for m in chart.marks if m.ok is ok and m.symbol == mark_symbol]
                if times:
                    role = (
                        ("event" if mark_symbol == CAPCON_MARK else "provisioned") if ok else "hot"
                    )
                    plt.scatter(
                        times, [upper] * len(times), color=_rgb(colour(role)), marker=mark_symbol
                    )
        plt.ylim(lower, upper)
        plt.yticks(y_ticks, tick_labels)
        plt.xlim(-span, ahead.total_seconds() / 60)
        ticks, labels = _time_ticks(start, end + ahead, window)
        if ahead:  # the axis runs on past now: say where now is (its tick, not a clock's)
            near = window.tick / 3
            kept = [
                (t, label) for t, label in zip(ticks, labels, strict=True) if abs(t - end) > near
            ]
            ticks, labels = [t for t, _ in kept] + [end], [label for _, label in kept] + ["now"]
            plt.vline(0, color=_rgb(colour("muted")))
        plt.xticks([x(t) for t in ticks], labels)
        self.plot.refresh()
        return plotted


#: The legend's order: what a reader needs first survives a narrow screen (the end is cut).
LEGEND_ORDER = ("consumed", "throttle", "provisioned", "demand")


def chart_legend(chart: Chart, colour: Callable[[str], str]) -> Text:
    """The chart's title and legend on one line, most important first: "no datapoints",
    consumed and throttled, then the capacity line, demand and the change marks (a narrow
    chart cuts the end, never consumed or throttled)."""
    head = Text.assemble((chart.title, "bold"), "  ", no_wrap=True, overflow="ellipsis")
    if not chart.has_data:
        head.append("no datapoints  ", style="italic")
    order = {role: n for n, role in enumerate(LEGEND_ORDER)}
    for series in sorted(chart.series, key=lambda s: order.get(s.role, len(order))):
        head.append("━ ", style=colour(series.role))
        quiet = series.role == "throttle" and series.points and not any(v for _, v in series.points)
        head.append(series.label + (" (none)" if quiet else "") + "  ")
    for symbol, word, role in (
        (RESHARD_MARK, "reshard", "provisioned"),
        (AAS_MARK, "AAS", "provisioned"),
        (CAPCON_MARK, "capcon", "event"),
    ):
        count = sum(1 for m in chart.marks if m.symbol == symbol)
        if count:
            head.append(f"{symbol} ", style=colour(role))
            head.append(f"{word} ×{count}  ")
    return head


@dataclass(frozen=True, slots=True)
class LogScale:
    """A logarithmic y-axis drawn on plotext's linear one: values become ``log10(v)``, the
    ticks are powers of ten labelled in the chart's units, and zero (or anything under the
    bottom decade) lies on the bottom edge, so 50 WCU stays readable under 5,000."""

    bottom: float  # log10 of the lowest decade shown
    top: float  # log10 of the highest decade shown

    @classmethod
    def over(cls, chart: Chart, extra: Sequence[float] = ()) -> LogScale:
        values = [v for s in chart.series for _, v in s.points if v > 0] + [
            v for v in extra if v > 0
        ]
        if not values:
            return cls(0.0, 1.0)
        low = math.floor(math.log10(min(values)))
        high = max(low + 1, math.ceil(math.log10(max(values)) - 1e-9))
        return cls(float(low), float(high))

    def y(self, value: float) -> float:
        if value <= 0:
            return self.bottom
        return max(self.bottom, math.log10(value))

    def ticks(self) -> tuple[list[float], list[str]]:
        decades = [float(d) for d in range(int(self.bottom), int(self.top) + 1)]
        return decades, [_fmt_decade(d) for d in decades]


def _fmt_decade(power: float) -> str:
    value = 10**power
    return f"{value:,.0f}" if value >= 1 else f"{value:g}"


def _moment(at: datetime, now: datetime) -> str:
    """``02:15 (in 45 min)`` (UTC, as the title's times); with the date and UTC when it is
    not within a day of ``now``."""
    minutes = round((at - now).total_seconds() / 60)
    relative = f"in {fmt_duration(minutes * 60)}" if minutes > 0 else "now"
    if minutes < 0:
        relative = f"{fmt_duration(-minutes * 60)} ago"
    when = f"{at:%H:%M}" if abs(at - now) < DAY else f"{at:%Y-%m-%d %H:%M} UTC"
    return f"{when} ({relative})"


def event_horizon(
    events: Sequence[EventMark],
    planned: Sequence[tuple[datetime, datetime, int]],
    end: datetime,
    span: timedelta,
) -> timedelta:
    """How far past now a chart's time axis runs: far enough for the planned events' marks
    (and planned lines) within half a window from now, plus a margin; zero when none."""
    horizon = end + span / 2
    moments = [m.at for m in events if end < m.at <= horizon]
    moments += [min(b, horizon) for a, b, _ in planned if end < b and a <= horizon]
    if not moments:
        return timedelta(0)
    return min(span / 2, max(moments) - end + span / 12)


def _period_label(seconds: int) -> str:
    return f"{seconds // 60}-min" if seconds < 3600 else f"{seconds // 3600}-hour"


def _rgb(value: str) -> tuple[int, int, int]:
    return Color.parse(value).rgb


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Round y-axis ticks from 0 to at least ``top`` (1, 2, 2.5 or 5 × a power of ten)."""
    if top <= 0:
        return [0.0, 0.5, 1.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    ticks = [0.0]
    while ticks[-1] < top * 1.02:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _fmt_tick(value: float, ticks: Sequence[float]) -> str:
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    decimals = next((d for d in range(4) if abs(step * 10**d - round(step * 10**d)) < 1e-9), 3)
    return f"{value:,.{decimals}f}"


def _time_ticks(start: datetime, end: datetime, window: Window) -> tuple[list[datetime], list[str]]:
    step = window.tick.total_seconds()
    first = start.timestamp() - start.timestamp() % step + step
    ticks: list[datetime] = []
    t = first
    while t <= end.timestamp():
        ticks.append(datetime.fromtimestamp(t, tz=UTC))
        t += step
    return ticks, [f"{tick:{window.tick_format}}" for tick in ticks]


class DetailScreen(Screen[None]):
    """Charts, partitions, decrease budget, auto scaling and shards of one row."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "back", "Back"),
        Binding("1", "window('1')", "1 h"),
        Binding("2", "window('2')", "3 h"),
        Binding("3", "window('3')", "24 h"),
        Binding("4", "window('4')", "7 d"),
        Binding("r", "refresh", "Refresh"),
        Binding("l", "log_scale", "Log scale"),
        Binding("k", "hot_key", "Hot key"),
    ]

    DEFAULT_CSS = """
    DetailScreen { layout: vertical; }
    DetailScreen #detail-title {
        height: 2; padding: 0 1; background: $panel; text-wrap: nowrap; text-overflow: ellipsis;
    }
    DetailScreen #detail-body { height: 1fr; }
    DetailScreen #detail-charts { width: 1fr; height: 1fr; }
    DetailScreen #detail-grid { grid-size: 2 2; grid-gutter: 0 1; height: 1fr; }
    DetailScreen #detail-side {
        width: 36%; min-width: 34; max-width: 64; height: 1fr; padding: 0 1;
        border-left: tall $panel-lighten-1;
    }
    DetailScreen #detail-shards { height: auto; max-height: 14; }
    """

    class Loaded(Message):
        """Fresh data from the worker (only the newest one matters)."""

        def __init__(self, data: DetailData, generation: int) -> None:
            super().__init__()
            self.data = data
            self.generation = generation

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, DetailScreen.Loaded)

    class Failed(Message):
        def __init__(self, error: str, generation: int) -> None:
            super().__init__()
            self.error = error
            self.generation = generation

    def __init__(self, row: Row) -> None:
        super().__init__()
        self.row = row
        self.window = WINDOWS[1]
        self.data: DetailData | None = None
        #: series with points drawn by the last paint (tests and the title read it)
        self.series_plotted = 0
        self.paints = 0
        self.last_error: str | None = None
        #: a logarithmic y-axis (key ``l``): quiet periods readable after a big scale-up
        self.log_scale = False
        self._pending_seen: tuple[str, datetime] | None = None
        self._audit: CachedAudit | None = None
        self._generation = 0
        self._timer: Timer | None = None

    @property
    def _capcon(self) -> CapconApp:
        return cast("CapconApp", self.app)

    # --- layout --------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="detail-title")
        with Horizontal(id="detail-body"):
            with Vertical(id="detail-charts"):
                if self.row.kind == "stream":
                    with Grid(id="detail-grid"):
                        for key in ("bytes", "records", "throttled", "age"):
                            yield ChartPanel(id=f"chart-{key}")
                    yield DataTable(id="detail-shards", cursor_type="none", zebra_stripes=True)
                else:
                    yield ChartPanel(id="chart-reads")
                    yield ChartPanel(id="chart-writes")
            with VerticalScroll(id="detail-side"):
                yield Static(id="detail-panel")
        yield Footer()

    def on_mount(self) -> None:
        if self.row.kind == "stream":
            table = self.query_one("#detail-shards", DataTable)
            for label, key in (
                ("shard", "shard"),
                ("hash range", "share"),
                ("KB/s", "bytes"),
                ("records/s", "records"),
                ("throttled/s", "throttled"),
                ("load", "load"),
            ):
                table.add_column(label, key=key)
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._repaint())
        self._pending_seen = self.pending_change()
        self.set_interval(1.0, self._watch_pending)
        self._paint_title()
        self.refresh_now()

    # --- fetching ------------------------------------------------------------------------

    def refresh_now(self) -> None:
        """Fetch at once (also when someone is back after an idle spell)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        app = self._capcon
        fetch = partial(
            self.fetch,
            app.backend,
            self.window,
            app.rules,
            app.metrics,
            self._generation,
            self._cached_audit(),
            app.controls,
            app.prices,
        )
        self.run_worker(
            fetch,
            name=f"detail of {self.row.name}",
            group="detail",
            exclusive=True,
            thread=True,
            exit_on_error=False,
        )

    def _cached_audit(self) -> CachedAudit:
        if self._audit is None or self._audit.audit is not self._capcon.audit:
            self._audit = CachedAudit(self._capcon.audit)
        return self._audit

    def fetch(
        self,
        backend: Backend,
        window: Window,
        rules: RuleSettings,
        metrics: MetricsService,
        generation: int,
        audit: AuditRecords | None = None,
        controls: SimulationControls | None = None,
        prices: PriceBook | None = None,
    ) -> None:
        """Read the backend (in a thread); post the data (or the backend's error).  Any other
        failure reaches :meth:`on_worker_state_changed`."""
        worker = get_current_worker()
        try:
            data = load_detail(backend, self.row, window, rules, metrics, audit, controls, prices)
        except CapconError as error:
            message: DetailScreen.Loaded | DetailScreen.Failed = self.Failed(str(error), generation)
        else:
            message = self.Loaded(data, generation)
        if not worker.is_cancelled:
            self.post_message(message)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A fetch failed unexpectedly: the app's one handler says what failed; the last good
        charts stay, the title shows the error, and the screen tries again later."""
        if event.state is not WorkerState.ERROR:
            return
        if error_text(event.worker.error) != self.last_error:  # said once, as in _on_failed
            self._capcon.report_failure(event.worker)
        self.last_error = error_text(event.worker.error)
        self._paint_title()
        self._schedule(max(RETRY_SECONDS, self._interval()))

    def _schedule(self, seconds: float) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(seconds, self.refresh_now)

    def _interval(self) -> float:
        app = self._capcon
        if app.controls is not None:  # the simulated account moves fast and costs nothing
            return SIM_REFRESH_SECONDS
        interval = max(AWS_REFRESH_SECONDS, self.window.period / 4)
        if app.idle:  # nobody looking: the console's idle pace (any key fetches at once)
            interval = max(interval, app.options.polling.idle_visible_seconds)
        return interval

    @on(Loaded)
    def _on_loaded(self, message: Loaded) -> None:
        message.stop()
        if message.generation != self._generation:
            return
        self.data = message.data
        self.last_error = None
        self._repaint()
        self._schedule(self._interval())

    @on(Failed)
    def _on_failed(self, message: Failed) -> None:
        message.stop()
        if message.generation != self._generation:
            return
        if message.error != self.last_error:
            self.notify(
                message.error, title=f"detail {self.row.name}", severity="error", timeout=10
            )
        self.last_error = message.error
        self._paint_title()
        self._schedule(max(RETRY_SECONDS, self._interval()))

    # --- painting ------------------------------------------------------------------------

    def _colour(self, role: str) -> str:
        """A theme colour by role, with a built-in theme variable if the app lacks one."""
        fallback = {
            "consumed": "primary",
            "provisioned": "success",
            "throttle": "error",
            "demand": "secondary",
            "hot": "warning",
            "updating": "warning",
            "event": "accent",
            "muted": "foreground-darken-3",
        }
        variables = self.app.theme_variables
        value = variables.get(role) or variables.get(fallback.get(role, "foreground"))
        return value or variables.get("foreground", "white")

    def _repaint(self) -> None:
        self._paint_title()
        data = self.data
        if data is None:
            return
        plotted = 0
        marks = chart_marks(self._capcon.events, self.row.name)
        floors = {d: planned_floor(marks, d) for d in ("read", "write")}
        ahead = event_horizon(
            marks, (*floors["read"], *floors["write"]), data.end, data.window.span
        )
        for chart in data.charts:
            panel = self.query_one(f"#chart-{chart.key}", ChartPanel)
            # a table's reads chart marks its read events, the writes chart its write
            # events; a stream's charts all its reshards
            dimension = {"reads": "read", "writes": "write"}.get(chart.key)
            events = [m for m in marks if dimension is None or m.dimension in (dimension, "")]
            planned = floors[dimension] if dimension else ()
            plotted += panel.show(
                chart,
                data.start,
                data.end,
                data.window,
                self._colour,
                events,
                planned,
                ahead,
                log=self.log_scale,
            )
        self.series_plotted = plotted
        self.paints += 1
        self._paint_panel(data)
        if data.shards is not None:
            self._paint_shards(data.shards)

    def _paint_title(self) -> None:
        row, data = self.row, self.data
        status = data.status if data else row.status
        # the name and status come from AWS: shown as written, no control character painted
        top = Text.assemble(
            (printable(data.name if data else row.name), "bold"),
            f" · {data.kind if data else row.kind} · {data.mode if data else row.mode} · ",
            (
                printable(status),
                f"bold {self._colour('updating')}" if status != "ACTIVE" else "",
            ),
        )
        pending = self.pending_change()
        if pending is not None:
            # the capacity just asked for, at once: the data catch up when it is ACTIVE
            asked, since = pending
            top.append(" · ")
            top.append(f"{asked} pending", style=f"bold {self._colour('updating')}")
            top.append(f" (asked {since:%H:%M:%S} UTC")
            top.append(f"; was {data.capacity})" if data and data.capacity else ")")
        elif data and data.capacity:
            top.append(f" · {data.capacity}")
        if data is not None:  # the first line is short: room for it
            top.append(self._last_throttled_text(data))
        window = self.window
        period = _period_label(window.period)
        log = ", log scale" if self.log_scale else ""
        second = Text(f"window {window.label} ({period} points, per second{log})")
        if data is None:
            second.append(" · loading…")
        elif data.data_until is not None:
            # as the list's status bar says it: the start of the newest datapoint
            old = fmt_duration(data.end - data.data_until, step=60)
            newest = (
                "data until"
                if data.window.period == 60
                else f"newest {_period_label(data.window.period)} point"
            )
            second.append(f" · {newest} {data.data_until:%H:%M} UTC ({old} old)")
        else:
            second.append(" · no datapoints yet")
        if self.last_error:
            second.append(" · ")
            second.append(
                printable(f"error: {self.last_error[:80]}"),
                style=f"bold {self._colour('throttle')}",
            )
        scale = "l linear" if self.log_scale else "l log"
        hot = " · k hot key" if self._capcon.controls is not None and row.kind != "stream" else ""
        second.append(f" · 1/2/3/4 window · {scale}{hot} · r refresh · Esc back", style="dim")
        # one line each, cut at the edge (CSS): a long first line must not push the keys off
        self.query_one("#detail-title", Static).update(Text("\n").join([top, second]))

    def pending_change(self) -> tuple[str, datetime] | None:
        """The capacity asked for this row that has not landed yet (the app's pending
        changes, set the moment Apply is chosen), and when it was asked."""
        change = self._capcon.pending.get(self.row.name)
        if change is None:
            return None
        asked = change.asked
        words = _fmt_units(asked) if isinstance(asked, Throughput) else f"{asked:,} open shards"
        return words, change.at

    def _watch_pending(self) -> None:
        """Repaint the title when this row's pending change comes or goes (every second: a
        dictionary look-up, so the header says "pending" the moment Apply is chosen)."""
        now = self.pending_change()
        if now != self._pending_seen:
            self._pending_seen = now
            self._paint_title()

    def _last_throttled_text(self, data: DetailData) -> Text:
        """`` · last throttled 19:38 UTC, writes (12 min ago)``, from the window's throttle
        datapoints or, when older, what the list has seen."""
        last, sides, period = data.last_throttled, data.throttled_sides, data.window.period
        remembered = self.row.last_throttled
        if remembered is not None and (last is None or remembered > last):
            last, period = remembered, 60
            sides = " and ".join(
                w
                for w, t in (
                    ("reads", self.row.last_read_throttled),
                    ("writes", self.row.last_write_throttled),
                )
                if t == remembered and self.row.kind != "stream"
            )
        if last is None:
            return Text(" · no throttling in this window")
        ended = last + timedelta(seconds=period)
        ago = data.end - ended
        when = "just now" if ago < timedelta(minutes=1) else f"{fmt_duration(ago, step=60)} ago"
        text = Text(" · ")
        text.append(
            f"last throttled {last:%H:%M} UTC{', ' + sides if sides else ''} ({when})",
            style=self._colour("throttle") if ago < timedelta(minutes=5) else "",
        )
        return text

    def _paint_panel(self, data: DetailData) -> None:
        styles = {
            "head": "bold",
            "hot": f"bold {self._colour('hot')}",
            "throttle": f"bold {self._colour('throttle')}",
            "muted": "dim",
        }
        text = Text()
        for n, line in enumerate((*self._event_lines(data.end), *data.panel)):
            if n:
                text.append("\n")
            text.append(printable(line.text), style=styles.get(line.role, ""))
        self.query_one("#detail-panel", Static).update(text)

    def _event_lines(self, now: datetime) -> tuple[PanelLine, ...]:
        """The row's planned events not over yet: each raise and restore, when, to what."""
        records = self._capcon.event_rows.get(self.row.name, ())
        if not records:
            return ()
        lines = [PanelLine(f"Planned events ({len(records)})", "head")]
        for record in records:
            lines.append(PanelLine(f"  {record.event_id} · {record.status}", "hot"))
            for mark in chart_marks((record,), self.row.name):
                unit = {"read": " RCU", "write": " WCU", "shards": " shards"}.get(
                    mark.dimension, ""
                )
                floor = f" · min {mark.capacity:,}{unit}" if mark.capacity is not None else ""
                lines.append(
                    PanelLine(f"  {mark.symbol} {mark.phase} {_moment(mark.at, now)}{floor}")
                )
        return tuple(lines)

    def _paint_shards(self, loads: Sequence[ShardLoad]) -> None:
        table = self.query_one("#detail-shards", DataTable)
        table.clear()
        hot_style = f"bold {self._colour('hot')}"
        rows: list[list[str]] = []
        for load in loads:
            kb = None if load.bytes_per_second is None else load.bytes_per_second / 1000
            rows.append(
                [
                    printable(load.shard_id),
                    f"{load.share:.1%}",
                    _fmt_rate(kb),
                    _fmt_rate(load.records_per_second),
                    _fmt_rate(load.throttled_per_second),
                    "—" if load.load is None else f"{load.load:.0%}" + (" hot" if load.hot else ""),
                ]
            )
        widths = [
            max(len(str(c.label)), *(len(r[i]) for r in rows)) if rows else 0
            for i, c in enumerate(table.columns.values())
        ]
        for load, cells in zip(loads, rows, strict=True):
            style = hot_style if load.hot else ""
            table.add_row(
                *(
                    Text(c.ljust(w) if i == 0 else c.rjust(w), style=style)
                    for i, (c, w) in enumerate(zip(cells, widths, strict=True))
                ),
                key=load.shard_id,
            )

    # --- actions -------------------------------------------------------------------------

    def action_back(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self.app.pop_screen()

    def action_window(self, key: str) -> None:
        chosen = next((w for w in WINDOWS if w.key == key), None)
        if chosen is None or chosen == self.window:
            return
        self.window = chosen
        self._generation += 1
        self._paint_title()
        self.refresh_now()

    def action_log_scale(self) -> None:
        """A logarithmic y-axis, or back to the linear one (no fetch: the same data)."""
        self.log_scale = not self.log_scale
        self._repaint()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``k`` (a trainer's hot key) only where it works: a table or GSI on the simulated
        account (elsewhere the key is not offered; the action itself says why)."""
        if action == "hot_key":
            return self._capcon.controls is not None and self.row.kind != "stream"
        return True

    def action_hot_key(self) -> None:
        """The trainer's hot key (field note C): cycle the share of this table's (or GSI's)
        traffic on one key through off / 25 % / 50 % / 80 %, on the simulated account only."""
        controls = self._capcon.controls
        row = self.row
        if controls is None:
            self.notify(
                "hot keys are a simulation control: AWS traffic is your application's",
                title="hot key",
                severity="warning",
            )
            return
        if row.kind == "stream" or row.table is None:
            self.notify(
                "hot keys are set on tables and GSIs (a stream's hot shard shows in its shards)",
                title="hot key",
                severity="warning",
            )
            return
        try:
            share = controls.hot_key(row.table, row.index)
            later = [s for s in HOT_KEY_STEPS if s > share + 1e-9]
            new = later[0] if later else HOT_KEY_STEPS[0]
            controls.set_hot_key(row.table, new, row.index)
        except (CapconError, ValueError) as error:
            self.notify(markup_safe(str(error)), title="hot key", severity="error")
            return
        what = f"{new:.0%} of the traffic on one key" if new else "uniform keys (no hot key)"
        self.notify(f"{markup_safe(row.name)}: {what}", title="hot key")
        self._generation += 1
        self.refresh_now()

    def action_refresh(self) -> None:
        self._generation += 1
        self.refresh_now()
