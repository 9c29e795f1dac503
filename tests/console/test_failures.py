"""Workers that fail: every failure becomes a notification naming what failed.

Each test injects a failure nobody expected (a ``RuntimeError``, an ``OSError`` from the
audit log) into one of the console's workers and checks the one handler,
``CapconApp.on_worker_state_changed``, turned it into an error notification whose title says
which work failed, with the error's text made safe to show; and that the console still runs.
The backend's own errors (``CapconError``) keep their own handling, tested in
test_console.py and test_detail.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from textual.content import Content
from textual.notifications import Notification
from textual.widgets import Input

from capcon.core.backends.sim.account import SimAccount
from capcon.core.ports import MetricQuery, MetricSeries, RequestCounter
from capcon.tui.console.app import CapconApp
from capcon.tui.console.failures import error_text
from capcon.tui.console.modals.scale import ScaleModal
from capcon.tui.console.screens.detail import DetailScreen
from capcon.tui.console.testing import demo_console, settle
from capcon.tui.text import markup_safe, printable

NOW = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
SIZE = (160, 50)


def make_app(audit_path: Path, **options: Any) -> tuple[CapconApp, SimAccount]:
    return demo_console(audit_path, now=NOW, **options)


async def started(app: CapconApp, pilot: Any) -> None:
    app.action_refresh()
    await settle(app, pilot)
    assert app.snapshot is not None, app.last_error


def failures(app: CapconApp) -> list[Notification]:
    """Error notifications from the worker-failure handler (their titles end in "failed")."""
    return [n for n in app._notifications if n.severity == "error" and n.title.endswith(" failed")]


def shown(notification: Notification) -> str:
    """What the toast shows of the message (it is rendered as markup)."""
    return Content.from_markup(notification.message).plain


def write_units(acc: SimAccount, table: str) -> int:
    capacity = acc.describe_table(table).provisioned
    assert capacity is not None
    return capacity.write


# --------------------------------------------------------------------------------------------
# The scale preview: the worker that reads, and the modal opened on the UI thread
# --------------------------------------------------------------------------------------------


async def test_runtime_error_reading_for_the_scale_preview_is_notified(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, acc = make_app(tmp_path / "audit.jsonl")

    def broken(name: str) -> Any:
        # markup that would break the toast, and an escape sequence for the terminal
        raise RuntimeError("[b]lost[/b] the [/] socket\x1b[2J\nfor good")

    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        main = app.screen
        monkeypatch.setattr(acc, "describe_table", broken)
        app.jump_to("orders")
        app.action_scale()
        await settle(app, pilot)
        await pilot.pause()  # the toast is drawn

        assert app.is_running and app.screen is main  # no modal, no crash
        [failure] = failures(app)
        assert failure.title == "scale preview of orders failed"
        assert shown(failure) == "RuntimeError: [b]lost[/b] the [/] socket[2J for good"


async def test_error_opening_the_scale_modal_on_the_ui_thread_is_notified(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The modal is built on the UI thread (``call_from_thread``): its error comes back to
    the worker that asked, so the same handler says so."""
    app, _ = make_app(tmp_path / "audit.jsonl")

    def broken(self: ScaleModal, *args: Any, **kwargs: Any) -> None:
        raise ValueError("no plan for you")

    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        main = app.screen
        monkeypatch.setattr(ScaleModal, "__init__", broken)
        app.jump_to("orders")
        app.action_scale()
        await settle(app, pilot)

        assert app.is_running and app.screen is main
        [failure] = failures(app)
        assert failure.title == "scale preview of orders failed"
        assert shown(failure) == "ValueError: no plan for you"


# --------------------------------------------------------------------------------------------
# Apply: the audit log cannot be written
# --------------------------------------------------------------------------------------------


