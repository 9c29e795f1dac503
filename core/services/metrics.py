"""The one caller of CloudWatch ``GetMetricData``: batched, incremental and counted.

The console's list (:class:`capcon.core.services.feed.Feed`), its detail screen,
:func:`capcon.core.services.overview.collect_rows` and the auto-scaling engine read metrics
through a :class:`MetricsService`; only the service calls the
:class:`capcon.core.ports.Metrics` port, which both backends answer raw (one request, no
cache).

Batched
    At most :data:`MAX_QUERIES_PER_CALL` queries and :data:`MAX_DATAPOINTS_PER_CALL` datapoints
    a call (CloudWatch's limits, docs/aws-rules.md#getmetricdata).  N series over a short window
    cost ``ceil(N / 500)`` calls; over a long window at a fine period a call takes fewer
    queries, and one series longer than the limit is asked for in pieces of time, so CloudWatch
    never has to answer with a ``NextToken`` page.
Incremental
    Per metric (namespace, name, dimensions, statistic, period) the service holds the datapoints
    and up to when it asked.  A later request asks only from there, less :data:`LATE_MARGIN`:
    CloudWatch publishes a minute 1–3 minutes late and may still change it, so those minutes are
    asked again.  A minute missing *before* a datapoint of the same metric is asked again too,
    while it is within :data:`BACKFILL` of the end: CloudWatch has published past it, and a
    minute that arrives later than the margin (or out of order) is filled in on the next
    request instead of staying "no data" for good; every metric of the same resource
    (namespace and dimensions) is asked again from there with it, so a late minute's
    throttles come with its consumed capacity.  Other missing minutes are final: a throttle
    metric (:data:`~capcon.core.ports.SPARSE_METRICS`) has datapoints only in minutes that
    throttled, so a missing minute is a zero, never a hole
    (docs/aws-rules.md#cloudwatch-data-as-aws-writes-it).  A window starting before what is held is
    fetched whole.  Queries that lack different spans share calls: a call starts at the earliest
    moment any of its queries lacks (GetMetricData is billed per metric requested, not per
    datapoint, so re-reading a few held minutes costs nothing and saves a call).  A metric keeps
    the longest window asked for lately (the detail screen's 3 h next to the list's 40 min);
    what slides out of it is dropped, and a metric nobody asked for within its window is
    forgotten.
Counted
    :attr:`MetricsService.usage` counts every request the backend reports sending (a
    ``NextToken`` page is a request) and the metrics in it: what CloudWatch bills, and what
    the console's status bar shows.

Every fetch starts on a multiple of the query's period since the epoch (CloudWatch, moto and
the simulated account count periods from ``StartTime``), so one metric's datapoints line up
whichever request brought them.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from capcon.core.ports import (
    SPARSE_METRICS,
    MetricQuery,
    Metrics,
    MetricSeries,
    RequestCounter,
    align_down,
)
from capcon.core.pricing import PriceBook, cloudwatch_cost

#: CloudWatch's limit of ``MetricDataQueries`` per ``GetMetricData`` call.
MAX_QUERIES_PER_CALL = 500
#: CloudWatch's limit of datapoints per ``GetMetricData`` answer (more come as pages).
MAX_DATAPOINTS_PER_CALL = 100_800
#: Recent minutes CloudWatch may still fill in or change: always asked for again.
LATE_MARGIN = timedelta(minutes=3)
#: How far back a missing minute followed by a datapoint of the same metric is asked for
#: again (a late or out-of-order minute; GetMetricData is billed per metric, not per
#: datapoint, so this costs datapoints in the answer, not money).
BACKFILL = timedelta(minutes=15)

#: A metric as CloudWatch keys it: namespace, name, sorted dimensions, statistic, period.
MetricKey = tuple[str, str, tuple[tuple[str, str], ...], str, int]


def metric_key(query: MetricQuery) -> MetricKey:
    return query.namespace, query.metric, tuple(sorted(query.dimensions)), query.stat, query.period


def calls_needed(series: int) -> int:
    """GetMetricData calls for ``series`` queries over a short window: ``ceil(N / 500)``."""
    return math.ceil(series / MAX_QUERIES_PER_CALL)


@dataclass
class MetricsUsage:
    """GetMetricData requests sent and metrics requested in them, pages included."""

    calls: int = 0
    metrics_requested: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def record(self, metrics: int) -> None:
        """One request with ``metrics`` queries was sent."""
        with self._lock:
            self.calls += 1
            self.metrics_requested += metrics

    def cost(self, prices: PriceBook) -> float:
        """In ``prices.currency``: the metrics requested × the price per 1,000 metrics."""
        return cloudwatch_cost(self.metrics_requested, prices)


@dataclass(slots=True)
class _Held:
    """One metric's datapoints: everything in ``[start, end)`` that was published."""

    start: datetime
    end: datetime
    points: dict[datetime, float]
    span: timedelta  # the longest window asked for lately
    span_at: datetime  # the end of the last request that asked for ``span``
    newest: datetime | None = None
    hole: datetime | None = None  # the oldest missing period before ``newest`` (backfilled)


