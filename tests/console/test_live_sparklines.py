"""The list's sparklines tell the truth: full height is capacity, a burst minute above it is
marked (not rescaled), and read and write throttles colour only their own sparkline.

A simulated account with one table whose writes (200/s on 100 WCU) first run on burst
capacity for five minutes and then throttle at capacity, while its reads (50/s on 100 RCU)
never throttle; the console over it, driven through Textual's Pilot, the clock paused.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from rich.text import Text
from textual.widgets import Static

from capcon.core.backends.sim.account import SimAccount, TableSpec
from capcon.core.backends.sim.tables import SimSettings
from capcon.core.backends.sim.traffic import Steady
from capcon.core.config.prices import load_price_book
from capcon.core.model import Throughput
from capcon.core.rules import RuleSettings
from capcon.core.services.audit import AuditLog, Origin
from capcon.tui.console.app import CapconApp, ConsoleOptions
from capcon.tui.console.screens.detail import DetailScreen
from capcon.tui.console.testing import plain, settle
from capcon.tui.console.theming import builtin_themes
from capcon.tui.console.widgets.resource_list import ResourceList
from capcon.tui.console.widgets.spark import ABOVE, BLOCKS

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
MIN = 60


def console(tmp_path: Path) -> CapconApp:
    account = SimAccount(T0, settings=SimSettings(metric_delay_seconds=0))
    account.add_table(
        TableSpec("surge", Throughput(100, 100), reads=Steady(50), writes=Steady(200))
    )
    account.advance(12 * MIN)  # minutes 0–4 on burst (200/s), 5–11 throttled at 100/s
    app = CapconApp(
        account,
        Origin("simulated", "sim:test", region="us-east-1"),
        RuleSettings(),
        load_price_book("us-east-1"),
        AuditLog(tmp_path / "audit.jsonl"),
        ConsoleOptions(sim_speed=1.0, poll=False),
        controls=account.controls,
        themes=builtin_themes(),
    )
    account.controls.pause()
    return app


def cells(spark: Text) -> list[tuple[str, str]]:
    """(character, style) per cell."""
    styles = [""] * len(spark.plain)
    for span in spark.spans:
        for i in range(span.start, span.end):
            styles[i] = str(span.style)
    return list(zip(spark.plain, styles, strict=True))


async def test_full_height_is_capacity_and_throttles_colour_their_own_sparkline(
    tmp_path: Path,
) -> None:
    app = console(tmp_path)
    async with app.run_test(size=(180, 20)) as pilot:
        app.action_refresh()
        await settle(app, pilot)
        assert app.snapshot is not None, app.last_error
        throttle = app._colours().throttle
        table = app.query_one(ResourceList)
        writes = cells(table.get_cell("surge", "wspark"))
        reads = cells(table.get_cell("surge", "rspark"))

        drawn = [(c, s) for c, s in writes if c not in " ·"]  # · before the table existed
        assert len(drawn) == 12
        # minutes 0–4: 200/s on 100 WCU, above capacity (burst): full height, marked
        assert [c for c, _ in drawn[:5]] == [ABOVE] * 5
        # minutes 5–11: at capacity while throttled: full height (not ▅ under a burst scale),
        # in the throttle colour
        assert drawn[5:] == [(BLOCKS[8], throttle)] * 7
        # reads: half of capacity, never throttled, never in the throttle colour
        assert {c for c, _ in reads if c not in " ·"} == {BLOCKS[4]}
        assert all(s != throttle for _, s in reads)

        # the row says which side throttled
        assert table.get_cell("surge", "thr").plain == "100.0 W"

        # the detail screen says when it last throttled: minute 11 (12:11 ended at 01:12)
        row = next(r for r in app.snapshot.rows if r.name == "surge")
        screen = DetailScreen(row)
        await app.push_screen(screen)
        await settle(app, pilot)
        title = plain(screen.query_one("#detail-title", Static))
        assert "last throttled 01:11 UTC, writes (just now)" in title, title