async def test_audit_log_that_cannot_be_written_refuses_the_apply_visibly(tmp_path: Path) -> None:
    """A directory where the log should be: the scaler refuses before sending (a clear
    notification naming the path and the reason), not a worker failure with a traceback."""
    audit_path = tmp_path / "audit.jsonl"
    audit_path.mkdir()
    app, acc = make_app(audit_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        main = app.screen
        app.jump_to("audit-log")
        app.action_scale()
        await settle(app, pilot)
        modal = app.screen
        assert isinstance(modal, ScaleModal)
        modal.query_one("#wcu", Input).value = "800"
        await pilot.pause()
        await pilot.click("#apply")
        await settle(app, pilot)

        assert app.is_running and app.screen is main
        assert failures(app) == []  # no worker failed
        [refusal] = [n for n in app._notifications if n.severity == "error"]
        text = shown(refusal)
        assert text.startswith("refused: ")
        assert str(audit_path) in text and "it is a directory" in text
        assert "nothing was sent" in text
        # the log could not be opened for append, so nothing was sent
        assert write_units(acc, "audit-log") == 1000


# --------------------------------------------------------------------------------------------
# Polls: the failure is said, and polling goes on
# --------------------------------------------------------------------------------------------


async def test_unexpected_error_in_a_poll_is_notified_and_polling_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # automatic polling on, at a pace no test run reaches (and the clock is paused: 5 s)
    app, acc = make_app(tmp_path / "audit.jsonl", poll=True, sim_refresh_seconds=600.0)

    def broken(
        queries: list[MetricQuery],
        start: datetime,
        end: datetime,
        *,
        sent: RequestCounter | None = None,
    ) -> list[MetricSeries]:
        raise KeyError("m_cr")

    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.snapshot is not None
        before = app.snapshot
        monkeypatch.setattr(acc, "get_metric_data", broken)
        app.poll_now()
        assert app._poll_timer is None  # dropped by poll_now: only the failure can set one
        await settle(app, pilot)

        assert app.is_running
        [failure] = failures(app)
        assert failure.title == "poll failed"
        assert shown(failure) == "KeyError: 'm_cr'"
        assert app.last_error == "KeyError: 'm_cr'"
        assert app.snapshot is before  # the last good data stay
        assert app._poll_timer is not None  # the next poll is on its way


# --------------------------------------------------------------------------------------------
# The detail screen forwards its worker's failures to the same handler
# --------------------------------------------------------------------------------------------


async def test_unexpected_error_in_a_detail_fetch_is_notified_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, acc = make_app(tmp_path / "audit.jsonl")

    def broken(
        queries: list[MetricQuery],
        start: datetime,
        end: datetime,
        *,
        sent: RequestCounter | None = None,
    ) -> list[MetricSeries]:
        raise ZeroDivisionError("division by zero")

    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        app.jump_to("orders")
        app.action_detail()
        await settle(app, pilot)
        assert isinstance(app.screen, DetailScreen)
        screen: DetailScreen = app.screen
        assert screen.data is not None
        paints = screen.paints

        monkeypatch.setattr(acc, "get_metric_data", broken)
        screen.action_refresh()
        await settle(app, pilot)
        screen.action_refresh()  # the same failure again: said once
        await settle(app, pilot)

        assert app.is_running
        assert app.screen is screen
        [failure] = failures(app)
        assert failure.title == "detail of orders failed"
        assert shown(failure) == "ZeroDivisionError: division by zero"
        assert screen.last_error == "ZeroDivisionError: division by zero"
        assert screen.paints == paints  # the last good charts stay up


# --------------------------------------------------------------------------------------------
# The words
# --------------------------------------------------------------------------------------------


def test_error_text_is_one_printable_line() -> None:
    assert error_text(OSError(28, "No space left on device")) == (
        "OSError: [Errno 28] No space left on device"
    )
    assert error_text(RuntimeError()) == "RuntimeError"
    assert error_text(None) == "unknown error"
    assert error_text(ValueError("a\tb\r\nc\x00d\x9be")) == "ValueError: a b  cde"
    assert printable("\x1b]0;title\x07ok") == "]0;titleok"


def test_markup_safe_text_shows_as_written() -> None:
    for text in ("[b]bold[/b]", "[/]", "[link=http://x]x[/link]", "list [1, 2]", "@click"):
        assert Content.from_markup(markup_safe(text)).plain == text
