"""The core scaler and the audit log, on the simulated account."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from capcon.core.backends.sim.account import SimAccount
from capcon.core.config.prices import load_price_book
from capcon.core.model import Table, Throughput
from capcon.core.planning.planner import Refusal, plan
from capcon.core.planning.requests import ShardChange
from capcon.core.ports import TableChange
from capcon.core.rules import RuleSettings
from capcon.core.services.audit import AuditLog, Origin, redact_endpoint
from capcon.core.services.scaler import Progress, Scaler
from tests.support.faulty import account, make_plan

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RULES = RuleSettings()
PRICES = load_price_book("us-east-1")


def scaler(acc: SimAccount, log: AuditLog, *, read_only: bool = False) -> Scaler:
    return Scaler(
        acc,
        log,
        Origin("simulated", "sim:test"),
        wait=lambda s: acc.advance(int(s)),
        read_only=read_only,
        poll_seconds=5,
    )


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    return AuditLog(tmp_path / "state" / "capcon" / "audit.jsonl")


def phases(log: AuditLog) -> list[tuple[str, str | None]]:
    return [(r["phase"], r.get("outcome")) for r in log.read()]


def test_apply_table_follows_updating_to_active_and_audits(log: AuditLog) -> None:
    acc = account()
    seen: list[Progress] = []
    p = make_plan(acc, "orders", TableChange(table=Throughput(100, 400)))
    result = scaler(acc, log).apply(p, progress=seen.append)
    assert result.outcome == "applied"
    assert isinstance(result.after, Table)
    assert result.after.provisioned == Throughput(100, 400)
    assert result.after.status == "ACTIVE"
    assert any(s.status == "UPDATING" for s in seen)
    assert seen[-1].fraction == 1.0
    assert phases(log) == [("intent", None), ("outcome", "applied")]
    intent, outcome = log.read()
    assert intent["change_id"] == outcome["change_id"]
    assert intent["before"]["capacity"] == {"read": 100, "write": 100}
    assert outcome["after"]["capacity"] == {"read": 100, "write": 400}
    assert intent["origin"]["who"] == "simulated"


def test_audit_file_is_private_and_flushed_before_the_change(log: AuditLog) -> None:
    acc = account()
    p = make_plan(acc, "orders", TableChange(table=Throughput(100, 300)))
    seen_at_send: list[list[str]] = []
    original = acc.update_table

    def spy(name: str, change: TableChange) -> Table:
        # the intent must already be on disk when the backend is called
        seen_at_send.append(
            [json.loads(line)["phase"] for line in log.path.read_text().splitlines()]
        )
        return original(name, change)

    acc.update_table = spy  # type: ignore[method-assign]
    scaler(acc, log).apply(p)
    assert seen_at_send == [["intent"]]
    assert stat.S_IMODE(os.stat(log.path).st_mode) == 0o600


def test_stale_plan_is_refused_with_the_difference(log: AuditLog) -> None:
    acc = account()
    before = acc.describe_table("orders")
    p = make_plan(acc, "orders", TableChange(table=Throughput(100, 400)))
    acc.update_table("orders", TableChange(table=Throughput(100, 200)))  # someone else
    acc.advance(60)
    result = scaler(acc, log).apply(p, previous=before)
    assert result.outcome == "refused"
    assert result.error is not None
    assert "changed since the preview" in result.error
    assert "100 RCU / 100 WCU → 100 RCU / 200 WCU" in result.error
    assert acc.describe_table("orders").provisioned == Throughput(100, 200)
    assert phases(log) == [("intent", None), ("outcome", "refused")]


def test_read_only_refuses_and_changes_nothing(log: AuditLog) -> None:
    acc = account()
    p = make_plan(acc, "orders", TableChange(table=Throughput(100, 400)))
    result = scaler(acc, log, read_only=True).apply(p)
    assert result.outcome == "refused"
    assert result.error is not None and "read-only" in result.error
    assert acc.describe_table("orders").provisioned == Throughput(100, 100)
    assert acc.describe_table("orders").status == "ACTIVE"
    # refused before anything was read or sent: nothing to record (tests/unit/test_read_only.py)
    assert phases(log) == [] and not log.path.exists()
    assert result.change_id == ""


def test_failed_apply_records_the_error_and_changes_nothing(log: AuditLog) -> None:
    acc = account()
    # Plan while the rules look fine, then spend the table's decreases elsewhere first.
    p = make_plan(acc, "orders", TableChange(table=Throughput(100, 50)))
    relaxed = RuleSettings(decreases_any_time_per_day=0, max_decreases_per_day=0)
    acc.rules = relaxed
    for table in acc.tables.values():
        table.rules = relaxed
    result = scaler(acc, log).apply(p)
    assert result.outcome == "failed"
    assert result.error is not None and "decrease" in result.error
    assert acc.describe_table("orders").provisioned == Throughput(100, 100)
    records = log.read()
    assert [r["phase"] for r in records] == ["intent", "outcome"]
    assert records[-1]["outcome"] == "failed"
    assert "decrease" in records[-1]["error"]


def test_gsi_change_through_the_scaler(log: AuditLog) -> None:
    acc = account()
    p = make_plan(acc, "orders", TableChange(indexes=(("by-day", Throughput(50, 150)),)))
    result = scaler(acc, log).apply(p)
    assert result.outcome == "applied"
    assert acc.describe_table("orders").index("by-day").provisioned == Throughput(50, 150)


def test_uniform_reshard(log: AuditLog) -> None:
    acc = account()
    p = make_plan(acc, "clicks", ShardChange(8))
    result = scaler(acc, log).apply(p)
    assert result.outcome == "applied"
    stream = acc.describe_stream("clicks")
    assert stream.open_shard_count == 8
    assert acc.streams["clicks"].reshard_history  # counted against the 10-per-day budget


def test_targeted_reshard_runs_step_by_step_and_resumes(log: AuditLog) -> None:
    acc = account()
    p = make_plan(acc, "clicks", ShardChange(6, "targeted"))
    assert p.stream is not None and len(p.stream.reshard.steps) == 2
    # Do the first split by hand, as an interrupted earlier run would have.
    first = p.stream.reshard.steps[0]
    assert first.new_starting_hash_key is not None
    acc.split_shard("clicks", first.closes[0], first.new_starting_hash_key)
    acc.advance(30)
    # The plan is stale now (the shards changed): plan again, and the scaler resumes.
    again = make_plan(acc, "clicks", ShardChange(6, "targeted"))
    progress: list[Progress] = []
    result = scaler(acc, log).apply(again, progress=progress.append)
    assert result.outcome == "applied"
    assert acc.describe_stream("clicks").open_shard_count == 6
    assert result.steps_total == 1
    assert [r["phase"] for r in log.read()] == ["intent", "progress", "outcome"]
    assert not acc.streams["clicks"].reshard_history  # split/merge is not UpdateShardCount


def test_plan_refusal_is_never_applied() -> None:
    acc = account()
    result = plan(
        acc.describe_stream("clicks"), ShardChange(9), acc.now(), rules=RULES, prices=PRICES
    )
    assert isinstance(result, Refusal)


def test_endpoint_credentials_are_never_logged(log: AuditLog) -> None:
    assert redact_endpoint("https://user:secret@example.com:4566/path?x=1") == (
        "https://***@example.com:4566/path?x=1"
    )
    assert redact_endpoint("http://h:1/?X-Amz-Signature=abc") == "http://h:1/?X-Amz-Signature=***"
    acc = account()
    origin = Origin("arn:aws:iam::1:user/x", "aws", endpoint="http://k:s@127.0.0.1:5000")
    sc = Scaler(acc, log, origin, wait=lambda s: acc.advance(int(s)))
    sc.apply(make_plan(acc, "orders", TableChange(table=Throughput(100, 150))))
    text = log.path.read_text()
    assert "s@" not in text and "k:s" not in text
    assert "127.0.0.1:5000" in text


def test_audit_read_skips_damaged_lines(log: AuditLog) -> None:
    acc = account()
    scaler(acc, log).apply(make_plan(acc, "orders", TableChange(table=Throughput(100, 150))))
    with log.path.open("a") as handle:
        handle.write("{not json\n")
    assert len(log.read()) == 2
    assert len(log.read(limit=1)) == 1


def test_timestamps_are_simulated_time(log: AuditLog) -> None:
    acc = account()
    scaler(acc, log).apply(make_plan(acc, "orders", TableChange(table=Throughput(100, 150))))
    first = datetime.fromisoformat(log.read()[0]["at"])
    assert START <= first <= START + timedelta(hours=1)
