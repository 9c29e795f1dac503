"""The detail screen: charts, partitions, decrease budget, shards, windows, errors.

Pilot tests on the simulated ``demo`` account, plus the pure series arithmetic behind the
charts (per-second rates, gaps, demand, the provisioned line, shard loads).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from textual.color import Color
from textual.theme import Theme
from textual.widgets import DataTable

from capcon.core.backends.sim.account import SimAccount
from capcon.core.backends.sim.scenarios import build_scenario
from capcon.core.config.prices import load_price_book
from capcon.core.errors import Throttled
from capcon.core.ports import MetricQuery, MetricSeries, RequestCounter
from capcon.core.rules import RuleSettings
from capcon.core.services.audit import AuditLog, Origin
from capcon.tui.console.app import CapconApp, ConsoleOptions
from capcon.tui.console.modals.scale import ScaleModal
from capcon.tui.console.screens.detail import (
    WINDOWS,
    ChartPanel,
    DetailScreen,
    Series,
    capacity_points,
    demand_points,
    nice_ticks,
    per_second,
    window_bounds,
)
from capcon.tui.console.testing import demo_console, settle, status_bar

NOW = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
SIZE = (160, 50)


def make_app(tmp_path: Path) -> tuple[CapconApp, SimAccount]:
    acc = build_scenario("demo", NOW)
    app = CapconApp(
        acc,
        Origin("simulated", "sim:demo"),
        RuleSettings(),
        load_price_book("us-east-1"),
        AuditLog(tmp_path / "audit.jsonl"),
        ConsoleOptions(poll=True, sim_speed=1.0),
        controls=acc.controls,
    )
    return app, acc


async def open_detail(app: CapconApp, pilot: Any, name: str) -> DetailScreen:
    await app.workers.wait_for_complete()
    await pilot.pause()
    app.jump_to(name)
    app.action_detail()
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, DetailScreen), screen
    assert screen.data is not None, screen.last_error
    return screen


def panel_text(screen: DetailScreen) -> str:
    return str(screen.query_one("#detail-panel").render())


def error_notifications(app: CapconApp) -> list[str]:
    return [n.message for n in app._notifications if n.severity == "error"]


# --------------------------------------------------------------------------------------------
# Pilot
# --------------------------------------------------------------------------------------------


async def test_table_detail_charts_panel_and_windows(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(app, pilot, "orders")
        data = screen.data
        assert data is not None
        assert data.name == "orders" and data.kind == "table"
        assert [c.key for c in data.charts] == ["reads", "writes"]
        # consumed, provisioned, throttled and demand were all plotted on both charts
        assert screen.series_plotted == 8
        for chart in data.charts:
            roles = {s.role: s for s in chart.series}
            assert set(roles) == {"consumed", "provisioned", "throttle", "demand"}
            consumed = roles["consumed"].points
            assert len(consumed) > 100  # 3 h of 1-minute points (minus CloudWatch's lag)
            assert all(0 < v < 1_000 for _, v in consumed)  # units per second, not per minute
        reads = data.charts[0]
        provisioned = {
            v for _, v in next(s for s in reads.series if s.role == "provisioned").points
        }
        assert provisioned == {500.0}
        plot = screen.query_one("#chart-reads", ChartPanel).plot
        r, g, b = Color.parse(app.theme_variables["consumed"]).rgb
        assert f"38;2;{r};{g};{b}" in plot.plt.build()  # drawn in the theme's colour
        text = panel_text(screen)
        assert "estimate" in text and "Partitions" in text
        assert "Decrease budget" in text and "left" in text and "next allowed" in text
        assert "Warm throughput" in text
        title = str(screen.query_one("#detail-title").render())
        assert "orders" in title and "500 RCU / 300 WCU" in title and "3 h" in title
        app.save_screenshot(path="/tmp", filename="capcon-detail-orders.svg")

        # a theme switch repaints the charts in the new theme's colours
        app.register_theme(
            Theme("test-green", primary="#008800", variables={"consumed": "#12AB34"})
        )
        app.theme = "test-green"
        await pilot.pause()
        assert f"38;2;{0x12};{0xAB};{0x34}" in plot.plt.build()

        await pilot.press("3")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.window.label == "24 h"
        assert screen.data is not None and screen.data.window.label == "24 h"
        assert screen.data.window.period == 300
        assert "24 h" in str(screen.query_one("#detail-title").render())
        assert screen.series_plotted == 8

        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, DetailScreen)
        assert app.selected_row() is not None


async def test_auto_scaled_table_marks_activities_and_policies(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(app, pilot, "checkout")
        assert screen.data is not None
        marks = [m for c in screen.data.charts for m in c.marks]
        assert marks, "the bell curve under AAS scales within 3 h"
        text = panel_text(screen)
        assert "Auto scaling" in text and "target 70%" in text
        assert "Recent changes" in text and "▼" in text and "AAS" in text
        app.save_screenshot(path="/tmp", filename="capcon-detail-checkout.svg")
        screen.action_back()
        await pilot.pause()
        trap = await open_detail(app, pilot, "inventory")
        assert "no policy" in panel_text(trap)


async def test_stream_detail_shards(tmp_path: Path) -> None:
    app, acc = make_app(tmp_path)
    # 27 minutes on: the newest published minutes fall in payments' hourly spike
    acc.advance(27 * 60, resolution=10)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(app, pilot, "payments")
        data = screen.data
        assert data is not None and data.shards is not None
        assert [c.key for c in data.charts] == ["bytes", "records", "throttled", "age"]
        assert len(data.shards) == 4
        assert abs(sum(s.share for s in data.shards) - 1.0) < 1e-9
        assert all(s.load is not None for s in data.shards)
        hot = [s for s in data.shards if s.hot]
        assert len(hot) == 1  # the hot key's shard
        assert hot[0].load is not None and hot[0].load >= 0.8
        table = screen.query_one("#detail-shards", DataTable)
        assert table.row_count == 4
        hot_colour = app.theme_variables["hot"]
        for row_index, load in enumerate(data.shards):
            cells = table.get_row_at(row_index)
            styled = all(hot_colour in str(cell.style) for cell in cells)
            assert styled is load.hot
        limits = [s for c in data.charts for s in c.series if s.label == "limit"]
        assert {p[1] for p in limits[0].points} == {4.0}  # 4 shards × 1 MB/s
        assert {p[1] for p in limits[1].points} == {4_000.0}  # 4 shards × 1,000 rec/s
        assert "Hot shards" in panel_text(screen) and "hot" in panel_text(screen).lower()
        app.save_screenshot(path="/tmp", filename="capcon-detail-payments.svg")


async def test_backend_error_becomes_a_notification(tmp_path: Path) -> None:
    app, acc = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(app, pilot, "orders")
        paints = screen.paints

        def fail(*args: Any, **kwargs: Any) -> list[MetricSeries]:
            raise Throttled("rate exceeded")

        acc.get_metric_data = fail  # type: ignore[method-assign]
        screen.action_refresh()
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen is screen and app.is_running
        assert any("rate exceeded" in m for m in error_notifications(app))
        assert screen.last_error == "rate exceeded"
        assert "rate exceeded" in str(screen.query_one("#detail-title").render())
        assert screen.paints == paints  # the last good charts stay up


async def test_status_bar_shows_what_was_sent_including_the_detail_screen(tmp_path: Path) -> None:
    """The list, the detail screen and the scale dialog share the app's metrics service, the
    only caller of the port: the status bar's count is every request the account received."""
    app, account = demo_console(tmp_path / "audit.jsonl")
    received: list[int] = []
    callers: set[str] = set()
    port = account.get_metric_data

    def counting(
        queries: Sequence[MetricQuery],
        start: datetime,
        end: datetime,
        *,
        sent: RequestCounter | None = None,
    ) -> list[MetricSeries]:
        frame = sys._getframe(1)
        while frame.f_globals["__name__"] == "capcon.tui.console.backend":  # the lock
            assert frame.f_back is not None
            frame = frame.f_back
        callers.add(frame.f_globals["__name__"])
        received.append(len(queries))
        return port(queries, start, end, sent=sent)

    account.get_metric_data = counting  # type: ignore[method-assign]

    def sent_so_far() -> str:
        return f"CloudWatch {len(received)} calls, {sum(received):,} metrics"

    async with app.run_test(size=SIZE) as pilot:
        app.poll()
        await settle(app, pilot)
        assert received and sent_so_far() in status_bar(app)
        listed = len(received)
        screen = await open_detail(app, pilot, "orders")
        screen.action_window("3")  # 24 h of 5-minute points: another window, counted too
        await settle(app, pilot)
        assert screen.data is not None and screen.data.window.period == 300
        assert len(received) >= listed + 2
        await pilot.press("escape")
        # the scale dialog's context (recent traffic, shard loads) goes through it too
        before_scale = len(received)
        app.jump_to("payments")
        app.action_scale()
        await settle(app, pilot)
        assert isinstance(app.screen, ScaleModal)
        assert len(received) > before_scale
        await pilot.press("escape")
        app.poll()
        await settle(app, pilot)
        assert (app.metrics.usage.calls, app.metrics.usage.metrics_requested) == (
            len(received),
            sum(received),
        )
        assert sent_so_far() in status_bar(app)
        assert callers == {"capcon.core.services.metrics"}


