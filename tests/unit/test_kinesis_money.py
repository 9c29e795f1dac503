"""Kinesis money, quotas and limits (issue 16), from AWS-CLI-shaped JSON.

Each stream is what ``aws kinesis describe-stream-summary`` and ``aws kinesis list-shards``
print (optionally ``list-stream-consumers`` and ``describe-account-settings``), read by the
same code that reads a ``--describe`` file.  Every amount is worked out by hand from the
us-east-1 price book (docs/aws-rules.md#kinesis-prices): $0.015 a shard-hour, $0.020 a
shard-hour of extended retention, $0.015 an EFO consumer-shard-hour, $0.013 an EFO GB,
on-demand $0.04 a stream-hour, $0.08 a GB in, $0.04 a GB out, $0.05 an EFO GB, $0.10 a
GB-month from 24 h to 7 days, $0.023 a GB-month beyond; GB = 2**30 bytes, month = 730 h.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capcon.core.backends.aws.describe import DescribeError, resource_from_document
from capcon.core.config.prices import load_price_book
from capcon.core.model import Stream, StreamWarmThroughput
from capcon.core.planning.planner import (
    PlanContext,
    Refusal,
    ScalePlan,
    StreamTraffic,
    plan,
    stream_cost,
)
from capcon.core.planning.requests import ShardChange
from capcon.core.planning.reshard import uniform_ranges
from capcon.core.pricing import Cost, on_demand_billed_bytes_in
from capcon.core.rules import AccountShards, Code, RuleSettings, shard_quota
from tests.support.plans import ok

BOOK = load_price_book("us-east-1")
RULES = RuleSettings()
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
GIB = 2**30
ONE_GIB_AN_HOUR = GIB / 3600  # bytes a second


def document(
    name: str = "clicks",
    *,
    shards: int = 4,
    mode: str = "PROVISIONED",
    retention: int = 24,
    region: str = "us-east-1",
    **summary: Any,
) -> dict[str, Any]:
    """``{"summary": describe-stream-summary, "shards": list-shards}`` as the CLI prints."""
    listed = [
        {
            "ShardId": f"shardId-{i:012d}",
            "HashKeyRange": {"StartingHashKey": str(r.start), "EndingHashKey": str(r.end)},
            "SequenceNumberRange": {"StartingSequenceNumber": str(10**20 + i)},
        }
        for i, r in enumerate(uniform_ranges(shards))
    ]
    return {
        "summary": {
            "StreamDescriptionSummary": {
                "StreamName": name,
                "StreamARN": f"arn:aws:kinesis:{region}:123456789012:stream/{name}",
                "StreamStatus": "ACTIVE",
                "StreamModeDetails": {"StreamMode": mode},
                "RetentionPeriodHours": retention,
                "StreamCreationTimestamp": "2025-06-01T12:00:00+00:00",
                "EnhancedMonitoring": [{"ShardLevelMetrics": []}],
                "EncryptionType": "NONE",
                "OpenShardCount": shards,
                **summary,
            }
        },
        "shards": {"Shards": listed},
    }


def stream(**kwargs: Any) -> Stream:
    resource = resource_from_document(document(**kwargs))
    assert isinstance(resource, Stream)
    return resource


def part(cost: Cost | None, label: str) -> float:
    assert cost is not None
    return dict(cost.breakdown).get(label, 0.0)


# --- enhanced fan-out ----------------------------------------------------------------------


def test_a_reshard_multiplies_the_consumer_shard_hours_of_three_efo_consumers() -> None:
    # The example: 4 → 8 shards, 48 h retention, 3 EFO consumers, no traffic known.
    clicks = stream(retention=48, ConsumerCount=3)
    assert clicks.consumer_count == 3
    sp = ok(plan(clicks, ShardChange(8), NOW, rules=RULES, prices=BOOK)).stream
    assert sp is not None
    # 4 shard-hours + 4 extended-retention shard-hours + 3 consumers × 4 shards
    assert sp.cost_before.per_hour == pytest.approx(4 * 0.015 + 4 * 0.020 + 3 * 4 * 0.015)
    assert sp.cost_before.per_hour == pytest.approx(0.32)
    assert sp.cost_after.per_hour == pytest.approx(8 * 0.015 + 8 * 0.020 + 3 * 8 * 0.015)
    assert sp.cost_after.per_hour == pytest.approx(0.64)
    assert part(sp.cost_after, "EFO consumer-shard-hours") == pytest.approx(3 * 8 * 0.015)
    assert sp.efo_consumers == 3


def test_efo_data_is_every_consumer_receiving_every_record() -> None:
    clicks = stream(ConsumerCount=2)
    traffic = StreamTraffic(ONE_GIB_AN_HOUR, 0.0, 0.0)
    cost = stream_cost(clicks, traffic, BOOK)
    # 2 consumers × 1 GB an hour at $0.013
    assert part(cost, "EFO data") == pytest.approx(2 * 1 * 0.013)
    assert part(cost, "EFO consumer-shard-hours") == pytest.approx(2 * 4 * 0.015)


def test_consumers_are_counted_from_list_stream_consumers_without_consumer_count() -> None:
    doc = document()
    doc["consumers"] = {
        "Consumers": [
            {"ConsumerName": "a", "ConsumerStatus": "ACTIVE"},
            {"ConsumerName": "b", "ConsumerStatus": "CREATING"},
            {"ConsumerName": "c", "ConsumerStatus": "DELETING"},
        ]
    }
    resource = resource_from_document(doc)
    assert isinstance(resource, Stream)
    assert resource.consumer_count == 2  # a DELETING consumer is no longer billed
    doc["consumers"] = {"Consumers": "many"}
    with pytest.raises(DescribeError, match="list-stream-consumers"):
        resource_from_document(doc)


# --- on-demand -------------------------------------------------------------------------------


def test_on_demand_ingest_rounds_each_record_up_to_a_kilobyte() -> None:
    # The example: 1,000 records/s of 100 B on an on-demand stream.
    events = stream(mode="ON_DEMAND")
    cost = stream_cost(events, StreamTraffic(100_000, 1_000, 0.0), BOOK)
    billed_gb_an_hour = 1_000 * 1024 * 3600 / GIB  # each record billed as 1 KB
    assert part(cost, "data in") == pytest.approx(billed_gb_an_hour * 0.08)
    assert cost is not None
    assert cost.per_hour == pytest.approx(0.04 + billed_gb_an_hour * 0.08)
    assert cost.per_hour == pytest.approx(0.31, abs=0.005)
    # 1,500 B on average: each record is billed as 2 KB
    bigger = stream_cost(events, StreamTraffic(1_500_000, 1_000, 0.0), BOOK)
    assert part(bigger, "data in") == pytest.approx(1_000 * 2048 * 3600 / GIB * 0.08)


def test_on_demand_retrieval_is_get_records_bytes_and_efo_is_at_the_efo_rate() -> None:
    events = stream(mode="ON_DEMAND", ConsumerCount=2)
    # 1 GB an hour in (records of exactly 1 KB), 0.5 GB an hour read through GetRecords
    traffic = StreamTraffic(ONE_GIB_AN_HOUR, ONE_GIB_AN_HOUR / 1024, ONE_GIB_AN_HOUR / 2)
    cost = stream_cost(events, traffic, BOOK)
    assert part(cost, "data in") == pytest.approx(0.08)
    assert part(cost, "data out") == pytest.approx(0.5 * 0.04)
    assert part(cost, "EFO data out") == pytest.approx(2 * 1 * 0.05)
    assert cost is not None
    assert cost.per_hour == pytest.approx(0.04 + 0.08 + 0.02 + 0.10)


def test_on_demand_retention_is_priced_per_gb_month_stored() -> None:
    week = stream(mode="ON_DEMAND", retention=168)
    traffic = StreamTraffic(ONE_GIB_AN_HOUR, 0.0, 0.0)
    # 24 h … 7 days: 144 GB kept at 1 GB an hour, at $0.10 a GB-month of 730 h
    assert part(stream_cost(week, traffic, BOOK), "extended retention (estimate)") == (
        pytest.approx(144 * 0.10 / 730)
    )
    month = stream(mode="ON_DEMAND", retention=720)
    cost = stream_cost(month, traffic, BOOK)
    assert part(cost, "extended retention (estimate)") == pytest.approx(144 * 0.10 / 730)
    # beyond 7 days: 720 − 168 = 552 GB at $0.023 a GB-month
    assert part(cost, "long-term retention (estimate)") == pytest.approx(552 * 0.023 / 730)


def test_provisioned_long_term_retention_is_priced_as_an_estimate() -> None:
    logs = stream(shards=2, retention=720)
    cost = stream_cost(logs, StreamTraffic(ONE_GIB_AN_HOUR, 0.0, 0.0), BOOK)
    assert cost is not None
    assert part(cost, "long-term retention (estimate)") == pytest.approx(552 * 0.023 / 730)
    assert cost.per_hour == pytest.approx(2 * 0.015 + 2 * 0.020 + 552 * 0.023 / 730)


def test_the_on_demand_alternative_of_a_reshard_has_the_rounding_and_efo() -> None:
    clicks = stream(ConsumerCount=1)
    traffic = StreamTraffic(100_000, 1_000, 50_000)
    sp = ok(
        plan(
            clicks, ShardChange(8), NOW, rules=RULES, prices=BOOK,
            context=PlanContext(stream_traffic=traffic),
        )
    ).stream  # fmt: skip
    assert sp is not None
    expected = (
        0.04  # stream-hour
        + 1_000 * 1024 * 3600 / GIB * 0.08  # records rounded up to 1 KB
        + 50_000 * 3600 / GIB * 0.04  # GetRecords.Bytes
        + 100_000 * 3600 / GIB * 0.05  # one EFO consumer
    )
    assert sp.on_demand_alternative is not None
    assert sp.on_demand_alternative.per_hour == pytest.approx(expected)


# --- On-demand Advantage and warm throughput -------------------------------------------------


def advantage_stream() -> Stream:
    doc = document(mode="ON_DEMAND", ConsumerCount=1)
    doc["account_settings"] = {
        "MinimumThroughputBillingCommitment": {
            "Status": "ENABLED",
            "StartedAt": "2026-11-20T00:00:00+00:00",
            "EarliestAllowedEndAt": "2026-11-21T00:00:00+00:00",
        }
    }
    resource = resource_from_document(doc)
    assert isinstance(resource, Stream)
    return resource


def test_advantage_is_priced_only_with_prices_the_book_knows() -> None:
    events = advantage_stream()
    assert events.on_demand_advantage is True
    traffic = StreamTraffic(ONE_GIB_AN_HOUR, ONE_GIB_AN_HOUR / 1024, ONE_GIB_AN_HOUR)
    assert stream_cost(events, traffic, BOOK) is None  # the default book does not know them
    # A user's price file that knows them (made-up figures): no stream-hour, EFO as data out.
    book = dataclasses.replace(
        BOOK, advantage_gb_in=0.03, advantage_gb_out=0.02, advantage_efo_gb=0.02
    )
    cost = stream_cost(events, traffic, book)
    assert cost is not None
    assert cost.per_hour == pytest.approx(1 * 0.03 + 1 * 0.02 + 1 * 1 * 0.02)
    assert part(cost, "stream-hours") == 0.0


def test_disabled_advantage_is_standard_and_an_unknown_status_is_refused() -> None:
    doc = document(mode="ON_DEMAND")
    doc["account_settings"] = {"MinimumThroughputBillingCommitment": {"Status": "DISABLED"}}
    resource = resource_from_document(doc)
    assert isinstance(resource, Stream) and resource.on_demand_advantage is False
    doc["account_settings"] = {
        "MinimumThroughputBillingCommitment": {"Status": "ENABLED_UNTIL_EARLIEST_ALLOWED_END"}
    }
    resource = resource_from_document(doc)
    assert isinstance(resource, Stream) and resource.on_demand_advantage is True
    doc["account_settings"] = {"MinimumThroughputBillingCommitment": {"Status": "MAYBE"}}
    with pytest.raises(DescribeError, match="ENABLED, ENABLED_UNTIL_EARLIEST_ALLOWED_END"):
        resource_from_document(doc)


def test_a_reshard_under_advantage_says_the_on_demand_price_is_unknown() -> None:
    doc = document(ConsumerCount=0)
    doc["account_settings"] = {"MinimumThroughputBillingCommitment": {"Status": "ENABLED"}}
    clicks = resource_from_document(doc)
    assert isinstance(clicks, Stream)
    result = ok(
        plan(
            clicks, ShardChange(8), NOW, rules=RULES, prices=BOOK,
            context=PlanContext(stream_traffic=StreamTraffic(1000.0, 10.0, 0.0)),
        )
    )  # fmt: skip
    assert result.on_demand_alternative is None
    assert "price-unknown" in [w.code for w in result.warnings]


def test_stream_warm_throughput_is_read_and_means_advantage() -> None:
    events = stream(mode="ON_DEMAND", WarmThroughput={"TargetMiBps": 200, "CurrentMiBps": 80})
    assert events.warm_throughput == StreamWarmThroughput(target_mibps=200, current_mibps=80)
    assert events.on_demand_advantage is True  # only such accounts report it (botocore)
    assert stream(mode="ON_DEMAND").warm_throughput is None
    # an empty WarmThroughput, or one on a provisioned stream, says nothing of the account
    assert stream(mode="ON_DEMAND", WarmThroughput={}).on_demand_advantage is None
    provisioned = stream(WarmThroughput={"TargetMiBps": 200, "CurrentMiBps": 80})
    assert provisioned.on_demand_advantage is None
    with pytest.raises(DescribeError, match="TargetMiBps"):
        stream(mode="ON_DEMAND", WarmThroughput={"TargetMiBps": -1})


# --- closed shards ---------------------------------------------------------------------------


def test_closed_shards_are_a_one_time_cost_not_an_hourly_one() -> None:
    clicks = stream(retention=48)
    billed = dataclasses.replace(BOOK, bill_closed_shards=True)
    result = ok(plan(clicks, ShardChange(8), NOW, rules=RULES, prices=billed))
    sp = result.stream
    assert sp is not None and len(sp.reshard.shards_closed) == 4
    # the hourly cost is the 8 open shards only, billed or not
    assert sp.cost_after.per_hour == pytest.approx(8 * (0.015 + 0.020))
    # 4 closed shards × 48 h of retention × (shard-hour + extended retention), once
    assert sp.closed_shards_cost_once == pytest.approx(4 * 48 * (0.015 + 0.020))
    assert "closed-shards-cost" in [w.code for w in result.warnings]
    unbilled = ok(plan(clicks, ShardChange(8), NOW, rules=RULES, prices=BOOK)).stream
    assert unbilled is not None and unbilled.closed_shards_cost_once == 0.0


# --- quotas and per-shard limits -------------------------------------------------------------


def test_default_shard_quota_by_region_and_what_overrides_it() -> None:
    for region in ("us-east-1", "us-west-2", "eu-west-1"):
        assert shard_quota(RULES, region)[0] == 20_000
    quota, source = shard_quota(RULES, "ap-south-1")
    assert quota == 1_000 and "1,000 or 6,000" in source
    assert shard_quota(RuleSettings(account_shard_quota=3_000), "us-east-1")[0] == 3_000
    assert shard_quota(RuleSettings(account_shard_quota=3_000), "us-east-1", 50_000) == (
        50_000,
        "the account's quota (DescribeLimits)",
    )


def test_an_offline_plan_checks_the_default_quota_of_the_streams_region() -> None:
    def reshard(region: str) -> ScalePlan | Refusal:
        big = stream(shards=600, region=region)
        account = AccountShards(big.open_shard_count, complete=False)
        context = PlanContext(account_shards=account)
        return plan(big, ShardChange(1_200), NOW, rules=RULES, prices=BOOK, context=context)

    allowed = ok(reshard("us-east-1"))
    assert allowed.stream is not None and allowed.stream.account_shard_quota == 20_000
    refused = reshard("ap-south-1")
    assert isinstance(refused, Refusal)
    (violation,) = refused.violations
    assert violation.code is Code.ACCOUNT_SHARD_QUOTA
    assert "1,000 or 6,000" in violation.message


def test_per_shard_limits_are_aws_mebibytes() -> None:
    assert RULES.shard_write_bytes_per_second == 1_048_576
    assert RULES.shard_read_bytes_per_second == 2 * 1_048_576
    assert RULES.shard_write_records_per_second == 1_000
    # 2 → 1 shard at 1,040,000 B/s: within 1 MiB/s (it was over 1,000,000 B/s)
    two = stream(shards=2)
    traffic = StreamTraffic(1_040_000, 500, 0.0)
    context = PlanContext(stream_traffic=traffic)
    result = ok(plan(two, ShardChange(1), NOW, rules=RULES, prices=BOOK, context=context))
    assert "below-traffic" not in [w.code for w in result.warnings]
    faster = PlanContext(stream_traffic=StreamTraffic(1_050_000, 500, 0.0))
    result = ok(plan(two, ShardChange(1), NOW, rules=RULES, prices=BOOK, context=faster))
    assert "below-traffic" in [w.code for w in result.warnings]


# --- properties ------------------------------------------------------------------------------

rates = st.floats(0, 1e8, allow_nan=False)


@settings(max_examples=60)
@given(
    bytes_in=rates,
    records=rates,
    out=rates,
    consumers=st.integers(0, 20),
    more=st.integers(1, 20),
    retention=st.integers(24, 8760),
    on_demand=st.booleans(),
)
def test_stream_costs_never_fall_as_consumers_or_rounding_rise(
    *,
    bytes_in: float,
    records: float,
    out: float,
    consumers: int,
    more: int,
    retention: int,
    on_demand: bool,
) -> None:
    billed = on_demand_billed_bytes_in(bytes_in, records)
    assert billed >= bytes_in * (1 - 1e-12)  # rounding up never bills less than was sent
    base = stream(mode="ON_DEMAND" if on_demand else "PROVISIONED", retention=retention)
    traffic = StreamTraffic(bytes_in, records, out)

    def cost(count: int) -> float:
        value = stream_cost(dataclasses.replace(base, consumer_count=count), traffic, BOOK)
        assert value is not None
        assert value.per_hour == pytest.approx(sum(amount for _, amount in value.breakdown))
        return value.per_hour

    assert cost(consumers + more) >= cost(consumers) >= 0
