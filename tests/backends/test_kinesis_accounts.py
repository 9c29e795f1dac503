"""The AWS adapter's Kinesis account facts on moto (and botocore's Stubber for what moto does
not answer): enhanced fan-out consumers, ``DescribeLimits``, On-demand Advantage, warm
throughput, and the simulated account's consumers and retrieval metric."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from capcon.core.backends.aws.adapter import AwsAdapter
from capcon.core.backends.aws.session import AwsSession
from capcon.core.backends.sim.scenarios import build_scenario
from capcon.core.config.prices import load_price_book
from capcon.core.model import StreamMode, StreamWarmThroughput
from capcon.core.planning.planner import PlanContext, ScalePlan, plan
from capcon.core.planning.requests import ShardChange
from capcon.core.ports import MetricQuery
from capcon.core.rules import AccountShards, RuleSettings
from capcon.core.services.overview import collect_rows

BOOK = load_price_book("us-east-1")


@pytest.fixture
def adapter(url: str) -> AwsAdapter:
    return AwsAdapter(AwsSession(endpoint_url=url))


def test_efo_consumers_registered_on_moto_are_counted(
    adapter: AwsAdapter, raw: Callable[[str], Any]
) -> None:
    kinesis = raw("kinesis")
    kinesis.create_stream(StreamName="clicks", ShardCount=4)
    arn = kinesis.describe_stream_summary(StreamName="clicks")["StreamDescriptionSummary"][
        "StreamARN"
    ]
    assert adapter.describe_stream("clicks").consumer_count == 0
    registered = {
        name: kinesis.register_stream_consumer(StreamARN=arn, ConsumerName=name)["Consumer"]
        for name in ("billing", "search", "audit")
    }
    clicks = adapter.describe_stream("clicks")
    assert clicks.consumer_count == 3
    # priced: 4 shards + 3 consumers × 4 shards, at $0.015 each (24 h retention, no traffic)
    result = plan(clicks, ShardChange(8), datetime.now(UTC), rules=RuleSettings(), prices=BOOK)
    assert isinstance(result, ScalePlan) and result.stream is not None
    assert result.stream.cost_before.per_hour == pytest.approx(4 * 0.015 + 3 * 4 * 0.015)
    assert result.stream.cost_after.per_hour == pytest.approx(8 * 0.015 + 3 * 8 * 0.015)
    # by ARN: moto's deregistration by name keeps only the named consumer
    kinesis.deregister_stream_consumer(ConsumerARN=registered["audit"]["ConsumerARN"])
    assert adapter.describe_stream("clicks").consumer_count == 2


def test_describe_limits_on_moto_reaches_the_plan(
    adapter: AwsAdapter, raw: Callable[[str], Any]
) -> None:
    raw("kinesis").create_stream(StreamName="clicks", ShardCount=4)
    limits = adapter.account_limits()
    assert limits.shard_limit == 6_000  # moto's fixed answer
    assert limits.on_demand_stream_count_limit == 50
    assert limits.on_demand_stream_count == 0
    clicks = adapter.describe_stream("clicks")
    context = PlanContext(account_shards=AccountShards(limits.open_shard_count, limits.shard_limit))
    result = plan(
        clicks, ShardChange(8), datetime.now(UTC), rules=RuleSettings(), prices=BOOK,
        context=context,
    )  # fmt: skip
    assert isinstance(result, ScalePlan) and result.stream is not None
    assert result.stream.account_shard_quota == 6_000
    assert "DescribeLimits" in result.stream.account_shard_quota_source


def on_demand_summary(**extra: Any) -> dict[str, Any]:
    return {
        "StreamDescriptionSummary": {
            "StreamName": "events",
            "StreamARN": "arn:aws:kinesis:us-east-1:123456789012:stream/events",
            "StreamStatus": "ACTIVE",
            "StreamModeDetails": {"StreamMode": "ON_DEMAND"},
            "RetentionPeriodHours": 24,
            "StreamCreationTimestamp": datetime(2026, 1, 1, tzinfo=UTC),
            "EnhancedMonitoring": [],
            "OpenShardCount": 1,
            "ConsumerCount": 0,
            **extra,
        }
    }


SHARDS = {
    "Shards": [
        {
            "ShardId": "shardId-000000000000",
            "HashKeyRange": {"StartingHashKey": "0", "EndingHashKey": str(2**128 - 1)},
            "SequenceNumberRange": {"StartingSequenceNumber": "1"},
        }
    ]
}


@pytest.fixture
def offline(aws_env: Path) -> AwsAdapter:
    """An adapter with no server behind it: every answer comes from a Stubber."""
    return AwsAdapter(AwsSession(endpoint_url="http://127.0.0.1:9", max_attempts=1))


def test_on_demand_advantage_is_read_from_describe_account_settings(offline: AwsAdapter) -> None:
    with Stubber(offline.kinesis) as stub:
        stub.add_response("describe_stream_summary", on_demand_summary(), {"StreamName": "events"})
        stub.add_response("list_shards", SHARDS)
        stub.add_response(
            "describe_account_settings",
            {"MinimumThroughputBillingCommitment": {"Status": "ENABLED"}},
        )
        events = offline.describe_stream("events")
        stub.assert_no_pending_responses()
    assert events.on_demand_advantage is True
    # asked once, then kept: a second describe sends no DescribeAccountSettings
    with Stubber(offline.kinesis) as stub:
        stub.add_response("describe_stream_summary", on_demand_summary(), {"StreamName": "events"})
        stub.add_response("list_shards", SHARDS)
        assert offline.describe_stream("events").on_demand_advantage is True
        stub.assert_no_pending_responses()


def test_advantage_denied_is_unknown_and_warm_throughput_answers_it(offline: AwsAdapter) -> None:
    with Stubber(offline.kinesis) as stub:
        stub.add_response("describe_stream_summary", on_demand_summary(), {"StreamName": "events"})
        stub.add_response("list_shards", SHARDS)
        stub.add_client_error("describe_account_settings", "AccessDeniedException")
        assert offline.describe_stream("events").on_demand_advantage is None
    fresh = AwsAdapter(offline.session)
    warm = {"WarmThroughput": {"TargetMiBps": 200, "CurrentMiBps": 80}}
    with Stubber(fresh.kinesis) as stub:
        stub.add_response(
            "describe_stream_summary", on_demand_summary(**warm), {"StreamName": "events"}
        )
        stub.add_response("list_shards", SHARDS)
        events = fresh.describe_stream("events")
        stub.assert_no_pending_responses()  # no DescribeAccountSettings needed
    assert events.warm_throughput == StreamWarmThroughput(200, 80)
    assert events.on_demand_advantage is True


def test_on_demand_advantage_on_moto_is_unknown(
    adapter: AwsAdapter, raw: Callable[[str], Any]
) -> None:
    raw("kinesis").create_stream(StreamName="events", StreamModeDetails={"StreamMode": "ON_DEMAND"})
    events = adapter.describe_stream("events")
    assert events.mode is StreamMode.ON_DEMAND
    assert events.on_demand_advantage is None  # moto has no DescribeAccountSettings


def test_the_demo_has_two_efo_consumers_and_publishes_get_records_bytes() -> None:
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    account = build_scenario("demo", now, history=timedelta(minutes=20))
    clickstream = account.describe_stream("clickstream")
    assert clickstream.consumer_count == 2
    end = account.now()
    dims = (("StreamName", "clickstream"),)
    (series,) = account.get_metric_data(
        [MetricQuery("o", "AWS/Kinesis", "GetRecords.Bytes", dims)],
        end - timedelta(minutes=15),
        end,
    )
    assert series.values and min(series.values) > 0
    telemetry = account.describe_stream("telemetry")
    assert telemetry.consumer_count == 0  # its 3 consumers read through GetRecords
    (row,) = collect_rows(account, RuleSettings(), BOOK, tables=[], streams=[telemetry])
    traffic = row.stream_traffic
    assert traffic is not None and traffic.bytes_in_per_second > 0
    # retrieval is GetRecords.Bytes: 3 consumers read everything, ≈ 3 × what came in
    assert traffic.bytes_out_per_second == pytest.approx(3 * traffic.bytes_in_per_second, rel=0.1)