# --------------------------------------------------------------------------------------------
# Series arithmetic
# --------------------------------------------------------------------------------------------


def test_rates_gaps_demand_and_provisioned_line() -> None:
    t0 = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
    minutes = [t0 + timedelta(minutes=m) for m in (0, 1, 2, 5, 6)]
    consumed = per_second(MetricSeries("c", tuple(minutes), (60.0, 120.0, 180.0, 60.0, 0.0)), 60)
    assert [v for _, v in consumed] == [1.0, 2.0, 3.0, 1.0, 0.0]
    # minutes 3 and 4 are missing: a gap, never a zero
    segments = Series("consumed", "consumed", consumed, 60).segments()
    assert [len(s) for s in segments] == [3, 2]
    # drawing throttles leaves out runs of zeros but keeps the zero a rise starts from
    zeros = per_second(
        MetricSeries("t", tuple(t0 + timedelta(minutes=m) for m in range(6)), (0, 0, 0, 6, 0, 0)),
        60,
    )
    drawn = Series("throttled", "throttle", zeros, 60).segments(skip_zero_runs=True)
    assert [[v for _, v in s] for s in drawn] == [[0.0, 0.1, 0.0]]
    throttled = ((minutes[1], 0.5),)
    assert [v for _, v in demand_points(consumed, throttled)] == [1.0, 2.5, 3.0, 1.0, 0.0]
    end = t0 + timedelta(minutes=10)
    assert capacity_points((), 50.0, t0, end, 60) == ((t0, 50.0), (end, 50.0))
    stepped = capacity_points(((t0, 40.0),), 50.0, t0, end, 60)
    assert stepped == ((t0, 40.0), (t0 + timedelta(minutes=1), 50.0), (end, 50.0))
    hourly = per_second(MetricSeries("c", (t0,), (7200.0,)), 3600)
    assert hourly == ((t0, 2.0),)


