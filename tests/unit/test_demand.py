"""Plans sized on demand: demand = consumed + throttled, plans below it say so, the proposal
that serves it at a target utilisation, and the GSIs that receive a table's writes.

Resources come from JSON shaped as ``aws dynamodb describe-table`` prints it.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from capcon.core.backends.aws.describe import resource_from_document
from capcon.core.backends.sim.account import SimAccount, TableSpec
from capcon.core.backends.sim.traffic import Steady, StreamLoad
from capcon.core.config.prices import load_price_book
from capcon.core.jsonable import to_jsonable
from capcon.core.model import BillingMode, Stream, Table, Throughput
from capcon.core.planning.planner import (
    PlanContext,
    ScalePlan,
    StreamTraffic,
    Usage,
    plan,
    propose,
    propose_shards,
)
from capcon.core.planning.requests import ShardChange
from capcon.core.ports import TableChange
from capcon.core.rules import RuleSettings
from capcon.core.services.audit import AuditLog
from capcon.core.services.inspect import live_context

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
RULES = RuleSettings()
PRICES = load_price_book("us-east-1")


def throughput(read: int, write: int) -> dict[str, Any]:
    return {
        "LastIncreaseDateTime": "2026-11-30T08:00:00+00:00",
        "NumberOfDecreasesToday": 0,
        "ReadCapacityUnits": read,
        "WriteCapacityUnits": write,
    }


def described(
    table_wcu: int = 100, gsis: dict[str, Any] | None = None, table_rcu: int = 50
) -> Table:
    """``aws dynamodb describe-table --table-name orders`` for a provisioned table with GSIs
    (each GSI: ``(rcu, wcu)`` provisioned, or ``{"max": n}`` for an on-demand maximum)."""
    indexes = []
    for name, spec in (gsis or {}).items():
        doc: dict[str, Any] = {
            "IndexName": name,
            "KeySchema": [{"AttributeName": name, "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
            "IndexStatus": "ACTIVE",
            "IndexSizeBytes": 1_000,
            "ItemCount": 10,
            "IndexArn": f"arn:aws:dynamodb:us-east-1:123456789012:table/orders/index/{name}",
        }
        if isinstance(spec, dict):
            doc["ProvisionedThroughput"] = throughput(0, 0)
            doc["OnDemandThroughput"] = {
                "MaxReadRequestUnits": -1,
                "MaxWriteRequestUnits": spec["max"],
            }
        else:
            doc["ProvisionedThroughput"] = throughput(*spec)
        indexes.append(doc)
    table: dict[str, Any] = {
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "TableName": "orders",
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "TableStatus": "ACTIVE",
        "CreationDateTime": "2025-01-07T10:00:00+00:00",
        "ProvisionedThroughput": throughput(table_rcu, table_wcu),
        "TableSizeBytes": 5_000,
        "ItemCount": 50,
        "TableArn": "arn:aws:dynamodb:us-east-1:123456789012:table/orders",
        "TableId": "5c4b8f4e-1111-2222-3333-444455556666",
    }
    if indexes:
        table["GlobalSecondaryIndexes"] = indexes
    if any(isinstance(spec, dict) for spec in (gsis or {}).values()):
        table["BillingModeSummary"] = {"BillingMode": "PAY_PER_REQUEST"}
    resource = resource_from_document({"Table": table})
    assert isinstance(resource, Table)
    return resource


def planned(table: Table, change: TableChange, context: PlanContext) -> ScalePlan:
    result = plan(table, change, NOW, rules=RULES, prices=PRICES, context=context)
    assert isinstance(result, ScalePlan), result
    return result


def codes(result: ScalePlan) -> list[str]:
    return [w.code for w in result.warnings]


def message(result: ScalePlan, code: str) -> str:
    (found,) = [w.message for w in result.warnings if w.code == code]
    return found


# --------------------------------------------------------------------------------------------
# Below demand
# --------------------------------------------------------------------------------------------


def test_a_plan_below_demand_says_so_with_the_numbers() -> None:
    """100 WCU consumed and 66 throttled a second: demand ≈ 166; 120 WCU serves 72 % of it
    (120 / 166 = 0.7229), although it is above consumption."""
    context = PlanContext(usage={None: Usage(30.0, 100.0, throttled_write=66.0)})
    result = planned(described(), TableChange(table=Throughput(50, 120)), context)
    text = message(result, "below-demand")
    assert "demand ≈ 166 WCU/s (100 consumed + 66 throttled)" in text
    assert "120 WCU serves 72 %" in text
    assert "below-traffic" not in codes(result)  # 120 is above consumption: not that warning
    # the approximation is named among the assumptions
    assert any("demand = consumed + throttled" in a for a in result.assumptions)
    # --json carries the throttled part and the demand
    (part,) = [p for p in to_jsonable(result)["parts"] if p["index"] is None]
    assert part["usage"]["throttled_write"] == 66.0 and part["usage"]["demand_write"] == 166.0


def test_capacity_that_serves_demand_has_no_demand_warning() -> None:
    context = PlanContext(usage={None: Usage(30.0, 100.0, throttled_write=66.0)})
    result = planned(described(), TableChange(table=Throughput(50, 166)), context)
    assert "below-demand" not in codes(result)
    # reads: 30 consumed + 25 throttled = 55 > 50 RCU kept: the read side is named too
    reads = PlanContext(usage={None: Usage(30.0, 100.0, 25.0, 66.0)})
    result = planned(described(), TableChange(table=Throughput(50, 166)), reads)
    assert "demand ≈ 55 RCU/s (30 consumed + 25 throttled); 50 RCU serves 90 %" in message(
        result, "below-demand"
    )


def test_without_throttling_the_consumption_warning_is_unchanged() -> None:
    context = PlanContext(usage={None: Usage(30.0, 100.0)})
    result = planned(described(), TableChange(table=Throughput(50, 90)), context)
    assert "below-traffic" in codes(result) and "below-demand" not in codes(result)
    assert not any("demand = consumed" in a for a in result.assumptions)


# --------------------------------------------------------------------------------------------
# The proposal
# --------------------------------------------------------------------------------------------


def test_proposal_serves_demand_at_the_target_utilisation() -> None:
    table = described()
    context = PlanContext(usage={None: Usage(30.0, 100.0, throttled_write=66.0)})
    proposal = propose(table, None, context, RULES)
    assert proposal is not None
    # 166 / 0.7 = 237.14… → 238 WCU; 30 / 0.7 = 42.86 → 43 RCU
    assert proposal.capacity == Throughput(math.ceil(30 / 0.7), math.ceil(166 / 0.7))
    assert proposal.capacity == Throughput(43, 238)
    assert "166 WCU/s (100 consumed + 66 throttled)" in proposal.line
    assert "43 RCU / 238 WCU" in proposal.line and "now 50 RCU / 100 WCU" in proposal.line
    # at 50 %: 332 WCU, 60 RCU; exact quotients are not rounded up once more (70 / 0.7)
    assert propose(table, None, context, RULES, 0.5).capacity == Throughput(60, 332)  # type: ignore[union-attr]
    exact = PlanContext(usage={None: Usage(7.0, 70.0)})
    assert propose(table, None, exact, RULES, 0.7).capacity == Throughput(10, 100)  # type: ignore[union-attr]
    # an idle table gets the minimum, not zero; an unknown one no proposal
    idle = PlanContext(usage={None: Usage(0.0, 0.0)})
    assert propose(table, None, idle, RULES).capacity == Throughput(1, 1)  # type: ignore[union-attr]
    assert propose(table, None, PlanContext(), RULES) is None
    for bad in (0.0, -0.5, 1.5, math.nan):
        with pytest.raises(ValueError, match="target utilisation"):
            propose(table, None, context, RULES, bad)


def test_proposal_for_a_gsi_uses_its_own_demand() -> None:
    table = described(gsis={"by_user": (10, 110)})
    context = PlanContext(
        usage={None: Usage(30.0, 100.0), "by_user": Usage(4.0, 100.0, throttled_write=40.0)},
        target_utilisation=0.8,
    )
    proposal = propose(table, "by_user", context, RULES)
    assert proposal is not None and proposal.label == "index orders/by_user"
    assert proposal.capacity == Throughput(math.ceil(4 / 0.8), math.ceil(140 / 0.8))  # 5 / 175


# --------------------------------------------------------------------------------------------
# GSIs that receive the table's writes
# --------------------------------------------------------------------------------------------


def test_a_table_change_names_the_gsi_that_would_throttle() -> None:
    """The issue's case: the GSI receives every write (100 of the table's 100 consumed) and
    has 110 WCU.  The table goes 100 → 120 WCU with demand 166: it serves 120 writes/s
    instead of 100, so the GSI gets 100 × 120 / 100 = 120 > 110 WCU."""
    table = described(gsis={"by_user": (10, 110), "by_day": (10, 50)})
    context = PlanContext(
        usage={
            None: Usage(30.0, 100.0, throttled_write=66.0),
            "by_user": Usage(2.0, 100.0),
            "by_day": Usage(1.0, 25.0),
        }
    )
    result = planned(table, TableChange(table=Throughput(50, 120)), context)
    listed = message(result, "gsi-writes")
    assert "by_user (≈ 100 % of the table's writes; 110 WCU)" in listed
    assert "by_day (≈ 25 % of the table's writes; 50 WCU)" in listed
    text = message(result, "gsi-would-throttle")  # by_day: 25 × 1.2 = 30 ≤ 50, not named
    assert text.startswith(
        "index orders/by_user: after this change it would receive ≈ 120 writes/s"
    )
    assert "against 110 WCU" in text and "back-pressure" in text
    # the fix proposed: include the GSI at 120 / 0.7 = 171.4 → 172 WCU
    assert f"at {math.ceil(120 / 0.7)} WCU or more (70 % utilisation)" in text

    # with the GSI in the same request at enough capacity, nothing would throttle
    both = TableChange(table=Throughput(50, 120), indexes=(("by_user", Throughput(10, 172)),))
    assert "gsi-would-throttle" not in codes(planned(table, both, context))


def test_gsi_demand_counts_its_own_throttles() -> None:
    # the GSI already throttles 20/s of its 90 consumed: 110 × 150 / 100 = 165 > 150
    table = described(table_wcu=100, gsis={"by_user": (10, 150)})
    context = PlanContext(
        usage={
            None: Usage(0.0, 100.0, throttled_write=100.0),
            "by_user": Usage(0.0, 90.0, throttled_write=20.0),
        }
    )
    result = planned(table, TableChange(table=Throughput(50, 150)), context)
    text = message(result, "gsi-would-throttle")
    assert "≈ 165 writes/s (110 now × 150 ÷ 100 table writes served) against 150 WCU" in text


def test_switching_to_provisioned_checks_the_gsis_given_in_the_request() -> None:
    """An on-demand table (``BillingModeSummary`` PAY_PER_REQUEST, a GSI with an on-demand
    maximum) switched to provisioned: the GSI's new WCU is what must absorb its writes."""
    table = described(gsis={"by_user": {"max": 200}})
    assert table.is_on_demand and table.indexes[0].on_demand_max == Throughput(0, 200)
    context = PlanContext(usage={None: Usage(5.0, 100.0), "by_user": Usage(1.0, 100.0)})
    change = TableChange(
        table=Throughput(10, 100),
        indexes=(("by_user", Throughput(5, 80)),),
        billing_mode=BillingMode.PROVISIONED,
    )
    text = message(planned(table, change, context), "gsi-would-throttle")
    assert "≈ 100 writes/s" in text and "against 80 WCU" in text


