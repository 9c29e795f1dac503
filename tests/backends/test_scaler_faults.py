"""The scaler against moto behind the fault-injecting proxy: a network and an AWS having a bad
day.  Each change ends with one intent and one outcome that tells the truth; a mutation is
never sent again before the resource has been read; signals and a second process are handled
(``capcon scale`` run as a real process)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from capcon.core.backends.aws.adapter import AwsAdapter
from capcon.core.backends.aws.session import AwsSession
from capcon.core.config.paths import audit_path
from capcon.core.config.prices import load_price_book
from capcon.core.model import Stream, Table, Throughput
from capcon.core.planning.planner import PlanContext, ScalePlan, plan
from capcon.core.planning.requests import ShardChange
from capcon.core.ports import TableChange
from capcon.core.rules import RuleSettings
from capcon.core.services.audit import AuditLog, Origin
from capcon.core.services.scaler import ApplyResult, Scaler
from tests.support.aws import create_table
from tests.support.faultproxy import (
    Delay,
    Deny,
    FaultProxy,
    Garbage,
    Reset,
    ServerError,
    Throttle,
)

PRICES = load_price_book("us-east-1")


@pytest.fixture
def proxy(url: str) -> Iterator[FaultProxy]:
    with FaultProxy(url) as running:
        yield running


@pytest.fixture
def adapter(proxy: FaultProxy) -> AwsAdapter:
    """capcon's adapter through the proxy, with short timeouts (the test's patience)."""
    return AwsAdapter(
        AwsSession(endpoint_url=proxy.url, read_timeout=1, connect_timeout=1, max_attempts=2)
    )


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    return AuditLog(tmp_path / "audit.jsonl")


def make_table(raw: Callable[[str], Any]) -> None:
    create_table(raw("dynamodb"), "orders", 10, 10)


def scaler(adapter: AwsAdapter, log: AuditLog) -> Scaler:
    return Scaler(
        adapter,
        log,
        Origin("tester", adapter.label, region="us-east-1"),
        wait=time.sleep,
        poll_seconds=0.2,
        settle_seconds=3,
        timeout_seconds=20,
    )


def make_plan(adapter: AwsAdapter, resource: Table | Stream, change: Any) -> ScalePlan:
    result = plan(
        resource, change, adapter.now(), rules=RuleSettings(), prices=PRICES, context=PlanContext()
    )
    assert isinstance(result, ScalePlan), result
    return result


def apply_wcu(adapter: AwsAdapter, log: AuditLog, wcu: int = 20) -> ApplyResult:
    table = adapter.describe_table("orders")
    change = TableChange(table=Throughput(10, wcu))
    return scaler(adapter, log).apply(make_plan(adapter, table, change))


def phases(log: AuditLog) -> list[tuple[str, str | None]]:
    return [(r["phase"], r.get("outcome")) for r in log.read()]


def test_an_answer_lost_after_moto_applied_the_update_is_not_resent(
    proxy: FaultProxy, adapter: AwsAdapter, raw: Callable[[str], Any], log: AuditLog
) -> None:
    make_table(raw)
    proxy.add_rule(operation="UpdateTable", action=Reset(after_forward=True), times=1)
    result = apply_wcu(adapter, log)
    assert result.outcome == "applied", result.error
    assert proxy.sent("UpdateTable") == 1
    assert phases(log) == [("intent", None), ("outcome", "applied")]
    assert log.read()[-1]["after"]["capacity"]["write"] == 20


def test_a_request_lost_on_the_way_is_resent_once_after_reading_it_unchanged(
    proxy: FaultProxy, adapter: AwsAdapter, raw: Callable[[str], Any], log: AuditLog
) -> None:
    make_table(raw)
    proxy.add_rule(operation="UpdateTable", action=Reset(), times=1)
    result = apply_wcu(adapter, log)
    assert result.outcome == "applied", result.error
    assert (proxy.sent("UpdateTable"), proxy.forwarded("UpdateTable")) == (2, 1)


def test_a_500_is_not_retried_by_the_transport(
    proxy: FaultProxy, adapter: AwsAdapter, raw: Callable[[str], Any], log: AuditLog
) -> None:
    make_table(raw)
    proxy.add_rule(operation="UpdateTable", action=ServerError())
    result = apply_wcu(adapter, log)
    assert result.outcome == "unknown"
    assert proxy.sent("UpdateTable") == 2  # the first and one resend, each read back first
    assert (
        raw("dynamodb").describe_table(TableName="orders")["Table"]["ProvisionedThroughput"][
            "WriteCapacityUnits"
        ]
        == 10
    )
    assert phases(log) == [("intent", None), ("outcome", "unknown")]


def test_a_garbage_answer_to_an_update_is_read_back_before_any_resend(
    proxy: FaultProxy, adapter: AwsAdapter, raw: Callable[[str], Any], log: AuditLog
) -> None:
    make_table(raw)
    proxy.add_rule(operation="UpdateTable", action=Garbage(), times=1)  # not forwarded
    result = apply_wcu(adapter, log)
    assert result.outcome == "applied", result.error
    assert (proxy.sent("UpdateTable"), proxy.forwarded("UpdateTable")) == (2, 1)


def test_throttled_updates_are_sent_again(
    proxy: FaultProxy, adapter: AwsAdapter, raw: Callable[[str], Any], log: AuditLog
) -> None:
    make_table(raw)
    proxy.add_rule(operation="UpdateTable", action=Throttle(), times=2)
    result = apply_wcu(adapter, log)
    assert result.outcome == "applied", result.error
    assert proxy.sent("UpdateTable") == 3


def test_a_slow_update_past_the_read_timeout_is_followed_not_resent(
    proxy: FaultProxy, adapter: AwsAdapter, raw: Callable[[str], Any], log: AuditLog
) -> None:
    make_table(raw)
    proxy.add_rule(operation="UpdateTable", action=Delay(2.0), times=1)  # timeout: 1 s
    result = apply_wcu(adapter, log)
    assert result.outcome == "applied", result.error
    assert proxy.sent("UpdateTable") == 1


def test_a_lost_answer_and_reads_failing_leave_the_outcome_unknown_and_reconciled_later(
    proxy: FaultProxy, adapter: AwsAdapter, raw: Callable[[str], Any], log: AuditLog
) -> None:
    from capcon.core.services.reconcile import Reconciler

    make_table(raw)
    proxy.add_rule(operation="UpdateTable", action=Reset(after_forward=True), times=1)
    # the plan's read and the scaler's re-read pass; the reads after the lost answer fail
    proxy.add_rule(operation="DescribeTable", action=Deny(), skip=2)
    result = apply_wcu(adapter, log)
    assert result.outcome == "unknown"
    assert proxy.sent("UpdateTable") == 1
    proxy.clear()
    origin = Origin("tester", adapter.label, region="us-east-1")
    (found,) = Reconciler(adapter, log, origin).run()
    assert (found.verdict, found.left_as) == ("applied", "unknown")


def test_a_uniform_reshard_whose_answer_is_lost_is_not_resent(
    proxy: FaultProxy, adapter: AwsAdapter, raw: Callable[[str], Any], log: AuditLog
) -> None:
    raw("kinesis").create_stream(StreamName="clicks", ShardCount=2)
    proxy.add_rule(operation="UpdateShardCount", action=Reset(after_forward=True), times=1)
    stream = adapter.describe_stream("clicks")
    result = scaler(adapter, log).apply(make_plan(adapter, stream, ShardChange(4)))
    assert result.outcome == "applied", result.error
    assert proxy.sent("UpdateShardCount") == 1  # the daily budget is not spent twice
    assert adapter.describe_stream("clicks").open_shard_count == 4


def test_a_targeted_reshard_survives_lost_answers_step_by_step(
    proxy: FaultProxy, adapter: AwsAdapter, raw: Callable[[str], Any], log: AuditLog
) -> None:
    raw("kinesis").create_stream(StreamName="clicks", ShardCount=2)
    proxy.add_rule(operation="SplitShard", action=Reset(after_forward=True), times=1)
    stream = adapter.describe_stream("clicks")
    the_plan = make_plan(adapter, stream, ShardChange(4, strategy="targeted"))
    assert the_plan.stream is not None
    steps = len(the_plan.stream.reshard.steps)
    result = scaler(adapter, log).apply(the_plan)
    assert result.outcome == "applied", result.error
    assert proxy.sent("SplitShard") == steps
    assert adapter.describe_stream("clicks").open_shard_count == 4


# --------------------------------------------------------------------------------------------
# capcon scale as a process: a signal mid-change, and two at once
# --------------------------------------------------------------------------------------------


def capcon(*argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", "import sys; from capcon.tui.cli.main import main; "
         "sys.exit(main())", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
    )  # fmt: skip


def until(condition: Callable[[], bool], what: str, limit: float = 60) -> None:
    """Wait for ``condition`` (polled), failing with ``what`` after ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def records() -> list[dict[str, Any]]:
    return [json.loads(line) for line in audit_path().read_text().splitlines()]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_during_scale_records_interrupted_and_the_next_command_reconciles(
    proxy: FaultProxy, raw: Callable[[str], Any], signum: signal.Signals
) -> None:
    make_table(raw)
    proxy.add_rule(operation="UpdateTable", action=Delay(120), times=1)
    process = capcon("--endpoint-url", proxy.url, "scale", "orders", "--wcu", "20", "--yes")
    until(lambda: proxy.sent("UpdateTable") == 1, "UpdateTable to be sent")
    process.send_signal(signum)
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signum, err
    assert f"interrupted ({signum.name})" in err
    assert "Traceback" not in err
    intent, outcome = records()
    assert (intent["phase"], outcome["phase"], outcome["outcome"]) == (
        "intent", "outcome", "interrupted",
    )  # fmt: skip
    assert outcome["details"]["sent"] == "maybe"
    proxy.release()  # the delayed request now reaches moto: the change happens after all
    until(lambda: proxy.forwarded("UpdateTable") == 1, "the delayed UpdateTable to land")
    follow = capcon("--endpoint-url", proxy.url, "ls")
    _out, err = follow.communicate(timeout=60)
    assert "left as interrupted: reconciled as applied" in err, err
    assert records()[-1]["phase"] == "reconciled"


def test_two_scale_runs_on_one_table_at_once_one_is_refused_nothing_is_lost(
    proxy: FaultProxy, raw: Callable[[str], Any]
) -> None:
    make_table(raw)
    proxy.add_rule(operation="UpdateTable", action=Delay(120), times=1)
    first = capcon("--endpoint-url", proxy.url, "scale", "orders", "--wcu", "20", "--yes")
    until(lambda: proxy.sent("UpdateTable") == 1, "the first UpdateTable")
    second = capcon("--endpoint-url", proxy.url, "scale", "orders", "--wcu", "30", "--yes")
    out2, err2 = second.communicate(timeout=60)
    assert second.returncode == 1, out2 + err2
    assert "another capcon process is changing orders" in out2 + err2
    proxy.release()
    out1, err1 = first.communicate(timeout=60)
    assert first.returncode == 0, out1 + err1
    assert proxy.sent("UpdateTable") == 1  # the second never sent one
    table = raw("dynamodb").describe_table(TableName="orders")["Table"]
    assert table["ProvisionedThroughput"]["WriteCapacityUnits"] == 20
    outcomes = {r["change_id"]: r["outcome"] for r in records() if r["phase"] == "outcome"}
    assert sorted(outcomes.values()) == ["applied", "refused"]
