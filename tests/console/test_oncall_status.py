"""A status line that fits any width: the least important parts shortened, then dropped;
the sort, the filter, read-only, PRODUCTION and errors always there; errors whole in the
banner; the data's age counting between polls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static

from capcon.core.backends.sim.scenarios import build_scenario
from capcon.core.config.prices import load_price_book
from capcon.core.polling import PollPolicy
from capcon.core.rules import RuleSettings
from capcon.core.services.audit import AuditLog, Origin
from capcon.tui.console.app import CapconApp, ConsoleOptions
from capcon.tui.console.status import Part, cells, fit
from capcon.tui.console.testing import DEMO_NOW, demo_console, plain, settle, status_bar

SIZES = [(100, 30), (160, 50), (240, 60)]


async def started(app: CapconApp, pilot: Any) -> None:
    app.action_refresh()
    await settle(app, pilot)
    assert app.snapshot is not None, app.last_error


def test_fit_shortens_then_drops_the_least_important_and_keeps_the_required() -> None:
    parts = [
        Part.of("[b]capcon[/b] · aws:prod", "aws:prod", priority=3),
        Part.of("data until 12:03 (2 min old)", "data 2 min old", priority=2, shorten=3),
        Part.of("CloudWatch 4 calls, 1,960 metrics, $0.0196", "CloudWatch $0.0196", priority=5),
        Part.of("sort: trouble", priority=0, required=True),
        Part.of("filter: 'orders'", priority=0, required=True),
    ]
    full = fit(parts, 500)
    assert full == (
        "[b]capcon[/b] · aws:prod · data until 12:03 (2 min old) · CloudWatch 4 calls, "
        "1,960 metrics, $0.0196 · sort: trouble · filter: 'orders'"
    )
    assert cells(full) == len(full) - len("[b][/b]")
    # the least important first: CloudWatch shortened, then gone
    assert "CloudWatch $0.0196" in fit(parts, cells(full) - 1)
    assert "CloudWatch" not in fit(parts, 90)
    # then the data's age shortened (its detail matters less than the account's name)
    assert (
        fit(parts, 70)
        == "[b]capcon[/b] · aws:prod · data 2 min old · sort: trouble · filter: 'orders'"
    )
    for width in range(1, 120):
        line = fit(parts, width)
        assert "sort: trouble" in line and "filter: 'orders'" in line
        # as long as the required parts fit, the line does
        assert cells(line) <= max(width, cells("sort: trouble · filter: 'orders'"))


@pytest.mark.parametrize("size", SIZES)
async def test_the_status_fits_and_keeps_what_must_be_seen(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    app, _ = demo_console(tmp_path / "audit.jsonl", production=True, read_only=True)
    async with app.run_test(size=size) as pilot:
        await started(app, pilot)
        await pilot.press("slash", *"orders", "enter")
        await pilot.pause()
        bar = status_bar(app)
        room = app.query_one("#status", Static).content_size.width
        assert len(bar) <= room, (size, bar)
        for must in ("sort: trouble", "filter: 'orders'", "read-only", "PRODUCTION"):
            assert must in bar, (size, must, bar)
        assert "data" in bar and "min" in bar  # the data's age survives every width
        hint = plain(app.query_one("#hint", Static))
        assert len(hint) <= app.query_one("#hint", Static).content_size.width
        assert "? help" in hint and "Enter detail" in hint
        if size[0] >= 240:  # room for everything
            assert "CloudWatch 1 calls" in bar and "sim 01:30:00 UTC (paused)" in bar


async def test_a_resize_fits_the_status_again(tmp_path: Path) -> None:
    app, _ = demo_console(tmp_path / "audit.jsonl")
    async with app.run_test(size=(240, 60)) as pilot:
        await started(app, pilot)
        assert "(as if on AWS)" in status_bar(app)
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        await pilot.pause()
        bar = status_bar(app)
        assert len(bar) <= 98 and "sort: trouble" in bar, bar


def aws_console(tmp_path: Path, clock: list[float]) -> CapconApp:
    account = build_scenario("demo", DEMO_NOW)
    app = CapconApp(
        account,
        Origin("me", "aws:test", region="us-east-1"),
        RuleSettings(),
        load_price_book("us-east-1"),
        AuditLog(tmp_path / "audit.jsonl"),
        ConsoleOptions(poll=False, polling=PollPolicy()),
    )
    app.clock = lambda: clock[0]
    return app


async def test_the_datas_age_ticks_every_second_between_polls(tmp_path: Path) -> None:
    clock = [0.0]
    app = aws_console(tmp_path, clock)
    async with app.run_test(size=(160, 50)) as pilot:
        await started(app, pilot)
        assert app.snapshot is not None and app.snapshot.data_until is not None
        age = app.snapshot.at - app.snapshot.data_until
        minutes, seconds = divmod(int(age.total_seconds()), 60)
        seen = []
        for _ in range(3):
            clock[0] += 1  # no poll: the same snapshot, a second later
            app._tick()
            seconds += 1
            seen.append(status_bar(app))
            assert f"({minutes} min {seconds} s old)" in seen[-1], seen[-1]
        assert len(set(seen)) == 3
        clock[0] += 600  # past 10 minutes: whole minutes, stale
        app._tick()
        assert f"({minutes + 10} min old) stale" in status_bar(app)


async def test_an_error_is_whole_in_the_banner_and_named_in_the_status(tmp_path: Path) -> None:
    app, account = demo_console(tmp_path / "audit.jsonl")
    long = "dynamodb:ListTables: " + "the endpoint answered [red]nonsense[/] " * 5 + "END"
    async with app.run_test(size=(100, 30)) as pilot:
        await started(app, pilot)
        app.post_message(CapconApp.PollFailed(long))
        await pilot.pause()
        await pilot.pause()
        bar = status_bar(app)
        assert "error" in bar and "sort: trouble" in bar and len(bar) <= 98
        banner = app.query_one("#banner", Static)
        assert banner.display
        text = plain(banner)
        assert long in text  # whole, markup shown as written
        assert banner.size.height >= 2  # wrapped, not cut
        del account
