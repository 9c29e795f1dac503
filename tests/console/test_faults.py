"""The console's poll when AWS has a bad day (issue 15): a 500, throttling, a reset
connection or an answer slower than the read timeout leave the console running with the
last good rows on screen, say what failed in the status bar and a notification, and the next
poll after the fault stops brings fresh data and clears the error.
"""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
import requests

from capcon.tui.bootstrap import console_from_args
from capcon.tui.cli.main import parse_args
from capcon.tui.console.testing import settle, status_bar
from tests.support.aws import REGION, create_table, quick_aws, warm_up
from tests.support.faultproxy import Action, Delay, FaultProxy, Reset, ServerError, Throttle

TABLE = "orders"


@pytest.fixture(scope="module")
def proxy(moto_url: str) -> Iterator[FaultProxy]:
    requests.post(f"{moto_url}/moto-api/reset", timeout=10).raise_for_status()
    warm_up(moto_url)
    create_table(boto3.client("dynamodb", endpoint_url=moto_url, region_name=REGION), TABLE)
    with FaultProxy(moto_url) as served:
        yield served


async def test_a_failing_poll_is_shown_and_the_console_recovers(proxy: FaultProxy) -> None:
    """One console through every fault in turn (a console start costs seconds)."""
    proxy.clear()
    with quick_aws(read_timeout=3.0, connect_timeout=2.0, max_attempts=2):
        app = console_from_args(parse_args(["--endpoint-url", proxy.url]))
    app.options.poll = False  # the test polls when it wants to
    faults: list[Action] = [ServerError(), Throttle(), Reset(), Delay(30.0)]
    async with app.run_test(size=(160, 40)) as pilot:
        app.action_refresh()
        await settle(app, pilot)
        assert app.snapshot is not None, app.last_error
        for fault in faults:
            good = app.snapshot
            notes = len(app._notifications)
            proxy.add_rule(action=fault)  # the whole account unreadable: the poll fails
            app._stale_inventory = True  # the next poll lists the tables again
            app.action_refresh()
            await settle(app, pilot)
            assert app.is_running
            assert app.last_error is not None, fault
            assert "dynamodb:" in app.last_error, (fault, app.last_error)
            assert "error:" in status_bar(app)
            assert app.snapshot is good  # the last good rows stay on screen
            assert len(app._notifications) == notes + 1
            assert "dynamodb:" in str(list(app._notifications)[-1].message)

            proxy.clear()
            app.action_refresh()
            await settle(app, pilot)
            assert app.last_error is None, fault
            assert "error:" not in status_bar(app)
            assert app.snapshot is not good
            assert [r.name for r in app.snapshot.rows] == [TABLE]
