"""Planned events in the console (issue 18), driven through Textual's Pilot on the paused
demo account: the mark and time to the next step on each row, the raise and restore on the
detail charts' time axis, and the event modal (key ``e``, in ``?`` help and the palette)
with its live preview, applied through the scaler as scheduled actions.

The demo's ``flash-sale`` table holds an upcoming event (scheduled actions put at start-up:
raise at 02:15, restore at 03:15, the demo's "now" being 01:30).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.widgets import Button, Input, Static

from capcon.core.backends.sim.account import SimAccount, TableSpec
from capcon.core.backends.sim.scenarios import DEMO_EVENT_TABLE
from capcon.core.backends.sim.traffic import Steady
from capcon.core.model import Throughput
from capcon.core.planning.events import EventPlan
from capcon.core.planning.planner import Refusal
from capcon.core.planning.schedules import ACTION_PREFIX
from capcon.core.ports import TABLE_WRITE, ScalableTarget, ScheduledAction, at_schedule
from capcon.tui.console.app import CapconApp
from capcon.tui.console.events import compact_duration, row_cell
from capcon.tui.console.modals.event import EventModal, parse_warm
from capcon.tui.console.screens.detail import ChartPanel, DetailScreen, event_horizon
from capcon.tui.console.screens.help import HelpScreen
from capcon.tui.console.testing import demo_console, plain, settle
from capcon.tui.console.widgets.resource_list import ResourceList

NOW = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
SIZE = (160, 50)


def make_app(tmp_path: Path, **options: Any) -> tuple[CapconApp, SimAccount]:
    return demo_console(tmp_path / "audit.jsonl", now=NOW, **options)


async def started(app: CapconApp, pilot: Any) -> None:
    app.action_refresh()
    await settle(app, pilot)
    assert app.snapshot is not None, app.last_error


def name_cell(app: CapconApp, name: str) -> str:
    value = app.query_one(ResourceList).get_cell(name, "name")
    assert isinstance(value, Text)
    return value.plain


def capcon_actions(account: SimAccount, table: str) -> list[ScheduledAction]:
    return [
        a
        for a in account.describe_scheduled_actions(f"table/{table}")
        if a.name.startswith(ACTION_PREFIX)
    ]


async def open_event(app: CapconApp, pilot: Any, name: str) -> EventModal:
    app.jump_to(name)
    selected = app.selected_row()
    assert selected is not None and selected.name == name
    await pilot.press("e")  # the key is the feature
    await settle(app, pilot)
    modal = app.screen
    assert isinstance(modal, EventModal), modal
    return modal


# --------------------------------------------------------------------------------------------
# Rows
# --------------------------------------------------------------------------------------------


def test_compact_durations_fit_a_narrow_cell() -> None:
    assert compact_duration(timedelta(minutes=45, seconds=59)) == "45m"
    assert compact_duration(timedelta(hours=2, minutes=10)) == "2h10"
    assert compact_duration(timedelta(days=3, hours=4, minutes=5)) == "3d04"
    assert compact_duration(timedelta(seconds=-5)) == "0m"
    assert row_cell((), NOW) == ""


async def test_a_row_with_an_upcoming_event_shows_the_mark_and_the_time_to_its_raise(
    tmp_path: Path,
) -> None:
    app, account = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        # raise at 02:15, the demo at 01:30: 45 minutes to go; the name stays readable
        text = name_cell(app, DEMO_EVENT_TABLE)
        assert text.startswith(DEMO_EVENT_TABLE) and text.endswith("◷ 45m"), text
        assert len(text) == 24  # the name column's width: the mark never pushes it wider
        # rows without an event or a recent change: the name alone
        assert name_cell(app, "payments").strip() == "payments"

        # 50 simulated minutes later the event is raised: the row counts down to the restore
        assert app.controls is not None
        app.controls.step(50 * 60)
        await started(app, pilot)
        text = name_cell(app, DEMO_EVENT_TABLE)
        assert text.endswith("▲ 55m"), text  # 02:20, restore at 03:15

        # after the restore, no event mark is left on the row (auto scaling's recent
        # changes may be: test_oncall_changes.py)
        app.controls.step(60 * 60)
        await started(app, pilot)
        assert not {"◷", "▲"} & set(name_cell(app, DEMO_EVENT_TABLE))
        del account


async def test_a_long_name_is_cut_to_keep_the_mark_and_events_are_escaped(
    tmp_path: Path,
) -> None:
    app, account = make_app(tmp_path)
    # another scheduled action of the account (not capcon's), with a hostile name, on the
    # demo's checkout (auto scaled: a target on its writes)
    hostile = ScheduledAction(
        "[red]boom\x1b[2J",
        "table/checkout",
        TABLE_WRITE,
        at_schedule(NOW + timedelta(hours=3, minutes=5)),
        min_capacity=900,
    )
    # stored directly, as an answer from AWS may carry it (the account checks names on put)
    account.scheduled[(hostile.name, hostile.resource_id, hostile.dimension)] = hostile
    # a name longer than the column: cut with an ellipsis, the mark kept whole
    long_name = "orders-archive-2026-black-friday-" + "x" * 40
    account.add_table(TableSpec(long_name, Throughput(10, 10), reads=Steady(1), writes=Steady(1)))
    account.register_scalable_target(ScalableTarget(f"table/{long_name}", TABLE_WRITE, 5, 100))
    account.put_scheduled_action(
        dataclasses.replace(
            hostile, name="x", resource_id=f"table/{long_name}",
            schedule=at_schedule(NOW + timedelta(days=2, hours=1)),
        )
    )  # fmt: skip
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        text = name_cell(app, "checkout")
        assert text.endswith("◷ 3h05"), text
        text = name_cell(app, long_name)
        assert text == "orders-archive-2… ◷ 2d01" and len(text) == 24, text
        app.jump_to("checkout")
        app.action_detail()
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, DetailScreen) and screen.data is not None
        panel = plain(screen.query_one("#detail-panel", Static))
        assert "Planned events (1)" in panel
        assert "\x1b" not in panel and "[red]boom" in panel  # shown as written, escaped


# --------------------------------------------------------------------------------------------
# Detail charts
# --------------------------------------------------------------------------------------------


def test_the_axis_runs_past_now_only_as_far_as_the_events_need() -> None:
    from capcon.tui.console.events import EventMark

    end, span = NOW, timedelta(hours=3)
    assert event_horizon((), (), end, span) == timedelta(0)
    soon = EventMark(NOW + timedelta(minutes=45), "raise", "abcd1234", "write", 858)
    assert event_horizon((soon,), (), end, span) == timedelta(minutes=45) + span / 12
    far = EventMark(NOW + timedelta(hours=5), "restore", "abcd1234", "write", 40)
    assert event_horizon((far,), (), end, span) == timedelta(0)  # said in the head instead
    # the planned line to a restore beyond the horizon: half a window at most
    assert event_horizon((soon,), ((soon.at, far.at, 858),), end, span) == span / 2


async def test_the_detail_charts_mark_the_raise_and_restore_on_the_dimension_they_change(
    tmp_path: Path,
) -> None:
    app, _account = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        app.jump_to(DEMO_EVENT_TABLE)
        app.action_detail()
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, DetailScreen) and screen.data is not None
        writes = plain(screen.query_one("#chart-writes .chart-head", Static))
        reads = plain(screen.query_one("#chart-reads .chart-head", Static))
        # the planned line's legend and the steps to come, on the chart of the writes only
        assert "━ planned ↑02:15 ↓03:15" in writes, writes
        assert "planned" not in reads and "↑" not in reads, reads
        # the side panel lists the event's steps with the capacity the raise guarantees
        panel = plain(screen.query_one("#detail-panel", Static))
        assert "Planned events (1)" in panel
        assert "↑ raise 02:15 (in 45 min) · min 858 WCU" in panel, panel
        assert "↓ restore 03:15 (in 1 h 45 min) · min 40 WCU" in panel, panel
        # both charts' time axes run past now alike (their times line up): to half a
        # window, as the planned line runs on to the restore beyond it
        for key in ("reads", "writes"):
            assert screen.query_one(f"#chart-{key}", ChartPanel).ahead == timedelta(hours=1.5)


# --------------------------------------------------------------------------------------------
# The event modal
# --------------------------------------------------------------------------------------------


def test_warm_is_typed_as_reads_slash_writes() -> None:
    warm = parse_warm("12,000/4000")
    assert warm is not None
    assert (warm.read_units_per_second, warm.write_units_per_second) == (12_000, 4_000)
    assert parse_warm("  ") is None
    for bad, words in (("12000", "not R/W"), ("x/1", "not a whole number"), ("-1/2", "negative")):
        try:
            parse_warm(bad)
        except ValueError as error:
            assert words in str(error)
        else:
            raise AssertionError(f"{bad!r} was accepted")


async def test_the_event_key_is_in_help_and_the_palette_and_absent_when_read_only(
    tmp_path: Path,
) -> None:
    app, _account = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        commands = [c.title for c in app.get_system_commands(app.screen)]
        assert "Planned event" in commands
        app.action_help()
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert "planned event" in app.screen.text and "◷ 2h10" in app.screen.text
    app, _account = make_app(tmp_path, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        assert "Planned event" not in [c.title for c in app.get_system_commands(app.screen)]
        await pilot.press("e")
        await settle(app, pilot)
        assert not isinstance(app.screen, EventModal)


async def test_the_modal_previews_as_you_type_and_escape_changes_nothing(
    tmp_path: Path,
) -> None:
    app, account = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        before = capcon_actions(account, "audit-log")
        modal = await open_event(app, pilot, "audit-log")
        apply_button = modal.query_one("#event-apply", Button)
        # opened with an hour from now, for an hour, at the current capacity: say what to type
        assert modal.result is None and apply_button.disabled
        modal.query_one("#event-wcu", Input).value = "1500"
        await pilot.pause()
        plan = modal.result
        assert isinstance(plan, EventPlan), plan
        assert plan.request.write == 1500 and plan.request.read is None
        assert plan.request.start == NOW + timedelta(hours=1)
        shown = plain(modal.query_one("#event-plan", Static))
        assert f"event {plan.event_id}" in shown and "timeline" in shown
        assert not apply_button.disabled

        # a start that is not a time: the message says what is allowed, nothing to apply
        modal.query_one("#event-start", Input).value = "tomorrow-ish"
        await pilot.pause()
        message = plain(modal.query_one("#event-message", Static))
        assert message.startswith("✗ start:") and "tomorrow-ish" in message, message
        assert modal.result is None and apply_button.disabled

        # an end before the start: the core refuses, the preview says why
        modal.query_one("#event-start", Input).value = "+3h"
        await pilot.pause()
        assert isinstance(modal.result, Refusal)
        assert "refused" in plain(modal.query_one("#event-plan", Static))
        assert apply_button.disabled

        await pilot.press("escape")
        await settle(app, pilot)
        assert not isinstance(app.screen, EventModal)
        assert capcon_actions(account, "audit-log") == before


async def test_enter_applies_the_event_as_scheduled_actions_and_the_row_shows_it(
    tmp_path: Path,
) -> None:
    app, account = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        modal = await open_event(app, pilot, "audit-log")
        modal.query_one("#event-start", Input).value = "+2h"
        modal.query_one("#event-end", Input).value = "+4h"
        modal.query_one("#event-wcu", Input).value = "1500"
        await pilot.pause()
        plan = modal.result
        assert isinstance(plan, EventPlan), plan
        modal.query_one("#event-wcu", Input).focus()
        await pilot.press("enter")
        await settle(app, pilot)
        assert not isinstance(app.screen, EventModal)
        held = capcon_actions(account, "audit-log")
        assert sorted(a.name for a in held) == sorted(a.name for a in plan.actions)
        raised = next(a for a in held if "-raise-" in a.name)
        assert raised.at == plan.send_at and raised.min_capacity == 1500
        # the row shows the event once the list has read it again
        await started(app, pilot)
        assert name_cell(app, "audit-log").startswith("audit-log")
        assert "◷ " in name_cell(app, "audit-log")
        records = app.event_rows.get("audit-log", ())
        assert [r.event_id for r in records] == [plan.event_id]


async def test_a_big_peak_asks_for_the_name_and_enter_takes_the_keys_there(
    tmp_path: Path,
) -> None:
    """Seen in tmux: with a ×5 peak the name must be typed, but Enter left the focus in the
    capacity box, so the name typed next went into the WCU ("400inventory").  Enter now moves
    to the confirmation; the name typed there, Enter applies."""
    app, account = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        modal = await open_event(app, pilot, "audit-log")
        modal.query_one("#event-start", Input).value = "+2h"
        modal.query_one("#event-end", Input).value = "+4h"
        modal.query_one("#event-wcu", Input).value = "20000"
        await pilot.pause()
        assert isinstance(modal.result, EventPlan), modal.result
        assert modal.query_one("#event-confirm-row").display
        modal.query_one("#event-wcu", Input).focus()
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.focused is modal.query_one("#event-confirm-name", Input)
        for key in "audit-log":
            await pilot.press(key)
        await pilot.press("enter")
        await settle(app, pilot)
        assert not isinstance(app.screen, EventModal)
        assert capcon_actions(account, "audit-log")


async def test_no_input_breaks_the_modal_and_only_a_plan_can_be_applied(tmp_path: Path) -> None:
    """Hostile and random text in every input: a message or a preview, never a traceback;
    Apply is enabled only for an :class:`EventPlan`, and nothing typed reaches the terminal
    as markup or a control character."""
    import random

    odd = [
        "", " ", "+", "+0m", "+1h", "+2h", "+90m", "+1.5d", "+400d", "-1h", "+nanm", "+1e400h",
        "2026-11-23T04:00", "2026-11-23T04:00+01:00", "9999-12-31T23:59:59", "0001-01-01",
        "[red]x[/]", "\x1b[2J", "\x00", "1500", "-5", "1_000", "1,500", "99999999999999999999",
        "nan", "inf", "0", "12000/4000", "½", "٣",
    ]  # fmt: skip
    rng = random.Random(18)
    alphabet = "+-0123456789hmdT:.,/_ []\x1b\x00é"
    randoms = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(60)]
    app, account = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        before = capcon_actions(account, "audit-log")
        modal = await open_event(app, pilot, "audit-log")
        boxes = [modal.query_one(f"#event-{k}", Input) for k in ("start", "end", "rcu", "wcu")]
        apply_button = modal.query_one("#event-apply", Button)
        tried = 0
        for n, text in enumerate(odd + randoms):
            box = boxes[n % len(boxes)]
            box.value = text
            other = boxes[(n + 1) % len(boxes)]
            other.value = odd[(n * 7) % len(odd)]
            modal.recompute()
            tried += 1
            plan_ok = isinstance(modal.result, EventPlan)
            assert "planner failed" not in (modal.error or ""), (text, modal.error)
            assert apply_button.disabled or plan_ok, (text, modal.error)
            shown = plain(modal.query_one("#event-message", Static))
            assert "\x1b" not in shown and "\x00" not in shown
        assert tried == len(odd) + len(randoms) == 90
        await pilot.press("escape")
        await settle(app, pilot)
        assert capcon_actions(account, "audit-log") == before


def test_a_recurring_scheduled_action_is_marked_as_such_not_as_raised() -> None:
    from capcon.core.planning.schedules import EventRecord

    cron = EventRecord(
        "nightly", "checkout", None, "table", "aas", None, None, "running", {}, "cron(0 1 * * ? *)"
    )
    assert row_cell((cron,), NOW) == "↻"
    soon = EventRecord(
        "abcd1234", "checkout", None, "table", "capcon",
        NOW + timedelta(minutes=5), NOW + timedelta(hours=1), "upcoming", {}, "",
    )  # fmt: skip
    assert row_cell((soon, cron), NOW) == "◷ 5m +1"


async def test_the_preview_gains_reactive_scaling_rehearsed_once_typing_pauses(
    tmp_path: Path,
) -> None:
    """As ``capcon event plan``: reactive scaling rehearsed on the event's shape (here the
    checkout table's own AAS target tracking at 70 %), its cost and share served in the
    preview, without blocking the typing."""
    app, _account = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        modal = await open_event(app, pilot, "checkout")
        modal.query_one("#event-wcu", Input).value = "1800"
        await pilot.pause()
        plan = modal.result
        assert isinstance(plan, EventPlan)
        # typing paused: the timer starts the rehearsal in a thread (started here at once,
        # not waited for), and the preview is planned again with it
        modal._start_rehearsal()
        await settle(app, pilot)
        plan = modal.result
        assert isinstance(plan, EventPlan)
        reactive = [c for c in plan.costs if c.label.startswith("reactive")]
        assert [c.label for c in reactive] == ["reactive (aas at 70 %)"], plan.costs
        assert reactive[0].served is not None and reactive[0].served < 1.0  # it throttles
        assert "reactive (aas at 70 %)" in plain(modal.query_one("#event-plan", Static))


async def test_a_rehearsal_that_fails_is_said_once_and_the_preview_stays(tmp_path: Path) -> None:
    from capcon.tui.console.modals.event import EventFacts

    calls: list[object] = []

    def broken(request: object) -> None:
        calls.append(request)
        raise RuntimeError("simulation [red]exploded\x1b")

    app, account = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        modal = EventModal(
            account.describe_table("audit-log"),
            None,
            EventFacts(),
            app.rules,
            app.prices,
            now=NOW,
            rehearse=broken,
        )
        app.push_screen(modal)
        await pilot.pause()
        modal.query_one("#event-wcu", Input).value = "1500"
        await pilot.pause()
        for _ in range(2):  # asked twice for the same request: rehearsed once
            modal._start_rehearsal()
            await settle(app, pilot)
        assert len(calls) == 1
        assert isinstance(modal.result, EventPlan)  # the preview stays, without reactive
        failed = [str(n.message) for n in app._notifications if n.severity == "error"]
        assert any("RuntimeError: simulation" in m and "\x1b" not in m for m in failed), failed
        assert isinstance(app.screen, EventModal)
