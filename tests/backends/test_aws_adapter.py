"""The AWS adapter against a moto server on 127.0.0.1 (a real HTTP endpoint), and botocore's
Stubber for what moto cannot produce (errors, NextToken pages).

Never talks to real AWS: credentials are fake, ``~/.aws`` is replaced by empty files, instance
metadata is disabled, and every client is pointed at the local endpoint (or stubbed).
"""

from __future__ import annotations

import itertools
import math
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from capcon.core.backends.aws import adapter as adapter_module
from capcon.core.backends.aws import cloudwatch as cloudwatch_module
from capcon.core.backends.aws import session as session_module
from capcon.core.backends.aws.actions import ACTIONS, Action
from capcon.core.backends.aws.adapter import AwsAdapter
from capcon.core.backends.aws.errors import calling
from capcon.core.backends.aws.session import SERVICES, AwsSession
from capcon.core.config.prices import load_price_book
from capcon.core.errors import (
    AccessDenied,
    BackendError,
    CredentialsMissing,
    EndpointUnreachable,
    LimitExceeded,
    NotFound,
    ResourceInUse,
    Throttled,
    ValidationFailed,
)
from capcon.core.model import BillingMode, StreamMode, Throughput
from capcon.core.ports import (
    INDEX_READ,
    TABLE_READ,
    TABLE_WRITE,
    WRITE_UTILIZATION,
    Actuator,
    AutoScaling,
    Backend,
    Clock,
    Inventory,
    MetricQuery,
    Metrics,
    MetricSeries,
    ScalableTarget,
    ScalingPolicy,
    ScheduledAction,
    TableChange,
    align_down,
    at_schedule,
    resource_id,
)
from capcon.core.services.metrics import LATE_MARGIN, MetricsService, calls_needed

REGION = "us-east-1"
FIVE = Throughput(5, 5)

# --------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------


@pytest.fixture
def session(url: str) -> AwsSession:
    return AwsSession(endpoint_url=url)


@pytest.fixture
def adapter(session: AwsSession) -> AwsAdapter:
    return AwsAdapter(session)


@pytest.fixture
def offline(aws_env: Path) -> AwsAdapter:
    """An adapter whose endpoint has no server: for Stubber tests (nothing is ever sent)."""
    return AwsAdapter(AwsSession(endpoint_url=f"http://127.0.0.1:{closed_port()}", max_attempts=1))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def count_calls(client: Any, event: str) -> list[Any]:
    """What each event matching ``event`` carried: the API parameters for
    ``before-parameter-build.<service>.<Op>``, the HTTP request for ``before-send...``."""
    seen: list[Any] = []

    def hook(**kwargs: Any) -> None:
        seen.append(kwargs.get("params", kwargs.get("request")))

    client.meta.events.register(event, hook)
    return seen


