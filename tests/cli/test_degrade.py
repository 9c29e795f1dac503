"""Degrade, don't blank: a denied or failing service leaves the rest of the account shown,
with a notice naming the action; and region names checked against botocore's list.

The fault proxy (tests/support/faultproxy.py) in front of the moto server answers chosen
operations itself (AccessDenied as AWS sends it, or an HTML page with HTTP 200) and forwards
everything else.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import Run, run
from tests.support.faultproxy import Deny, FaultProxy, Garbage, Request


@pytest.fixture
def proxy(url: str) -> Iterator[FaultProxy]:
    with FaultProxy(url) as running:
        yield running


def secret_only(request: Request) -> bool:
    """A DescribeTable of the table ``secret`` (and of no other)."""
    return b'"secret"' in request.body


@pytest.fixture
def account(raw: Callable[[str], Any]) -> None:
    """Two provisioned tables (one auto-scaled) and a stream."""
    ddb = raw("dynamodb")
    for name in ("orders", "secret"):
        ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            ProvisionedThroughput={"ReadCapacityUnits": 100, "WriteCapacityUnits": 50},
        )
    raw("application-autoscaling").register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId="table/orders",
        ScalableDimension="dynamodb:table:ReadCapacityUnits",
        MinCapacity=5,
        MaxCapacity=500,
    )
    raw("kinesis").create_stream(StreamName="clicks", ShardCount=2)


def ls(capsys: pytest.CaptureFixture[str], endpoint: str, *flags: str) -> Run:
    return run(capsys, "--endpoint-url", endpoint, "ls", *flags)


def rows(result: Run) -> dict[str, Any]:
    return {row["name"]: row for row in json.loads(result.out)}


def test_kinesis_denied_leaves_the_tables_listed_with_a_notice(
    account: None, proxy: FaultProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    endpoint = proxy.url
    proxy.add_rule(service="kinesis", action=Deny())
    result = ls(capsys, endpoint, "--json")
    assert result.code == 5, result.err  # partial
    shown = rows(result)
    assert {"orders", "secret"} <= set(shown) and "clicks" not in shown
    assert "kinesis:ListStreams: access denied — streams not shown" in result.err
    assert "Traceback" not in result.err

    text = ls(capsys, endpoint)
    assert text.code == 5
    assert "orders" in text.out and "partial" in text.out
    assert "kinesis:ListStreams: access denied" in text.err


def test_auto_scaling_denied_is_unknown_not_none(
    account: None, proxy: FaultProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    endpoint = proxy.url
    before = rows(ls(capsys, endpoint, "--json"))
    assert before["orders"]["auto_scaling"]["known"] is True
    assert before["orders"]["auto_scaling"]["targets"]

    proxy.add_rule(operation="DescribeScalableTargets", action=Deny())
    result = ls(capsys, endpoint, "--json")
    assert result.code == 5
    after = rows(result)
    assert set(after) == set(before)  # every resource still listed
    assert after["orders"]["auto_scaling"]["known"] is False
    assert "application-autoscaling:DescribeScalableTargets: access denied" in result.err
    assert "auto scaling unknown" in result.err


def test_cloudwatch_denied_shows_no_metrics_and_keeps_capacity(
    account: None, proxy: FaultProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    endpoint = proxy.url
    proxy.add_rule(operation="GetMetricData", action=Deny())
    result = ls(capsys, endpoint, "--json")
    assert result.code == 5
    orders = rows(result)["orders"]
    assert orders["metrics_known"] is False and orders["usage"] is None
    assert orders["capacity"] == {"read": 100, "write": 50}
    assert orders["cost_per_hour"] is not None  # provisioned: known without metrics
    assert "cloudwatch:GetMetricData: access denied" in result.err


def test_an_html_list_tables_is_never_an_empty_account(
    account: None, proxy: FaultProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    endpoint = proxy.url
    proxy.add_rule(operation="ListTables", action=Garbage())
    result = ls(capsys, endpoint, "--json")
    assert result.code == 5, result.err  # not 0: the tables are missing, and it says so
    assert set(rows(result)) == {"clicks"}
    assert "dynamodb:ListTables: malformed answer — tables not shown" in result.err


def test_one_table_that_cannot_be_described_hides_only_itself(
    account: None, proxy: FaultProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    endpoint = proxy.url
    proxy.add_rule(operation="DescribeTable", action=Deny(), when=secret_only)
    result = ls(capsys, endpoint, "--json")
    assert result.code == 5
    assert set(rows(result)) == {"orders", "clicks"}
    assert "dynamodb:DescribeTable: access denied — 1 table not shown (secret)" in result.err


def test_nothing_readable_is_a_backend_failure(
    account: None, proxy: FaultProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    endpoint = proxy.url
    proxy.add_rule(service="dynamodb", action=Deny())
    proxy.add_rule(service="kinesis", action=Deny())
    result = ls(capsys, endpoint)
    assert result.code == 3
    assert "dynamodb:ListTables" in result.err and "Traceback" not in result.err


def test_show_degrades_and_finds_a_stream_without_list_streams(
    account: None, proxy: FaultProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    endpoint = proxy.url
    proxy.add_rule(operation="DescribeScalableTargets", action=Deny())
    table = run(capsys, "--endpoint-url", endpoint, "show", "orders")
    assert table.code == 5, table.err
    assert "AAS unknown" in table.out
    assert "application-autoscaling:DescribeScalableTargets: access denied" in table.err

    proxy.clear()
    proxy.add_rule(operation="ListStreams", action=Deny())
    stream = run(capsys, "--endpoint-url", endpoint, "show", "clicks", "--json")
    assert stream.code == 0, stream.err  # described by name: nothing it shows is missing
    assert json.loads(stream.out)["kind"] == "stream"


@pytest.mark.parametrize("region", ["eu-wst-1", "us-east-7", "mars-1"])
def test_an_unknown_region_is_a_usage_error_naming_it(
    aws_env: Path, capsys: pytest.CaptureFixture[str], region: str
) -> None:
    result = run(capsys, "--region", region, "ls")
    assert result.code == 2
    assert f"region {region!r} is not an AWS region" in result.err
    assert "describe-regions" in result.err  # how to list the valid ones
    if region == "eu-wst-1":
        assert "eu-west-1" in result.err


@pytest.mark.parametrize("region", ["eu-west-1", "cn-north-1", "us-gov-west-1", "us-isob-east-1"])
def test_known_regions_of_every_partition_are_accepted(region: str) -> None:
    from capcon.core.backends.aws.regions import region_problem

    assert region_problem(region, endpoint=False) is None
    assert region_problem("eu-wst-1", endpoint=False) is not None


def test_a_custom_region_is_allowed_with_an_endpoint(url: str) -> None:
    from capcon.tui.bootstrap import open_session
    from capcon.tui.cli.main import parse_args

    session = open_session(parse_args(["--endpoint-url", url, "--region", "local-lab", "ls"]))
    assert session.region == "local-lab"  # moto itself refuses the name; capcon does not