def test_window_bounds_align_to_the_period() -> None:
    now = datetime(2026, 11, 23, 1, 30, 17, tzinfo=UTC)
    start, end = window_bounds(WINDOWS[3], now)
    assert end == now
    assert start == datetime(2026, 11, 16, 1, 0, tzinfo=UTC)
    start, _ = window_bounds(WINDOWS[2], now)
    assert start == datetime(2026, 11, 22, 1, 30, tzinfo=UTC)


def test_nice_ticks() -> None:
    assert nice_ticks(0.0) == [0.0, 0.5, 1.0]
    assert nice_ticks(410.0) == [0.0, 100.0, 200.0, 300.0, 400.0, 500.0]
    assert nice_ticks(4.4) == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert nice_ticks(0.09)[-1] >= 0.09


async def test_global_table_detail_lists_replicas(tmp_path: Path) -> None:
    """The demo's global Standard-IA table: each replica's region, status, class, reads and
    write auto scaling (``DescribeTableReplicaAutoScaling`` through the console's backend)."""
    app, _ = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(app, pilot, "shipment-archive")
        text = panel_text(screen)
        assert "Table class" in text and "Standard-IA" in text
        assert "Replicas (2 other regions)" in text
        assert "eu-west-1 · ACTIVE · Standard-IA" in text
        assert "reads 20 RCU (override)" in text
        assert "ap-southeast-2 · ACTIVE · Standard-IA" in text and "reads the table's RCU" in text
        assert "write auto scaling 20–400, target 70%" in text
