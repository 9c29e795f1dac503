"""The console, driven through Textual's Pilot on the simulated ``demo`` account.

Each test builds a fresh app over a fresh demo account whose clock is *paused*, so nothing
moves unless a test moves it: polls read the same minute, and the scaler's waits advance
simulated time (under the app's backend lock) instead of sleeping.  Automatic polling is off
(``poll=False``) except where the first poll on mount is itself under test: against the
simulated account the console polls every second whatever ``refresh_seconds`` says, and a
test must not depend on how many polls happened to fit in its run time.

Actions are called directly where the key itself is not what is tested
(docs/architecture.md#where-tests-go: each ``pilot.press`` costs 40-95 ms); keys are pressed
where they are the feature
(Enter for detail, ``?`` and ``a``, Escape, typing a filter, ctrl+s in the scale modal).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual.geometry import Region
from textual.screen import Screen
from textual.widgets import Button, DataTable, Input, Label, Static

from capcon.core.backends.sim.account import SimAccount
from capcon.core.errors import AccessDenied
from capcon.core.model import Throughput
from capcon.core.ports import TableChange
from capcon.core.services.overview import Row
from capcon.tui.console.app import CapconApp
from capcon.tui.console.modals.scale import ScaleModal
from capcon.tui.console.screens.audit import AuditScreen
from capcon.tui.console.screens.detail import DetailScreen
from capcon.tui.console.screens.help import HelpScreen
from capcon.tui.console.testing import demo_console, plain, settle, status_bar
from capcon.tui.console.theming import BUILTIN_THEME_FILES, THEME_ALIASES
from capcon.tui.console.widgets.resource_list import ResourceList

NOW = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
SIZE = (160, 50)
BLOCKS = frozenset("▁▂▃▄▅▆▇█")
CAPCON_THEMES = [THEME_ALIASES[stem] for stem in BUILTIN_THEME_FILES]

# --------------------------------------------------------------------------------------------
# Harness
# --------------------------------------------------------------------------------------------


def make_app(
    tmp_path: Path,
    *,
    before_wait: Callable[[float], None] | None = None,
    **options: Any,
) -> tuple[CapconApp, SimAccount]:
    """A console over a paused demo account (:func:`capcon.tui.console.testing.demo_console`),
    sorted by name unless ``sort`` says otherwise (the default sort, by trouble, is tested in
    test_oncall_land.py)."""
    options.setdefault("sort", "name")
    return demo_console(tmp_path / "audit.jsonl", before_wait=before_wait, now=NOW, **options)


async def started(app: CapconApp, pilot: Any) -> None:
    """The first poll, made and painted."""
    app.action_refresh()
    await settle(app, pilot)
    assert app.snapshot is not None, app.last_error


def resources(app: CapconApp) -> ResourceList:
    return app.query_one(ResourceList)


def shown(app: CapconApp) -> list[str]:
    """Row keys of the list, top to bottom."""
    return resources(app).row_keys


def cell(app: CapconApp, name: str, column: str) -> Any:
    return resources(app).get_cell(name, column)


def notifications(app: CapconApp, severity: str | None = None) -> list[str]:
    return [
        str(n.message) for n in app._notifications if severity is None or n.severity == severity
    ]


def expected_names(acc: SimAccount) -> list[str]:
    """Every demo resource in list order: tables by name, each GSI under its table, then
    streams by name."""
    names: list[str] = []
    for table in sorted(acc.list_tables()):
        names.append(table)
        names += [f"{table}/{ix.name}" for ix in acc.describe_table(table).indexes]
    return names + sorted(acc.list_streams())


def write_units(acc: SimAccount, table: str) -> int:
    capacity = acc.describe_table(table).provisioned
    assert capacity is not None, f"{table} is on-demand"
    return capacity.write


def read_audit(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def open_scale(app: CapconApp, pilot: Any, name: str) -> ScaleModal:
    app.jump_to(name)
    selected = app.selected_row()
    assert selected is not None and selected.name == name
    app.action_scale()
    await settle(app, pilot)
    modal = app.screen
    assert isinstance(modal, ScaleModal), modal
    return modal


async def type_into(pilot: Any, box: Input, value: str) -> None:
    box.value = value
    await pilot.pause()


# --------------------------------------------------------------------------------------------
# 1. The list
# --------------------------------------------------------------------------------------------


async def test_list_shows_every_demo_resource_with_sparklines(tmp_path: Path) -> None:
    # poll=True: the first poll is the one on_mount starts by itself
    app, acc = make_app(tmp_path, poll=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.snapshot is not None, app.last_error
        names = expected_names(acc)
        assert len(names) == 16  # 10 tables, 2 GSIs, 4 streams
        assert shown(app) == names

        # GSIs sit indented under their table
        order = shown(app)
        assert order.index("orders/by-customer") == order.index("orders") + 1
        gsi = cell(app, "orders/by-customer", "name")
        assert isinstance(gsi, Text) and gsi.plain.strip() != gsi.plain
        assert gsi.plain.endswith("by-customer") and "orders" not in gsi.plain
        assert cell(app, "orders/by-customer", "kind").plain == "index"
        assert cell(app, "clickstream", "kind").plain == "stream"

        # a consumed-vs-capacity sparkline for reads and writes on every row
        for name in names:
            for column in ("rspark", "wspark"):
                spark = cell(app, name, column)
                assert isinstance(spark, Text), (name, column)
                assert len(spark.plain) == 20, (name, column, spark.plain)
                assert BLOCKS & set(spark.plain), (name, column, spark.plain)

        # throttling rows stand out; quiet ones do not
        throttle = app.theme_variables["throttle"]
        rows = {r.name: r for r in app.snapshot.rows}
        assert rows["user-events"].throttling and not rows["audit-log"].throttling
        loud, quiet = cell(app, "user-events", "name"), cell(app, "audit-log", "name")
        assert "bold" in str(loud.style) and throttle.lower() in str(loud.style).lower()
        assert str(quiet.style) == ""
        assert cell(app, "user-events", "thr").plain != "0"
        assert cell(app, "audit-log", "thr").plain == "0"
        hot_minutes = [s for s in cell(app, "user-events", "rspark").spans if s.style]
        assert any(throttle.lower() in str(s.style).lower() for s in hot_minutes)

        status = status_bar(app)
        assert "CloudWatch" in status and "calls" in status and "metrics" in status
        assert "data until" in status
        assert "sim 01:30:00 UTC (paused)" in status  # simulated time, never wall time
        assert "us-east-1" in status


async def test_list_fits_the_reference_terminal_width(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        table = resources(app)
        assert table.virtual_size.width <= table.size.width
        assert table.max_scroll_x == 0


async def test_changed_cells_repaint_and_unchanged_rows_keep_their_lines(tmp_path: Path) -> None:
    """``ResourceList.update_cells`` (which redraws only the changed rows)
    shows every new value, after a poll and after a direct update, and nothing else moves."""

    app, acc = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        table = resources(app)

        def line(name: str) -> str:
            """The row's line as the screen gets it (cached lines unless repainted)."""
            y = shown(app).index(name) + 1
            return table.render_lines(Region(0, y, table.size.width, 1))[0].text

        before = {name: line(name) for name in shown(app)}
        # a poll after 10 simulated minutes: the sparklines move, and every line shows
        # what a fresh table with the same rows (painted from scratch) shows
        acc.advance(600)
        app.action_refresh()
        await settle(app, pilot)
        moved = {name: line(name) for name in shown(app)}
        assert moved != before
        app._shown = []
        app._paint_table()
        await pilot.pause()
        assert {name: line(name) for name in shown(app)} == moved
        # one cell set directly: that line changes, no other
        table.update_cells([("orders", "util", Text("12%", justify="right"))])
        await pilot.pause()
        assert "12%" in line("orders")
        assert line("orders") != moved["orders"]
        assert all(line(n) == moved[n] for n in shown(app) if n != "orders")


