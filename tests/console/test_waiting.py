"""Waiting, failing and applying in the console: the status bar names a slow call and how long
it has waited, a banner stays up while the last poll failed, the data's age keeps counting
between polls, and an apply in the running simulation lands instead of freezing the world.

No test sleeps for a timer: clocks are numbers the test moves, a slow call is a backend call
blocked on an event, and painting is called directly where the timer that calls it is not
what is tested.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static

from capcon.core.backends.sim.account import SimAccount
from capcon.core.backends.sim.scenarios import build_scenario
from capcon.core.config.prices import load_price_book
from capcon.core.errors import AccessDenied
from capcon.core.inflight import InFlight
from capcon.core.model import Table, Throughput
from capcon.core.planning.planner import ScalePlan, plan
from capcon.core.polling import PollPolicy
from capcon.core.ports import TableChange
from capcon.core.rules import RuleSettings
from capcon.core.services.audit import AuditLog, Origin
from capcon.core.services.inspect import live_context
from capcon.tui.console.app import CapconApp, ConsoleOptions
from capcon.tui.console.pace import ConsoleClosed, SimulatedPace
from capcon.tui.console.testing import demo_console, plain, settle, status_bar
from capcon.tui.console.theming import builtin_themes

NOW = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
SIZE = (160, 50)


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def banner(app: CapconApp) -> str:
    widget = app.query_one("#banner", Static)
    return plain(widget) if widget.display else ""


def aws_like(tmp_path: Path, inflight: InFlight | None = None) -> tuple[CapconApp, SimAccount]:
    """The demo account without its simulation controls: the console treats it as AWS (its
    clock is the console's ``clock``, which the test moves)."""
    account = build_scenario("demo", NOW)
    account.clock.paused = True
    app = CapconApp(
        account,
        Origin("aws", "aws:test", region="us-east-1"),
        RuleSettings(),
        load_price_book("us-east-1"),
        AuditLog(tmp_path / "audit.jsonl"),
        ConsoleOptions(polling=PollPolicy(3600, 3600, 0, 3600, 3600), poll=False),
        inflight=inflight or InFlight(),
    )
    clock = FakeClock()
    app.clock = clock
    app._last_input = clock.now
    return app, account


async def first_poll(app: CapconApp, pilot: Any) -> None:
    app.action_refresh()
    await settle(app, pilot)
    assert app.snapshot is not None, app.last_error


def table_plan(
    app: CapconApp, account: SimAccount, name: str, write: int
) -> tuple[ScalePlan, Table]:
    table = account.describe_table(name)
    assert table.provisioned is not None
    context = live_context(
        app.backend, table, app.rules, app.prices, app.audit, app.controls, metrics=app.metrics
    )
    change = TableChange(table=Throughput(table.provisioned.read, write))
    made = plan(table, change, account.now(), rules=app.rules, prices=app.prices, context=context)
    assert isinstance(made, ScalePlan), made
    return made, table


def outcomes(path: Path) -> list[dict[str, Any]]:
    lines = path.read_text().splitlines() if path.exists() else []
    return [r for r in map(json.loads, lines) if r.get("phase") == "outcome"]


# --------------------------------------------------------------------------------------------
# "waiting for <operation>"
# --------------------------------------------------------------------------------------------


async def test_a_slow_call_is_named_in_the_status_bar_with_its_time_escaped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = FakeClock()
    app, account = aws_like(tmp_path, InFlight(clock=calls))
    hostile = "[@click=app.quit]x\x1b]0;pwned\x07[/]"
    release = threading.Event()
    entered = threading.Event()
    real = account.describe_table

    def slow(name: str) -> Table:
        entered.set()
        release.wait(10)
        return real("orders")

    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        monkeypatch.setattr(account, "describe_table", slow)
        caller = threading.Thread(target=app.backend.describe_table, args=(hostile,))
        caller.start()
        try:
            assert entered.wait(30)
            app._paint_status()
            assert "waiting for" not in status_bar(app)  # quick calls are not named
            calls.now += 7
            app._paint_status()
            status = status_bar(app)
            # shown as written (markup escaped), control characters dropped
            assert (
                "waiting for dynamodb:DescribeTable on table [@click=app.quit]x]0;pwned[/] (7 s)"
                in status
            )
            calls.now += 60
            app._paint_status()
            assert "on table [@click=app.quit]x]0;pwned[/] (1 min 7 s)" in status_bar(app)
        finally:
            release.set()
            caller.join()
        app._paint_status()
        assert "waiting for" not in status_bar(app)


async def test_the_status_bar_is_repainted_every_second_between_polls(tmp_path: Path) -> None:
    app, _ = aws_like(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        ticking = [
            t
            for t in app._timers
            if getattr(t._callback, "__name__", "") == "_tick" and t._repeat is None
        ]
        assert len(ticking) == 1 and ticking[0]._interval == 1.0


# --------------------------------------------------------------------------------------------
# The data's age, and the banner while polls fail
# --------------------------------------------------------------------------------------------


async def test_the_datas_age_keeps_counting_between_polls(tmp_path: Path) -> None:
    app, _ = aws_like(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        snapshot = app.snapshot
        assert snapshot is not None and snapshot.data_until is not None
        age = round((snapshot.at - snapshot.data_until).total_seconds() / 60)
        assert f"({age} min old)" in status_bar(app)
        assert "stale" not in status_bar(app)
        clock = app.clock
        assert isinstance(clock, FakeClock)
        clock.now += 11 * 60  # no poll: the same snapshot, eleven minutes later
        app._tick()
        assert f"({age + 11} min old) stale" in status_bar(app)


async def test_a_failed_poll_raises_a_banner_until_the_next_success(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, account = aws_like(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        assert banner(app) == ""
        snapshot = app.snapshot
        assert snapshot is not None

        def denied() -> list[str]:
            raise AccessDenied("not authorized: dynamodb:ListTables on [b]prod[/b]\x1b[31m")

        # neither tables nor streams can be listed: the poll fails (one denied part would
        # only be a notice: the console degrades)
        monkeypatch.setattr(account, "list_tables", denied)
        monkeypatch.setattr(account, "list_streams", denied)
        clock = app.clock
        assert isinstance(clock, FakeClock)
        clock.now += 90
        app.action_refresh()
        await settle(app, pilot)
        text = banner(app)
        assert text.startswith("last refresh failed: not authorized: dynamodb:ListTables on ")
        assert "[b]prod[/b][31m" in text  # as written, not bold, no escape code
        assert f"the data shown were read at {snapshot.at:%H:%M:%S} (1 min 30 s ago)" in text
        clock.now += 30
        app._tick()
        assert "(2 min ago)" in banner(app)  # its age counts too

        monkeypatch.undo()
        app.action_refresh()
        await settle(app, pilot)
        assert banner(app) == ""
        assert not app.query_one("#banner", Static).display


async def test_the_banner_says_when_no_data_was_ever_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, account = aws_like(tmp_path)

    def down() -> list[str]:
        from capcon.core.errors import EndpointUnreachable

        raise EndpointUnreachable("dynamodb:ListTables: endpoint http://***@h/ unreachable")

    monkeypatch.setattr(account, "list_tables", down)
    async with app.run_test(size=SIZE) as pilot:
        app.action_refresh()
        await settle(app, pilot)
        assert banner(app) == (
            "last refresh failed: dynamodb:ListTables: endpoint http://***@h/ unreachable · "
            "no data read yet"
        )


# --------------------------------------------------------------------------------------------
# Applying in the simulated account
# --------------------------------------------------------------------------------------------


async def test_progress_reports_do_not_put_the_next_poll_off(tmp_path: Path) -> None:
    """Each report of an apply refreshes the list; none of those may reschedule the poll (it
    did, so a report every few milliseconds kept the next poll away for the whole apply)."""
    app, account = demo_console(tmp_path / "audit.jsonl", now=NOW, poll=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        scheduled: list[int] = []
        original = app._next_poll

        def counting() -> None:
            scheduled.append(app._polls)
            original()

        app._next_poll = counting  # type: ignore[method-assign]
        polls = app._polls
        made, table = table_plan(app, account, "audit-log", 800)
        app.apply_plan(made, table)
        await settle(app, pilot)
        assert [r["outcome"] for r in outcomes(tmp_path / "audit.jsonl")] == ["applied"]
        # at most one scheduling per poll answered (two answers at once may make one), none
        # per progress report (there were several: the list showed UPDATING, then ACTIVE);
        # the end of the apply reads its rows only (test_oncall_after_apply.py), and the
        # chain of polls goes on
        assert len(scheduled) <= app._polls - polls
        assert app._poll_timer is not None or any(w.group == "poll" for w in app.workers)


def test_a_wait_moves_the_simulated_clock_itself() -> None:
    account = build_scenario("demo", NOW)
    real = FakeClock()
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        real.now += seconds

    pace = SimulatedPace(account.controls, 1.0, real_clock=real, sleep=sleep)
    account.controls.speed = 60
    pace.waiter()(5)  # no poll happens meanwhile
    assert account.now() - NOW == timedelta(seconds=5)
    assert sum(slept) == pytest.approx(5 / 60, abs=0.01)
    # a poll right after counts only the real time since the wait's last catch-up
    real.now += 1
    pace.before_poll(first=False)
    assert account.now() - NOW == timedelta(seconds=65)


def test_a_wait_holds_while_the_clock_is_paused_and_ends_when_the_console_closes() -> None:
    account = build_scenario("demo", NOW)
    real = FakeClock()
    slices: list[float] = []

    def sleep(seconds: float) -> None:
        slices.append(seconds)
        real.now += seconds
        if len(slices) == 4:
            account.controls.resume()  # someone presses space

    pace = SimulatedPace(account.controls, 1.0, real_clock=real, sleep=sleep)
    account.controls.speed = 60
    account.controls.pause()
    pace.wait(30)
    assert slices[:3] == [0.25, 0.25, 0.25]  # paused: nothing moved, the wait went on
    assert account.now() - NOW == timedelta(seconds=30)

    account.controls.pause()
    closing: list[float] = []

    def close_soon(seconds: float) -> None:
        closing.append(seconds)
        if len(closing) == 2:
            pace.close()

    pace._sleep = close_soon
    with pytest.raises(ConsoleClosed, match="may have been carried out") as raised:
        pace.wait(30)
    assert raised.value.maybe_sent


async def test_an_apply_in_the_running_simulation_lands_while_polls_and_reports_flow(
    tmp_path: Path,
) -> None:
    """``capcon demo`` as it runs: the clock moving at 600×, polled every second, the scaler
    waiting through the console's pace.  The change must land and be recorded applied (it
    was recorded "failed: still UPDATING after 1800 s" with the clock frozen by the reports)."""
    account = build_scenario("demo", NOW)
    audit = tmp_path / "audit.jsonl"
    app = CapconApp(
        account,
        Origin("simulated", "sim:demo", region="us-east-1"),
        RuleSettings(),
        load_price_book("us-east-1"),
        AuditLog(audit),
        ConsoleOptions(sim_speed=600.0, sim_refresh_seconds=1.0, poll=True),
        controls=account.controls,
        themes=builtin_themes(),
    )
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        made, table = table_plan(app, account, "audit-log", 1200)
        started = account.now()
        app.apply_plan(made, table)
        deadline = time.monotonic() + 60
        while not outcomes(audit) and time.monotonic() < deadline:
            await pilot.pause(0.05)
        [outcome] = outcomes(audit)
        assert outcome["outcome"] == "applied", outcome
        assert outcome["after"]["capacity"]["write"] == 1200
        # it took the simulated update time, not the scaler's 30-minute limit: measured at
        # the outcome's own (simulated) time, as the clock keeps running at 600× after it
        landed = datetime.fromisoformat(outcome["at"])
        assert landed - started < timedelta(minutes=10), (started, landed)


def test_the_call_named_is_the_slowest_single_request_else_the_slowest_batch() -> None:
    clock = FakeClock(0.0)
    inflight = InFlight(clock=clock)
    assert inflight.waiting() is None
    with inflight.track("dynamodb:DescribeTable", "40 tables", batch=True):
        clock.now = 1.0
        with inflight.track("dynamodb:DescribeTable", "table a"):
            clock.now = 2.5
            # the batch has run 2.5 s, its request 1.5 s: the batch is what is slow
            named = inflight.waiting()
            assert named is not None and named[0].what() == "dynamodb:DescribeTable on 40 tables"
            assert named[1] == 2.5
            clock.now = 3.0
            named = inflight.waiting()  # now the request itself is slow: it is named
            assert named is not None and named[0].what() == "dynamodb:DescribeTable on table a"
            assert named[1] == 2.0
            with inflight.track("cloudwatch:GetMetricData"):  # nested: the innermost counts
                clock.now = 3.5
                assert inflight.waiting(slow_seconds=0) == (
                    next(c for c in inflight.calls() if c.resource is None),
                    0.5,
                )
        assert [c.what() for c in inflight.calls()] == ["dynamodb:DescribeTable on 40 tables"]
    assert inflight.calls() == ()


async def test_sigterm_closes_the_console_and_an_apply_under_way_records_its_outcome(
    tmp_path: Path,
) -> None:
    """On AWS (no simulation controls) the scaler follows a change with real waits; SIGTERM
    (as ``capcon`` sets it up) closes the console as ``q`` does, the wait ends at once and
    the apply records ``unknown`` (sent, not seen to land) for the next command to
    reconcile — instead of the process dying with an intent and no outcome."""
    app, account = aws_like(tmp_path)
    app.options.stop_signals = True
    audit = tmp_path / "audit.jsonl"
    stray: list[int] = []  # a SIGTERM the console did not take would land here, not kill us
    previous = signal.signal(signal.SIGTERM, lambda signum, _frame: stray.append(signum))
    try:
        await _close_by_sigterm(app, account, audit)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert stray == []
    assert app.return_code == 128 + signal.SIGTERM  # `capcon` exits 143, as its commands do
    deadline = time.monotonic() + 30
    while not outcomes(audit):  # the worker thread writes it as the wait ends
        assert time.monotonic() < deadline, "no outcome recorded"
        time.sleep(0.05)
    [outcome] = outcomes(audit)
    assert outcome["outcome"] == "unknown", outcome
    assert "console closed" in outcome["error"]


async def _close_by_sigterm(app: CapconApp, account: SimAccount, audit: Path) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        made, table = table_plan(app, account, "audit-log", 1200)
        app.apply_plan(made, table)  # the paused account stays UPDATING: the scaler waits
        deadline = time.monotonic() + 30
        while not AuditLog(audit).read():
            assert time.monotonic() < deadline, "no intent recorded"
            await pilot.pause(0.05)
        os.kill(os.getpid(), signal.SIGTERM)
        deadline = time.monotonic() + 30
        while app.is_running:
            assert time.monotonic() < deadline, "SIGTERM did not close the console"
            await pilot.pause(0.05)
