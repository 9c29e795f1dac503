"""The metrics service: the one caller of GetMetricData, batched, incremental and counted.

Over fakes that record every request (what a backend received) and over the simulated
account; the same service over the AWS adapter on moto is in
``tests/backends/test_aws_adapter.py``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from capcon.core.backends.sim.account import SimAccount
from capcon.core.backends.sim.scenarios import build_scenario
from capcon.core.config.prices import load_price_book
from capcon.core.ports import MetricQuery, Metrics, MetricSeries, RequestCounter, align_down
from capcon.core.rules import RuleSettings
from capcon.core.services.audit import AuditLog
from capcon.core.services.engine import observe
from capcon.core.services.feed import Feed
from capcon.core.services.inspect import live_context, show_document
from capcon.core.services.metrics import (
    LATE_MARGIN,
    MAX_DATAPOINTS_PER_CALL,
    MAX_QUERIES_PER_CALL,
    HeldMetrics,
    MetricsService,
    calls_needed,
)
from capcon.core.services.overview import collect_rows, table_queries

NOW = datetime(2026, 4, 6, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
DDB = "AWS/DynamoDB"

Request = tuple[datetime, datetime, int]


def consumed(table: str, query_id: str | None = None, period: int = 60) -> MetricQuery:
    return MetricQuery(
        query_id or table, DDB, "ConsumedWriteCapacityUnits", (("TableName", table),), "Sum", period
    )


class FakeSource:
    """Answers every query from one dict of moment → value, recording each request."""

    def __init__(self, data: dict[datetime, float] | None = None) -> None:
        self.data = data if data is not None else {}
        self.windows: list[Request] = []

    def get_metric_data(
        self,
        queries: Sequence[MetricQuery],
        start: datetime,
        end: datetime,
        *,
        sent: RequestCounter | None = None,
    ) -> list[MetricSeries]:
        if sent is not None:
            sent(len(queries))
        self.windows.append((start, end, len(queries)))
        stamps = tuple(sorted(t for t in self.data if start <= t < end))
        return [MetricSeries(q.id, stamps, tuple(self.data[t] for t in stamps)) for q in queries]


class Dense(FakeSource):
    """A datapoint at every period of every query: the minute number since the epoch."""

    def get_metric_data(
        self,
        queries: Sequence[MetricQuery],
        start: datetime,
        end: datetime,
        *,
        sent: RequestCounter | None = None,
    ) -> list[MetricSeries]:
        if sent is not None:
            sent(len(queries))
        self.windows.append((start, end, len(queries)))
        out = []
        for q in queries:
            step = timedelta(seconds=q.period)
            stamps = []
            t = start
            while t < end:
                stamps.append(t)
                t += step
            out.append(
                MetricSeries(q.id, tuple(stamps), tuple(t.timestamp() // 60 for t in stamps))
            )
        return out


class Counting:
    """The simulated account, recording what its GetMetricData port received."""

    def __init__(self, inner: SimAccount) -> None:
        self.inner = inner
        self.requests: list[Request] = []
        self.callers: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def get_metric_data(
        self,
        queries: Sequence[MetricQuery],
        start: datetime,
        end: datetime,
        *,
        sent: RequestCounter | None = None,
    ) -> list[MetricSeries]:
        self.callers.append(sys._getframe(1).f_globals["__name__"])
        assert len(queries) <= MAX_QUERIES_PER_CALL
        self.requests.append((start, end, len(queries)))
        answer: list[MetricSeries] = self.inner.get_metric_data(queries, start, end, sent=sent)
        return answer


def fleet(tables: int = 200, streams: int = 50) -> Counting:
    return Counting(build_scenario(f"fleet:{tables},{streams}", NOW, history=timedelta(hours=1)))


def every_query(backend: Counting) -> list[MetricQuery]:
    """The list's queries: four per table and GSI (ids repeat, as the Feed's do)."""
    out: list[MetricQuery] = []
    for table in backend.describe_tables(backend.list_tables()):
        out += table_queries(table.name, None, "x")
        for index in table.indexes:
            out += table_queries(table.name, index.name, "x")
    return out


# --------------------------------------------------------------------------------------------
# Batched
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("series", [1, 500, 501, 1001, 2500])
def test_n_series_take_ceil_n_over_500_calls(series: int) -> None:
    source = FakeSource()
    service = MetricsService(source)
    queries = [consumed(f"table-{i}") for i in range(series)]
    service.get_metric_data(queries, NOW - 40 * MINUTE, NOW)
    assert len(source.windows) == math.ceil(series / 500) == calls_needed(series)
    assert all(n <= MAX_QUERIES_PER_CALL for _, _, n in source.windows)
    assert sum(n for _, _, n in source.windows) == series
    assert (service.usage.calls, service.usage.metrics_requested) == (len(source.windows), series)


def test_a_long_window_takes_fewer_queries_a_call_and_never_more_datapoints() -> None:
    source = FakeSource()
    service = MetricsService(source)
    queries = [consumed(f"table-{i}") for i in range(600)]
    service.get_metric_data(queries, NOW - timedelta(hours=24), NOW)  # 1,440 points a query
    per_call = MAX_DATAPOINTS_PER_CALL // 1440  # 70
    assert [n for _, _, n in source.windows] == [per_call] * 8 + [600 - 8 * per_call]
    assert all(n * 1440 <= MAX_DATAPOINTS_PER_CALL for _, _, n in source.windows)


def test_one_series_longer_than_an_answer_is_asked_for_in_pieces() -> None:
    source = FakeSource()
    service = MetricsService(source)
    start = NOW - timedelta(days=71)  # 102,240 minutes
    service.get_metric_data([consumed("long")], start, NOW)
    limit = timedelta(minutes=MAX_DATAPOINTS_PER_CALL)
    assert source.windows == [(start, start + limit, 1), (start + limit, NOW, 1)]


def test_queries_with_different_periods_never_share_a_call() -> None:
    source = FakeSource()
    service = MetricsService(source)
    start = NOW - timedelta(hours=3, minutes=2)
    service.get_metric_data([consumed("a"), consumed("a", "a5", 300)], start, NOW)
    # each starts on a multiple of its own period: the datapoints line up call after call
    assert set(source.windows) == {
        (align_down(start, 60), NOW, 1),
        (align_down(start, 300), NOW, 1),
    }
    assert align_down(start, 300) == datetime(2026, 4, 6, 8, 55, tzinfo=UTC)


def test_ids_need_not_be_unique_nor_acceptable() -> None:
    """The list gives every table's queries the same ids: each still gets its own series."""
    t0 = NOW - 10 * MINUTE
    values = {"a": 1.0, "b": 2.0}

    class ByTable(FakeSource):
        def get_metric_data(
            self,
            queries: Sequence[MetricQuery],
            start: datetime,
            end: datetime,
            *,
            sent: RequestCounter | None = None,
        ) -> list[MetricSeries]:
            assert len({q.id for q in queries}) == len(queries)
            return [MetricSeries(q.id, (t0,), (values[q.dimensions[0][1]],)) for q in queries]

    service = MetricsService(ByTable())
    a, b = service.get_metric_data([consumed("a", "x/1"), consumed("b", "x/1")], t0, NOW)
    assert (a.id, a.values, b.id, b.values) == ("x/1", (1.0,), "x/1", (2.0,))