def test_reads_only_or_no_gsi_lists_nothing_and_unknown_shares_are_said() -> None:
    table = described(gsis={"by_user": (10, 110)})
    usage = PlanContext(usage={None: Usage(30.0, 100.0)})
    assert "gsi-writes" not in codes(planned(table, TableChange(table=Throughput(80, 100)), usage))
    assert "gsi-writes" not in codes(
        planned(described(), TableChange(table=Throughput(50, 120)), usage)
    )
    unknown = planned(table, TableChange(table=Throughput(50, 120)), PlanContext())
    assert "by_user (share unknown; 110 WCU)" in message(unknown, "gsi-writes")
    assert "gsi-would-throttle" not in codes(unknown)


# --------------------------------------------------------------------------------------------
# The context on live state: throttles reach the plan
# --------------------------------------------------------------------------------------------


def test_live_context_carries_throttled_units(tmp_path: Path) -> None:
    """A simulated table asked for 30 writes/s with 10 WCU throttles; the planner's context
    has consumed ≈ 10 and throttled ≈ 20 a second (demand ≈ 30), and a plan to 20 WCU says
    it is below demand."""
    acc = SimAccount(NOW)
    acc.add_table(TableSpec("hot", Throughput(10, 10), reads=Steady(1), writes=Steady(30)))
    acc.advance(30 * 60)  # burst credit long spent
    table = acc.describe_table("hot")
    context = live_context(acc, table, RULES, PRICES, AuditLog(tmp_path / "audit.jsonl"))
    usage = context.usage[None]
    assert usage.write == pytest.approx(10, rel=0.1)
    assert usage.throttled_write > 10
    assert usage.demand_write == pytest.approx(30, rel=0.1)
    assert usage.throttled_read == 0
    result = planned(table, TableChange(table=Throughput(10, 20)), context)
    assert "below-demand" in codes(result)


