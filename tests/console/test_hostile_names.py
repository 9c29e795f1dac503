"""Server text is data in the console too (issue 15): hostile names served by the fault
proxy are painted as written in the list, the detail screen and the scale preview, with no
control character on screen, the row styling of a plain name, and no markup action (a
stream called ``[@click=app.quit]x`` does not quit the console when clicked).
"""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
import requests
from textual.content import Content
from textual.pilot import Pilot
from textual.strip import Strip
from textual.widgets import Input

from capcon.tui.bootstrap import console_from_args
from capcon.tui.cli.main import parse_args
from capcon.tui.console.app import CapconApp
from capcon.tui.console.modals.scale import ScaleModal
from capcon.tui.console.screens.detail import DetailScreen
from capcon.tui.console.testing import settle
from tests.support.aws import REGION, create_table
from tests.support.faultproxy import AwsError, FaultProxy
from tests.support.hostile import HOSTILE_NAMES, leaks, squeeze, visible

SIZE = (200, 60)
QUIT = "[@click=app.quit]x"


@pytest.fixture(scope="module")
def proxy(moto_url: str) -> Iterator[FaultProxy]:
    requests.post(f"{moto_url}/moto-api/reset", timeout=10).raise_for_status()
    ddb = boto3.client("dynamodb", endpoint_url=moto_url, region_name=REGION)
    kinesis = boto3.client("kinesis", endpoint_url=moto_url, region_name=REGION)
    with FaultProxy(moto_url) as served:
        for i, name in enumerate(HOSTILE_NAMES):
            create_table(ddb, f"hx{i:03d}t")
            served.alias(f"hx{i:03d}t", name)
        kinesis.create_stream(StreamName="hxquits", ShardCount=1)
        served.alias("hxquits", f"{QUIT}.s")
        yield served


def console(proxy: FaultProxy) -> CapconApp:
    app = console_from_args(parse_args(["--endpoint-url", proxy.url]))
    app.options.poll = False  # the test polls when it wants to
    return app


def screen_lines(app: CapconApp) -> list[str]:
    """The characters the terminal would be sent for the current screen (styles apart)."""
    strips: list[Strip] = app.screen._compositor.render_strips()
    return ["".join(segment.text for segment in strip) for strip in strips]


async def test_the_list_paints_every_hostile_name_as_written_and_inert(proxy: FaultProxy) -> None:
    app = console(proxy)
    async with app.run_test(size=SIZE) as pilot:
        app.action_refresh()
        await settle(app, pilot)
        assert app.snapshot is not None, app.last_error
        assert {r.name for r in app.snapshot.rows} >= set(HOSTILE_NAMES)
        lines = screen_lines(app)
        screen = "\n".join(lines)
        assert leaks(screen) == [], [line for line in lines if leaks(line)]
        shown = squeeze(screen)
        for name in HOSTILE_NAMES:
            if len(name) < 20:  # a longer one is cut to the column, with an ellipsis
                assert visible(name) in shown, name
        # no row took another's style: every hostile row is painted like a plain one
        plain = {
            app._row_cells(row, None)["name"].style
            for row in app.snapshot.rows
            if not row.throttling
        }
        assert plain == {""}
        # a name that would be a quit link if parsed is only text: clicking it does nothing
        await click_every(app, pilot)
        assert app.return_code is None


async def click_every(app: CapconApp, pilot: Pilot[None], needle: str = "[@click") -> None:
    """Click each place ``needle`` shows on screen (a name that would be a link if parsed)."""
    for y, line in enumerate(screen_lines(app)):
        x = line.find(needle)
        if x >= 0:
            await pilot.click(offset=(x + 3, y))
            await settle(app, pilot)
            assert app.is_running


def assert_screen_clean(app: CapconApp, name: str) -> None:
    lines = screen_lines(app)
    assert leaks("\n".join(lines)) == [], [line for line in lines if leaks(line)]
    assert visible(name) in squeeze("\n".join(lines)), name


#: One console, one screen after another (a console start costs seconds).
DETAIL_NAMES = (QUIT, "audit[/]", "title\x1b]0;pwned\x07t")


async def test_the_detail_screen_and_scale_preview_show_hostile_names_as_written(
    proxy: FaultProxy,
) -> None:
    app = console(proxy)
    async with app.run_test(size=SIZE) as pilot:
        app.action_refresh()
        await settle(app, pilot)
        for name in DETAIL_NAMES:
            app.jump_to(name)
            app.action_detail()
            await settle(app, pilot)
            assert isinstance(app.screen, DetailScreen), name
            assert_screen_clean(app, name)
            await click_every(app, pilot)
            app.pop_screen()
            await settle(app, pilot)

            app.action_scale()
            await settle(app, pilot)
            assert isinstance(app.screen, ScaleModal), (name, app.screen)
            app.screen.query_one("#rcu", Input).value = "8"
            await settle(app, pilot)
            assert_screen_clean(app, name)
            app.screen.action_cancel()
            await settle(app, pilot)
            assert app.is_running


async def test_hostile_text_typed_in_the_scale_inputs_is_an_error_message(
    proxy: FaultProxy,
) -> None:
    app = console(proxy)
    async with app.run_test(size=SIZE) as pilot:
        app.action_refresh()
        await settle(app, pilot)
        app.jump_to("bell\x07bell")
        app.action_scale()
        await settle(app, pilot)
        modal = app.screen
        assert isinstance(modal, ScaleModal), modal
        for typed in ("[/", "[/]", "[@click=app.quit]x", "x\\"):
            modal.query_one("#rcu", Input).value = typed
            await settle(app, pilot)
            assert app.is_running
            assert modal.error is not None, typed
            modal.action_apply()  # the error again, as a notification
            await settle(app, pilot)
            assert app.is_running
            lines = screen_lines(app)
            assert leaks("\n".join(lines)) == [], [line for line in lines if leaks(line)]


async def test_a_hostile_error_answer_is_shown_as_written(proxy: FaultProxy) -> None:
    """An error message from the server reaches the notification and the status bar as
    text: markup shown, control characters dropped, the console still running."""
    message = "[/ audit[/] \x1b[2J\x07 [@click=app.quit]x"
    app = console(proxy)
    async with app.run_test(size=SIZE) as pilot:
        app.action_refresh()
        await settle(app, pilot)
        proxy.add_rule(action=AwsError("ValidationException", message))  # every request
        try:
            app._stale_inventory = True  # the next poll lists the tables again
            app.action_refresh()
            await settle(app, pilot)
        finally:
            proxy.clear()
        assert app.is_running
        assert app.last_error is not None and "ValidationException" in app.last_error
        lines = screen_lines(app)
        assert leaks("\n".join(lines)) == [], [line for line in lines if leaks(line)]
        assert "error: dynamodb:ListTables" in "\n".join(lines)  # the status bar
        # the notification (a markup string): reads back as the message, nothing applied
        [note] = [Content.from_markup(str(n.message)).plain for n in app._notifications]
        assert visible(message) in squeeze(note)
        assert leaks(note) == []
        for y, line in enumerate(lines):  # click every place the message shows
            x = line.find("[@click")
            if x >= 0:
                await pilot.click(offset=(x + 3, y))
        await settle(app, pilot)
        assert app.is_running