def create_table(
    ddb: Any,
    name: str,
    capacity: Throughput | None = FIVE,
    indexes: dict[str, Throughput | None] | None = None,
) -> None:
    attributes = [{"AttributeName": "pk", "AttributeType": "S"}]
    params: dict[str, Any] = {
        "TableName": name,
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    }
    if capacity is None:
        params["BillingMode"] = "PAY_PER_REQUEST"
    else:
        params["ProvisionedThroughput"] = {
            "ReadCapacityUnits": capacity.read,
            "WriteCapacityUnits": capacity.write,
        }
    gsis = []
    for index, index_capacity in (indexes or {}).items():
        key = f"{index}_pk"
        attributes.append({"AttributeName": key, "AttributeType": "S"})
        gsi: dict[str, Any] = {
            "IndexName": index,
            "KeySchema": [{"AttributeName": key, "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
        }
        if index_capacity is not None:
            gsi["ProvisionedThroughput"] = {
                "ReadCapacityUnits": index_capacity.read,
                "WriteCapacityUnits": index_capacity.write,
            }
        gsis.append(gsi)
    if gsis:
        params["GlobalSecondaryIndexes"] = gsis
    ddb.create_table(AttributeDefinitions=attributes, **params)


# --------------------------------------------------------------------------------------------
# Session
# --------------------------------------------------------------------------------------------


def test_the_adapter_implements_every_port(adapter: AwsAdapter) -> None:
    backend: Backend = adapter  # checked by mypy
    for port in (Inventory, Metrics, Actuator, AutoScaling, Clock):
        assert isinstance(backend, port)
    now = adapter.now()
    assert now.tzinfo is not None
    assert abs((now - datetime.now(UTC)).total_seconds()) < 5
    assert adapter.label == f"aws:default/{REGION} via {adapter.session.endpoint_url}"


def test_session_configures_standard_retries_and_timeouts(session: AwsSession) -> None:
    clients = (
        session.dynamodb(),
        session.kinesis(),
        session.cloudwatch(),
        session.autoscaling(),
        session.sts(),
    )
    for client in clients:
        # botocore sets a Config's options as attributes (the stubs declare only __init__)
        config: Any = client.meta.config
        assert config.retries["mode"] == "standard"
        assert config.connect_timeout == 3  # tests/backends/test_timeouts.py: why these
        assert config.read_timeout in (3, 6, 10)  # STS, control plane, CloudWatch
        assert config.max_pool_connections >= 8
    assert [c.meta.service_model.service_name for c in clients] == list(SERVICES)
    assert session.dynamodb() is session.dynamodb()
    assert session.region == REGION


def test_session_keeps_one_client_per_retry_budget(session: AwsSession) -> None:
    patient = session.autoscaling()
    brief = session.autoscaling(max_attempts=2)
    assert brief is session.autoscaling(max_attempts=2)
    assert brief is not patient and patient is session.autoscaling()
    config: Any = brief.meta.config
    assert config.retries == {"mode": "standard", "total_max_attempts": 2}
    assert config.read_timeout == 6  # the rest of the config is kept


def test_session_identity_is_the_caller_arn(session: AwsSession) -> None:
    assert session.identity() == "arn:aws:sts::123456789012:user/moto"


def test_session_identity_is_unknown_when_it_cannot_be_read(aws_env: Path) -> None:
    session = AwsSession(
        endpoint_url=f"http://127.0.0.1:{closed_port()}", max_attempts=1, connect_timeout=1
    )
    assert session.identity() == "unknown"


def test_session_label_names_profile_and_region(
    aws_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")  # it would win over the profile's region
    (aws_env / "config").write_text("[profile prod]\nregion = eu-west-1\n")
    try:
        session = AwsSession(profile="prod")
        assert session.region == "eu-west-1"
        assert session.label == "aws:prod/eu-west-1"
        assert AwsSession(profile="prod", region="us-west-2").label == "aws:prod/us-west-2"
    finally:
        (aws_env / "config").write_text("")


def test_session_with_an_unknown_profile_says_so(aws_env: Path) -> None:
    with pytest.raises(CredentialsMissing, match="profile 'nope' not found"):
        AwsSession(profile="nope")


def test_session_without_a_region(aws_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(BackendError, match="no AWS region set"):
        AwsSession()
    assert AwsSession(endpoint_url="http://127.0.0.1:1").region == "us-east-1"


# --------------------------------------------------------------------------------------------
# Inventory: tables
# --------------------------------------------------------------------------------------------


def test_a_thousand_tables_are_found_through_pagination(
    adapter: AwsAdapter, raw: Callable[[str], Any]
) -> None:
    ddb = raw("dynamodb")
    names = [f"table-{i:04d}" for i in range(1000)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda n: create_table(ddb, n), names))
    calls = count_calls(adapter.dynamodb, "before-parameter-build.dynamodb.ListTables")
    found = adapter.list_tables()
    assert sorted(found) == names
    assert len(found) == len(set(found)) == 1000
    assert len(calls) >= 10  # 100 names a page

    described = adapter.describe_tables(found[:40])
    assert [t.name for t in described] == found[:40]
    assert all(t.provisioned == Throughput(5, 5) for t in described)


def test_gsis_are_parsed_with_their_capacity(
    adapter: AwsAdapter, raw: Callable[[str], Any]
) -> None:
    ddb = raw("dynamodb")
    create_table(
        ddb,
        "orders",
        Throughput(10, 20),
        {"by_user": Throughput(3, 4), "by_day": Throughput(7, 8)},
    )
    table = adapter.describe_table("orders")
    assert table.billing_mode is BillingMode.PROVISIONED
    assert table.provisioned == Throughput(10, 20)
    assert {i.name: i.provisioned for i in table.indexes} == {
        "by_user": Throughput(3, 4),
        "by_day": Throughput(7, 8),
    }
    assert table.arn is not None and table.arn.endswith(":table/orders")
    assert table.created is not None and table.created.tzinfo is not None


def test_an_on_demand_table_has_no_provisioned_capacity(
    adapter: AwsAdapter, raw: Callable[[str], Any]
) -> None:
    create_table(raw("dynamodb"), "events", None, {"by_kind": None})
    table = adapter.describe_table("events")
    assert table.is_on_demand
    assert table.provisioned is None
    assert [(i.name, i.provisioned) for i in table.indexes] == [("by_kind", None)]


def test_describe_tables_leaves_out_a_table_deleted_since_listing(
    adapter: AwsAdapter, raw: Callable[[str], Any]
) -> None:
    create_table(raw("dynamodb"), "kept")
    assert [t.name for t in adapter.describe_tables(["kept", "gone"])] == ["kept"]
    assert adapter.describe_tables([]) == []
    with pytest.raises(NotFound, match="gone"):
        adapter.describe_table("gone")


def test_account_limits_come_from_describe_limits(adapter: AwsAdapter) -> None:
    limits = adapter.account_limits()
    # moto's values (AWS's old defaults), not capcon's defaults
    assert limits.account_max_read_units == 20_000
    assert limits.table_max_write_units == 10_000
    assert limits.shard_limit == 6000


# --------------------------------------------------------------------------------------------
# Inventory: streams
# --------------------------------------------------------------------------------------------


def test_more_than_a_hundred_streams_are_all_found(
    adapter: AwsAdapter, raw: Callable[[str], Any]
) -> None:
    kinesis = raw("kinesis")
    names = [f"stream-{i:03d}" for i in range(120)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda n: kinesis.create_stream(StreamName=n, ShardCount=1), names))
    calls = count_calls(adapter.kinesis, "before-parameter-build.kinesis.ListStreams")
    found = adapter.list_streams()
    assert sorted(found) == names
    assert len(found) == len(set(found))
    assert len(calls) == 2
    assert calls[1]["ExclusiveStartStreamName"] == found[99]


def test_open_shards_after_a_reshard_are_counted_from_list_shards(
    adapter: AwsAdapter, raw: Callable[[str], Any]
) -> None:
    raw("kinesis").create_stream(StreamName="clicks", ShardCount=4)
    before = adapter.describe_stream("clicks")
    assert before.open_shard_count == 4
    assert before.mode is StreamMode.PROVISIONED

    after = adapter.update_shard_count("clicks", 6)
    assert after.open_shard_count == 6
    assert len(after.shards) > 6  # the closed parents are listed too
    closed = [s for s in after.shards if not s.is_open]
    assert closed
    assert all(s.ending_sequence is not None for s in closed)
    # the open shards still cover the whole hash-key space, without overlap
    ranges = [s.hash_range for s in after.open_shards]
    assert ranges[0].start == 0
    assert ranges[-1].end == 2**128 - 1
    assert all(a.end + 1 == b.start for a, b in itertools.pairwise(ranges))


def test_split_and_merge_shards(adapter: AwsAdapter, raw: Callable[[str], Any]) -> None:
    raw("kinesis").create_stream(StreamName="logs", ShardCount=2)
    first = adapter.describe_stream("logs").open_shards[0]
    middle = (first.hash_range.start + first.hash_range.end) // 2 + 1
    adapter.split_shard("logs", first.shard_id, middle)

    split = adapter.describe_stream("logs")
    assert split.open_shard_count == 3
    children = [s for s in split.open_shards if s.parent_id == first.shard_id]
    assert sorted(c.hash_range.start for c in children) == [first.hash_range.start, middle]

    a, b = sorted(children, key=lambda s: s.hash_range)
    adapter.merge_shards("logs", a.shard_id, b.shard_id)
    merged = adapter.describe_stream("logs")
    assert merged.open_shard_count == 2
    assert any(s.hash_range == first.hash_range for s in merged.open_shards)


def test_update_stream_mode(adapter: AwsAdapter, raw: Callable[[str], Any]) -> None:
    raw("kinesis").create_stream(StreamName="audit", ShardCount=1)
    adapter.update_stream_mode("audit", StreamMode.ON_DEMAND)
    assert adapter.describe_stream("audit").mode is StreamMode.ON_DEMAND
    adapter.update_stream_mode("audit", StreamMode.PROVISIONED)
    assert adapter.describe_stream("audit").mode is StreamMode.PROVISIONED


def test_stream_errors_are_typed(adapter: AwsAdapter, raw: Callable[[str], Any]) -> None:
    with pytest.raises(NotFound, match="nowhere"):
        adapter.describe_stream("nowhere")
    raw("kinesis").create_stream(StreamName="one", ShardCount=1)
    with pytest.raises(BackendError):
        adapter.merge_shards("one", "shardId-000000000000", "shardId-000000000009")


def test_list_shards_follows_next_token_without_the_stream_name(offline: AwsAdapter) -> None:
    """AWS refuses StreamName together with NextToken (moto insists on it: a Stubber)."""

    def shard(n: int, start: int, end: int) -> dict[str, Any]:
        return {
            "ShardId": f"shardId-{n:012d}",
            "HashKeyRange": {"StartingHashKey": str(start), "EndingHashKey": str(end)},
            "SequenceNumberRange": {"StartingSequenceNumber": "1"},
        }

    half = 2**127
    summary = {
        "StreamDescriptionSummary": {
            "StreamName": "big",
            "StreamARN": "arn:aws:kinesis:us-east-1:123456789012:stream/big",
            "StreamStatus": "ACTIVE",
            "StreamModeDetails": {"StreamMode": "PROVISIONED"},
            "RetentionPeriodHours": 24,
            "StreamCreationTimestamp": datetime(2026, 1, 1, tzinfo=UTC),
            "EnhancedMonitoring": [],
            "OpenShardCount": 5,  # wrong on purpose: the shards decide
            "ConsumerCount": 0,
        }
    }
    offline.shards_page = 1
    with Stubber(offline.kinesis) as stub:
        stub.add_response("describe_stream_summary", summary, {"StreamName": "big"})
        stub.add_response(
            "list_shards",
            {"Shards": [shard(0, 0, half - 1)], "NextToken": "page-2"},
            {"StreamName": "big", "MaxResults": 1},
        )
        stub.add_response(
            "list_shards",
            {"Shards": [shard(1, half, 2**128 - 1)]},
            {"NextToken": "page-2", "MaxResults": 1},
        )
        stream = offline.describe_stream("big")
        stub.assert_no_pending_responses()
    assert [s.shard_id for s in stream.shards] == ["shardId-000000000000", "shardId-000000000001"]
    assert stream.open_shard_count == 2
    assert stream.reported_open_shards == 5


# --------------------------------------------------------------------------------------------
# Actuation: tables and GSIs
# --------------------------------------------------------------------------------------------


def test_update_table_and_gsi_capacity(adapter: AwsAdapter, raw: Callable[[str], Any]) -> None:
    create_table(raw("dynamodb"), "users", Throughput(5, 5), {"by_email": Throughput(2, 2)})
    table = adapter.update_table("users", TableChange(table=Throughput(50, 25)))
    assert table.provisioned == Throughput(50, 25)
    assert table.index("by_email").provisioned == Throughput(2, 2)

    table = adapter.update_table("users", TableChange(indexes=(("by_email", Throughput(9, 11)),)))
    assert table.index("by_email").provisioned == Throughput(9, 11)
    assert table.provisioned == Throughput(50, 25)

    described = adapter.describe_table("users")
    assert described.provisioned == Throughput(50, 25)
    assert described.index("by_email").provisioned == Throughput(9, 11)


def test_update_table_billing_mode_switches(adapter: AwsAdapter, raw: Callable[[str], Any]) -> None:
    create_table(raw("dynamodb"), "sessions", Throughput(5, 5))
    table = adapter.update_table("sessions", TableChange(billing_mode=BillingMode.PAY_PER_REQUEST))
    assert table.is_on_demand
    assert table.provisioned is None
    table = adapter.update_table(
        "sessions",
        TableChange(table=Throughput(7, 8), billing_mode=BillingMode.PROVISIONED),
    )
    assert table.billing_mode is BillingMode.PROVISIONED
    assert table.provisioned == Throughput(7, 8)


def test_update_table_request_shape() -> None:
    request = AwsAdapter.table_request(
        "t",
        TableChange(
            table=Throughput(10, 20),
            indexes=(("g1", Throughput(1, 2)), ("g2", Throughput(3, 4))),
        ),
    )
    assert request == {
        "TableName": "t",
        "ProvisionedThroughput": {"ReadCapacityUnits": 10, "WriteCapacityUnits": 20},
        "GlobalSecondaryIndexUpdates": [
            {
                "Update": {
                    "IndexName": "g1",
                    "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 2},
                }
            },
            {
                "Update": {
                    "IndexName": "g2",
                    "ProvisionedThroughput": {"ReadCapacityUnits": 3, "WriteCapacityUnits": 4},
                }
            },
        ],
    }
    assert AwsAdapter.table_request("t", TableChange(billing_mode=BillingMode.PAY_PER_REQUEST)) == {
        "TableName": "t",
        "BillingMode": "PAY_PER_REQUEST",
    }
    with pytest.raises(ValidationFailed, match="nothing to change"):
        AwsAdapter.table_request("t", TableChange())
    with pytest.raises(ValidationFailed, match="on-demand takes no capacity"):
        AwsAdapter.table_request(
            "t",
            TableChange(table=Throughput(1, 1), billing_mode=BillingMode.PAY_PER_REQUEST),
        )


def test_update_of_a_missing_table_is_not_found(adapter: AwsAdapter) -> None:
    with pytest.raises(NotFound):
        adapter.update_table("missing", TableChange(table=Throughput(1, 1)))


# --------------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------------

DDB = "AWS/DynamoDB"


def consumed(table: str, query_id: str | None = None) -> MetricQuery:
    return MetricQuery(
        query_id or f"{table}/ConsumedWrite",
        DDB,
        "ConsumedWriteCapacityUnits",
        (("TableName", table),),
    )


def put_minutes(cw: Any, table: str, start: datetime, minutes: dict[int, float]) -> None:
    cw.put_metric_data(
        Namespace=DDB,
        MetricData=[
            {
                "MetricName": "ConsumedWriteCapacityUnits",
                "Dimensions": [{"Name": "TableName", "Value": table}],
                "Timestamp": start + timedelta(minutes=m, seconds=10),
                "Value": value,
            }
            for m, value in minutes.items()
        ],
    )


@pytest.mark.parametrize("series", [1, 500, 501, 1001])
def test_get_metric_data_calls_are_ceil_n_over_500(adapter: AwsAdapter, series: int) -> None:
    """Through the metrics service (the adapter sends what it is given, in one request): the
    service's counters are what botocore sent."""
    calls = count_calls(adapter.cloudwatch, "before-parameter-build.cloudwatch.GetMetricData")
    sent = count_calls(adapter.cloudwatch, "before-send.cloudwatch.GetMetricData")
    service = MetricsService(adapter)
    queries = [consumed(f"table-{i}", f"T{i}-Consumed.Write") for i in range(series)]
    end = align_down(datetime.now(UTC))
    result = service.get_metric_data(queries, end - timedelta(minutes=2), end)

    assert len(calls) == len(sent) == math.ceil(series / 500) == calls_needed(series)
    assert all(len(c["MetricDataQueries"]) <= 500 for c in calls)
    assert sum(len(c["MetricDataQueries"]) for c in calls) == series
    assert [s.id for s in result] == [q.id for q in queries]  # ids mapped back
    assert all(s.timestamps == () for s in result)  # no data: empty series, not zeros
    usage = service.usage
    assert (usage.calls, usage.metrics_requested) == (len(calls), series)
    book = load_price_book(REGION)
    assert usage.cost(book) == pytest.approx(series * 0.01 / 1000)
    assert usage.cost(book) == series * book.get_metric_data_per_1000_metrics / 1000


def test_the_adapter_sends_one_request_and_reports_it(adapter: AwsAdapter) -> None:
    """No batching, no cache, no counter of its own: one request per port call, told to
    ``sent``."""
    calls = count_calls(adapter.cloudwatch, "before-parameter-build.cloudwatch.GetMetricData")
    reported: list[int] = []
    end = align_down(datetime.now(UTC))
    queries = [consumed(f"table-{i}") for i in range(3)]
    for _ in range(2):
        adapter.get_metric_data(queries, end - timedelta(minutes=5), end, sent=reported.append)
    assert [len(c["MetricDataQueries"]) for c in calls] == [3, 3]  # the same window twice
    assert reported == [3, 3]
    assert not hasattr(adapter, "metrics_usage") and not hasattr(adapter, "metrics_cache")


def test_query_ids_sent_are_ones_cloudwatch_accepts(adapter: AwsAdapter) -> None:
    calls = count_calls(adapter.cloudwatch, "before-parameter-build.cloudwatch.GetMetricData")
    end = align_down(datetime.now(UTC))
    adapter.get_metric_data(
        [consumed("a", "Bad id/1"), consumed("b", "0starts-with-digit")],
        end - timedelta(minutes=2),
        end,
    )
    ids = [q["Id"] for q in calls[0]["MetricDataQueries"]]
    assert all(re.fullmatch(r"[a-z][a-zA-Z0-9_]*", i) for i in ids)


def test_gaps_stay_gaps_and_time_runs_forward(
    adapter: AwsAdapter, raw: Callable[[str], Any]
) -> None:
    start = align_down(datetime.now(UTC)) - timedelta(minutes=10)
    put_minutes(raw("cloudwatch"), "gappy", start, {0: 60.0, 1: 120.0, 3: 240.0})
    calls = count_calls(adapter.cloudwatch, "before-parameter-build.cloudwatch.GetMetricData")
    series, empty = adapter.get_metric_data(
        [consumed("gappy"), consumed("silent")],
        start + timedelta(seconds=25),  # aligned down to the minute
        start + timedelta(minutes=6, seconds=40),
    )
    assert series.timestamps == (
        start,
        start + timedelta(minutes=1),
        start + timedelta(minutes=3),
    )
    assert series.values == (60.0, 120.0, 240.0)
    assert all(t.tzinfo is UTC for t in series.timestamps)
    assert empty == MetricSeries("silent/ConsumedWrite")
    assert len(calls) == 1
    assert calls[0]["StartTime"] == start
    assert calls[0]["EndTime"] == start + timedelta(minutes=6)


def test_next_token_pages_are_merged(offline: AwsAdapter) -> None:
    t0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    minute = timedelta(minutes=1)
    queries = [consumed("a", "first"), consumed("b", "second")]
    service = MetricsService(offline)
    with Stubber(offline.cloudwatch) as stub:
        stub.add_response(
            "get_metric_data",
            {
                "MetricDataResults": [
                    {
                        "Id": "q0",
                        "Timestamps": [t0 + 4 * minute, t0 + 3 * minute],
                        "Values": [4.0, 3.0],
                        "StatusCode": "PartialData",
                    }
                ],
                "NextToken": "more",
            },
            {"MetricDataQueries": ANY, "StartTime": t0, "EndTime": t0 + 5 * minute},
        )
        stub.add_response(
            "get_metric_data",
            {
                "MetricDataResults": [
                    {"Id": "q0", "Timestamps": [t0], "Values": [0.5], "StatusCode": "Complete"},
                    {
                        "Id": "q1",
                        "Timestamps": [t0 + minute],
                        "Values": [7.0],
                        "StatusCode": "Complete",
                    },
                ]
            },
            {
                "MetricDataQueries": ANY,
                "StartTime": t0,
                "EndTime": t0 + 5 * minute,
                "NextToken": "more",
            },
        )
        first, second = service.get_metric_data(queries, t0, t0 + 5 * minute)
        stub.assert_no_pending_responses()
    assert first == MetricSeries("first", (t0, t0 + 3 * minute, t0 + 4 * minute), (0.5, 3.0, 4.0))
    assert second == MetricSeries("second", (t0 + minute,), (7.0,))
    # a page is a request, billed again: the adapter reports both, the service counts both
    assert service.usage.calls == 2
    assert service.usage.metrics_requested == 4


def test_incremental_refresh_fetches_only_late_minutes(
    adapter: AwsAdapter, raw: Callable[[str], Any]
) -> None:
    cw = raw("cloudwatch")
    now = align_down(datetime.now(UTC))
    start = now - timedelta(minutes=12)
    put_minutes(cw, "inc", start, {0: 1.0, 1: 2.0, 2: 3.0, 5: 6.0})
    calls = count_calls(adapter.cloudwatch, "before-parameter-build.cloudwatch.GetMetricData")
    service = MetricsService(adapter)
    first = service.get_metric_data([consumed("inc")], start, start + timedelta(minutes=8))
    assert first[0].values == (1.0, 2.0, 3.0, 6.0)

    # late data: one minute inside the margin (it must show), and minute 3, missing before a
    # published minute (5) and so asked for again from there: backfilled, not "no data" for good
    put_minutes(cw, "inc", start, {6: 7.0, 9: 10.0})
    put_minutes(cw, "inc", start, {3: 99.0})
    second = service.get_metric_data(
        [consumed("inc")], start + timedelta(minutes=1), start + timedelta(minutes=10)
    )
    assert len(calls) == 2
    assert start + timedelta(minutes=8) - LATE_MARGIN > start + timedelta(minutes=3)
    assert calls[1]["StartTime"] == start + timedelta(minutes=3)
    assert calls[1]["EndTime"] == start + timedelta(minutes=10)
    assert second[0].timestamps == tuple(start + timedelta(minutes=m) for m in (1, 2, 3, 5, 6, 9))
    assert second[0].values == (2.0, 3.0, 99.0, 6.0, 7.0, 10.0)
    assert service.usage.metrics_requested == 2

    # a window starting before what is held is fetched whole
    service.get_metric_data([consumed("inc")], start, start + timedelta(minutes=10))
    assert calls[2]["StartTime"] == start
    assert service.usage.calls == len(calls) == 3  # the service's count is what was sent


# --------------------------------------------------------------------------------------------
# Application Auto Scaling
# --------------------------------------------------------------------------------------------


def test_targets_and_policies_made_with_plain_boto3_show_up(
    adapter: AwsAdapter, raw: Callable[[str], Any]
) -> None:
    create_table(raw("dynamodb"), "recs", Throughput(5, 5), {"by_offer": Throughput(5, 5)})
    aas = raw("application-autoscaling")
    # field note A (docs/field-notes.md#a-nightly-bulk-load): a target with a target-tracking
    # policy
    aas.register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId="table/recs",
        ScalableDimension=TABLE_WRITE,
        MinCapacity=5,
        MaxCapacity=500,
    )
    aas.put_scaling_policy(
        PolicyName="recs-write",
        ServiceNamespace="dynamodb",
        ResourceId="table/recs",
        ScalableDimension=TABLE_WRITE,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 70.0,
            "PredefinedMetricSpecification": {"PredefinedMetricType": WRITE_UTILIZATION},
            "ScaleInCooldown": 60,
            "ScaleOutCooldown": 30,
        },
    )
    # the trap: registered, no policy
    aas.register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId="table/recs",
        ScalableDimension=TABLE_READ,
        MinCapacity=1,
        MaxCapacity=10,
    )
    aas.register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId="table/recs/index/by_offer",
        ScalableDimension=INDEX_READ,
        MinCapacity=2,
        MaxCapacity=20,
        SuspendedState={"DynamicScalingInSuspended": True},
    )
    targets = {(t.resource_id, t.dimension): t for t in adapter.describe_scalable_targets()}
    assert targets == {
        ("table/recs", TABLE_WRITE): ScalableTarget("table/recs", TABLE_WRITE, 5, 500),
        ("table/recs", TABLE_READ): ScalableTarget("table/recs", TABLE_READ, 1, 10),
        ("table/recs/index/by_offer", INDEX_READ): ScalableTarget(
            "table/recs/index/by_offer", INDEX_READ, 2, 20, suspended=True
        ),
    }
    assert adapter.describe_scaling_policies() == [
        ScalingPolicy(
            name="recs-write",
            resource_id="table/recs",
            dimension=TABLE_WRITE,
            policy_type="TargetTrackingScaling",
            target_value=70.0,
            predefined_metric=WRITE_UTILIZATION,
            scale_out_cooldown=30,
            scale_in_cooldown=60,
            disable_scale_in=False,
        )
    ]
    assert adapter.describe_scaling_policies(resource_ids=["table/other"]) == []


