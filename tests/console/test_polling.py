"""Visibility-aware polling with an idle back-off: the pure policy, then the console on it.

The console part runs the demo account without its simulation controls, so the console
treats it as AWS (it polls by the policy, not every second), with the policy's clock replaced by a
number the test moves: no test waits for a timer to fire.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from capcon.core.backends.sim.account import SimAccount
from capcon.core.backends.sim.scenarios import build_scenario
from capcon.core.config.prices import load_price_book
from capcon.core.polling import PollPolicy, PollPolicyError, PollStep
from capcon.core.rules import RuleSettings
from capcon.core.services.audit import AuditLog, Origin
from capcon.tui.console.app import CapconApp, ConsoleOptions
from capcon.tui.console.screens.detail import DetailScreen
from capcon.tui.console.testing import demo_console, settle, status_bar

NOW = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
SIZE = (160, 50)

# --------------------------------------------------------------------------------------------
# The policy
# --------------------------------------------------------------------------------------------


def test_in_use_visible_rows_every_minute_off_screen_rows_every_15_minutes() -> None:
    policy = PollPolicy()
    assert policy.step(now=0, last_input=0, last_hidden=None) == PollStep(True, False, 60)
    assert policy.step(now=60, last_input=30, last_hidden=0) == PollStep(False, False, 60)
    assert policy.step(now=899, last_input=850, last_hidden=0).hidden is False
    assert policy.step(now=900, last_input=850, last_hidden=0).hidden is True


def test_idle_after_five_minutes_without_input_polls_every_5_minutes_and_hourly() -> None:
    policy = PollPolicy()
    assert not policy.is_idle(now=299, last_input=0)
    step = policy.step(now=300, last_input=0, last_hidden=0)
    assert step == PollStep(hidden=False, idle=True, delay=300)
    # off-screen rows: 15 min is no longer enough while idle, an hour is
    assert policy.step(now=1800, last_input=0, last_hidden=0).hidden is False
    assert policy.step(now=3600, last_input=0, last_hidden=0).hidden is True


def test_idle_after_zero_never_backs_off() -> None:
    policy = PollPolicy(idle_after_seconds=0)
    step = policy.step(now=10**6, last_input=0, last_hidden=10**6 - 60)
    assert step == PollStep(hidden=False, idle=False, delay=60)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"visible_seconds": 0}, "visible_seconds must be a positive number of seconds, got 0"),
        ({"hidden_seconds": float("nan")}, "hidden_seconds must be a positive number"),
        ({"idle_after_seconds": -1}, "idle_after_seconds must be 0 (never idle)"),
        (
            {"hidden_seconds": 30},
            "hidden_seconds (30 seconds) must be at least visible_seconds (60 seconds)",
        ),
        (
            {"idle_visible_seconds": 10},
            "idle_visible_seconds (10 seconds) must be at least visible",
        ),
        ({"idle_hidden_seconds": 600}, "idle_hidden_seconds (600 seconds) must be at least hidden"),
    ],
)
def test_bad_intervals_are_refused_naming_them(kwargs: dict[str, float], expected: str) -> None:
    with pytest.raises(PollPolicyError) as caught:
        PollPolicy(**kwargs)
    assert expected in str(caught.value)


def test_metrics_per_hour_of_1000_tables_and_200_streams() -> None:
    """200 series on screen out of 5,000 (bench_refresh.py's account)."""
    policy = PollPolicy()
    assert policy.metrics_per_hour(200, 5000, idle=False) == 60 * 200 + 4 * 4800
    assert policy.metrics_per_hour(200, 5000, idle=True) == 12 * 200 + 1 * 4800
    everything = PollPolicy(60, 60, 0, 60, 60)
    assert everything.metrics_per_hour(200, 5000, idle=False) == 300_000
    # off-screen rows ride along with the first visible poll at or after their interval
    assert PollPolicy(60, 90).metrics_per_hour(0, 100, idle=False) == 30 * 100


# --------------------------------------------------------------------------------------------
# The console
# --------------------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def aws_console(tmp_path: Path, policy: PollPolicy) -> tuple[CapconApp, SimAccount, FakeClock]:
    account = build_scenario("demo", NOW)
    account.clock.paused = True
    app = CapconApp(  # no simulation controls: the console treats the account as AWS
        account,
        Origin("aws", "aws:test", region="us-east-1"),
        RuleSettings(),
        load_price_book("us-east-1"),
        AuditLog(tmp_path / "audit.jsonl"),
        ConsoleOptions(polling=policy, poll=True),
    )
    clock = FakeClock()
    app.clock = clock
    app._last_input = clock.now
    return app, account, clock


def pending_polls(app: CapconApp) -> list[Any]:
    """The timers that will start a poll (set_timer wraps the callback in a partial)."""

    def target(callback: Any) -> Any:
        return callback.args[0] if isinstance(callback, functools.partial) else callback

    return [
        t
        for t in app._timers
        if target(t._callback) == app.poll and t._task is not None and not t._task.done()
    ]


async def first_two_polls(app: CapconApp, pilot: Any) -> None:
    """The first screen's poll and the one after the first frame (0.2 s later)."""
    for _ in range(100):
        await settle(app, pilot)
        if app._polls >= 2 and pending_polls(app):
            return
        await pilot.pause(0.05)
    raise AssertionError(f"polls: {app._polls}")


async def test_console_on_aws_is_not_idle_while_used_and_keeps_one_chain_of_polls(
    tmp_path: Path,
) -> None:
    app, _account, _clock = aws_console(tmp_path, PollPolicy(3600, 3600, 600, 3600, 3600))
    async with app.run_test(size=SIZE) as pilot:
        await first_two_polls(app, pilot)
        assert app._step is not None and app._step.hidden  # poll 2: everything
        for _ in range(3):
            await pilot.press("r")
            await settle(app, pilot)
        assert app._polls == 5
        assert len(pending_polls(app)) == 1  # refreshes replace the timed poll
        assert not app.idle
        assert "idle" not in status_bar(app)


async def test_idle_console_backs_off_and_the_next_key_refreshes_at_once(tmp_path: Path) -> None:
    app, account, clock = aws_console(tmp_path, PollPolicy())
    async with app.run_test(size=SIZE) as pilot:
        await first_two_polls(app, pilot)
        assert app._poll_step() == PollStep(hidden=False, idle=False, delay=60)
        clock.now += 301
        assert app.idle
        step = app._poll_step()
        assert (step.idle, step.delay, step.hidden) == (True, 300, False)
        # a visible-only poll while idle: the status says so, and how old off-screen rows are
        account.advance(120)
        app.poll()
        await settle(app, pilot)
        assert app._step is not None and not app._step.hidden
        status = status_bar(app)
        assert "idle: every 5 min, any key resumes" in status
        assert "off-screen 01:30" in status
        polls = app._polls
        clock.now += 900  # 20 min since the last full poll: the waking poll fetches everything
        await pilot.press("down")
        await settle(app, pilot)
        assert app._polls == polls + 1
        assert app._step is not None and app._step.hidden and not app._step.idle
        assert not app.idle
        assert "idle" not in status_bar(app)
        assert "off-screen" not in status_bar(app)
        assert len(pending_polls(app)) == 1


async def test_detail_screen_slows_to_the_idle_pace(tmp_path: Path) -> None:
    app, _account, clock = aws_console(tmp_path, PollPolicy())
    async with app.run_test(size=SIZE) as pilot:
        await first_two_polls(app, pilot)
        app.jump_to("orders")
        app.action_detail()
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, DetailScreen)
        assert screen._interval() == 15.0
        clock.now += 301
        assert screen._interval() == 300.0