@dataclass(frozen=True, slots=True)
class _Want:
    key: MetricKey
    query: MetricQuery
    start: datetime  # ask from here
    whole: bool  # replace what is held (nothing held, or not joining up with the window)


@dataclass(frozen=True, slots=True)
class _Call:
    start: datetime
    end: datetime
    wants: tuple[_Want, ...]


def _datapoints(start: datetime, end: datetime, period: int) -> int:
    return math.ceil((end - start).total_seconds() / period)


def _pack(wants: list[_Want], end: datetime, period: int) -> list[_Call]:
    """Calls for ``wants`` (one period, earliest start first) within both limits; each call
    starts where its earliest query does."""
    calls: list[_Call] = []
    batch: list[_Want] = []
    for want in wants:
        if batch:
            each = _datapoints(batch[0].start, end, period)
            if len(batch) >= MAX_QUERIES_PER_CALL or (len(batch) + 1) * each > (
                MAX_DATAPOINTS_PER_CALL
            ):
                calls.append(_Call(batch[0].start, end, tuple(batch)))
                batch = []
        if not batch and _datapoints(want.start, end, period) > MAX_DATAPOINTS_PER_CALL:
            # one series longer than an answer may be: asked for alone, piece by piece
            step = timedelta(seconds=period * MAX_DATAPOINTS_PER_CALL)
            start, whole = want.start, want.whole
            while start < end:
                piece = min(start + step, end)
                calls.append(_Call(start, piece, (_Want(want.key, want.query, start, whole),)))
                start, whole = piece, False
            continue
        batch.append(want)
    if batch:
        calls.append(_Call(batch[0].start, end, tuple(batch)))
    return calls


def _both(first: RequestCounter, second: RequestCounter) -> RequestCounter:
    def both(metrics: int) -> None:
        first(metrics)
        second(metrics)

    return both