def test_a_step_scaling_policy_keeps_its_type(
    adapter: AwsAdapter, raw: Callable[[str], Any]
) -> None:
    aas = raw("application-autoscaling")
    aas.register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId="table/steps",
        ScalableDimension=TABLE_WRITE,
        MinCapacity=1,
        MaxCapacity=10,
    )
    aas.put_scaling_policy(
        PolicyName="step",
        ServiceNamespace="dynamodb",
        ResourceId="table/steps",
        ScalableDimension=TABLE_WRITE,
        PolicyType="StepScaling",
        StepScalingPolicyConfiguration={
            "AdjustmentType": "ChangeInCapacity",
            "StepAdjustments": [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}],
            "Cooldown": 60,
        },
    )
    (policy,) = adapter.describe_scaling_policies()
    assert policy.policy_type == "StepScaling"
    assert policy.predefined_metric is None
    assert policy.scale_out_cooldown == 60
    with pytest.raises(ValidationFailed, match="only TargetTrackingScaling"):
        adapter.put_scaling_policy(policy)


def test_changes_made_through_the_adapter_are_visible_to_boto3(
    adapter: AwsAdapter, raw: Callable[[str], Any]
) -> None:
    aas = raw("application-autoscaling")
    rid = resource_id("cart")
    adapter.register_scalable_target(ScalableTarget(rid, TABLE_READ, 3, 30))
    adapter.put_scaling_policy(
        ScalingPolicy("cart-read", rid, TABLE_READ, target_value=55.0, scale_in_cooldown=120)
    )
    (target,) = aas.describe_scalable_targets(ServiceNamespace="dynamodb")["ScalableTargets"]
    assert (target["ResourceId"], target["MinCapacity"], target["MaxCapacity"]) == (rid, 3, 30)
    assert target["SuspendedState"]["DynamicScalingInSuspended"] is False
    (policy,) = aas.describe_scaling_policies(ServiceNamespace="dynamodb")["ScalingPolicies"]
    config = policy["TargetTrackingScalingPolicyConfiguration"]
    assert policy["PolicyType"] == "TargetTrackingScaling"
    assert config["TargetValue"] == 55.0
    assert config["PredefinedMetricSpecification"] == {
        "PredefinedMetricType": "DynamoDBReadCapacityUtilization"
    }
    assert config["ScaleInCooldown"] == 120

    adapter.register_scalable_target(ScalableTarget(rid, TABLE_READ, 4, 40, suspended=True))
    (target,) = aas.describe_scalable_targets(ServiceNamespace="dynamodb")["ScalableTargets"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (4, 40)
    assert target["SuspendedState"]["DynamicScalingOutSuspended"] is True

    adapter.delete_scaling_policy("cart-read", rid, TABLE_READ)
    assert aas.describe_scaling_policies(ServiceNamespace="dynamodb")["ScalingPolicies"] == []
    adapter.deregister_scalable_target(rid, TABLE_READ)
    assert aas.describe_scalable_targets(ServiceNamespace="dynamodb")["ScalableTargets"] == []
    # AWS answers ObjectNotFoundException, moto ValidationException: typed either way
    with pytest.raises((NotFound, ValidationFailed), match="DeregisterScalableTarget"):
        adapter.deregister_scalable_target(rid, TABLE_READ)


def test_resource_ids_are_sent_fifty_at_a_time(
    adapter: AwsAdapter, raw: Callable[[str], Any]
) -> None:
    aas = raw("application-autoscaling")
    ids = [resource_id(f"t{i:03d}") for i in range(120)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(
            pool.map(
                lambda rid: aas.register_scalable_target(
                    ServiceNamespace="dynamodb",
                    ResourceId=rid,
                    ScalableDimension=TABLE_WRITE,
                    MinCapacity=1,
                    MaxCapacity=5,
                ),
                ids,
            )
        )
    calls = count_calls(adapter.autoscaling, "before-parameter-build.application-auto-scaling.*")
    targets = adapter.describe_scalable_targets(resource_ids=ids)
    assert sorted(t.resource_id for t in targets) == sorted(ids)
    sent = [c.get("ResourceIds", []) for c in calls]
    assert [len(s) for s in sent] == [50, 50, 20]
    assert [rid for batch in sent for rid in batch] == ids


def test_describe_scaling_activities_does_not_crash_on_moto(adapter: AwsAdapter) -> None:
    started = time.monotonic()
    assert adapter.describe_scaling_activities() == []
    assert adapter.describe_scaling_activities(resource_id("any")) == []  # remembered
    assert time.monotonic() - started < 10


def test_describe_scaling_activities_are_converted(offline: AwsAdapter) -> None:
    aas = offline.session.autoscaling(max_attempts=2)
    t0 = datetime(2026, 2, 2, 2, 2, tzinfo=UTC)
    with Stubber(aas) as stub:
        stub.add_response(
            "describe_scaling_activities",
            {
                "ScalingActivities": [
                    {
                        "ActivityId": "a1",
                        "ServiceNamespace": "dynamodb",
                        "ResourceId": "table/recs",
                        "ScalableDimension": TABLE_WRITE,
                        "Description": "Setting write capacity units to 100.",
                        "Cause": "monitor alarm AlarmHigh in state ALARM",
                        "StartTime": t0,
                        "EndTime": t0 + timedelta(minutes=1),
                        "StatusCode": "Overridden",
                        "StatusMessage": "superseded",
                    },
                    {
                        "ActivityId": "a2",
                        "ServiceNamespace": "dynamodb",
                        "ResourceId": "table/recs",
                        "ScalableDimension": TABLE_WRITE,
                        "Description": "No change.",
                        "Cause": "at max",
                        "StartTime": t0,
                        "StatusCode": "Unfulfilled",
                        "NotScaledReasons": [{"Code": "AlreadyAtMaxCapacity", "MaxCapacity": 5}],
                    },
                ]
            },
            {
                "ServiceNamespace": "dynamodb",
                "IncludeNotScaledActivities": True,
                "ResourceId": "table/recs",
            },
        )
        first, second = offline.describe_scaling_activities("table/recs")
    assert first.status == "Failed"
    assert first.details["StatusCode"] == "Overridden"
    assert first.end == t0 + timedelta(minutes=1)
    assert first.cause.startswith("monitor alarm")
    assert second.status == "Unfulfilled"
    assert "AlreadyAtMaxCapacity" in second.details["NotScaledReason0"]


# --------------------------------------------------------------------------------------------
# The IAM actions: what the adapter really calls
# --------------------------------------------------------------------------------------------


def test_each_request_is_the_action_named_around_it_and_every_action_is_used(
    adapter: AwsAdapter, raw: Callable[[str], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every request sent is made inside ``calling(action)`` for that very operation, and the
    adapter's work uses every action in the registry (so it is the list a least-privilege IAM
    policy needs, no more, no less)."""
    named = threading.local()  # describe_tables calls from a thread pool
    made: list[tuple[str | None, str]] = []

    @contextmanager
    def recording(action: Action, resource: str | None = None) -> Iterator[None]:
        named.action = action
        try:
            with calling(action, resource):
                yield
        finally:
            named.action = None

    def sent(model: Any, **_: Any) -> None:
        operation = f"{model.service_model.service_name}:{model.name}"
        made.append((getattr(named, "action", None), operation))

    for module in (adapter_module, cloudwatch_module, session_module):
        monkeypatch.setattr(module, "calling", recording)
    session = adapter.session
    for client in (
        session.dynamodb(),
        session.kinesis(),
        session.cloudwatch(),
        session.autoscaling(),
        session.autoscaling(max_attempts=2),
        session.sts(),
        session.sts(max_attempts=1),  # the identity's client
        adapter.dynamodb_once,
        adapter.kinesis_once,
        adapter.autoscaling_once,
    ):
        client.meta.events.register("before-call", sent)

    create_table(raw("dynamodb"), "orders", FIVE, {"by_user": FIVE})
    raw("kinesis").create_stream(StreamName="clicks", ShardCount=2)
    assert adapter.describe_tables(adapter.list_tables())[0].name == "orders"
    assert adapter.account_limits().shard_limit
    assert adapter.on_demand_advantage() is None  # moto: DescribeAccountSettings not implemented
    (stream,) = adapter.describe_streams(adapter.list_streams())
    end = align_down(datetime.now(UTC))
    adapter.get_metric_data([consumed("orders")], end - timedelta(minutes=5), end)
    adapter.update_table("orders", TableChange(table=Throughput(6, 6)))
    assert adapter.describe_table_replica_auto_scaling("orders") == ()  # moto: not implemented
    first = stream.open_shards[0]
    middle = (first.hash_range.start + first.hash_range.end) // 2 + 1
    adapter.split_shard("clicks", first.shard_id, middle)
    a, b = sorted(
        (s for s in adapter.describe_stream("clicks").open_shards if s.parent_id),
        key=lambda s: s.hash_range,
    )
    adapter.merge_shards("clicks", a.shard_id, b.shard_id)
    adapter.update_shard_count("clicks", 4)
    adapter.update_stream_mode("clicks", StreamMode.ON_DEMAND)
    rid = resource_id("orders")
    adapter.register_scalable_target(ScalableTarget(rid, TABLE_READ, 1, 10))
    adapter.put_scaling_policy(ScalingPolicy("orders-read", rid, TABLE_READ))
    assert len(adapter.describe_scalable_targets([rid])) == 1
    assert len(adapter.describe_scaling_policies()) == 1
    assert adapter.describe_scaling_activities(rid) == []  # moto has none: still asked
    when = at_schedule(datetime(2030, 1, 2, 3, 4, tzinfo=UTC))
    adapter.put_scheduled_action(ScheduledAction("orders-up", rid, TABLE_READ, when, 5, 10))
    (scheduled,) = adapter.describe_scheduled_actions(rid)
    assert (scheduled.schedule, scheduled.min_capacity, scheduled.max_capacity) == (when, 5, 10)
    adapter.delete_scheduled_action("orders-up", rid, TABLE_READ)
    adapter.delete_scaling_policy("orders-read", rid, TABLE_READ)
    adapter.deregister_scalable_target(rid, TABLE_READ)
    assert session.identity().startswith("arn:aws:")

    assert [(action, operation) for action, operation in made if action != operation] == []
    assert {operation for _, operation in made} == set(ACTIONS)
    assert len(ACTIONS) == len(set(ACTIONS))


# --------------------------------------------------------------------------------------------
# Errors moto cannot produce
# --------------------------------------------------------------------------------------------

CHANGE = TableChange(table=Throughput(10, 10))


@pytest.mark.parametrize(
    ("code", "error", "words"),
    [
        ("ResourceInUseException", ResourceInUse, "busy"),
        ("LimitExceededException", LimitExceeded, "limit"),
        ("ValidationException", ValidationFailed, "invalid"),
        ("AccessDeniedException", AccessDenied, "dynamodb:UpdateTable"),
        ("ThrottlingException", Throttled, "throttled"),
        ("ExpiredTokenException", CredentialsMissing, "expired"),
        ("UnrecognizedClientException", CredentialsMissing, "did not accept"),
        ("ResourceNotFoundException", NotFound, "not found"),
        ("InternalServerError", BackendError, "InternalServerError"),
    ],
)
def test_update_table_errors_are_typed(
    offline: AwsAdapter, code: str, error: type[BackendError], words: str
) -> None:
    with Stubber(offline.dynamodb_once) as stub:
        stub.add_client_error(
            "update_table",
            service_error_code=code,
            service_message="AWS says no",
            http_status_code=400,
            expected_params=AwsAdapter.table_request("orders", CHANGE),
        )
        with pytest.raises(error) as raised:
            offline.update_table("orders", CHANGE)
    assert type(raised.value) is error
    assert words in str(raised.value)
    assert "AWS says no" in str(raised.value)
    assert raised.value.aws_code == code
    assert isinstance(raised.value.__cause__, Exception)


def test_throttling_after_retries_says_so(offline: AwsAdapter) -> None:
    with Stubber(offline.cloudwatch) as stub:
        stub.add_client_error(
            "get_metric_data",
            service_error_code="Throttling",
            service_message="Rate exceeded",
            http_status_code=400,
            response_meta={"RetryAttempts": 4, "MaxAttemptsReached": True},
        )
        t0 = datetime(2026, 1, 1, tzinfo=UTC)
        with pytest.raises(Throttled, match="after 4 retries") as raised:
            offline.get_metric_data([consumed("x")], t0, t0 + timedelta(minutes=5))
    assert "cloudwatch:GetMetricData" in str(raised.value)


@pytest.mark.parametrize(
    ("client", "method", "code", "error", "action"),
    [
        ("kinesis", "split_shard", "LimitExceededException", LimitExceeded, "kinesis:SplitShard"),
        ("kinesis", "split_shard", "InvalidArgumentException", ValidationFailed, "SplitShard"),
        ("kinesis", "split_shard", "ResourceInUseException", ResourceInUse, "kinesis:SplitShard"),
        ("kinesis", "split_shard", "AccessDeniedException", AccessDenied, "kinesis:SplitShard"),
        (
            "application-autoscaling",
            "put_scaling_policy",
            "ConcurrentUpdateException",
            ResourceInUse,
            "application-autoscaling:PutScalingPolicy",
        ),
        (
            "application-autoscaling",
            "put_scaling_policy",
            "AccessDeniedException",
            AccessDenied,
            "application-autoscaling:PutScalingPolicy",
        ),
    ],
)
def test_stream_and_auto_scaling_errors_are_typed(
    offline: AwsAdapter,
    client: str,
    method: str,
    code: str,
    error: type[BackendError],
    action: str,
) -> None:
    calls = {
        "split_shard": lambda: offline.split_shard("s", "shardId-000000000000", 2**127),
        "put_scaling_policy": lambda: offline.put_scaling_policy(
            ScalingPolicy("p", "table/t", TABLE_WRITE)
        ),
    }
    clients = {"kinesis": offline.kinesis_once, "application-autoscaling": offline.autoscaling_once}
    with Stubber(clients[client]) as stub:
        stub.add_client_error(method, service_error_code=code, service_message="no")
        with pytest.raises(error, match=action):
            calls[method]()


def test_split_shard_sends_the_hash_key_as_a_decimal_string(offline: AwsAdapter) -> None:
    with Stubber(offline.kinesis_once) as stub:
        stub.add_response(
            "split_shard",
            {},
            {
                "StreamName": "s",
                "ShardToSplit": "shardId-000000000000",
                "NewStartingHashKey": str(2**127),
            },
        )
        offline.split_shard("s", "shardId-000000000000", 2**127)
        stub.assert_no_pending_responses()


def test_botocore_parameter_errors_are_typed(offline: AwsAdapter) -> None:
    with pytest.raises(ValidationFailed, match="kinesis:UpdateShardCount on stream s"):
        offline.update_shard_count("s", 0)  # botocore checks the minimum: nothing is sent


def test_describe_tables_stops_at_the_first_error(offline: AwsAdapter) -> None:
    offline.describe_workers = 1
    with Stubber(offline.dynamodb) as stub:
        stub.add_client_error("describe_table", service_error_code="AccessDeniedException")
        with pytest.raises(AccessDenied, match="dynamodb:DescribeTable on table a"):
            offline.describe_tables(["a", "b", "c"])


def test_scaling_activities_errors_other_than_not_implemented_are_raised(
    offline: AwsAdapter,
) -> None:
    aas = offline.session.autoscaling(max_attempts=2)
    with Stubber(aas) as stub:
        stub.add_client_error(
            "describe_scaling_activities", service_error_code="AccessDeniedException"
        )
        with pytest.raises(AccessDenied, match="DescribeScalingActivities"):
            offline.describe_scaling_activities()
        stub.add_client_error(
            "describe_scaling_activities", service_error_code="", http_status_code=501
        )
        assert offline.describe_scaling_activities() == []


def test_no_credentials(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    adapter = AwsAdapter(AwsSession(endpoint_url=url))
    with pytest.raises(CredentialsMissing, match="no AWS credentials found") as raised:
        adapter.list_tables()
    assert "aws sso login" in str(raised.value)
    assert adapter.session.identity() == "unknown"


def test_unreachable_endpoint(aws_env: Path) -> None:
    endpoint = f"http://127.0.0.1:{closed_port()}"
    session = AwsSession(endpoint_url=endpoint, max_attempts=1, connect_timeout=1, read_timeout=1)
    adapter = AwsAdapter(session)
    started = time.monotonic()
    for attempt in (adapter.list_tables, adapter.list_streams, adapter.describe_scalable_targets):
        with pytest.raises(EndpointUnreachable, match=endpoint.replace(".", r"\.")):
            attempt()
    with pytest.raises(EndpointUnreachable):
        adapter.get_metric_data(
            [consumed("x")],
            datetime(2026, 1, 1, tzinfo=UTC),
            datetime(2026, 1, 1, 0, 5, tzinfo=UTC),
        )
    assert time.monotonic() - started < 10
