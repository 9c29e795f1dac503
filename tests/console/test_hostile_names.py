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
from textual.strip import Strip
from textual.widgets import Input

from capcon.tui.bootstrap import console_from_args
from capcon.tui.cli.main import parse_args
from capcon.tui.console.app import CapconApp
from capcon.tui.console.modals.scale import ScaleModal
from capcon.tui.console.screens.detail import DetailScreen
from capcon.tui.console.testing import settle
from tests.support.aws import REGION, create_table
from tests.support.faultproxy import FaultProxy
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


async def test_the_list_paints_every_hostile_name_as_written(proxy: FaultProxy) -> None:
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


async def test_a_click_on_a_quit_link_name_does_not_quit(proxy: FaultProxy) -> None:
    app = console(proxy)
    async with app.run_test(size=SIZE) as pilot:
        app.action_refresh()
        await settle(app, pilot)
        for y, line in enumerate(screen_lines(app)):
            x = line.find("[@click")
            if x >= 0:
                await pilot.click(offset=(x + 3, y))
                await settle(app, pilot)
                assert app.is_running
        assert app.return_code is None


@pytest.mark.parametrize("name", [QUIT, "audit[/]", "title\x1b]0;pwned\x07t", "nul\x00byte"])
async def test_the_detail_screen_shows_a_hostile_name_as_written(
    proxy: FaultProxy, name: str
) -> None:
    app = console(proxy)
    async with app.run_test(size=SIZE) as pilot:
        app.action_refresh()
        await settle(app, pilot)
        app.jump_to(name)
        app.action_detail()
        await settle(app, pilot)
        assert app.is_running
        assert isinstance(app.screen, DetailScreen)
        lines = screen_lines(app)
        assert leaks("\n".join(lines)) == [], [line for line in lines if leaks(line)]
        assert visible(name) in squeeze("\n".join(lines))
        for y, line in enumerate(lines):  # click every place the name shows
            x = line.find("[@click")
            if x >= 0:
                await pilot.click(offset=(x + 3, y))
        await settle(app, pilot)
        assert app.is_running


@pytest.mark.parametrize("name", ["audit[/]", "title\x1b]0;pwned\x07t"])
async def test_the_scale_preview_shows_a_hostile_name_as_written(
    proxy: FaultProxy, name: str
) -> None:
    app = console(proxy)
    async with app.run_test(size=SIZE) as pilot:
        app.action_refresh()
        await settle(app, pilot)
        app.jump_to(name)
        app.action_scale()
        await settle(app, pilot)
        assert app.is_running
        assert isinstance(app.screen, ScaleModal), app.screen
        app.screen.query_one("#rcu", Input).value = "8"
        await settle(app, pilot)
        lines = screen_lines(app)
        assert leaks("\n".join(lines)) == [], [line for line in lines if leaks(line)]
        assert visible(name) in squeeze("\n".join(lines))


@pytest.mark.parametrize("typed", ["[/", "[/]", "[@click=app.quit]x", "x\\"])
async def test_hostile_text_typed_in_the_scale_inputs_is_an_error_message(
    proxy: FaultProxy, typed: str
) -> None:
    app = console(proxy)
    async with app.run_test(size=SIZE) as pilot:
        app.action_refresh()
        await settle(app, pilot)
        app.jump_to("bell\x07bell")
        app.action_scale()
        await settle(app, pilot)
        assert isinstance(app.screen, ScaleModal), app.screen
        app.screen.query_one("#rcu", Input).value = typed
        await settle(app, pilot)
        assert app.is_running
        assert app.screen.error is not None
        app.screen.action_apply()  # the error again, as a notification
        await settle(app, pilot)
        assert app.is_running
        lines = screen_lines(app)
        assert leaks("\n".join(lines)) == [], [line for line in lines if leaks(line)]