class MetricsService:
    """``GetMetricData`` for everyone, through one :class:`~capcon.core.ports.Metrics` port.

    Thread-safe: the console's poll worker and its detail screen share one service.  The lock
    is never held while a request is out.
    """

    def __init__(
        self, source: Metrics, *, margin: timedelta = LATE_MARGIN, backfill: timedelta = BACKFILL
    ) -> None:
        self.source = source
        self.margin = margin
        self.backfill = backfill
        self.usage = MetricsUsage()
        self._held: dict[MetricKey, _Held] = {}
        self._moments: dict[datetime, datetime] = {}  # one datetime object per moment, shared
        self._swept: datetime | None = None
        self._lock = threading.Lock()

    # --- asking ----------------------------------------------------------------------------

    def get_metric_data(
        self,
        queries: Sequence[MetricQuery],
        start: datetime,
        end: datetime,
        *,
        sent: RequestCounter | None = None,
    ) -> list[MetricSeries]:
        """The :class:`~capcon.core.ports.Metrics` port, served from what is held after
        fetching what is not: one series per query, in order, over ``[start, end)`` aligned
        down to the minute (as every backend aligns them).  ``sent`` is told of the requests
        this makes, as :attr:`usage` is."""
        start, end = align_down(start), align_down(end)
        self._refresh(queries, start, end, sent)
        return self.held(queries, start, end)

    def refresh(self, queries: Sequence[MetricQuery], start: datetime, end: datetime) -> None:
        """Bring every query's series over ``[start, end)`` up to date, asking only for what
        is missing (the console's list reads the result with :meth:`values`)."""
        self._refresh(queries, start, align_down(end), None)

    def _refresh(
        self,
        queries: Sequence[MetricQuery],
        start: datetime,
        end: datetime,
        sent: RequestCounter | None,
    ) -> None:
        with self._lock:
            calls, asked = self._plan(queries, start, end)
        for call in calls:
            answers = self._send(call, sent)
            with self._lock:
                self._merge(call, answers)
        with self._lock:
            self._settle(asked, end)
            self._sweep(end)

    def _plan(
        self, queries: Sequence[MetricQuery], start: datetime, end: datetime
    ) -> tuple[list[_Call], dict[MetricKey, datetime]]:
        """The calls that bring ``queries`` up to ``end``, and each metric's window start."""
        asked: dict[MetricKey, datetime] = {}
        by_period: dict[int, list[_Want]] = {}
        holes: dict[tuple[str, tuple[tuple[str, str], ...], int], datetime] = {}
        keyed = [(metric_key(query), query) for query in queries]
        for key, _ in keyed:  # the oldest hole of each resource's metrics
            held = self._held.get(key)
            if held is not None and held.hole is not None:
                resource = (key[0], key[2], key[4])
                if resource not in holes or held.hole < holes[resource]:
                    holes[resource] = held.hole
        firsts: dict[int, datetime] = {}
        for key, query in keyed:
            if key in asked:
                continue
            period = max(query.period, 1)
            first = firsts.get(period)
            if first is None:
                first = firsts[period] = align_down(start, period)
            asked[key] = first
            held = self._held.get(key)
            if held is None or held.start > first or held.end <= first:
                want = _Want(key, query, first, True)
            else:
                later = held.end - self.margin
                if holes:
                    hole = holes.get((key[0], key[2], key[4]))
                    if hole is not None and hole < later:
                        later = hole  # a late minute CloudWatch has published past
                later = max(first, later)
                if period != 60 or later.second or later.microsecond:
                    later = align_down(later, period)
                want = _Want(key, query, later, False)
            if want.start < end:
                by_period.setdefault(period, []).append(want)
        calls: list[_Call] = []
        for period, wants in by_period.items():
            wants.sort(key=lambda w: w.start)  # stable: the caller's order within a start
            calls += _pack(wants, end, period)
        return calls, asked

    def _send(self, call: _Call, sent: RequestCounter | None) -> list[MetricSeries]:
        # Ids by position: the caller's ids need not be unique (nor acceptable to CloudWatch).
        safe = [
            MetricQuery(f"q{n}", q.namespace, q.metric, q.dimensions, q.stat, q.period)
            for n, q in enumerate(w.query for w in call.wants)
        ]
        record = self.usage.record if sent is None else _both(self.usage.record, sent)
        answers = self.source.get_metric_data(safe, call.start, call.end, sent=record)
        found = {a.id: a for a in answers}
        return [found[q.id] if q.id in found else MetricSeries(q.id) for q in safe]

    def _merge(self, call: _Call, answers: Sequence[MetricSeries]) -> None:
        moments = self._moments
        for want, series in zip(call.wants, answers, strict=True):
            fresh = {
                moments.setdefault(t, t): v
                for t, v in zip(series.timestamps, series.values, strict=True)
            }
            held = self._held.get(want.key)
            if want.whole or held is None:
                span = call.end - call.start
                self._held[want.key] = _Held(call.start, call.end, fresh, span, call.end)
                continue
            start, end = call.start, call.end
            kept = {t: v for t, v in held.points.items() if not start <= t < end}
            kept.update(fresh)
            held.points = kept
            held.start = min(held.start, start)
            held.end = max(held.end, end)

    def _settle(self, asked: dict[MetricKey, datetime], end: datetime) -> None:
        """Each metric asked for keeps its longest recent window; older points go."""
        for key, first in asked.items():
            held = self._held.get(key)
            if held is None:
                continue
            span = end - first
            if span >= held.span or end - held.span_at > held.span:
                held.span, held.span_at = span, end
            cutoff = held.end - held.span
            if held.start < cutoff:
                held.points = {t: v for t, v in held.points.items() if t >= cutoff}
                held.start = cutoff
            held.newest = max(held.points) if held.points else None
            held.hole = None if key[1] in SPARSE_METRICS else self._hole(held, key[4], end)

    def _hole(self, held: _Held, period: int, end: datetime) -> datetime | None:
        """The oldest period with no datapoint that lies before the newest datapoint and
        within :attr:`backfill` of ``end`` (``None``: no such gap)."""
        newest = held.newest
        if newest is None:
            return None
        step = timedelta(seconds=max(period, 1))
        moment = max(held.start, end - self.backfill)
        if period != 60 or moment.second or moment.microsecond:
            moment = align_down(moment, max(period, 1))
            if moment < held.start:
                moment += step
        points = held.points
        while moment < newest:
            if moment not in points:
                return moment
            moment += step
        return None

    def _sweep(self, end: datetime) -> None:
        """Forget metrics nobody asked for within their window (at most once a minute)."""
        if self._swept is not None and end - self._swept < timedelta(minutes=1):
            return
        self._swept = end
        for key, held in list(self._held.items()):
            if held.end <= end - held.span:
                del self._held[key]
        oldest = min((h.start for h in self._held.values()), default=end)
        for moment in [m for m in self._moments if m < oldest]:
            del self._moments[moment]

    # --- reading what is held (no requests) -------------------------------------------------

    def held(
        self, queries: Sequence[MetricQuery], start: datetime, end: datetime
    ) -> list[MetricSeries]:
        """One series per query over exactly ``[start, end)``, from what is held."""
        out: list[MetricSeries] = []
        with self._lock:
            for query in queries:
                held = self._held.get(metric_key(query))
                if held is None or not held.points:
                    out.append(MetricSeries(query.id))
                    continue
                points = held.points
                stamps = sorted(t for t in points if start <= t < end)
                out.append(MetricSeries(query.id, tuple(stamps), tuple(points[t] for t in stamps)))
        return out

    def values(self, query: MetricQuery, moments: Sequence[datetime]) -> tuple[float | None, ...]:
        """``query``'s value at each of ``moments`` (``None`` where nothing is held)."""
        with self._lock:
            held = self._held.get(metric_key(query))
            if held is None or not held.points:
                return (None,) * len(moments)
            return tuple(map(held.points.get, moments))

    def fetched_until(self, queries: Sequence[MetricQuery]) -> datetime | None:
        """Up to when all of ``queries``' metrics were last asked for (the earliest end of
        their last requests, on the minute): minutes from then on have not been asked for,
        so a missing datapoint there is not known to be a zero.  ``None``: one of them was
        never asked for (or was forgotten)."""
        until: datetime | None = None
        with self._lock:
            for query in queries:
                held = self._held.get(metric_key(query))
                if held is None:
                    return None
                if until is None or held.end < until:
                    until = held.end
        return until

    def newest(self, queries: Sequence[MetricQuery]) -> datetime | None:
        """The newest datapoint held for any of ``queries``."""
        newest: datetime | None = None
        with self._lock:
            for query in queries:
                held = self._held.get(metric_key(query))
                if held is None or held.newest is None:
                    continue
                if newest is None or held.newest > newest:
                    newest = held.newest
        return newest


class HeldMetrics:
    """The :class:`~capcon.core.ports.Metrics` port answered from what ``service`` holds:
    never a request (the list's rows read the minutes its refresh just fetched)."""

    def __init__(self, service: MetricsService) -> None:
        self._service = service

    def get_metric_data(
        self,
        queries: Sequence[MetricQuery],
        start: datetime,
        end: datetime,
        *,
        sent: RequestCounter | None = None,
    ) -> list[MetricSeries]:
        return self._service.held(queries, start, end)

    def fetched_until(self, queries: Sequence[MetricQuery]) -> datetime | None:
        """See :meth:`MetricsService.fetched_until`."""
        return self._service.fetched_until(queries)