async def test_simulated_console_is_never_idle(tmp_path: Path) -> None:
    app, _account = demo_console(tmp_path / "audit.jsonl", now=NOW)
    async with app.run_test(size=SIZE) as pilot:
        app.clock = lambda: 10.0**9
        await pilot.pause()
        assert not app.idle
        app._polls = 3
        assert app._poll_step() == PollStep(hidden=True, idle=False, delay=5.0)  # paused


def test_help_says_how_the_aws_console_polls() -> None:
    from capcon.tui.console.screens.help import HelpScreen

    text = HelpScreen(False, False, PollPolicy()).text
    assert "Rows on screen are polled every 1 min, the rest every 15 min" in text
    # the help says an hour as the status bar does (it said "60 min" before)
    assert "after 5 min without a key, click or scroll, every 5 min and 1 h" in text
    never = HelpScreen(False, False, PollPolicy(30, 600, 0, 30, 600)).text
    assert "every 30 s, the rest every 10 min" in never and "without a key" not in never
    assert "Rows on screen" not in HelpScreen(True, False, PollPolicy()).text


# --------------------------------------------------------------------------------------------
# The pace: AWS's policy or the simulated clock
# --------------------------------------------------------------------------------------------


def test_simulated_pace_catches_the_clock_up_with_real_time() -> None:
    from capcon.tui.console.pace import AwsPace, SimulatedPace

    account = build_scenario("demo", NOW)
    real = FakeClock()
    pace = SimulatedPace(account.controls, 1.0, real_clock=real)
    account.controls.speed = 60
    real.now += 30
    pace.before_poll(first=True)  # the first poll only starts counting
    assert account.now() == NOW
    real.now += 2
    pace.before_poll(first=False)
    assert (account.now() - NOW).total_seconds() == 120  # 2 real s at 60×
    real.now += 600  # a suspended laptop: at most 5 real seconds are caught up
    pace.before_poll(first=False)
    assert (account.now() - NOW).total_seconds() == 120 + 300
    real.now += 3
    pace.restart()  # paused or resumed just now: the 3 s before do not count
    real.now += 1
    pace.before_poll(first=False)
    assert (account.now() - NOW).total_seconds() == 120 + 300 + 60

    assert not pace.is_idle(10.0**9, 0.0)
    assert pace.step(0, 0, None) == PollStep(True, False, 1.0)
    account.controls.pause()
    assert pace.step(0, 0, None) == PollStep(True, False, 5.0)

    policy = PollPolicy()
    aws = AwsPace(policy)
    assert aws.step(900, 850, 0) == policy.step(900, 850, 0)
    assert aws.is_idle(10.0**9, 0.0)