# --------------------------------------------------------------------------------------------
# Incremental
# --------------------------------------------------------------------------------------------


def test_incremental_cache_merges_and_slides() -> None:
    t0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    minute = timedelta(minutes=1)
    data = {t0 + m * minute: float(m) for m in (0, 1, 2, 4, 7)}
    source = FakeSource(data)
    cache = MetricsService(source)
    queries = [consumed("x", "x"), consumed("y", "y")]

    cache.get_metric_data(queries, t0, t0 + 6 * minute)
    assert source.windows == [(t0, t0 + 6 * minute, 2)]  # one fetch for both
    data[t0 + 5 * minute] = 5.0  # late
    data[t0 + 4 * minute] = 40.0  # changed
    data.pop(t0 + 3 * minute, None)
    got = cache.get_metric_data(queries, t0 + 2 * minute, t0 + 9 * minute)
    assert source.windows[1] == (t0 + 3 * minute, t0 + 9 * minute, 2)
    assert got[0].timestamps == tuple(t0 + m * minute for m in (2, 4, 5, 7))
    assert got[0].values == (2.0, 40.0, 5.0, 7.0)
    assert got[1].id == "y"

    # the same window again: from the oldest minute missing before a published one (3: late
    # or out of order, it may still come), not only the margin
    cache.get_metric_data(queries, t0 + 2 * minute, t0 + 9 * minute)
    assert source.windows[2] == (t0 + 3 * minute, t0 + 9 * minute, 2)
    data[t0 + 3 * minute] = 3.0
    data[t0 + 6 * minute] = 6.0
    got = cache.get_metric_data(queries, t0 + 2 * minute, t0 + 9 * minute)
    assert got[0].values == (2.0, 3.0, 40.0, 5.0, 6.0, 7.0)  # backfilled
    # nothing missing before the newest datapoint: only the margin is fetched
    cache.get_metric_data(queries, t0 + 2 * minute, t0 + 9 * minute)
    assert source.windows[4] == (t0 + 6 * minute, t0 + 9 * minute, 2)
    # a new query joins: fetched whole, and the old ones ride along in the same call from its
    # start (billed per metric, not per datapoint: one call instead of two)
    got = cache.get_metric_data([*queries, consumed("z", "z")], t0 + 2 * minute, t0 + 10 * minute)
    assert source.windows[5:] == [(t0 + 2 * minute, t0 + 10 * minute, 3)]
    fresh = MetricsService(FakeSource(data)).get_metric_data(
        [*queries, consumed("z", "z")], t0 + 2 * minute, t0 + 10 * minute
    )
    assert got == fresh


