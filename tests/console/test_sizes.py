"""The console at every size from 100×30 to 240×60: which columns the list keeps, how wide
its sparklines are, and when the preview pane takes the rows the list leaves over.

Driven through Textual's Pilot on the paused ``demo`` account (16 rows), as the other console
tests (:mod:`capcon.tui.console.testing`); what is asserted is what a user sees: the list's
header and rows as drawn, and whether the pane is on screen.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from textual.geometry import Region
from textual.widgets import Static

from capcon.core.backends.sim.scenarios import build_scenario
from capcon.core.config.prices import load_price_book
from capcon.core.rules import RuleSettings
from capcon.core.services.audit import AuditLog, Origin
from capcon.tui.console.app import (
    COLUMNS,
    PREVIEW_MIN_HEIGHT,
    SPARK_LEAST,
    SPARK_MOST,
    CapconApp,
    ConsoleOptions,
)
from capcon.tui.console.testing import demo_console, plain, settle
from capcon.tui.console.theming import builtin_themes
from capcon.tui.console.widgets.preview import REDRAW_SECONDS, Preview, preview_facts
from capcon.tui.console.widgets.resource_list import Column, ResourceList, fit_columns

NOW = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
#: What an on-call engineer must see at any width (issue 19).
ESSENTIAL = ("name", "capacity", "util", "thr", "parts", "cost", "aas")
ESSENTIAL_LABELS = ("name", "capacity R/W", "util", "throttled/s", "parts", "$/h", "AAS")


async def started(app: CapconApp, pilot: Any) -> None:
    # the charts at once (the console mounts them half a second after the first showing)
    app.query_one(Preview).mount_delay = 0
    app.action_refresh()
    await settle(app, pilot)
    assert app.snapshot is not None, app.last_error
    await pilot.pause()  # the layout after the paint (the preview is laid out after a frame)
    await pilot.pause()


def line(table: ResourceList, y: int) -> str:
    """Line ``y`` of the list as drawn (0: the header)."""
    return table.render_lines(Region(0, y, table.size.width, 1))[0].text


def row_line(app: CapconApp, name: str) -> str:
    table = app.query_one(ResourceList)
    return line(table, table.row_keys.index(name) + 1)


def preview_shown(app: CapconApp) -> bool:
    preview = app.query_one(Preview)
    return bool(preview.display) and preview.region.height > 0


# --------------------------------------------------------------------------------------------
# The columns, at the three sizes of the issue
# --------------------------------------------------------------------------------------------


async def test_at_100x30_every_column_that_matters_is_whole_and_nothing_scrolls(
    tmp_path: Path,
) -> None:
    app, _ = demo_console(tmp_path / "audit.jsonl", now=NOW, sort="name")
    async with app.run_test(size=(100, 30)) as pilot:
        await started(app, pilot)
        table = app.query_one(ResourceList)
        header = line(table, 0)
        for label in ESSENTIAL_LABELS:  # each label whole, not cut with an ellipsis
            assert f"{label} " in header or header.rstrip().endswith(label), (label, header)
        assert table.table_width <= table.size.width  # no sideways scrolling needed
        assert table.max_scroll_x == 0
        fit = table.fit
        assert {"kind", "mode", "status"} <= fit.compact
        assert SPARK_LEAST <= fit.width_of("rspark") < 20  # shrunk, still drawn
        # the rows: compact words, and the numbers whole
        orders = row_line(app, "orders")
        assert " tbl " in orders and " prov " in orders and " act " in orders
        assert "500/300" in orders and "0.267" in orders
        assert "…" not in orders
        # a planned event's mark still fits after the (narrower) name
        assert "◷" in row_line(app, "flash-sale")
        # and 27 lines for 16 rows leave too little for the preview
        assert not preview_shown(app)


async def test_at_160x50_the_columns_are_as_declared_and_the_preview_fills_the_rest(
    tmp_path: Path,
) -> None:
    app, _ = demo_console(tmp_path / "audit.jsonl", now=NOW, sort="name")
    async with app.run_test(size=(160, 50)) as pilot:
        await started(app, pilot)
        table = app.query_one(ResourceList)
        assert [c.width for c in table.fit.columns] == [c.width for c in COLUMNS]
        assert not table.fit.compact
        header = line(table, 0)
        assert "reads vs capacity" in header and "writes vs capacity" in header
        # 16 rows and a header: the list takes what it needs, the preview the rest
        assert table.outer_size.height == 17
        assert preview_shown(app)
        preview = app.query_one(Preview)
        assert preview.outer_size.height >= 25
        assert preview.row_name == table.cursor_key == "audit-log"


async def test_at_240x60_the_sparklines_grow_to_an_hour_and_the_feed_keeps_it(
    tmp_path: Path,
) -> None:
    app, _ = demo_console(tmp_path / "audit.jsonl", now=NOW, sort="name")
    async with app.run_test(size=(240, 60)) as pilot:
        await started(app, pilot)
        table = app.query_one(ResourceList)
        assert table.width_of("rspark") == table.width_of("wspark") == SPARK_MOST
        assert app.feed.spark_minutes >= SPARK_MOST
        # the next poll brings the longer history: a full hour of minutes drawn
        app.action_refresh()
        await settle(app, pilot)
        spark = app.query_one(ResourceList).get_cell("orders", "rspark").plain
        assert len(spark) == SPARK_MOST
        assert spark.count("·") == 0 and spark.strip() == spark  # every minute has a datapoint
        assert table.table_width <= table.size.width
        assert preview_shown(app)


async def test_widths_follow_the_terminal_when_it_is_resized(tmp_path: Path) -> None:
    app, _ = demo_console(tmp_path / "audit.jsonl", now=NOW, sort="name")
    async with app.run_test(size=(160, 50)) as pilot:
        await started(app, pilot)
        table = app.query_one(ResourceList)
        assert table.width_of("rspark") == 20
        assert preview_shown(app)
        await pilot.resize_terminal(100, 30)
        await settle(app, pilot)
        await pilot.pause()
        assert table.width_of("rspark") < 20 and "mode" in table.fit.compact
        # the sparkline cells were drawn again at the new width
        assert len(table.get_cell("orders", "rspark").plain) == table.width_of("rspark")
        assert not preview_shown(app)
        await pilot.resize_terminal(160, 50)
        await settle(app, pilot)
        await pilot.pause()
        assert table.width_of("rspark") == 20 and not table.fit.compact
        assert preview_shown(app)


# --------------------------------------------------------------------------------------------
# The preview pane
# --------------------------------------------------------------------------------------------


async def test_the_preview_follows_the_cursor_without_a_call(tmp_path: Path) -> None:
    app, _ = demo_console(tmp_path / "audit.jsonl", now=NOW, sort="name")
    async with app.run_test(size=(160, 50)) as pilot:
        await started(app, pilot)
        preview = app.query_one(Preview)
        await settle(app, pilot)
        calls = app.metrics.usage.calls
        painted = preview.paints
        assert painted >= 1
        await pilot.press("down", "down", "down")  # audit-log → checkout → flash-sale → inventory
        await pilot.pause()
        await pilot.pause()
        assert preview.row_name == "inventory"
        assert preview.paints > painted  # its charts were drawn for the new row
        assert app.metrics.usage.calls == calls  # from the snapshot: nothing was requested
        facts = plain(app.query_one("#preview-facts", Static))
        assert facts.startswith("inventory · table · provisioned")
        assert "150 / 80" in facts and "trap" in facts


async def test_the_preview_goes_when_the_list_needs_the_room(tmp_path: Path) -> None:
    app, _ = demo_console(tmp_path / "audit.jsonl", now=NOW, sort="name")
    # 16 rows + a header in a list of 160×32 (29 lines): 12 left over, the least it needs
    async with app.run_test(size=(160, 29 + 3)) as pilot:
        await started(app, pilot)
        assert preview_shown(app)
        assert app.query_one(Preview).outer_size.height == PREVIEW_MIN_HEIGHT
        # the filter box takes 3 lines: too few left, the list gets them all
        await pilot.press("slash")
        await pilot.pause()
        await pilot.pause()
        assert not preview_shown(app)
        await pilot.press("o", "r", "d")  # "orders" and its two GSIs: room again
        await settle(app, pilot)
        await pilot.pause()
        await pilot.pause()
        assert app.query_one(ResourceList).row_count == 3
        assert preview_shown(app)


async def test_many_rows_keep_the_whole_screen_for_the_list(tmp_path: Path) -> None:
    account = build_scenario("fleet:40,10", NOW)
    app = CapconApp(
        account,
        Origin("simulated", "sim:fleet", region="us-east-1"),
        RuleSettings(),
        load_price_book("us-east-1"),
        AuditLog(tmp_path / "audit.jsonl"),
        ConsoleOptions(sim_speed=1.0, poll=False),
        controls=account.controls,
        themes=builtin_themes(),
    )
    account.controls.pause()
    async with app.run_test(size=(160, 50)) as pilot:
        await started(app, pilot)
        assert app.query_one(ResourceList).row_count >= 50
        assert not preview_shown(app)


async def test_the_preview_redraws_one_row_at_most_every_few_seconds(tmp_path: Path) -> None:
    """The simulated account polls every second: the pane's charts (plotext, the costly
    part) are drawn again for the same row only after REDRAW_SECONDS."""
    app, account = demo_console(tmp_path / "audit.jsonl", now=NOW, sort="name")
    clock = [1000.0]
    app.clock = lambda: clock[0]
    async with app.run_test(size=(160, 50)) as pilot:
        await started(app, pilot)
        preview = app.query_one(Preview)
        painted = preview.paints
        account.controls.step(60)  # a newer minute
        app.action_refresh()
        await settle(app, pilot)
        assert preview.paints == painted  # too soon
        clock[0] += REDRAW_SECONDS
        account.controls.step(60)
        app.action_refresh()
        await settle(app, pilot)
        assert preview.paints == painted + 1


# --------------------------------------------------------------------------------------------
# The fitting itself (pure)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("room", [99, 110, 119, 139, 159, 180, 239])
def test_fitting_keeps_the_essential_columns_whole_from_99_cells(room: int) -> None:
    fit = fit_columns(COLUMNS, room)
    assert fit.width <= room
    declared = {c.key: c.width for c in COLUMNS}
    for key in ESSENTIAL[1:]:
        assert fit.width_of(key) == declared[key], key
    assert fit.width_of("name") >= 18
    assert SPARK_LEAST <= fit.width_of("rspark") <= SPARK_MOST


def test_fitting_order_sparklines_first_then_compact_words_then_the_name() -> None:
    assert not fit_columns(COLUMNS, 150).compact  # the sparklines alone give 9 cells
    assert fit_columns(COLUMNS, 150).width_of("rspark") < 20
    # then kind, mode and status turn compact one by one, only as far as needed
    at_130 = fit_columns(COLUMNS, 130)
    assert at_130.compact == {"kind", "mode"} and at_130.width_of("name") == 24
    at_120 = fit_columns(COLUMNS, 120)
    assert at_120.compact == {"kind", "mode", "status"} and at_120.width_of("name") == 24
    assert fit_columns(COLUMNS, 99).width_of("name") < 24
    # too narrow for anything but scrolling: the sparklines go, the rest stays whole
    at_80 = fit_columns(COLUMNS, 80)
    assert at_80.width_of("rspark") == 0 and at_80.width_of("capacity") == 13


def test_a_list_of_fixed_columns_is_never_refitted() -> None:
    fixed = (Column("a", "a", 10), Column("b", "b", 10))
    assert fit_columns(fixed, 5).width == fit_columns(fixed, None).width == 24


def test_preview_facts_name_capacity_partitions_cost_scaling_and_throttles(
    tmp_path: Path,
) -> None:
    app, _ = demo_console(tmp_path / "audit.jsonl", now=NOW, sort="name")
    snapshot = app.feed.refresh(hidden=True, inventory=True)
    rows = {r.name: r for r in snapshot.rows}
    first, second, third = preview_facts(rows["user-events"], snapshot.at)
    assert first.startswith("table · provisioned · ACTIVE · 600 / 400")
    assert "partitions" in first and "/h" in first
    assert "no auto scaling" in second and "using" in second
    assert third.startswith("throttling now:")
    stream = preview_facts(rows["payments"], snapshot.at)
    assert stream[0].startswith("stream · provisioned · ACTIVE · 4 shards")
    assert "auto scaling" not in stream[1]


async def test_rows_asked_for_while_the_charts_mount_draw_once_the_newest(
    tmp_path: Path,
) -> None:
    """The first drawing mounts the charts; a row asked for before they are composed (the
    cursor moving at start-up) is drawn after, once, and no chart is drawn half-built."""
    app, _ = demo_console(tmp_path / "audit.jsonl", now=NOW, sort="name")
    async with app.run_test(size=(100, 30)) as pilot:  # too small: the pane is hidden
        await started(app, pilot)
        preview = app.query_one(Preview)
        snapshot = app.snapshot
        assert snapshot is not None and preview.paints == 0
        rows = {r.name: r for r in snapshot.rows}
        for name in ("orders", "inventory", "payments"):
            preview.show(
                rows[name], snapshot.sparks[name], snapshot.at, app.theme_variables, app.theme
            )
        await pilot.pause()
        await pilot.pause()
        assert preview.paints == 1
        head = plain(preview.query_one("#preview-a .chart-head", Static))
        assert head.startswith("incoming · MiB/s")  # the stream's chart: the newest row


async def test_the_first_frames_never_wait_for_the_preview_charts(tmp_path: Path) -> None:
    """Start-up: the pane shows its facts at once, its charts (plotext) only after a delay."""
    app, _ = demo_console(tmp_path / "audit.jsonl", now=NOW, sort="name")
    async with app.run_test(size=(160, 50)) as pilot:
        preview = app.query_one(Preview)
        assert preview.mount_delay > 0
        app.action_refresh()
        await settle(app, pilot)
        await pilot.pause()
        await pilot.pause()
        assert preview_shown(app)
        assert "audit-log" in plain(preview.query_one("#preview-facts", Static))
        assert not preview.query_one("#preview-charts").children
        assert preview.paints == 0