# --------------------------------------------------------------------------------------------
# Streams: accepted + throttled records
# --------------------------------------------------------------------------------------------


def two_shard_stream() -> Stream:
    """``describe-stream-summary`` + ``list-shards`` of a provisioned stream with 2 open shards."""
    half = 2**127
    document = {
        "summary": {
            "StreamDescriptionSummary": {
                "StreamName": "clicks",
                "StreamARN": "arn:aws:kinesis:us-east-1:123456789012:stream/clicks",
                "StreamStatus": "ACTIVE",
                "StreamModeDetails": {"StreamMode": "PROVISIONED"},
                "RetentionPeriodHours": 24,
                "StreamCreationTimestamp": "2025-06-01T12:00:00+00:00",
                "EnhancedMonitoring": [{"ShardLevelMetrics": []}],
                "EncryptionType": "NONE",
                "OpenShardCount": 2,
                "ConsumerCount": 0,
            }
        },
        "shards": {
            "Shards": [
                {
                    "ShardId": f"shardId-00000000000{n}",
                    "HashKeyRange": {"StartingHashKey": str(lo), "EndingHashKey": str(hi)},
                    "SequenceNumberRange": {"StartingSequenceNumber": f"4959000000000000000{n}"},
                }
                for n, (lo, hi) in enumerate(((0, half - 1), (half, 2**128 - 1)))
            ]
        },
    }
    stream = resource_from_document(document)
    assert isinstance(stream, Stream)
    return stream