def test_an_incremental_refresh_sends_only_the_missing_window() -> None:
    """On the simulated account: the second refresh asks every series only from where the
    first ended, less the margin, in ceil(N/500) calls; what it returns is what a fresh
    service (no cache) returns for the same window."""
    backend = fleet()
    queries = every_query(backend)
    assert len(queries) > MAX_QUERIES_PER_CALL
    service = MetricsService(backend)
    first_end = align_down(backend.now())
    service.get_metric_data(queries, first_end - 40 * MINUTE, first_end)
    assert {s for s, _, _ in backend.requests} == {first_end - 40 * MINUTE}
    backend.requests.clear()

    backend.inner.advance(5 * 60)
    end = align_down(backend.now())
    got = service.get_metric_data(queries, end - 40 * MINUTE, end)
    assert len(backend.requests) == calls_needed(len(queries))
    assert {(s, e) for s, e, _ in backend.requests} == {(first_end - LATE_MARGIN, end)}
    assert got == MetricsService(backend.inner).get_metric_data(queries, end - 40 * MINUTE, end)
    assert any(s.values for s in got)


def test_sparse_series_do_not_pull_the_window_back() -> None:
    """A throttle metric with no datapoints (no throttling) is final once asked for: a missing
    minute is a zero, not a minute to ask for again."""
    source = FakeSource()  # never a datapoint
    service = MetricsService(source)
    throttles = [
        MetricQuery(f"t{i}", DDB, "WriteThrottleEvents", (("TableName", f"t{i}"),))
        for i in range(3)
    ]
    service.refresh(throttles, NOW - 40 * MINUTE, NOW)
    service.refresh(throttles, NOW - 39 * MINUTE, NOW + MINUTE)
    assert source.windows == [(NOW - 40 * MINUTE, NOW, 3), (NOW - LATE_MARGIN, NOW + MINUTE, 3)]
    assert service.values(throttles[0], [NOW - 5 * MINUTE]) == (None,)


def test_the_list_and_a_longer_detail_window_share_a_metric_without_refetching() -> None:
    """The list asks 40 min, the detail screen 3 h of the same 1-minute metric: each keeps
    asking only for the newest minutes, and the 3 h stay held while the detail asks."""
    source = Dense()
    service = MetricsService(source)
    query = [consumed("orders")]
    t = NOW
    service.refresh(query, t - 40 * MINUTE, t)
    detail = service.get_metric_data(query, t - timedelta(hours=3), t)
    assert source.windows == [(t - 40 * MINUTE, t, 1), (t - timedelta(hours=3), t, 1)]
    assert len(detail[0].timestamps) == 180
    for _ in range(5):
        t += MINUTE
        service.refresh(query, t - 40 * MINUTE, t)
        detail = service.get_metric_data(query, t - timedelta(hours=3), t)
        assert detail[0].timestamps[0] == t - timedelta(hours=3)  # nothing was dropped
        assert len(detail[0].timestamps) == 180
    assert all(s >= e - LATE_MARGIN - MINUTE for s, e, _ in source.windows[2:])

    # the detail closed: its 3 h stay held for as long again, then only the list's 40 min
    closed = t
    while t < closed + timedelta(hours=3):
        t += 10 * MINUTE
        service.refresh(query, t - 40 * MINUTE, t)
        (held,) = service.held(query, t - timedelta(days=1), t)
        assert held.timestamps[0] == t - timedelta(hours=3)
    t += 10 * MINUTE
    service.refresh(query, t - 40 * MINUTE, t)
    (held,) = service.held(query, t - timedelta(days=1), t)
    assert held.timestamps[0] == t - 40 * MINUTE
    assert len(held.timestamps) == 40


