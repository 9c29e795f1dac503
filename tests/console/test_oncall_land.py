"""Land on the problem: the list starts sorted by trouble, the cursor goes to the top after a
sort or a filter, ``n`` jumps to the next throttling row, and read and write throttles are
told apart on the row."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

from capcon.core.config.settings import ConfigError, load_config
from capcon.core.services.overview import Row
from capcon.tui.console.app import CapconApp, group_rows, trouble_step, util_step
from capcon.tui.console.testing import demo_console, settle, status_bar
from capcon.tui.console.widgets.resource_list import ResourceList

SIZE = (160, 50)
NOW = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)


async def started(app: CapconApp, pilot: Any) -> None:
    app.action_refresh()
    await settle(app, pilot)
    assert app.snapshot is not None, app.last_error


def shown(app: CapconApp) -> list[str]:
    return app.query_one(ResourceList).row_keys


def row(app: CapconApp, name: str) -> Row:
    assert app.snapshot is not None
    return next(r for r in app.snapshot.rows if r.name == name)


def cursor(app: CapconApp) -> str | None:
    return app.query_one(ResourceList).cursor_key


async def test_the_list_starts_sorted_by_trouble_throttling_first(tmp_path: Path) -> None:
    app, _ = demo_console(tmp_path / "audit.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        order = shown(app)
        throttling = [n for n in order if row(app, n).throttling]
        assert len(throttling) >= 2
        # the throttling rows come first, most throttled first
        assert order[: len(throttling)] == throttling
        rates = [trouble_step(row(app, n).throttled_per_second) for n in throttling]
        assert rates == sorted(rates, reverse=True) and len(set(rates)) > 1
        # then the rest, nearest to capacity first (a table group by its fullest row)
        heads = [n for n in order[len(throttling) :] if row(app, n).kind != "index"]
        peaks = [
            util_step(
                max(
                    (r.utilisation or 0.0)
                    for r in app.snapshot.rows  # type: ignore[union-attr]
                    if head in (r.name, r.table)
                )
            )
            for head in heads
        ]
        assert peaks == sorted(peaks, reverse=True)
        assert cursor(app) == order[0]
        assert "sort: trouble" in status_bar(app)


async def test_a_configured_sort_is_kept_and_an_unknown_one_said(tmp_path: Path) -> None:
    app, _ = demo_console(tmp_path / "audit.jsonl", sort="name")
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        assert shown(app)[0] == "audit-log"
        assert "sort: name" in status_bar(app)
    app, _ = demo_console(tmp_path / "audit.jsonl", sort="loudest")
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        assert "sort: trouble" in status_bar(app)
        said = [str(n.message) for n in app._notifications]
        assert any("'loudest' unknown" in m and "trouble, name" in m for m in said), said


def test_the_config_file_sort_key_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('sort = "util"\n')
    assert load_config(path).sort == "util"
    path.write_text('sort = "loudest"\n')
    with pytest.raises(ConfigError, match="sort must be one of trouble, name, util"):
        load_config(path)
    path.unlink()
    assert load_config(path).sort == "trouble"


async def test_the_cursor_goes_to_the_top_after_a_sort_and_a_filter(tmp_path: Path) -> None:
    app, _ = demo_console(tmp_path / "audit.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        app.jump_to("payments")
        assert cursor(app) == "payments"
        await pilot.press("s")
        assert "sort: name" in status_bar(app)
        assert cursor(app) == shown(app)[0] == "audit-log"

        app.jump_to("payments")
        await pilot.press("slash", "o", "r")
        assert shown(app)[0] != "payments"
        assert cursor(app) == shown(app)[0]
        app.query_one("#filter", Input).value = ""
        await pilot.pause()
        assert cursor(app) == shown(app)[0]


async def test_n_jumps_to_the_next_throttling_row_and_wraps(tmp_path: Path) -> None:
    app, _ = demo_console(tmp_path / "audit.jsonl", sort="name")
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        order = shown(app)
        throttling = [n for n in order if row(app, n).throttling]
        assert len(throttling) >= 2 and order[0] not in throttling
        seen = []
        for _ in range(len(throttling) + 1):
            await pilot.press("n")
            seen.append(cursor(app))
        assert seen == [*throttling, throttling[0]]  # in list order, then round again

        # the one throttling row shown: n stays on it, nothing to say
        app.query_one("#filter", Input).value = "user-events"
        await pilot.pause()
        app.query_one(ResourceList).focus()
        await pilot.press("n")
        assert cursor(app) == "user-events"
        assert not any("no row" in str(n.message) for n in app._notifications)

        # a filter that keeps no throttling row: the cursor stays, a message says why
        app.query_one("#filter", Input).value = "audit"
        await pilot.pause()
        app.query_one(ResourceList).focus()
        await pilot.press("n")
        assert cursor(app) == "audit-log"
        said = [str(n.message) for n in app._notifications]
        assert any(m.startswith("no row is throttling") for m in said), said


async def test_n_is_offered_in_the_hint_the_palette_and_help(tmp_path: Path) -> None:
    app, _ = demo_console(tmp_path / "audit.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        from capcon.tui.console.testing import plain

        assert "n next throttling" in plain(app.query_one("#hint"))  # type: ignore[arg-type]
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Next throttling row" in titles
        from capcon.tui.console.screens.help import HELP

        assert "next throttling row" in HELP


async def test_read_and_write_throttles_are_told_apart_on_the_row(tmp_path: Path) -> None:
    app, _ = demo_console(tmp_path / "audit.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        both = row(app, "user-events")
        assert both.throttled_read_per_second > 0 and both.throttled_write_per_second > 0
        cells = app.query_one(ResourceList)
        text = cells.get_cell("user-events", "thr").plain
        assert text == (
            f"R {both.throttled_read_per_second:.0f} W {both.throttled_write_per_second:.0f}"
        )
        writes = row(app, "recommendations")
        assert writes.throttled_read_per_second == 0
        assert cells.get_cell("recommendations", "thr").plain.endswith(" W")
        reads = row(app, "inventory")
        assert reads.throttled_write_per_second == 0
        assert cells.get_cell("inventory", "thr").plain.endswith(" R")
        # big rates still fit the column
        big = replace(both, throttled_read_per_second=12_345.0, throttled_write_per_second=1500)
        cell = app._row_cells(big, None)["thr"].plain
        assert cell == "R12k W1.5k" and len(cell) <= 11


def test_trouble_sort_keeps_gsis_under_their_table() -> None:
    def r(name: str, thr: float = 0.0, util: float | None = None, table: str | None = None) -> Row:
        kind = "index" if table else "table"
        return Row(
            name,
            kind,  # type: ignore[arg-type]
            table or name,
            name.split("/")[1] if table else None,
            "PROVISIONED",
            "ACTIVE",
            throttled_per_second=thr,
            utilisation=util,
        )

    rows = [
        r("a", util=0.99),
        r("b", util=0.1),
        r("b/x", thr=3.0, table="b"),
        r("c", thr=9.0),
        r("d", util=None),
    ]
    assert [x.name for x in group_rows(rows, "trouble", "")] == ["c", "b", "b/x", "a", "d"]
    # a point apart: kept in name order (no jitter at every poll)
    close = [r("m", util=0.71), r("k", util=0.72), r("z", util=0.74)]
    assert [x.name for x in group_rows(close, "trouble", "")] == ["k", "m", "z"]
    assert group_rows([*close, r("y", util=0.76)], "trouble", "")[0].name == "k"  # same 10 %
    assert group_rows([*close, r("y", util=0.81)], "trouble", "")[0].name == "y"
    # throttle rates in 1-2-5 steps: 692/s above 34/s, 34/s and 23/s alike (kept by name)
    assert [trouble_step(v) for v in (692.0, 34.0, 23.8, 0.3, 0.0)] == [500, 20, 20, 0.2, 0]
    alike = [r("q", thr=23.8), r("p", thr=34.0), r("o", thr=692.0)]
    assert [x.name for x in group_rows(alike, "trouble", "")] == ["o", "p", "q"]
