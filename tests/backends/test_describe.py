"""Model values from AWS's JSON: CLI v1/v2, boto3, moto quirks, and every malformed case."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capcon.core.backends.aws.describe import (
    DescribeError,
    parse_time,
    resource_from_document,
    stream_from_describe,
    table_from_describe,
)
from capcon.core.model import (
    HASH_KEY_MAX,
    BillingMode,
    HashRange,
    Stream,
    StreamMode,
    Table,
    Throughput,
    WarmThroughput,
)

SAMPLES = Path(__file__).resolve().parents[2] / "tui" / "cli" / "samples"

Doc = dict[str, Any]


def sample(name: str) -> Doc:
    loaded: Doc = json.loads((SAMPLES / name).read_text(encoding="utf-8"))
    return loaded


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# --------------------------------------------------------------------------------------------
# Tables: the three dialects
# --------------------------------------------------------------------------------------------

CLI_V2_TABLE: Doc = {
    "Table": {
        "TableName": "orders",
        "TableStatus": "ACTIVE",
        "TableArn": "arn:aws:dynamodb:eu-west-1:123456789012:table/orders",
        "CreationDateTime": "2025-03-02T09:14:11.512000+00:00",
        "ProvisionedThroughput": {
            "LastIncreaseDateTime": "2026-11-22T18:02:40+00:00",
            "LastDecreaseDateTime": "2026-11-23T00:40:05Z",
            "NumberOfDecreasesToday": 3,
            "ReadCapacityUnits": 1200,
            "WriteCapacityUnits": 400,
        },
        "BillingModeSummary": {"BillingMode": "PROVISIONED"},
        "TableSizeBytes": 4831838208,
        "ItemCount": 18234411,
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "by-customer",
                "IndexStatus": "ACTIVE",
                "ProvisionedThroughput": {
                    "LastDecreaseDateTime": "2026-11-22T07:00:00+00:00",
                    "NumberOfDecreasesToday": 2,
                    "ReadCapacityUnits": 300,
                    "WriteCapacityUnits": 450,
                },
                "IndexSizeBytes": 901775360,
                "ItemCount": 18234400,
            },
            {
                "IndexName": "by-status",
                "IndexStatus": "UPDATING",
                "ProvisionedThroughput": {
                    "NumberOfDecreasesToday": 0,
                    "ReadCapacityUnits": 5,
                    "WriteCapacityUnits": 7,
                },
            },
        ],
    }
}


def test_cli_v2_table_with_wrapper_and_iso_timestamps() -> None:
    table = table_from_describe(CLI_V2_TABLE)
    assert table.name == "orders"
    assert table.status == "ACTIVE" and table.is_active
    assert table.billing_mode is BillingMode.PROVISIONED and not table.is_on_demand
    assert table.provisioned == Throughput(read=1200, write=400)
    assert table.history.decreases_today == 3
    assert table.history.last_increase == utc(2026, 11, 22, 18, 2, 40)
    assert table.history.last_decrease == utc(2026, 11, 23, 0, 40, 5)
    assert table.created == datetime(2025, 3, 2, 9, 14, 11, 512000, tzinfo=UTC)
    assert table.size_bytes == 4831838208
    assert table.item_count == 18234411
    assert table.arn == "arn:aws:dynamodb:eu-west-1:123456789012:table/orders"
    assert table.warm is None and table.on_demand_max is None
    assert table.last_switch_to_on_demand is None


def test_gsis_keep_their_own_throughput_status_and_decrease_budget() -> None:
    table = table_from_describe(CLI_V2_TABLE)
    assert [i.name for i in table.indexes] == ["by-customer", "by-status"]
    customer = table.index("by-customer")
    assert customer.provisioned == Throughput(300, 450)
    assert customer.history.decreases_today == 2
    assert customer.history.last_decrease == utc(2026, 11, 22, 7)
    assert customer.history.last_increase is None
    assert customer.size_bytes == 901775360 and customer.item_count == 18234400
    assert customer.is_active
    status = table.index("by-status")
    assert status.provisioned == Throughput(5, 7)
    assert status.history.decreases_today == 0
    assert status.status == "UPDATING" and not status.is_active
    # the table's own budget is not mixed up with the indexes'
    assert table.history.decreases_today == 3


def test_unknown_index_names_the_existing_ones() -> None:
    table = table_from_describe(CLI_V2_TABLE)
    with pytest.raises(KeyError, match=r"by-customer, by-status"):
        table.index("nope")


def test_cli_v1_epoch_seconds() -> None:
    doc = copy.deepcopy(CLI_V2_TABLE)
    inner = doc["Table"]
    inner["CreationDateTime"] = 1740906851.512
    inner["ProvisionedThroughput"]["LastIncreaseDateTime"] = 1795370560.0
    inner["ProvisionedThroughput"]["LastDecreaseDateTime"] = 1795394405
    inner["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"]["LastDecreaseDateTime"] = (
        1795330800.0
    )
    table = table_from_describe(doc)
    assert table.history.last_increase == utc(2026, 11, 22, 18, 2, 40)
    assert table.history.last_decrease == utc(2026, 11, 23, 0, 40, 5)
    assert table.index("by-customer").history.last_decrease == utc(2026, 11, 22, 7)
    assert table.created is not None
    assert table.created.tzinfo is not None
    assert abs(table.created - datetime(2025, 3, 2, 9, 14, 11, 512000, tzinfo=UTC)) < timedelta(
        milliseconds=1
    )
    # same numbers as the v2 document
    assert table.provisioned == table_from_describe(CLI_V2_TABLE).provisioned


def test_boto3_dict_with_datetimes_and_no_wrapper() -> None:
    eastern = timezone(timedelta(hours=-5))
    doc: Doc = {
        "TableName": "orders",
        "TableStatus": "UPDATING",
        "CreationDateTime": datetime(2025, 3, 2, 4, 14, 11, tzinfo=eastern),
        "ProvisionedThroughput": {
            "LastIncreaseDateTime": datetime(2026, 11, 22, 18, 2, 40),  # naive: taken as UTC
            "NumberOfDecreasesToday": 1,
            "ReadCapacityUnits": 10,
            "WriteCapacityUnits": 20,
        },
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "gsi",
                "ProvisionedThroughput": {
                    "LastDecreaseDateTime": datetime(2026, 11, 23, 1, tzinfo=UTC),
                    "NumberOfDecreasesToday": 4,
                    "ReadCapacityUnits": 1,
                    "WriteCapacityUnits": 2,
                },
            }
        ],
    }
    table = table_from_describe(doc)
    assert table.name == "orders"
    assert table.status == "UPDATING" and not table.is_active
    assert table.billing_mode is BillingMode.PROVISIONED  # no BillingModeSummary at all
    assert table.provisioned == Throughput(10, 20)
    assert table.history.last_increase == utc(2026, 11, 22, 18, 2, 40)
    assert table.history.last_increase.tzinfo is not None
    assert table.created == utc(2025, 3, 2, 9, 14, 11)  # same instant, offset kept
    gsi = table.index("gsi")
    assert gsi.provisioned == Throughput(1, 2)
    assert gsi.history.decreases_today == 4
    assert gsi.history.last_decrease == utc(2026, 11, 23, 1)
    assert table.arn is None


def test_on_demand_table_ignores_moto_leftover_throughput() -> None:
    doc: Doc = {
        "Table": {
            "TableName": "events",
            "ProvisionedThroughput": {
                "NumberOfDecreasesToday": 0,
                "ReadCapacityUnits": 5,
                "WriteCapacityUnits": 5,
            },
            "BillingModeSummary": {
                "BillingMode": "PAY_PER_REQUEST",
                "LastUpdateToPayPerRequestDateTime": "2026-11-20T08:00:00Z",
            },
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": "by-user",
                    "ProvisionedThroughput": {
                        "NumberOfDecreasesToday": 0,
                        "ReadCapacityUnits": 5,
                        "WriteCapacityUnits": 5,
                    },
                },
                {"IndexName": "by-day"},  # on-demand GSIs need no throughput at all
            ],
        }
    }
    table = table_from_describe(doc)
    assert table.billing_mode is BillingMode.PAY_PER_REQUEST
    assert table.is_on_demand
    assert table.provisioned is None
    assert table.last_switch_to_on_demand == utc(2026, 11, 20, 8)
    assert [i.provisioned for i in table.indexes] == [None, None]


def test_on_demand_table_without_provisioned_throughput() -> None:
    doc: Doc = {"TableName": "t", "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"}}
    table = table_from_describe(doc)
    assert table.provisioned is None
    assert table.history.decreases_today == 0
    assert table.last_switch_to_on_demand is None


def test_provisioned_table_switched_back_keeps_last_switch_time() -> None:
    doc = copy.deepcopy(CLI_V2_TABLE)
    doc["Table"]["BillingModeSummary"] = {
        "BillingMode": "PROVISIONED",
        "LastUpdateToPayPerRequestDateTime": 1795395000,
    }
    table = table_from_describe(doc)
    assert table.provisioned == Throughput(1200, 400)
    assert table.last_switch_to_on_demand == datetime.fromtimestamp(1795395000, tz=UTC)


def test_warm_throughput_on_table_and_index() -> None:
    doc = copy.deepcopy(CLI_V2_TABLE)
    doc["Table"]["WarmThroughput"] = {
        "ReadUnitsPerSecond": 12000,
        "WriteUnitsPerSecond": 4000,
        "Status": "UPDATING",
    }
    doc["Table"]["GlobalSecondaryIndexes"][0]["WarmThroughput"] = {
        "ReadUnitsPerSecond": 300,
        "WriteUnitsPerSecond": 450,
    }
    table = table_from_describe(doc)
    assert table.warm == WarmThroughput(12000, 4000, "UPDATING")
    assert table.index("by-customer").warm == WarmThroughput(300, 450, "ACTIVE")
    assert table.index("by-status").warm is None


def test_on_demand_throughput_maximum() -> None:
    doc: Doc = {
        "TableName": "t",
        "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
        "OnDemandThroughput": {"MaxReadRequestUnits": 5000, "MaxWriteRequestUnits": 2500},
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "g",
                "OnDemandThroughput": {"MaxReadRequestUnits": 100, "MaxWriteRequestUnits": 50},
            },
            {"IndexName": "h", "OnDemandThroughput": {}},
        ],
    }
    table = table_from_describe(doc)
    assert table.on_demand_max == Throughput(5000, 2500)
    assert table.index("g").on_demand_max == Throughput(100, 50)
    assert table.index("h").on_demand_max is None


def test_on_demand_throughput_minus_one_means_no_maximum() -> None:
    doc: Doc = {
        "TableName": "t",
        "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
        "OnDemandThroughput": {"MaxReadRequestUnits": -1, "MaxWriteRequestUnits": -1},
    }
    assert table_from_describe(doc).on_demand_max is None


# --------------------------------------------------------------------------------------------
# Bundled samples
# --------------------------------------------------------------------------------------------


def test_sample_orders() -> None:
    table = resource_from_document(sample("orders.json"))
    assert isinstance(table, Table)
    assert table.name == "orders"
    assert table.provisioned == Throughput(1200, 400)
    assert table.history.decreases_today == 4
    assert table.history.last_decrease == utc(2026, 11, 23, 0, 40, 5)
    assert table.index("by-customer").provisioned == Throughput(300, 400)
    assert table.arn is not None and ":us-east-1:" in table.arn


def test_sample_sessions_is_on_demand_with_warm_throughput() -> None:
    table = resource_from_document(sample("sessions.json"))
    assert isinstance(table, Table)
    assert table.is_on_demand and table.provisioned is None
    assert table.last_switch_to_on_demand == utc(2026, 11, 20, 8)
    assert table.warm == WarmThroughput(12000, 4000, "ACTIVE")
    assert table.indexes == ()


def test_sample_clicks() -> None:
    stream = resource_from_document(sample("clicks.json"))
    assert isinstance(stream, Stream)
    assert stream.name == "clicks"
    assert stream.mode is StreamMode.PROVISIONED
    assert stream.retention_hours == 48
    assert stream.consumer_count == 2
    assert len(stream.shards) == 6
    assert stream.open_shard_count == 4
    assert stream.reported_open_shards == 4
    assert stream.created == utc(2025, 6, 1, 12)
    closed = {s.shard_id for s in stream.shards if not s.is_open}
    assert closed == {"shardId-000000000000", "shardId-000000000001"}
    # open shards tile the key space, in hash-key order
    ranges = [s.hash_range for s in stream.open_shards]
    assert ranges[0].start == 0 and ranges[-1].end == HASH_KEY_MAX
    assert all(a.end + 1 == b.start for a, b in pairwise(ranges))
    assert sum(r.width for r in ranges) == 2**128
    child = next(s for s in stream.shards if s.shard_id == "shardId-000000000004")
    assert child.parent_id == "shardId-000000000001" and child.adjacent_parent_id is None


# --------------------------------------------------------------------------------------------
# Streams
# --------------------------------------------------------------------------------------------

HALF = 2**127


def shard(
    shard_id: str, start: int, end: int, *, closed: bool = False, parent: str | None = None
) -> Doc:
    seq: Doc = {"StartingSequenceNumber": "100"}
    if closed:
        seq["EndingSequenceNumber"] = "200"
    out: Doc = {
        "ShardId": shard_id,
        "HashKeyRange": {"StartingHashKey": str(start), "EndingHashKey": str(end)},
        "SequenceNumberRange": seq,
    }
    if parent:
        out["ParentShardId"] = parent
    return out


SUMMARY: Doc = {
    "StreamDescriptionSummary": {
        "StreamName": "clicks",
        "StreamARN": "arn:aws:kinesis:eu-west-1:123456789012:stream/clicks",
        "StreamStatus": "ACTIVE",
        "StreamModeDetails": {"StreamMode": "PROVISIONED"},
        "RetentionPeriodHours": 24,
        "StreamCreationTimestamp": 1748779200.0,
        "OpenShardCount": 7,  # wrong on purpose (moto): only two shards are open
        "ConsumerCount": 1,
    }
}

SHARDS: list[Doc] = [
    shard("shardId-0", 0, HASH_KEY_MAX, closed=True),
    shard("shardId-2", HALF, HASH_KEY_MAX, parent="shardId-0"),
    shard("shardId-1", 0, HALF - 1, parent="shardId-0"),
]


@pytest.mark.parametrize("shards", [{"Shards": SHARDS}, SHARDS], ids=["list-shards", "bare"])
def test_stream_from_summary_and_shards(shards: object) -> None:
    stream = stream_from_describe(SUMMARY, shards)
    assert stream.name == "clicks"
    assert stream.arn == "arn:aws:kinesis:eu-west-1:123456789012:stream/clicks"
    assert stream.status == "ACTIVE" and stream.is_active
    assert stream.mode is StreamMode.PROVISIONED and not stream.is_on_demand
    assert stream.retention_hours == 24
    assert stream.consumer_count == 1
    assert stream.created == utc(2025, 6, 1, 12)
    assert [s.shard_id for s in stream.shards] == ["shardId-0", "shardId-2", "shardId-1"]
    assert stream.reported_open_shards == 7  # kept for display ...
    assert stream.open_shard_count == 2  # ... but never used for counting
    assert [s.shard_id for s in stream.open_shards] == ["shardId-1", "shardId-2"]
    assert stream.open_shards[0].hash_range == HashRange(0, HALF - 1)
    closed = stream.shards[0]
    assert not closed.is_open
    assert closed.ending_sequence == "200" and closed.starting_sequence == "100"
    assert stream.shards[1].parent_id == "shardId-0"


def test_stream_summary_without_wrapper_on_demand_and_defaults() -> None:
    summary: Doc = {"StreamName": "s", "StreamModeDetails": {"StreamMode": "ON_DEMAND"}}
    stream = stream_from_describe(summary, {"Shards": []})
    assert stream.mode is StreamMode.ON_DEMAND and stream.is_on_demand
    assert stream.retention_hours == 24
    assert stream.status == "ACTIVE"
    assert stream.shards == () and stream.open_shard_count == 0
    assert stream.reported_open_shards is None
    assert stream.arn is None and stream.created is None


def test_stream_without_mode_details_is_provisioned() -> None:
    stream = stream_from_describe({"StreamName": "s"}, [shard("a", 0, HASH_KEY_MAX)])
    assert stream.mode is StreamMode.PROVISIONED
    assert stream.open_shard_count == 1


def test_resource_from_document_dispatch() -> None:
    assert isinstance(resource_from_document(CLI_V2_TABLE), Table)
    assert isinstance(resource_from_document(CLI_V2_TABLE["Table"]), Table)
    stream = resource_from_document({"summary": SUMMARY, "shards": {"Shards": SHARDS}})
    assert isinstance(stream, Stream)
    assert stream.open_shard_count == 2
    bare = resource_from_document({"summary": SUMMARY["StreamDescriptionSummary"], "shards": []})
    assert isinstance(bare, Stream) and bare.shards == ()


@pytest.mark.parametrize(
    "document",
    [{}, {"foo": 1}, {"summary": SUMMARY}, {"shards": SHARDS}, SUMMARY],
    ids=["empty", "other", "summary-only", "shards-only", "summary-unwrapped"],
)
def test_resource_from_document_neither(document: Doc) -> None:
    with pytest.raises(DescribeError, match="neither a table nor a stream") as info:
        resource_from_document(document)
    assert "describe-table" in str(info.value) and "list-shards" in str(info.value)


# --------------------------------------------------------------------------------------------
# Timestamps
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-23T00:50:00Z", utc(2026, 11, 23, 0, 50)),
        ("2026-11-23T00:50:00+00:00", utc(2026, 11, 23, 0, 50)),
        ("2026-11-23T01:50:00+01:00", utc(2026, 11, 23, 0, 50)),
        ("2026-11-23T00:50:00", utc(2026, 11, 23, 0, 50)),
        (1795395000, utc(2026, 11, 23, 0, 50)),
        (1795395000.0, utc(2026, 11, 23, 0, 50)),
        (datetime(2026, 11, 23, 0, 50), utc(2026, 11, 23, 0, 50)),
        (None, None),
    ],
)
def test_parse_time(value: object, expected: datetime | None) -> None:
    parsed = parse_time(value, "here")
    assert parsed == expected
    if parsed is not None:
        assert parsed.tzinfo is not None


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01T00:00:00Z", True, [], {}])
def test_parse_time_rejects(value: object) -> None:
    with pytest.raises(DescribeError, match=r"^Table\.CreationDateTime: "):
        parse_time(value, "Table.CreationDateTime")


@pytest.mark.parametrize("value", [1e20, float("nan"), float("inf")])
def test_parse_time_rejects_out_of_range_epoch(value: float) -> None:
    with pytest.raises(DescribeError, match="CreationDateTime"):
        parse_time(value, "Table.CreationDateTime")


# --------------------------------------------------------------------------------------------
# Malformed tables: DescribeError naming the field
# --------------------------------------------------------------------------------------------

Mutation = Callable[[Doc], None]


def _set(path: str, value: object) -> Mutation:
    """Set a dotted path inside ``{"Table": ...}``; integer parts index lists."""

    def mutate(doc: Doc) -> None:
        keys = path.split(".")
        target: Any = doc["Table"]
        for key in keys[:-1]:
            target = target[int(key)] if key.isdigit() else target[key]
        last: int | str = int(keys[-1]) if keys[-1].isdigit() else keys[-1]
        if value is _DELETE:
            del target[last]
        else:
            target[last] = value

    return mutate


_DELETE = object()

BAD_TABLES: list[tuple[str, Mutation, str]] = [
    ("missing-name", _set("TableName", _DELETE), "TableName"),
    ("null-name", _set("TableName", None), "TableName"),
    ("name-not-string", _set("TableName", 42), "TableName"),
    ("status-not-string", _set("TableStatus", 1), "TableStatus"),
    (
        "rcu-string",
        _set("ProvisionedThroughput.ReadCapacityUnits", "1200"),
        "ProvisionedThroughput.ReadCapacityUnits",
    ),
    (
        "wcu-fraction",
        _set("ProvisionedThroughput.WriteCapacityUnits", 2.5),
        "ProvisionedThroughput.WriteCapacityUnits",
    ),
    (
        "wcu-bool",
        _set("ProvisionedThroughput.WriteCapacityUnits", True),
        "ProvisionedThroughput.WriteCapacityUnits",
    ),
    (
        "rcu-negative",
        _set("ProvisionedThroughput.ReadCapacityUnits", -1),
        "ProvisionedThroughput.ReadCapacityUnits",
    ),
    (
        "rcu-missing",
        _set("ProvisionedThroughput.ReadCapacityUnits", _DELETE),
        "ProvisionedThroughput.ReadCapacityUnits",
    ),
    (
        "decreases-negative",
        _set("ProvisionedThroughput.NumberOfDecreasesToday", -2),
        "NumberOfDecreasesToday",
    ),
    ("throughput-not-object", _set("ProvisionedThroughput", [1, 2]), "ProvisionedThroughput"),
    ("throughput-missing", _set("ProvisionedThroughput", _DELETE), "ProvisionedThroughput"),
    ("size-negative", _set("TableSizeBytes", -10), "TableSizeBytes"),
    ("items-string", _set("ItemCount", "many"), "ItemCount"),
    (
        "bad-decrease-time",
        _set("ProvisionedThroughput.LastDecreaseDateTime", "last tuesday"),
        "LastDecreaseDateTime",
    ),
    ("bad-creation-time", _set("CreationDateTime", "2026-02-30T00:00:00Z"), "CreationDateTime"),
    (
        "unknown-billing-mode",
        _set("BillingModeSummary", {"BillingMode": "FREE"}),
        "BillingModeSummary.BillingMode",
    ),
    ("billing-summary-not-object", _set("BillingModeSummary", "PROVISIONED"), "BillingModeSummary"),
    (
        "bad-switch-time",
        _set(
            "BillingModeSummary",
            {"BillingMode": "PAY_PER_REQUEST", "LastUpdateToPayPerRequestDateTime": "soon"},
        ),
        "LastUpdateToPayPerRequestDateTime",
    ),
    ("gsis-not-list", _set("GlobalSecondaryIndexes", {"IndexName": "x"}), "GlobalSecondaryIndexes"),
    ("gsis-string", _set("GlobalSecondaryIndexes", "by-customer"), "GlobalSecondaryIndexes"),
    (
        "gsi-not-object",
        _set("GlobalSecondaryIndexes.0", "by-customer"),
        "GlobalSecondaryIndexes[0]",
    ),
    ("gsi-without-name", _set("GlobalSecondaryIndexes.1.IndexName", _DELETE), "IndexName"),
    (
        "gsi-without-throughput",
        _set("GlobalSecondaryIndexes.0.ProvisionedThroughput", _DELETE),
        "ProvisionedThroughput",
    ),
    (
        "gsi-negative-wcu",
        _set("GlobalSecondaryIndexes.1.ProvisionedThroughput.WriteCapacityUnits", -7),
        "WriteCapacityUnits",
    ),
    ("gsi-size-negative", _set("GlobalSecondaryIndexes.0.IndexSizeBytes", -1), "IndexSizeBytes"),
    ("warm-not-object", _set("WarmThroughput", 12000), "WarmThroughput"),
    (
        "warm-negative",
        _set("WarmThroughput", {"ReadUnitsPerSecond": -5, "WriteUnitsPerSecond": 1}),
        "WarmThroughput.ReadUnitsPerSecond",
    ),
    ("on-demand-max-not-object", _set("OnDemandThroughput", "unlimited"), "OnDemandThroughput"),
    (
        "on-demand-max-fraction",
        _set("OnDemandThroughput", {"MaxReadRequestUnits": 1.5}),
        "OnDemandThroughput.MaxReadRequestUnits",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "field"), [(m, f) for _, m, f in BAD_TABLES], ids=[i for i, _, _ in BAD_TABLES]
)
def test_malformed_table_names_the_field(mutate: Mutation, field: str) -> None:
    doc = copy.deepcopy(CLI_V2_TABLE)
    mutate(doc)
    with pytest.raises(DescribeError) as info:
        table_from_describe(doc)
    assert field in str(info.value)


def test_gsi_error_names_the_index() -> None:
    doc = copy.deepcopy(CLI_V2_TABLE)
    del doc["Table"]["GlobalSecondaryIndexes"][1]["ProvisionedThroughput"]
    with pytest.raises(DescribeError, match=r"by-status.*ProvisionedThroughput.*provisioned"):
        table_from_describe(doc)


def test_gsi_without_throughput_is_fine_on_an_on_demand_table() -> None:
    doc = copy.deepcopy(CLI_V2_TABLE)
    doc["Table"]["BillingModeSummary"] = {"BillingMode": "PAY_PER_REQUEST"}
    del doc["Table"]["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"]
    table = table_from_describe(doc)
    assert table.index("by-customer").provisioned is None
    assert table.provisioned is None


@pytest.mark.parametrize("document", [[], "orders", 3, None], ids=["list", "str", "int", "null"])
def test_table_document_must_be_an_object(document: Any) -> None:
    with pytest.raises(DescribeError, match="expected a JSON object"):
        table_from_describe(document)


def test_table_wrapper_must_hold_an_object() -> None:
    with pytest.raises(DescribeError, match=r"^Table: expected a JSON object"):
        table_from_describe({"Table": ["orders"]})


def test_not_a_table_says_what_is_expected() -> None:
    with pytest.raises(DescribeError, match=r"TableName.*describe-table"):
        table_from_describe({"Table": {"KeySchema": []}})


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_capacity_is_a_describe_error(value: float) -> None:
    doc = copy.deepcopy(CLI_V2_TABLE)
    doc["Table"]["ProvisionedThroughput"]["ReadCapacityUnits"] = value
    with pytest.raises(DescribeError, match="ReadCapacityUnits"):
        table_from_describe(doc)


# --------------------------------------------------------------------------------------------
# Malformed streams
# --------------------------------------------------------------------------------------------


def _summary(**changes: object) -> Doc:
    inner = dict(SUMMARY["StreamDescriptionSummary"])
    for key, value in changes.items():
        if value is _DELETE:
            del inner[key]
        else:
            inner[key] = value
    return {"StreamDescriptionSummary": inner}


BAD_SUMMARIES: list[tuple[str, Doc, str]] = [
    ("missing-name", _summary(StreamName=_DELETE), "StreamName"),
    ("name-not-string", _summary(StreamName=7), "StreamName"),
    (
        "unknown-mode",
        _summary(StreamModeDetails={"StreamMode": "BURST"}),
        "StreamModeDetails.StreamMode",
    ),
    ("retention-negative", _summary(RetentionPeriodHours=-24), "RetentionPeriodHours"),
    ("retention-string", _summary(RetentionPeriodHours="24h"), "RetentionPeriodHours"),
    ("consumers-negative", _summary(ConsumerCount=-1), "ConsumerCount"),
    ("bad-created", _summary(StreamCreationTimestamp="June"), "StreamCreationTimestamp"),
    ("status-not-string", _summary(StreamStatus=["ACTIVE"]), "StreamStatus"),
    ("summary-not-object", {"StreamDescriptionSummary": "clicks"}, "StreamDescriptionSummary"),
]


@pytest.mark.parametrize(
    ("summary", "field"),
    [(s, f) for _, s, f in BAD_SUMMARIES],
    ids=[i for i, _, _ in BAD_SUMMARIES],
)
def test_malformed_summary_names_the_field(summary: Doc, field: str) -> None:
    with pytest.raises(DescribeError) as info:
        stream_from_describe(summary, SHARDS)
    assert field in str(info.value)


def test_summary_must_be_an_object() -> None:
    with pytest.raises(DescribeError, match=r"^summary: expected a JSON object"):
        stream_from_describe(["clicks"], SHARDS)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "shards",
    ["shardId-0", 5, None, {"Shards": "shardId-0"}, {"NextToken": "x"}, {"Shards": None}],
    ids=["str", "int", "null", "shards-str", "no-shards-key", "shards-null"],
)
def test_shards_not_a_list(shards: object) -> None:
    with pytest.raises(DescribeError, match=r"^shards: .*list-shards"):
        stream_from_describe(SUMMARY, shards)


def _bad_shard(**hkr: object) -> Doc:
    doc = shard("shardId-9", 0, HASH_KEY_MAX)
    doc["HashKeyRange"].update(hkr)
    return doc


BAD_SHARDS: list[tuple[str, object, str]] = [
    ("not-object", "shardId-9", "Shards[1]"),
    ("no-hash-range", {"ShardId": "s"}, "Shards[1].HashKeyRange"),
    ("no-id", {"HashKeyRange": {"StartingHashKey": "0", "EndingHashKey": "1"}}, "ShardId"),
    ("end-too-big", _bad_shard(EndingHashKey=str(2**128)), "EndingHashKey"),
    ("start-negative", _bad_shard(StartingHashKey="-1"), "StartingHashKey"),
    ("start-hex", _bad_shard(StartingHashKey="0x10"), "StartingHashKey"),
    ("start-missing", _bad_shard(StartingHashKey=None), "StartingHashKey"),
    ("end-fraction", _bad_shard(EndingHashKey="1.5"), "EndingHashKey"),
    ("end-before-start", _bad_shard(StartingHashKey="100", EndingHashKey="99"), "HashKeyRange"),
    (
        "sequence-not-object",
        {**shard("s", 0, 1), "SequenceNumberRange": ["1", "2"]},
        "SequenceNumberRange",
    ),
]


@pytest.mark.parametrize(
    ("bad", "field"), [(b, f) for _, b, f in BAD_SHARDS], ids=[i for i, _, _ in BAD_SHARDS]
)
def test_malformed_shard_names_the_field(bad: object, field: str) -> None:
    shards = [SHARDS[0], bad]
    with pytest.raises(DescribeError) as info:
        stream_from_describe(SUMMARY, {"Shards": shards})
    message = str(info.value)
    assert field in message
    assert "Shards[1]" in message  # which element, too


def test_end_before_start_message_gives_both_keys() -> None:
    with pytest.raises(DescribeError, match=r"ends \(99\) before it starts \(100\)"):
        stream_from_describe(SUMMARY, [_bad_shard(StartingHashKey="100", EndingHashKey="99")])


def test_single_key_shard_is_allowed() -> None:
    stream = stream_from_describe(SUMMARY, [shard("s", 5, 5)])
    assert stream.shards[0].hash_range.width == 1


@pytest.mark.parametrize("details", ["ON_DEMAND", ["ON_DEMAND"]], ids=["str", "list"])
def test_stream_mode_details_not_an_object(details: object) -> None:
    with pytest.raises(DescribeError, match="StreamModeDetails"):
        stream_from_describe(_summary(StreamModeDetails=details), SHARDS)


# --------------------------------------------------------------------------------------------
# Round trip: describe-table JSON generated from random values parses back to them
# --------------------------------------------------------------------------------------------

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.", min_size=3, max_size=20)
capacity = st.integers(min_value=1, max_value=80_000)
moments = st.datetimes(
    min_value=datetime(2012, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))
dialects = st.sampled_from(["cli-v2", "cli-v1", "boto3"])


def render_time(moment: datetime, dialect: str) -> object:
    if dialect == "cli-v2":
        return moment.isoformat()
    if dialect == "cli-v1":
        return moment.timestamp()
    return moment


def same_instant(a: datetime | None, b: datetime | None) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) < timedelta(milliseconds=1)


@st.composite
def throughputs(draw: st.DrawFn) -> Doc:
    pt: Doc = {
        "ReadCapacityUnits": draw(capacity),
        "WriteCapacityUnits": draw(capacity),
        "NumberOfDecreasesToday": draw(st.integers(0, 27)),
    }
    for key in ("LastIncreaseDateTime", "LastDecreaseDateTime"):
        moment = draw(st.none() | moments)
        if moment is not None:
            pt[key] = moment
    return pt


@st.composite
def describe_tables(draw: st.DrawFn) -> tuple[Doc, str, bool]:
    on_demand = draw(st.booleans())
    gsi_names = draw(st.lists(names, max_size=4, unique=True))
    table: Doc = {
        "TableName": draw(names),
        "TableStatus": draw(st.sampled_from(["ACTIVE", "UPDATING"])),
        "TableSizeBytes": draw(st.integers(0, 10**13)),
        "ItemCount": draw(st.integers(0, 10**10)),
        "CreationDateTime": draw(moments),
        # on-demand tables may still carry old numbers (moto does)
        "ProvisionedThroughput": draw(throughputs()),
        "GlobalSecondaryIndexes": [
            {
                "IndexName": name,
                "IndexStatus": draw(st.sampled_from(["ACTIVE", "CREATING", "UPDATING"])),
                "ProvisionedThroughput": draw(throughputs()),
                "IndexSizeBytes": draw(st.integers(0, 10**12)),
            }
            for name in gsi_names
        ],
    }
    if on_demand:
        table["BillingModeSummary"] = {
            "BillingMode": "PAY_PER_REQUEST",
            "LastUpdateToPayPerRequestDateTime": draw(moments),
        }
    elif draw(st.booleans()):
        table["BillingModeSummary"] = {"BillingMode": "PROVISIONED"}
    return table, draw(dialects), draw(st.booleans())


def _render(value: object, dialect: str) -> object:
    if isinstance(value, datetime):
        return render_time(value, dialect)
    if isinstance(value, dict):
        return {k: _render(v, dialect) for k, v in value.items()}
    if isinstance(value, list):
        return [_render(v, dialect) for v in value]
    return value


@settings(max_examples=150, deadline=None)
@given(describe_tables())
def test_round_trip(case: tuple[Doc, str, bool]) -> None:
    source, dialect, wrapped = case
    inner = _render(source, dialect)
    assert isinstance(inner, dict)
    if dialect != "boto3":  # really JSON: survive a dump and a load
        inner = json.loads(json.dumps(inner))
    table = table_from_describe({"Table": inner} if wrapped else inner)

    on_demand = source.get("BillingModeSummary", {}).get("BillingMode") == "PAY_PER_REQUEST"
    pt = source["ProvisionedThroughput"]
    assert table.name == source["TableName"]
    assert table.status == source["TableStatus"]
    assert table.size_bytes == source["TableSizeBytes"]
    assert table.item_count == source["ItemCount"]
    assert same_instant(table.created, source["CreationDateTime"])
    assert table.is_on_demand is on_demand
    if on_demand:
        assert table.provisioned is None
        assert same_instant(
            table.last_switch_to_on_demand,
            source["BillingModeSummary"]["LastUpdateToPayPerRequestDateTime"],
        )
    else:
        assert table.provisioned == Throughput(pt["ReadCapacityUnits"], pt["WriteCapacityUnits"])
        assert table.history.decreases_today == pt["NumberOfDecreasesToday"]
        assert same_instant(table.history.last_decrease, pt.get("LastDecreaseDateTime"))
        assert same_instant(table.history.last_increase, pt.get("LastIncreaseDateTime"))

    gsis = source["GlobalSecondaryIndexes"]
    assert [i.name for i in table.indexes] == [g["IndexName"] for g in gsis]
    for index, gsi in zip(table.indexes, gsis, strict=True):
        gpt = gsi["ProvisionedThroughput"]
        assert index.status == gsi["IndexStatus"]
        assert index.size_bytes == gsi["IndexSizeBytes"]
        if on_demand:
            assert index.provisioned is None
        else:
            assert index.provisioned == Throughput(
                gpt["ReadCapacityUnits"], gpt["WriteCapacityUnits"]
            )
            assert index.history.decreases_today == gpt["NumberOfDecreasesToday"]
            assert same_instant(index.history.last_decrease, gpt.get("LastDecreaseDateTime"))
        assert table.index(index.name) is index


@st.composite
def shard_lists(draw: st.DrawFn) -> tuple[list[Doc], int]:
    """Open shards tiling the key space, plus closed parents; returns (shards, open count)."""
    cuts = sorted(draw(st.sets(st.integers(1, HASH_KEY_MAX), max_size=8)))
    bounds = [0, *cuts, 2**128]
    docs: list[Doc] = []
    for n, (start, stop) in enumerate(pairwise(bounds)):
        docs.append(shard(f"shardId-open-{n}", start, stop - 1))
    opened = len(docs)
    for n in range(draw(st.integers(0, 5))):
        docs.append(shard(f"shardId-closed-{n}", 0, HASH_KEY_MAX, closed=True))
    order = draw(st.permutations(range(len(docs))))
    return [docs[i] for i in order], opened


@settings(max_examples=100, deadline=None)
@given(shard_lists(), st.integers(0, 50), st.booleans())
def test_open_shards_are_counted_from_the_shards(
    case: tuple[list[Doc], int], reported: int, wrapped: bool
) -> None:
    docs, opened = case
    summary = _summary(OpenShardCount=reported)
    stream = stream_from_describe(summary, {"Shards": docs} if wrapped else docs)
    assert stream.open_shard_count == opened
    assert stream.reported_open_shards == reported
    assert len(stream.shards) == len(docs)
    ranges = [s.hash_range for s in stream.open_shards]
    assert ranges[0].start == 0 and ranges[-1].end == HASH_KEY_MAX
    assert all(a.end + 1 == b.start for a, b in pairwise(ranges))