def test_a_reshard_below_stream_demand_says_so_and_the_proposal_serves_it() -> None:
    """2,000 records/s accepted and 1,500 refused (100 B each): 3 shards accept 3,000 of the
    3,500 asked (85 %); at 70 % the proposal is 3,500 / 1,000 / 0.7 = 5 shards."""
    stream = two_shard_stream()
    traffic = StreamTraffic(
        bytes_in_per_second=200_000.0,
        records_in_per_second=2_000.0,
        throttled_records_per_second=1_500.0,
    )
    context = PlanContext(stream_traffic=traffic)
    result = plan(stream, ShardChange(3), NOW, rules=RULES, prices=PRICES, context=context)
    assert isinstance(result, ScalePlan)
    assert (
        "demand ≈ 3,500 records/s (2,000 accepted + 1,500 throttled); 3 shards accept 3,000 "
        "records/s, 85 % of it" in message(result, "below-demand")
    )
    proposal = propose_shards(stream, context, RULES)
    assert proposal is not None and proposal.shards == math.ceil(3_500 / 1_000 / 0.7 - 1e-9) == 5
    # bytes decide when records are large: 300 records/s of 10,000 B, 100 refused:
    # (300 + 100) × 10,000 = 4,000,000 B/s ÷ 1,000,000 ÷ 0.8 = 5 shards
    big = StreamTraffic(3_000_000.0, 300.0, throttled_records_per_second=100.0)
    at_80 = propose_shards(stream, PlanContext(stream_traffic=big), RULES, 0.8)
    assert at_80 is not None and at_80.shards == 5
    assert "400 records/s (300 accepted + 100 throttled), 4.00 MB/s" in at_80.line
    assert propose_shards(stream, PlanContext(), RULES) is None


def test_live_context_carries_a_streams_throttled_records(tmp_path: Path) -> None:
    acc = SimAccount(NOW)
    acc.add_stream("busy", shards=1, load=StreamLoad(Steady(1_500), 100.0))
    acc.advance(20 * 60)
    stream = acc.describe_stream("busy")
    context = live_context(acc, stream, RULES, PRICES, AuditLog(tmp_path / "audit.jsonl"))
    traffic = context.stream_traffic
    assert traffic is not None
    assert traffic.records_in_per_second == pytest.approx(1_000, rel=0.1)
    assert traffic.throttled_records_per_second == pytest.approx(500, rel=0.2)
    proposal = propose_shards(stream, context, RULES)
    assert proposal is not None and proposal.shards >= 2


# --------------------------------------------------------------------------------------------
# Every plan that shows money names the price book
# --------------------------------------------------------------------------------------------


def test_every_plan_names_the_price_books_date_and_source() -> None:
    """Table and stream plans had it; the auto-scaling plan (which shows a cost range) now
    does too, in its JSON and its rendering."""
    from rich.console import Console

    from capcon.core.planning.autoscaling import AutoScalingPlan, plan_autoscaling
    from capcon.core.planning.requests import AutoScalingChange
    from capcon.tui.render import render_autoscaling_plan

    stated = f"Prices as of {PRICES.as_of.isoformat()} from {PRICES.source}"
    table_plan = planned(described(), TableChange(table=Throughput(50, 120)), PlanContext())
    assert any(a.startswith(stated) for a in table_plan.assumptions)
    change = AutoScalingChange("orders", None, "write", 10, 500, 70)
    aas = plan_autoscaling(described(), change, (), (), NOW, rules=RULES, prices=PRICES)
    assert isinstance(aas, AutoScalingPlan)
    assert any(a.startswith(stated) for a in to_jsonable(aas)["assumptions"])
    console = Console(width=200, record=True, color_system=None)
    console.print(render_autoscaling_plan(aas))
    assert stated in console.export_text()
