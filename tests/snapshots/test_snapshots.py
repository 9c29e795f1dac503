"""Snapshot tests of the console's screens (pytest-textual-snapshot, SVG under __snapshots__).

Fixed terminal size and a frozen clock: the demo account's simulated clock is paused at
``NOW`` and the status bar, plan and detail screen print simulated time only.  Automatic
polling is off and the test makes exactly one poll, because the status bar counts
CloudWatch calls and, against the simulated account, the console polls every second.  Input
cursors stop blinking (a blink half-way through a screenshot would flip a cell).

Update after a deliberate visual change with ``pytest tests/test_snapshots.py
--snapshot-update`` and look at the SVGs before committing them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from capcon.core.planning.events import EventPlan
from capcon.tui.console.app import CapconApp
from capcon.tui.console.modals.event import EventModal
from capcon.tui.console.modals.scale import ScaleModal
from capcon.tui.console.screens.detail import DetailScreen
from capcon.tui.console.screens.help import HelpScreen
from capcon.tui.console.testing import demo_console, settle
from capcon.tui.console.widgets.preview import Preview
from capcon.tui.lab.app import LabApp

NOW = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
SIZE = (160, 50)
#: the sizes every main screen is checked at (issue 19): a laptop's split pane, the usual
#: terminal, a wide monitor or a projector's full screen
SIZES = {"100x30": (100, 30), "160x50": SIZE, "240x60": (240, 60)}

SnapCompare = Callable[..., bool]


def make_app(tmp_path: Path, theme: str | None = None) -> CapconApp:
    app, _account = demo_console(tmp_path / "audit.jsonl", now=NOW)
    # the help names the screenshot folder: one that is the same at every run
    app.options.screenshot_dir = Path("/var/tmp/capcon-screenshots")
    if theme is not None:
        app.options.theme = theme
    return app


@pytest.fixture(autouse=True)
def charts_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The list's preview pane mounts its charts half a second after it first shows (start-up
    time); here at once, so that :func:`steady` sees them drawn."""
    monkeypatch.setattr(Preview, "mount_delay", 0)


def _pending(table: DataTable[Any]) -> bool:
    # DataTable sizes its columns for new or updated cells on its next Idle event; under CPU
    # load a screenshot can come first (rows cut to the header's widths).  Textual has no
    # public "layout settled" signal for this, hence the private flags.
    return bool(table._require_update_dimensions or table._new_rows or table._updated_cells)


async def steady(pilot: Pilot[Any]) -> None:
    """Workers done, every DataTable has sized its columns, and the screen has stopped
    changing (two screenshots in a row alike).

    Called before a screen is pushed too: a modal shows the screen beneath as it was last
    drawn, so that must be the finished list, not a frame in the middle of an update.
    """
    await settle(pilot.app, pilot)
    app = pilot.app
    for _ in range(200):
        tables = [t for screen in app.screen_stack for t in screen.query(DataTable)]
        if not any(_pending(t) for t in tables):
            break
        await pilot.pause(0.01)
    else:
        raise AssertionError("a DataTable never settled its column widths")
    previous = ""
    for _ in range(100):
        await pilot.pause(0.02)
        shot = app.export_screenshot()
        if shot == previous:
            return
        previous = shot
    raise AssertionError("the screen never stopped changing")


async def first_poll(pilot: Pilot[Any]) -> CapconApp:
    app = pilot.app
    assert isinstance(app, CapconApp)
    app.action_refresh()
    await steady(pilot)  # before any screen goes on top: the list under it is drawn as it is
    assert app.snapshot is not None, app.last_error
    return app


async def on_top(
    pilot: Pilot[Any], push: Callable[[CapconApp], None], sentinel: str | None = "recommendations"
) -> None:
    """Push a screen over the finished list and wait until it is drawn.

    A modal shows the list beneath as it was last drawn.  Under heavy CPU load (parallel
    workers on a busy machine) that frame has once been caught in the middle of a DataTable
    update (columns at their header widths) and stayed so; if the full list is not visible
    beneath, close the screen and open it again (a few times at most).
    """
    app = pilot.app
    assert isinstance(app, CapconApp)
    for _ in range(3):
        push(app)
        await steady(pilot)
        # a name only the list shows (None: the screen covers the list, nothing to check)
        if sentinel is None or sentinel in app.export_screenshot():
            return
        app.pop_screen()
        await steady(pilot)
    raise AssertionError("the list beneath the screen was drawn mid-update three times")


def steady_cursors(app: CapconApp) -> None:
    for box in app.screen.query(Input):
        box.cursor_blink = False