async def test_on_demand_sparklines_are_not_drawn_as_near_capacity(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        high = app._colours().high.lower()
        for name in ("sessions", "telemetry"):  # on-demand table, on-demand stream
            assert cell(app, name, "capacity").plain in ("on-demand", "4 sh")
            spans = cell(app, name, "wspark").spans
            assert spans
            assert not all(high in str(s.style).lower() for s in spans), name


# --------------------------------------------------------------------------------------------
# 2. Filter and sort
# --------------------------------------------------------------------------------------------


async def test_filter_keeps_matching_groups_and_escape_clears(tmp_path: Path) -> None:
    app, acc = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        box = app.query_one("#filter", Input)
        assert not box.display
        app.action_filter()
        await pilot.pause()
        assert box.display and box.has_focus
        await pilot.press("o", "r", "d")
        assert shown(app) == ["orders", "orders/by-customer", "orders/by-status"]
        assert "filter: 'ord'" in status_bar(app)

        # a GSI's name keeps its whole table group
        await type_into(pilot, box, "by-status")
        assert shown(app) == ["orders", "orders/by-customer", "orders/by-status"]
        await type_into(pilot, box, "no-such-thing")
        assert shown(app) == []
        assert app.selected_row() is None

        await pilot.press("escape")
        assert shown(app) == expected_names(acc)
        assert not box.display and box.value == ""
        assert resources(app).has_focus
        assert "filter:" not in status_bar(app)


async def test_sort_cycles_to_utilisation_and_puts_the_cursor_on_top(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        assert app.snapshot is not None
        by_name = shown(app)
        app.jump_to("orders")
        app.action_sort()
        await pilot.pause()
        assert "sort: utilisation" in status_bar(app)

        # expected: table groups (a table and its GSIs) and streams, busiest first
        groups: dict[str, list[Row]] = {}
        for row in app.snapshot.rows:
            groups.setdefault(row.table or row.name, []).append(row)
        busiest = max(groups.values(), key=lambda g: max((r.utilisation or 0.0) for r in g))
        order = shown(app)
        assert order[0] == busiest[0].name
        assert order != by_name and order[0] != by_name[0]
        peaks = []
        for name in order:
            row = next(r for r in app.snapshot.rows if r.name == name)
            if row.kind != "index":
                peaks.append(max((r.utilisation or 0.0) for r in groups[row.table or name]))
        assert peaks == sorted(peaks, reverse=True)
        assert order.index("orders/by-status") == order.index("orders") + 2
        # the cursor goes to the top row: what the new sort puts first
        selected = app.selected_row()
        assert selected is not None and selected.name == order[0]

        for label in ("throttles", "cost", "trouble", "name"):
            app.action_sort()
            assert f"sort: {label}" in status_bar(app)
        assert shown(app) == by_name


# --------------------------------------------------------------------------------------------
# 3. Detail
# --------------------------------------------------------------------------------------------


async def test_enter_opens_detail_and_escape_returns(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        main = app.screen
        app.jump_to("orders")
        await pilot.press("enter")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, DetailScreen), screen
        assert screen.row.name == "orders"
        assert screen.data is not None, screen.last_error
        await pilot.press("escape")
        assert app.screen is main
        selected = app.selected_row()
        assert selected is not None and selected.name == "orders"


# --------------------------------------------------------------------------------------------
# 4-6. Scale
# --------------------------------------------------------------------------------------------


async def test_scale_table_previews_applies_audits_and_shows_updating(tmp_path: Path) -> None:
    seen: list[str] = []

    def watch_row(_seconds: float) -> None:
        """In the apply worker, before simulated time moves: wait (bounded) until the list
        shows the row UPDATING, as a user would see it while the change is in flight."""
        if seen:
            return
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline:
            status = app.call_from_thread(lambda: str(cell(app, "audit-log", "status")))
            if status == "UPDATING":
                seen.append(status)
                return
            time.sleep(0.02)

    audit_path = tmp_path / "audit.jsonl"
    app, acc = make_app(tmp_path, before_wait=watch_row)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        assert str(cell(app, "audit-log", "capacity")) == "100/1,000"
        modal = await open_scale(app, pilot, "audit-log")
        wcu = modal.query_one("#wcu", Input)
        assert (modal.query_one("#rcu", Input).value, wcu.value) == ("100", "1000")
        assert not modal.query_one("#confirm-row").display

        await type_into(pilot, wcu, "800")
        preview = plain(modal.query_one("#plan", Static))
        assert "→ 100 RCU / 800 WCU" in preview and "100 RCU / 1,000 WCU" in preview
        assert "partitions (estimate)" in preview
        assert "cost per hour" in preview and "$0.7109" in preview and "$0.5809" in preview
        assert "decreases left today" in preview and "uses decrease 1" in preview
        assert "nothing has changed yet" in preview
        assert not modal.query_one("#confirm-row").display
        apply_button = modal.query_one("#apply", Button)
        assert not apply_button.disabled
        assert not audit_path.exists()  # previewing writes nothing

        await pilot.click("#apply")
        await settle(app, pilot)
        assert not isinstance(app.screen, ScaleModal)
        assert [w for w in app.workers if w.group == "apply"] == []  # finished

        # the row was UPDATING while the change was in flight...
        assert seen == ["UPDATING"]
        # ...and the change went through the core scaler with its audit trail
        assert write_units(acc, "audit-log") == 800
        assert acc.describe_table("audit-log").status == "ACTIVE"
        records = [r for r in read_audit(audit_path) if r["resource"] == "audit-log"]
        assert [r["phase"] for r in records] == ["intent", "outcome"]
        assert records[0]["change_id"] == records[1]["change_id"]
        assert records[1]["outcome"] == "applied"
        assert records[1]["after"]["capacity"]["write"] == 800
        assert any("applied" in n for n in notifications(app, "information"))

        # after the refresh the apply triggers, the row shows the new capacity
        assert str(cell(app, "audit-log", "capacity")) == "100/800"
        assert str(cell(app, "audit-log", "status")) == "ACTIVE"

        # and the audit screen lists the change
        app.action_audit()
        await pilot.pause()
        audit_screen = app.screen
        assert isinstance(audit_screen, AuditScreen)
        table = audit_screen.query_one(DataTable)
        assert table.row_count == 2
        assert "applied" in [str(v) for v in table.get_row_at(1)]


async def test_a_symlinked_audit_log_refuses_the_change_with_a_notification(
    tmp_path: Path,
) -> None:
    target = tmp_path / "elsewhere.txt"
    target.write_text("precious\n")
    (tmp_path / "audit.jsonl").symlink_to(target)
    app, acc = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        modal = await open_scale(app, pilot, "audit-log")
        await type_into(pilot, modal.query_one("#wcu", Input), "800")
        await pilot.click("#apply")
        await settle(app, pilot)
        assert write_units(acc, "audit-log") == 1000  # nothing was sent
        errors = notifications(app, "error")
        assert any(
            "symbolic link" in n and str(tmp_path / "audit.jsonl") in n and "refused" in n
            for n in errors
        ), errors
        assert target.read_text() == "precious\n"

        app.action_audit()  # the audit screen does not follow it either, and says so
        await pilot.pause()
        audit_screen = app.screen
        assert isinstance(audit_screen, AuditScreen)
        assert audit_screen.query_one(DataTable).row_count == 0
        assert "symbolic link" in plain(audit_screen.query_one("#audit-title", Static))


async def test_an_audit_log_readable_by_others_is_fixed_with_a_notification(
    tmp_path: Path,
) -> None:
    audit_path = tmp_path / "audit.jsonl"
    audit_path.write_text("")
    audit_path.chmod(0o644)
    app, acc = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        modal = await open_scale(app, pilot, "audit-log")
        await type_into(pilot, modal.query_one("#wcu", Input), "800")
        await pilot.click("#apply")
        await settle(app, pilot)
        assert write_units(acc, "audit-log") == 800
        assert audit_path.stat().st_mode & 0o777 == 0o600
        said = [n for n in notifications(app, "warning") if "0644" in n]
        assert len(said) == 1 and "0600" in said[0]


async def test_refused_change_shows_the_reason_and_applies_nothing(tmp_path: Path) -> None:
    app, acc = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        modal = await open_scale(app, pilot, "orders")
        wcu = modal.query_one("#wcu", Input)
        apply_button = modal.query_one("#apply", Button)

        await type_into(pilot, wcu, "50000")
        preview = plain(modal.query_one("#plan", Static))
        assert "refused" in preview and "nothing was changed" in preview
        assert "per-table/GSI quota is 40,000 WCU" in preview
        assert apply_button.disabled
        assert not modal.query_one("#confirm-row").display

        await pilot.press("ctrl+s")
        assert app.screen is modal  # still open: nothing to confirm
        assert any("refuse" in n for n in notifications(app, "warning"))

        # not a number: said so, still nothing to apply
        await type_into(pilot, wcu, "lots")
        assert "not a whole number" in plain(modal.query_one("#message", Static))
        assert apply_button.disabled
        await pilot.press("ctrl+s")
        assert app.screen is modal

        await pilot.press("escape")
        await settle(app, pilot)
        assert not isinstance(app.screen, ScaleModal)
        assert [w for w in app.workers if w.group == "apply"] == []
        assert not (tmp_path / "audit.jsonl").exists()
        assert write_units(acc, "orders") == 300


async def test_big_change_needs_the_name_typed(tmp_path: Path) -> None:
    app, acc = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        modal = await open_scale(app, pilot, "orders")
        apply_button = modal.query_one("#apply", Button)
        row = modal.query_one("#confirm-row")
        name_box = modal.query_one("#confirm-name", Input)

        await type_into(pilot, modal.query_one("#wcu", Input), "3000")  # 300 → 3,000: ×10
        assert row.display
        label = plain(modal.query_one("#confirm-label", Label))
        assert "10.0×" in label and "type orders" in label
        assert apply_button.disabled
        await pilot.press("ctrl+s")
        assert app.screen is modal

        await type_into(pilot, name_box, "order")
        assert apply_button.disabled
        await type_into(pilot, name_box, "orders")
        assert not apply_button.disabled

        # back under the threshold: no name needed
        await type_into(pilot, modal.query_one("#wcu", Input), "600")
        assert not row.display and not apply_button.disabled

        modal.action_cancel()
        await settle(app, pilot)
        assert not (tmp_path / "audit.jsonl").exists()
        assert write_units(acc, "orders") == 300


async def test_scale_preview_on_simulated_account_knows_the_account_quota(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        modal = await open_scale(app, pilot, "audit-log")
        assert modal.context.account_capacity is not None
        await type_into(pilot, modal.query_one("#wcu", Input), "800")
        assert "account quota left after" in plain(modal.query_one("#plan", Static))


# --------------------------------------------------------------------------------------------
# 7. Read-only
# --------------------------------------------------------------------------------------------


async def test_read_only_offers_no_scale_action(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        main = app.screen
        app.jump_to("orders")
        app.action_scale()
        await settle(app, pilot)
        assert app.screen is main
        assert [w for w in app.workers if w.group == "scale-prep"] == []
        assert any("read-only" in n for n in notifications(app, "warning"))

        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert not [t for t in titles if "scal" in t.lower()]  # Scale, Auto scaling
        assert "Go to orders" in titles and "Detail" in titles
        assert "read-only" in status_bar(app)
        assert "c scale" not in plain(app.query_one("#hint", Static))


async def test_writable_session_offers_scale_in_the_palette(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Scale" in titles and "Auto scaling" in titles and "Go to orders" in titles


async def test_read_only_footer_does_not_offer_scale(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        offered = [
            active.binding.action
            for active in app.screen.active_bindings.values()
            if active.binding.show
        ]
        assert "filter" in offered  # the footer does list the app's actions
        assert "scale" not in offered
        assert "autoscaling" not in offered


# --------------------------------------------------------------------------------------------
# 8. Themes
# --------------------------------------------------------------------------------------------


async def test_theme_switch_cycles_the_capcon_themes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, _ = make_app(tmp_path)
    # the theme's toast lasts 2 s, less than a pause may take on a loaded machine: record
    # what was notified instead of reading the toasts still on screen
    sent: list[str] = []
    notify = app.notify

    def record(message: str, *args: Any, **kwargs: Any) -> None:
        sent.append(str(message))
        notify(message, *args, **kwargs)

    monkeypatch.setattr(app, "notify", record)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        assert app.theme == "capcon-dark"
        colours = {app.theme: app._colours()}
        for _ in CAPCON_THEMES:
            app.action_next_theme()
            await pilot.pause()
            assert app.theme in CAPCON_THEMES
            assert sent[-1] == f"theme: {app.theme}"
            colours[app.theme] = app._colours()
        assert app.theme == "capcon-dark"  # the cycle came round, through all four
        assert set(colours) == set(CAPCON_THEMES)
        assert colours["capcon-dark"] != colours["capcon-colorblind"]
        assert colours["capcon-dark"] != colours["capcon-light"]
        assert colours["capcon-dark"].throttle != colours["capcon-colorblind"].throttle


async def test_theme_switch_repaints_the_list_in_the_new_colours(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        for _ in CAPCON_THEMES:
            app.action_next_theme()
            await pilot.pause()
            throttle = app._colours().throttle.lower()
            name_style = str(cell(app, "user-events", "name").style).lower()
            assert throttle in name_style, (app.theme, name_style)
            spans = cell(app, "user-events", "rspark").spans
            assert any(throttle in str(s.style).lower() for s in spans), app.theme


async def test_row_that_starts_throttling_gets_highlighted(tmp_path: Path) -> None:
    app, acc = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        assert str(cell(app, "audit-log", "name").style) == ""
        # audit-log writes ~20 WCU/s: cut it to 5 and let ten simulated minutes pass
        acc.update_table("audit-log", TableChange(table=Throughput(100, 5)))
        acc.advance(600)
        app.action_refresh()
        await settle(app, pilot)
        assert app.snapshot is not None
        row = next(r for r in app.snapshot.rows if r.name == "audit-log")
        assert row.throttling
        assert cell(app, "audit-log", "thr").plain != "0"  # the number is repainted...
        throttle = app._colours().throttle.lower()
        # ...and the name must stand out too
        assert throttle in str(cell(app, "audit-log", "name").style).lower()


# --------------------------------------------------------------------------------------------
# 9. Errors
# --------------------------------------------------------------------------------------------


async def test_aws_error_becomes_a_notification_and_clears(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = (
        "User arn:aws:iam::123456789012:user/oncall is not authorized to perform: "
        "dynamodb:ListTables"
    )

    def denied() -> list[str]:
        raise AccessDenied(message)

    app, acc = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        before = shown(app)
        monkeypatch.setattr(acc, "list_tables", denied)
        app.action_refresh()
        await settle(app, pilot)
        assert app.is_running
        # one service denied degrades, never blanks: the streams are still read, the tables
        # keep what was read before, and a notice names the denied action
        assert any("dynamodb:ListTables" in n for n in notifications(app, "warning"))
        assert "partial:" in status_bar(app) and "dynamodb:ListTables" in status_bar(app)
        assert shown(app) == before  # the last good data stays on screen

        monkeypatch.undo()
        app.action_refresh()
        await settle(app, pilot)
        assert app.last_error is None
        assert "partial:" not in status_bar(app)
        assert shown(app) == before


async def test_unexpected_error_in_a_poll_does_not_kill_the_console(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("socket closed")

    app, acc = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        monkeypatch.setattr(acc, "get_metric_data", broken)
        app.action_refresh()
        await settle(app, pilot)
        assert app.is_running
        assert app.last_error == "RuntimeError: socket closed"
        assert any("socket closed" in n for n in notifications(app, "error"))


# --------------------------------------------------------------------------------------------
# 10. Help and audit screens
# --------------------------------------------------------------------------------------------


async def test_help_and_audit_screens_open_and_close(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        main: Screen[Any] = app.screen

        await pilot.press("question_mark")
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        assert "space" in help_screen.text  # the simulation's keys, on the simulated account
        assert "Ctrl+P" in help_screen.text
        await pilot.press("escape")
        assert app.screen is main

        await pilot.press("a")
        audit_screen = app.screen
        assert isinstance(audit_screen, AuditScreen)
        title = plain(audit_screen.query_one("#audit-title", Static))
        assert "no changes recorded yet" in title
        assert audit_screen.query_one(DataTable).row_count == 0
        await pilot.press("escape")
        assert app.screen is main


# --------------------------------------------------------------------------------------------
# Application Auto Scaling: the edit flow (issue 8)
# --------------------------------------------------------------------------------------------


async def test_auto_scaling_edit_flow_previews_confirms_and_audits(tmp_path: Path) -> None:
    from capcon.tui.console.modals.autoscaling import AutoScalingModal

    app, acc = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        # field note A's trap: docs/field-notes.md#the-no-policy-trap
        app.jump_to("inventory")  # registered, no policy: field note A's trap
        row = app.selected_row()
        assert row is not None and "no policy" in " ".join(row.auto_scaling.traps)
        app.action_autoscaling()
        await settle(app, pilot)
        modal = app.screen
        assert isinstance(modal, AutoScalingModal)
        modal.query_one("#aas-min", Input).value = "40"
        modal.query_one("#aas-max", Input).value = "300"
        modal.query_one("#aas-target", Input).value = "95"
        await pilot.pause()
        refused = plain(modal.query_one("#aas-plan", Static))
        assert "20–90%" in refused
        assert modal.query_one("#aas-apply", Button).disabled
        modal.query_one("#aas-target", Input).value = "60"
        await pilot.pause()
        preview = plain(modal.query_one("#aas-plan", Static))
        assert "cost between min and max" in preview
        assert "partitions" in preview
        assert not modal.query_one("#aas-apply", Button).disabled
        await pilot.click("#aas-apply")
        await settle(app, pilot)
        assert not isinstance(app.screen, AutoScalingModal)
        policies = [
            p for p in acc.describe_scaling_policies() if p.resource_id == "table/inventory"
        ]
        assert [(p.target_value, p.dimension.rsplit(":", 1)[1]) for p in policies] == [
            (60.0, "WriteCapacityUnits")
        ]
        targets = {
            t.dimension: t
            for t in acc.describe_scalable_targets()
            if t.resource_id == "table/inventory"
        }
        assert targets["dynamodb:table:WriteCapacityUnits"].max_capacity == 300
        records = app.audit.read()
        assert [r["phase"] for r in records] == ["intent", "outcome"]
        assert records[-1]["outcome"] == "applied"


async def test_scale_modal_offers_auto_scaling_on_a_managed_table(tmp_path: Path) -> None:
    from capcon.tui.console.modals.autoscaling import AutoScalingModal

    app, _acc = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        app.jump_to("checkout")  # managed by AAS
        app.action_scale()
        await settle(app, pilot)
        assert isinstance(app.screen, ScaleModal)
        note = plain(app.screen.query_one("#aas-note", Static))
        assert "Auto scaling manages this table" in note
        await pilot.click("#to-aas")
        await settle(app, pilot)
        assert isinstance(app.screen, AutoScalingModal)


async def test_a_poll_answering_while_the_console_closes_changes_nothing(tmp_path: Path) -> None:
    """A poll that finishes as the console quits posts its snapshot to an app whose screen
    is gone: the handler must let it go (it raised NoMatches, and under load it did)."""
    app, _ = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        snapshot = app.snapshot
        assert snapshot is not None
    # the app has closed: its default screen and the list are gone
    app._on_data(CapconApp.DataReady(snapshot))
    app._on_poll_failed(CapconApp.PollFailed("late error"))
