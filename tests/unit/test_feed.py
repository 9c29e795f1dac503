"""The console's feed: batched, incremental, visibility-aware metric fetching."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from capcon.core.backends.sim.scenarios import build_scenario
from capcon.core.config.prices import load_price_book
from capcon.core.ports import MetricQuery, MetricSeries, RequestCounter
from capcon.core.rules import RuleSettings
from capcon.core.services.feed import Feed

NOW = datetime(2026, 4, 6, 12, 0, tzinfo=UTC)


class Counting:
    """The simulated account, counting GetMetricData calls and their queries and windows."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: list[tuple[int, datetime]] = []

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
        assert len(queries) <= 500
        self.calls.append((len(queries), start))
        result: list[MetricSeries] = self.inner.get_metric_data(queries, start, end, sent=sent)
        return result


def feed() -> tuple[Feed, Counting]:
    account = build_scenario("fleet:200,50", NOW, history=timedelta(minutes=30))
    backend = Counting(account)
    return Feed(backend, RuleSettings(), load_price_book("us-east-1")), backend


def test_a_full_refresh_takes_ceil_n_over_500_calls() -> None:
    f, backend = feed()
    snapshot = f.refresh()
    series = 200 * 4 + 50 * 4  # a stream: in bytes, records, throttles, GetRecords.Bytes
    assert len(backend.calls) == math.ceil(series / 500) == 2
    assert f.metrics.usage.metrics_requested == series
    assert len(snapshot.rows) == 250
    backend.calls.clear()
    backend.inner.advance(120)
    f.refresh()
    assert len(backend.calls) == 2  # warm: still ceil(N/500)
    # incremental: only the minutes since the last fetch (less the revision margin)
    assert all(start >= backend.inner.now() - timedelta(minutes=6) for _, start in backend.calls)


def test_visible_rows_only() -> None:
    f, backend = feed()
    f.refresh()
    backend.calls.clear()
    visible = [f"table-{i:03d}" for i in range(40)]
    f.refresh(visible, hidden=False)
    assert [n for n, _ in backend.calls] == [40 * 4]


def test_first_screen_without_visible_names_takes_the_first_rows() -> None:
    """The console's first poll reads only what its first screen shows: the rows come
    before the whole account is described (seconds on AWS for hundreds of streams)."""
    f, backend = feed()
    described: list[str] = []
    inner_describe = backend.inner.describe_tables

    def counting(names: Sequence[str]) -> Any:
        described.extend(names)
        return inner_describe(names)

    backend.inner.describe_tables = counting
    first = f.refresh(hidden=False)
    assert described == sorted(backend.inner.list_tables())[: f.first_screen_rows]
    assert sum(n for n, _ in backend.calls) == f.first_screen_rows * 4
    assert {r.table or r.name for r in first.rows} == set(described)
    assert first.undescribed == 250 - f.first_screen_rows
    full = f.refresh()
    assert len(full.rows) == 250 and full.undescribed == 0


def test_inventory_is_cached_between_full_refreshes() -> None:
    f, backend = feed()
    described: list[list[str]] = []
    inner_describe = backend.inner.describe_tables

    def counting(names: Sequence[str]) -> Any:
        described.append(list(names))
        return inner_describe(names)

    backend.inner.describe_tables = counting
    f.refresh()
    assert len(described[-1]) == 200  # the first refresh describes every table
    f.refresh(["table-007", "table-011/x", "stream-003"], hidden=False, inventory=False)
    assert described[-1] == ["table-007", "table-011"]  # then only the visible ones
    snapshot = f.refresh(["table-007"], hidden=False, inventory=False)
    assert len(snapshot.rows) == 250  # the others keep their last description


def test_rows_off_screen_get_every_minute_they_missed() -> None:
    """Visible-only polls leave the other rows behind; the next full poll asks each series
    from where it was last asked (less the margin), so rows off screen skip no minutes, and
    it still takes ceil(N/500) calls."""
    f, backend = feed()
    f.refresh()
    visible = [f"table-{i:03d}" for i in range(40)]
    for _ in range(5):
        backend.inner.advance(120)
        f.refresh(visible, hidden=False, inventory=False)
    backend.calls.clear()
    backend.inner.advance(60)
    snapshot = f.refresh(visible)
    assert len(backend.calls) == math.ceil((200 * 4 + 50 * 3) / 500)
    fresh = Feed(backend.inner, RuleSettings(), load_price_book("us-east-1")).refresh()
    off_screen = [r.name for r in snapshot.rows if r.name not in visible]
    assert len(off_screen) == 210
    assert snapshot.data_until == fresh.data_until
    for name in off_screen:
        assert snapshot.sparks[name] == fresh.sparks[name], name
    assert any(v is not None for v in snapshot.sparks[off_screen[0]].read)
