"""Teachable dilution (field note C, issue 19): a trainer gives any simulated table or GSI a
hot key from the detail screen (``k``), the screen explains throttling below table capacity
by the hot partition, and a log y-axis (``l``) keeps a quiet period readable under a big
scale-up's line."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from capcon.core.backends.sim.account import IndexSpec, SimAccount, TableSpec
from capcon.core.backends.sim.traffic import Steady
from capcon.core.config.prices import load_price_book
from capcon.core.errors import NotFound
from capcon.core.model import Throughput
from capcon.core.ports import TableChange
from capcon.core.rules import RuleSettings
from capcon.core.services.audit import AuditLog, Origin
from capcon.tui.console.app import CapconApp, ConsoleOptions
from capcon.tui.console.screens.detail import (
    Chart,
    ChartPanel,
    LogScale,
    PartitionLoad,
    Series,
    partition_lines,
)
from capcon.tui.console.testing import settle
from tests.console.test_detail import NOW, SIZE, open_detail, panel_text

CAUSE = "the hot partition is the cause"


def diluted_account() -> SimAccount:
    """``games``: 50 WCU for 40 writes/s, scaled up 100× and back down: 5 partitions now."""
    acc = SimAccount(NOW)
    acc.add_table(TableSpec("games", Throughput(50, 50), reads=Steady(10.0), writes=Steady(40.0)))
    acc.update_table("games", TableChange(table=Throughput(5_000, 5_000)))
    acc.advance(5 * 60)
    acc.update_table("games", TableChange(table=Throughput(50, 50)))
    acc.advance(20 * 60, resolution=10)
    return acc


def app_for(acc: SimAccount, tmp_path: Path, *, simulated: bool = True) -> CapconApp:
    return CapconApp(
        acc,
        Origin("simulated", "sim:test"),
        RuleSettings(),
        load_price_book("us-east-1"),
        AuditLog(tmp_path / "audit.jsonl"),
        ConsoleOptions(poll=True, sim_speed=1.0),
        controls=acc.controls if simulated else None,
    )


async def test_a_hot_key_on_a_diluted_table_is_blamed_on_the_partition(tmp_path: Path) -> None:
    acc = diluted_account()
    assert acc.describe_table("games").provisioned == Throughput(50, 50)
    app = app_for(acc, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(app, pilot, "games")
        assert CAUSE not in panel_text(screen)  # uniform keys: 40 writes/s fit 50 WCU
        assert app.active_bindings["k"].enabled  # offered on the simulated account
        await pilot.press("k", "k")  # off → 25 % → 50 % of the traffic on one key
        await settle(app, pilot)
        assert acc.hot_key("games") == 0.5
        assert app.controls is not None
        app.controls.step(10 * 60)  # ten simulated minutes of the hot key
        screen.action_refresh()
        await settle(app, pilot)
        text = panel_text(screen)
        assert "hot key: 50% of the traffic on one key" in text
        # 50 % of 40 WCU/s on the hot key's partition, one of the 5 the 5,000 WCU left; 50
        # WCU / 5 each (× 1.5 adaptive capacity: still under 20)
        assert (
            "writes: hottest partition needs 20 WCU/s (its hot key); each of 5 partitions gets 10"
        ) in text
        assert "throttled below table capacity" in text and CAUSE in text
        data = screen.data
        assert data is not None
        writes = next(load for load in data.partition_loads if load.word == "writes")
        assert writes.partition_is_the_cause and writes.demand is not None
        assert writes.demand <= 50 and writes.throttled > 0
        # k cycles on: 80 %, back to uniform keys, 25 %
        for share in (0.8, 0.0, 0.25):
            screen.action_hot_key()
            assert acc.hot_key("games") == share


async def test_hot_keys_on_aws_are_refused_with_a_message(tmp_path: Path) -> None:
    acc = diluted_account()
    app = app_for(acc, tmp_path, simulated=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(app, pilot, "games")
        screen.action_hot_key()
        await pilot.pause()
        assert acc.hot_key("games") == 0.0
        warnings = [n.message for n in app._notifications if n.severity == "warning"]
        assert any("simulation control" in m for m in warnings)
        assert "k hot key" not in str(screen.query_one("#detail-title").render())
        assert "k" not in app.active_bindings  # not offered on AWS: the footer has no k
        await pilot.press("k")
        await pilot.pause()
        assert acc.hot_key("games") == 0.0


def test_a_gsi_gets_its_own_hot_key_and_bad_shares_change_nothing() -> None:
    from capcon.core.backends.sim.account import IndexSpec

    acc = SimAccount(NOW)
    acc.add_table(
        TableSpec(
            "t",
            Throughput(100, 100),
            reads=Steady(10.0),
            writes=Steady(10.0),
            indexes=[IndexSpec("g", Throughput(100, 100), Steady(10.0))],
        )
    )
    acc.set_hot_key("t", 0.5, "g")
    assert (acc.hot_key("t"), acc.hot_key("t", "g")) == (0.0, 0.5)
    for bad in (1.5, -0.1, float("nan")):
        with pytest.raises(ValueError, match="0 … 1"):
            acc.set_hot_key("t", bad, "g")
    assert acc.hot_key("t", "g") == 0.5
    with pytest.raises(NotFound):
        acc.set_hot_key("t", 0.5, "nope")
    with pytest.raises(NotFound):
        acc.hot_key("nope")


async def test_a_gsi_short_of_writes_is_blamed_not_a_hot_partition(tmp_path: Path) -> None:
    """Throttled below table capacity because a GSI lacks write capacity (back-pressure,
    docs/aws-rules.md): the panel names the GSI and never blames a hot partition."""
    acc = SimAccount(NOW)
    acc.add_table(
        TableSpec(
            "shop",
            Throughput(500, 500),
            reads=Steady(50.0),
            writes=Steady(200.0),
            indexes=[IndexSpec("by-state", Throughput(100, 40), Steady(5.0), 1.0)],
        )
    )
    acc.advance(20 * 60, resolution=10)
    app = app_for(acc, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(app, pilot, "shop")
        text = panel_text(screen)
        assert "GSI by-state throttles its writes" in text and "back-pressure" in text
        assert CAUSE not in text
        data = screen.data
        assert data is not None
        writes = next(load for load in data.partition_loads if load.word == "writes")
        assert writes.gsis_throttling == ("by-state",) and writes.gsi_is_the_cause
        assert not writes.partition_is_the_cause


def test_partition_verdict_only_when_throttled_below_capacity() -> None:
    below = PartitionLoad("writes", "WCU", 1_000.0, 3, 700.0, 50.0, 0.8)
    assert below.per_partition == pytest.approx(333.3, abs=0.1)
    assert below.hot_key_demand == pytest.approx(700 * 0.8)
    assert below.partition_is_the_cause
    above = PartitionLoad("writes", "WCU", 1_000.0, 3, 1_500.0, 500.0, None)
    assert not above.partition_is_the_cause  # the table ran out, not one partition
    assert partition_lines((above,), simulated=True) == ()  # nothing to explain
    unknown = PartitionLoad("reads", "RCU", 900.0, 3, 400.0, 10.0, None)  # AWS: no hot share
    text = "\n".join(line.text for line in partition_lines((unknown,), simulated=False))
    assert "each of 3 partitions gets 300" in text and CAUSE in text
    assert "hottest partition needs" not in text and "k:" not in text


def test_log_scale_keeps_50_readable_under_5000() -> None:
    t0 = NOW - timedelta(hours=3)
    points = tuple((t0 + timedelta(minutes=m), 50.0 if m < 90 else 5_000.0) for m in range(180))
    chart = Chart("writes", "writes · WCU/s", (Series("consumed", "consumed", points, 60.0),))
    scale = LogScale.over(chart)
    assert scale.ticks() == ([1.0, 2.0, 3.0, 4.0], ["10", "100", "1,000", "10,000"])
    low = (scale.y(50) - scale.bottom) / (scale.top - scale.bottom)
    assert low > 0.2  # a linear axis puts it at 50 / 5,000 = 1 % of the height
    assert scale.y(0) == scale.bottom  # zero lies on the bottom edge, no log(0)


async def test_l_toggles_a_log_axis_on_the_charts(tmp_path: Path) -> None:
    acc = diluted_account()  # 5,000 then 50: the chart's top is the big scale-up
    app = app_for(acc, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(app, pilot, "games")
        plot = screen.query_one("#chart-writes", ChartPanel).plot
        assert "10,000" not in plot.plt.build()
        await pilot.press("l")
        await pilot.pause()
        assert screen.log_scale
        built = plot.plt.build()
        assert "10,000" in built and "100" in built
        assert "log scale" in str(screen.query_one("#detail-title").render())
        await pilot.press("l")
        await pilot.pause()
        assert not screen.log_scale and "10,000" not in plot.plt.build()
