"""Degrade, don't blank, in the console: Kinesis denied leaves the tables on screen, with a
notice naming the denied action; auto scaling denied shows "?" (unknown), not nothing.

The fault proxy (tests/support/faultproxy.py) in front of the moto server answers
AccessDenied, as AWS does, for the operations a test names, and forwards everything else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from capcon.tui.bootstrap import console_from_args
from capcon.tui.cli.main import parse_args
from capcon.tui.console.testing import settle, status_bar
from capcon.tui.console.widgets.resource_list import ResourceList
from tests.support.faultproxy import Deny, FaultProxy


@pytest.fixture
def proxy(url: str) -> Iterator[FaultProxy]:
    with FaultProxy(url) as running:
        yield running


@pytest.fixture
def account(raw: Callable[[str], Any]) -> None:
    raw("dynamodb").create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": 100, "WriteCapacityUnits": 50},
    )
    raw("kinesis").create_stream(StreamName="clicks", ShardCount=1)


def warnings(app: Any) -> list[str]:
    return [str(n.message) for n in app._notifications if n.severity == "warning"]


async def test_kinesis_and_auto_scaling_denied_leave_the_tables_on_screen(
    account: None, proxy: FaultProxy
) -> None:
    endpoint = proxy.url
    proxy.add_rule(service="kinesis", action=Deny())
    proxy.add_rule(operation="DescribeScalableTargets", action=Deny())
    app = console_from_args(parse_args(["--endpoint-url", endpoint]))
    app.options.poll = False  # the test polls when it wants to
    async with app.run_test(size=(160, 50)) as pilot:
        app.action_refresh()
        await settle(app, pilot)
        assert app.snapshot is not None, app.last_error
        assert app.last_error is None  # not a failed poll: a partial one
        listed = app.query_one(ResourceList)
        assert listed.row_keys == ["orders"]
        assert str(listed.get_cell("orders", "aas")) == "?"  # unknown, not "none"
        assert str(listed.get_cell("orders", "util")).strip() == "0%"  # CloudWatch was read
        said = "\n".join(warnings(app))
        assert "kinesis:ListStreams: access denied — streams not shown" in said
        assert "application-autoscaling:DescribeScalableTargets: access denied" in said
        bar = status_bar(app)
        assert "partial:" in bar and "(+1)" in bar

        proxy.clear()  # permissions fixed: everything back, the notice gone
        app.action_refresh()
        await settle(app, pilot)
        assert set(listed.row_keys) == {"orders", "clicks"}
        assert str(listed.get_cell("orders", "aas")) == ""
        assert "partial:" not in status_bar(app)


async def test_cloudwatch_denied_shows_unknown_use_and_keeps_the_rows(
    account: None, proxy: FaultProxy
) -> None:
    endpoint = proxy.url
    proxy.add_rule(operation="GetMetricData", action=Deny())
    app = console_from_args(parse_args(["--endpoint-url", endpoint]))
    app.options.poll = False
    async with app.run_test(size=(160, 50)) as pilot:
        app.action_refresh()
        await settle(app, pilot)
        listed = app.query_one(ResourceList)
        assert set(listed.row_keys) == {"orders", "clicks"}
        assert str(listed.get_cell("orders", "util")).strip() == "?"  # unknown, never 0
        assert str(listed.get_cell("orders", "thr")).strip() == "?"
        assert "cloudwatch:GetMetricData: access denied" in "\n".join(warnings(app))