def test_a_metric_nobody_asks_for_within_its_window_is_forgotten() -> None:
    source = Dense()
    service = MetricsService(source)
    old, kept = consumed("old"), consumed("kept")
    service.refresh([old, kept], NOW - 40 * MINUTE, NOW)
    later = NOW + 41 * MINUTE
    service.refresh([kept], later - 40 * MINUTE, later)
    assert service.values(old, [NOW - MINUTE]) == (None,)  # forgotten
    assert service.values(kept, [later - MINUTE]) != (None,)
    service.refresh([old], later - 40 * MINUTE, later)
    assert source.windows[-1] == (later - 40 * MINUTE, later, 1)  # asked for whole again


# --------------------------------------------------------------------------------------------
# Counted, and the only caller
# --------------------------------------------------------------------------------------------


def test_the_counters_are_what_the_backend_received() -> None:
    """Through the list's polls (all rows, visible rows, first screen) and a detail-like
    long window: the service's counters equal the requests the account received."""
    backend = fleet()
    service = MetricsService(backend)
    feed = Feed(backend, RuleSettings(), load_price_book("us-east-1"), metrics=service)
    feed.refresh(hidden=False)  # the first screen
    feed.refresh()
    backend.inner.advance(120)
    feed.refresh(["table-001", "table-002"], hidden=False, inventory=False)
    service.get_metric_data(table_queries("table-001", None, "m"), NOW - timedelta(hours=3), NOW)
    told: list[int] = []
    service.get_metric_data([consumed("table-003")], NOW - timedelta(days=7), NOW, sent=told.append)
    assert told == [1]
    assert len(backend.requests) >= 5
    assert service.usage.calls == len(backend.requests)
    assert service.usage.metrics_requested == sum(n for _, _, n in backend.requests)
    book = load_price_book("us-east-1")
    assert service.usage.cost(book) == pytest.approx(
        service.usage.metrics_requested * book.get_metric_data_per_1000_metrics / 1000
    )


def test_only_the_service_calls_the_metrics_port(tmp_path: Path) -> None:
    """The list, the rows of ``ls``, the engine, the planner's context and ``show``."""
    backend = fleet(20, 5)
    prices, rules = load_price_book("us-east-1"), RuleSettings()
    Feed(backend, rules, prices).refresh()
    collect_rows(backend, rules, prices)
    table = backend.describe_table(backend.list_tables()[0])
    stream = backend.describe_stream(backend.list_streams()[0])
    observe(backend, table, "write", (1, 1000), rules)
    audit = AuditLog(tmp_path / "audit.jsonl")
    for resource in (table, stream):
        live_context(backend, resource, rules, prices, audit)
        show_document(backend, "sim", resource.name, rules)
    assert len(backend.callers) >= 9
    assert set(backend.callers) == {"capcon.core.services.metrics"}


def test_the_service_and_its_held_view_are_the_metrics_port() -> None:
    source = FakeSource({NOW - MINUTE: 3.0})
    service = MetricsService(source)
    ports: list[Metrics] = [service, HeldMetrics(service)]
    assert all(isinstance(p, Metrics) for p in ports)
    (fetched,) = service.get_metric_data([consumed("a")], NOW - 5 * MINUTE, NOW)
    (held,) = HeldMetrics(service).get_metric_data([consumed("a")], NOW - 5 * MINUTE, NOW)
    assert fetched == held == MetricSeries("a", (NOW - MINUTE,), (3.0,))
    assert len(source.windows) == 1  # the held view never asks
