"""The core scaler against a moto server (a real HTTP endpoint): the same guarantees as on
the simulated account — stale plans and read-only sessions refused, an intent and an outcome
record for every apply, a failed apply recorded with its error and nothing else changed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from capcon.core.backends.aws.adapter import AwsAdapter
from capcon.core.backends.aws.session import AwsSession
from capcon.core.config.prices import load_price_book
from capcon.core.model import Throughput
from capcon.core.planning.planner import ScalePlan, plan
from capcon.core.planning.requests import ShardChange
from capcon.core.ports import TableChange
from capcon.core.rules import RuleSettings
from capcon.core.services.audit import AuditLog, Origin
from capcon.core.services.scaler import Scaler

RULES = RuleSettings()
PRICES = load_price_book("us-east-1")


def make_table(ddb: Any, name: str, capacity: int = 10) -> None:
    ddb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        ProvisionedThroughput={"ReadCapacityUnits": capacity, "WriteCapacityUnits": capacity},
    )


def setup(
    url: str, tmp_path: Path, *, read_only: bool = False
) -> tuple[AwsAdapter, Scaler, AuditLog]:
    adapter = AwsAdapter(AwsSession(endpoint_url=url))
    log = AuditLog(tmp_path / "audit.jsonl")
    origin = Origin(adapter.session.identity(), adapter.label, endpoint=url)
    scaler = Scaler(adapter, log, origin, wait=lambda s: None, read_only=read_only, poll_seconds=0)
    return adapter, scaler, log


def table_plan(adapter: AwsAdapter, name: str, capacity: Throughput) -> ScalePlan:
    result = plan(
        adapter.describe_table(name),
        TableChange(table=capacity),
        adapter.now(),
        rules=RULES,
        prices=PRICES,
    )
    assert isinstance(result, ScalePlan), result
    return result


def test_apply_on_moto_changes_the_table_and_audits(
    url: str, raw: Callable[[str], Any], tmp_path: Path
) -> None:
    make_table(raw("dynamodb"), "orders")
    adapter, scaler, log = setup(url, tmp_path)
    result = scaler.apply(table_plan(adapter, "orders", Throughput(10, 40)))
    assert result.outcome == "applied", result.error
    described = raw("dynamodb").describe_table(TableName="orders")["Table"]["ProvisionedThroughput"]
    assert described["WriteCapacityUnits"] == 40
    records = log.read()
    assert [r["phase"] for r in records] == ["intent", "outcome"]
    assert records[0]["origin"]["who"].startswith("arn:aws:")  # the caller identity from STS


def test_stale_plan_on_moto_is_refused(url: str, raw: Callable[[str], Any], tmp_path: Path) -> None:
    ddb = raw("dynamodb")
    make_table(ddb, "orders")
    adapter, scaler, log = setup(url, tmp_path)
    stale = table_plan(adapter, "orders", Throughput(10, 40))
    ddb.update_table(  # someone else changes the table after the preview
        TableName="orders",
        ProvisionedThroughput={"ReadCapacityUnits": 10, "WriteCapacityUnits": 20},
    )
    result = scaler.apply(stale)
    assert result.outcome == "refused"
    assert "changed since the preview" in (result.error or "")
    described = ddb.describe_table(TableName="orders")["Table"]["ProvisionedThroughput"]
    assert described["WriteCapacityUnits"] == 20
    assert [(r["phase"], r.get("outcome")) for r in log.read()] == [
        ("intent", None),
        ("outcome", "refused"),
    ]


def test_read_only_on_moto_refuses(url: str, raw: Callable[[str], Any], tmp_path: Path) -> None:
    make_table(raw("dynamodb"), "orders")
    adapter, scaler, log = setup(url, tmp_path, read_only=True)
    result = scaler.apply(table_plan(adapter, "orders", Throughput(10, 40)))
    assert result.outcome == "refused" and "read-only" in (result.error or "")
    described = raw("dynamodb").describe_table(TableName="orders")["Table"]["ProvisionedThroughput"]
    assert described["WriteCapacityUnits"] == 10
    assert log.read() == []  # refused before anything was read, sent or recorded


def test_failed_apply_on_moto_records_the_error_and_changes_nothing(
    url: str, raw: Callable[[str], Any], tmp_path: Path
) -> None:
    ddb = raw("dynamodb")
    make_table(ddb, "orders")
    adapter, scaler, log = setup(url, tmp_path)
    doomed = table_plan(adapter, "orders", Throughput(10, 40))
    ddb.delete_table(TableName="orders")  # gone between the preview and the apply
    result = scaler.apply(doomed)
    assert result.outcome == "failed"
    assert "not found" in (result.error or "")
    records = log.read()
    assert [r["phase"] for r in records] == ["intent", "outcome"]
    assert records[-1]["outcome"] == "failed" and "not found" in records[-1]["error"]
    assert "orders" not in raw("dynamodb").list_tables()["TableNames"]


def test_uniform_reshard_on_moto(url: str, raw: Callable[[str], Any], tmp_path: Path) -> None:
    kinesis = raw("kinesis")
    kinesis.create_stream(StreamName="clicks", ShardCount=2)
    adapter, scaler, log = setup(url, tmp_path)
    result = plan(
        adapter.describe_stream("clicks"), ShardChange(4), adapter.now(), rules=RULES, prices=PRICES
    )
    assert isinstance(result, ScalePlan)
    outcome = scaler.apply(result)
    assert outcome.outcome == "applied", outcome.error
    assert adapter.describe_stream("clicks").open_shard_count == 4
    assert [r["phase"] for r in log.read()] == ["intent", "outcome"]
