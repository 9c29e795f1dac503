"""``capcon ls`` and ``show`` when AWS has a bad day (issue 15): a 500, throttling, a reset
connection, an HTML page with status 200, access denied, an answer slower than the read
timeout.  Each ends with exit 3 and one line naming the operation that failed, never a
traceback, and never a success with resources silently missing.

The fault proxy stands between capcon and moto; :func:`quick_aws` keeps botocore's timeouts
and retries small so a test costs a second or two, not the product's control-plane budget.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import pytest
import requests

from capcon.tui.cli.main import main
from tests.support.aws import REGION, create_table, quick_aws, warm_up
from tests.support.faultproxy import (
    Action,
    Delay,
    Deny,
    FaultProxy,
    Garbage,
    Reset,
    ServerError,
    Throttle,
)

TABLE, STREAM = "orders", "clicks"


@dataclass
class Run:
    code: int
    out: str
    err: str
    seconds: float


@pytest.fixture(scope="module")
def proxy(moto_url: str) -> Iterator[FaultProxy]:
    requests.post(f"{moto_url}/moto-api/reset", timeout=10).raise_for_status()
    warm_up(moto_url)
    create_table(boto3.client("dynamodb", endpoint_url=moto_url, region_name=REGION), TABLE)
    boto3.client("kinesis", endpoint_url=moto_url, region_name=REGION).create_stream(
        StreamName=STREAM, ShardCount=1
    )
    with FaultProxy(moto_url) as served:
        yield served


@pytest.fixture(autouse=True)
def quick(proxy: FaultProxy) -> Iterator[None]:
    """Read timeout 3 s (moto on a busy machine needs some), two attempts; every test starts
    with no fault and no counts."""
    proxy.clear()
    proxy.reset_counts()
    with quick_aws(read_timeout=3.0, connect_timeout=2.0, max_attempts=2):
        yield
    proxy.clear()


def run(capsys: pytest.CaptureFixture[str], proxy: FaultProxy, *argv: str) -> Run:
    start = time.monotonic()
    code = main(["--endpoint-url", proxy.url, *argv])
    seconds = time.monotonic() - start
    out, err = capsys.readouterr()
    return Run(code, out, err, seconds)


FAULTS: dict[str, Action] = {
    "500": ServerError(),
    "throttled": Throttle(),
    "reset": Reset(),
    "denied": Deny(),
    "slow": Delay(30.0),
}
#: (command, the operation the fault hits, what names it in the message)
COMMANDS = {
    "ls": (["ls"], "ListTables"),
    "show": (["show", TABLE], "DescribeTable"),
}


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("command", COMMANDS)
def test_a_fault_names_the_operation_and_fails_or_degrades(
    capsys: pytest.CaptureFixture[str], proxy: FaultProxy, fault: str, command: str
) -> None:
    argv, operation = COMMANDS[command]
    proxy.add_rule(operation=operation, action=FAULTS[fault])
    result = run(capsys, proxy, *argv)
    assert "Traceback" not in result.err
    assert f"dynamodb:{operation}" in result.err, result.err
    if command == "ls" and fault in ("500", "throttled", "denied"):
        # the endpoint answers: ls degrades (the streams it can read, the tables named as
        # missing) and exits 5, partial
        assert result.code == 5, (result.out, result.err)
        assert "tables not shown" in result.err
        assert STREAM in result.out
    else:
        assert result.code == 3, (result.out, result.err)
        assert result.err.startswith("capcon: ") and result.err.count("\n") == 1, result.err
        assert result.out == ""
    # two attempts at most, each cut at the read timeout (3 s here), not the proxy's 30 s
    assert proxy.sent(operation) <= 2
    assert result.seconds < 20


@pytest.mark.parametrize("command", ["ls", "show"])
def test_an_html_page_with_status_200_is_a_failure_not_an_empty_account(
    capsys: pytest.CaptureFixture[str], proxy: FaultProxy, command: str
) -> None:
    argv, operation = COMMANDS[command]
    proxy.add_rule(operation=operation, action=Garbage())
    result = run(capsys, proxy, *argv)
    assert "Traceback" not in result.err
    assert f"dynamodb:{operation}" in result.err, result.err
    assert "malformed answer" in result.err, result.err
    if command == "ls":  # the streams are read; the tables are said to be missing: partial
        assert result.code == 5, (result.out, result.err)
        assert "tables not shown" in result.err
    else:
        assert result.code == 3, (result.out, result.err)


def test_a_fault_that_stops_is_retried_and_the_listing_is_whole(
    capsys: pytest.CaptureFixture[str], proxy: FaultProxy
) -> None:
    """A read is safe to send again: one reset connection and one throttle cost a retry each,
    and ``ls`` still lists everything."""
    proxy.add_rule(operation="ListTables", action=Reset(), times=1)
    proxy.add_rule(operation="ListStreams", action=Throttle(), times=1)
    result = run(capsys, proxy, "ls", "--json")
    assert result.code == 0, result.err
    assert TABLE in result.out and STREAM in result.out
    assert proxy.sent("ListTables") == 2 and proxy.forwarded("ListTables") == 1
    assert proxy.sent("ListStreams") == 2 and proxy.forwarded("ListStreams") == 1