def test_list(snap_compare: SnapCompare, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = await first_poll(pilot)
        app.jump_to("user-events")  # a throttling row under the cursor
        await steady(pilot)

    assert snap_compare(make_app(tmp_path), terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("size", ["100x30", "240x60"])
def test_list_at(snap_compare: SnapCompare, tmp_path: Path, size: str) -> None:
    """The list where the columns that matter must survive (100x30: sparklines short, words
    compact, no preview) and where spare room goes to longer sparklines and the preview."""

    async def run_before(pilot: Pilot[Any]) -> None:
        app = await first_poll(pilot)
        app.jump_to("user-events")
        await steady(pilot)

    assert snap_compare(make_app(tmp_path), terminal_size=SIZES[size], run_before=run_before)


@pytest.mark.parametrize("theme", ["capcon-projector", "capcon-light", "capcon-colorblind"])
def test_list_theme(snap_compare: SnapCompare, tmp_path: Path, theme: str) -> None:
    """The list in each of the other themes (the dark one is :func:`test_list`)."""

    async def run_before(pilot: Pilot[Any]) -> None:
        app = await first_poll(pilot)
        assert app.theme == theme
        app.jump_to("user-events")
        await steady(pilot)

    assert snap_compare(make_app(tmp_path, theme), terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("size", ["100x30", "240x60"])
def test_detail_orders_at(snap_compare: SnapCompare, tmp_path: Path, size: str) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = await first_poll(pilot)
        app.jump_to("orders")
        await steady(pilot)
        app.action_detail()
        await settle(pilot.app, pilot)
        screen = app.screen
        assert isinstance(screen, DetailScreen) and screen.data is not None, screen
        await steady(pilot)

    assert snap_compare(make_app(tmp_path), terminal_size=SIZES[size], run_before=run_before)


def test_scale_modal_at_100x30(snap_compare: SnapCompare, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = await first_poll(pilot)
        app.jump_to("audit-log")
        await steady(pilot)
        await on_top(pilot, CapconApp.action_scale, sentinel=None)
        modal = app.screen
        assert isinstance(modal, ScaleModal), modal
        modal.query_one("#wcu", Input).value = "800"
        steady_cursors(app)
        await steady(pilot)

    assert snap_compare(make_app(tmp_path), terminal_size=SIZES["100x30"], run_before=run_before)


def test_detail_orders(snap_compare: SnapCompare, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = await first_poll(pilot)
        app.jump_to("orders")
        await steady(pilot)
        app.action_detail()
        await settle(pilot.app, pilot)
        screen = app.screen
        assert isinstance(screen, DetailScreen) and screen.data is not None, screen
        await steady(pilot)

    assert snap_compare(make_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_scale_modal_audit_log_decrease(snap_compare: SnapCompare, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = await first_poll(pilot)
        app.jump_to("audit-log")
        await steady(pilot)
        await on_top(pilot, CapconApp.action_scale)
        modal = app.screen
        assert isinstance(modal, ScaleModal), modal
        modal.query_one("#wcu", Input).value = "800"
        steady_cursors(app)
        await steady(pilot)

    assert snap_compare(make_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_help(snap_compare: SnapCompare, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = await first_poll(pilot)
        await on_top(pilot, CapconApp.action_help)
        assert isinstance(app.screen, HelpScreen)

    assert snap_compare(make_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_detail_flash_sale_event(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """The demo's upcoming event on the detail charts: the axis runs past now to the raise,
    the planned line, the marks, and the side panel's list of the event's steps."""

    async def run_before(pilot: Pilot[Any]) -> None:
        app = await first_poll(pilot)
        app.jump_to("flash-sale")
        await steady(pilot)
        app.action_detail()
        await settle(pilot.app, pilot)
        screen = app.screen
        assert isinstance(screen, DetailScreen) and screen.data is not None, screen
        await steady(pilot)

    assert snap_compare(make_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_event_modal_audit_log(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """The event modal's live preview: audit-log at 1,500 WCU from +2h to +4h (a table
    without auto scaling: a scheduled-only target and its scheduled actions)."""

    async def run_before(pilot: Pilot[Any]) -> None:
        app = await first_poll(pilot)
        app.jump_to("audit-log")
        await steady(pilot)
        await on_top(pilot, CapconApp.action_event)
        modal = app.screen
        assert isinstance(modal, EventModal), modal
        modal.query_one("#event-start", Input).value = "+2h"
        modal.query_one("#event-end", Input).value = "+4h"
        modal.query_one("#event-wcu", Input).value = "1500"
        # the rehearsal of reactive scaling, done before the screenshot (its timer would
        # otherwise fire at some point of it)
        await pilot.pause()
        modal._start_rehearsal()
        steady_cursors(app)
        await steady(pilot)
        plan = modal.result
        assert isinstance(plan, EventPlan), plan
        assert any(c.label.startswith("reactive (") for c in plan.costs)

    assert snap_compare(make_app(tmp_path), terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("size", list(SIZES))
def test_lab_at(snap_compare: SnapCompare, size: str) -> None:
    """The lab after its 3 h experiment (field note B's bell at 80 %), four lanes on one
    y-scale: every chart drawn with round ticks at each size, the results table under them."""

    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, LabApp)
        app.advance(3 * 3600)
        await pilot.pause()
        previous = ""
        for _ in range(100):
            await pilot.pause(0.02)
            shot = app.export_screenshot()
            if shot == previous:
                return
            previous = shot
        raise AssertionError("the lab never stopped changing")

    lab = LabApp("bell", 80.0, ("aas-legacy", "h1", "h2", "capcon"), autoplay=False)
    assert snap_compare(lab, terminal_size=SIZES[size], run_before=run_before)
