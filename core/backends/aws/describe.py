"""Build model values from the JSON AWS returns.

Accepts what ``aws dynamodb describe-table``, ``aws kinesis describe-stream-summary`` and
``aws kinesis list-shards`` print (AWS CLI v1 prints timestamps as epoch seconds, v2 as ISO
8601 strings) and what boto3 returns (``datetime`` objects), with or without the outer
``{"Table": ...}`` / ``{"StreamDescriptionSummary": ...}`` wrapper.  Anything malformed raises
:class:`DescribeError` naming the field, what it held and what is allowed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from capcon.core.model import (
    BillingMode,
    HashRange,
    Index,
    Shard,
    Stream,
    StreamMode,
    Table,
    Throughput,
    ThroughputHistory,
    WarmThroughput,
)


class DescribeError(ValueError):
    """The JSON given does not describe a table or stream the way AWS does."""


def _where(path: str) -> str:
    return path or "the document"


def _mapping(value: object, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise DescribeError(f"{_where(path)}: expected a JSON object, got {type(value).__name__}")
    return value


def _str(doc: Mapping[str, Any], key: str, path: str, default: str | None = None) -> str:
    value = doc.get(key, default)
    if value is None:
        raise DescribeError(f"{path}.{key} is missing (a string is required)")
    if not isinstance(value, str):
        raise DescribeError(f"{path}.{key}: expected a string, got {value!r}")
    return value


def _int(doc: Mapping[str, Any], key: str, path: str, default: int | None = None) -> int:
    value = doc.get(key, default)
    if value is None:
        raise DescribeError(f"{path}.{key} is missing (a whole number is required)")
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (isinstance(value, float) and not math.isfinite(value))
        or value != int(value)
    ):
        raise DescribeError(f"{path}.{key}: expected a whole number, got {value!r}")
    if value < 0:
        raise DescribeError(f"{path}.{key}: expected a number ≥ 0, got {value!r}")
    return int(value)


def parse_time(value: object, path: str) -> datetime | None:
    """A timestamp as AWS CLI v1 (epoch seconds), v2 (ISO 8601) or boto3 (datetime) gives it.

    Naive values are taken as UTC, which is what AWS means.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(float(value), tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise DescribeError(
                f"{path}: {value!r} is not a timestamp (epoch seconds out of range)"
            ) from None
    if isinstance(value, str):
        try:
            return parse_time(float(value), path)  # epoch seconds given as text (--now)
        except ValueError:
            pass
        text = value.strip().replace("Z", "+00:00")
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise DescribeError(
                f"{path}: {value!r} is not a timestamp (expected ISO 8601 such as "
                "2026-01-31T12:00:00+00:00, or epoch seconds)"
            ) from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise DescribeError(f"{path}: expected a timestamp, got {value!r}")


def _history(pt: Mapping[str, Any], path: str) -> ThroughputHistory:
    return ThroughputHistory(
        decreases_today=_int(pt, "NumberOfDecreasesToday", path, default=0),
        last_decrease=parse_time(pt.get("LastDecreaseDateTime"), f"{path}.LastDecreaseDateTime"),
        last_increase=parse_time(pt.get("LastIncreaseDateTime"), f"{path}.LastIncreaseDateTime"),
    )


def _throughput(pt: Mapping[str, Any], path: str) -> Throughput:
    return Throughput(
        read=_int(pt, "ReadCapacityUnits", path), write=_int(pt, "WriteCapacityUnits", path)
    )


def _warm(doc: Mapping[str, Any], path: str) -> WarmThroughput | None:
    raw = doc.get("WarmThroughput")
    if raw is None:
        return None
    warm = _mapping(raw, f"{path}.WarmThroughput")
    wpath = f"{path}.WarmThroughput"
    return WarmThroughput(
        read_units_per_second=_int(warm, "ReadUnitsPerSecond", wpath, default=0),
        write_units_per_second=_int(warm, "WriteUnitsPerSecond", wpath, default=0),
        status=str(warm.get("Status") or warm.get("TableStatus") or "ACTIVE"),
    )


def _on_demand_max(doc: Mapping[str, Any], path: str) -> Throughput | None:
    raw = doc.get("OnDemandThroughput")
    if raw is None:
        return None
    od = dict(_mapping(raw, f"{path}.OnDemandThroughput"))
    opath = f"{path}.OnDemandThroughput"
    for key in ("MaxReadRequestUnits", "MaxWriteRequestUnits"):
        if od.get(key) == -1:  # AWS's "no maximum"
            od[key] = 0
    read = _int(od, "MaxReadRequestUnits", opath, default=0)
    write = _int(od, "MaxWriteRequestUnits", opath, default=0)
    return Throughput(read=read, write=write) if read or write else None


def _billing_mode(doc: Mapping[str, Any], path: str) -> BillingMode:
    summary = doc.get("BillingModeSummary")
    if summary is None:
        return BillingMode.PROVISIONED
    raw = _mapping(summary, f"{path}.BillingModeSummary").get("BillingMode", "PROVISIONED")
    try:
        return BillingMode(raw)
    except ValueError:
        allowed = ", ".join(m.value for m in BillingMode)
        raise DescribeError(
            f"{path}.BillingModeSummary.BillingMode: {raw!r} is not a billing mode "
            f"(allowed: {allowed})"
        ) from None


def table_from_describe(document: Mapping[str, Any]) -> Table:
    """A :class:`Table` from ``describe-table`` output (``{"Table": {...}}`` or the inner)."""
    root = _mapping(document, "")
    path = "Table" if "Table" in root else ""
    doc = _mapping(root["Table"], "Table") if "Table" in root else root
    if "TableName" not in doc:
        raise DescribeError(
            "this is not describe-table output: no Table.TableName "
            "(expected the JSON printed by `aws dynamodb describe-table`)"
        )
    path = path or "Table"
    mode = _billing_mode(doc, path)
    provisioned: Throughput | None = None
    history = ThroughputHistory()
    if "ProvisionedThroughput" in doc:
        pt = _mapping(doc["ProvisionedThroughput"], f"{path}.ProvisionedThroughput")
        history = _history(pt, f"{path}.ProvisionedThroughput")
        if mode is BillingMode.PROVISIONED:
            provisioned = _throughput(pt, f"{path}.ProvisionedThroughput")
    elif mode is BillingMode.PROVISIONED:
        raise DescribeError(
            f"{path}.ProvisionedThroughput is missing for a provisioned table "
            "(it must hold ReadCapacityUnits and WriteCapacityUnits)"
        )
    raw_indexes = doc.get("GlobalSecondaryIndexes") or []
    if not isinstance(raw_indexes, Sequence) or isinstance(raw_indexes, str):
        raise DescribeError(f"{path}.GlobalSecondaryIndexes: expected a list")
    indexes = tuple(
        _index(
            _mapping(raw, f"{path}.GlobalSecondaryIndexes[{i}]"),
            mode,
            f"{path}.GlobalSecondaryIndexes[{i}]",
        )
        for i, raw in enumerate(raw_indexes)
    )
    summary = doc.get("BillingModeSummary") or {}
    return Table(
        name=_str(doc, "TableName", path),
        status=_str(doc, "TableStatus", path, default="ACTIVE"),
        billing_mode=mode,
        provisioned=provisioned,
        history=history,
        warm=_warm(doc, path),
        size_bytes=_int(doc, "TableSizeBytes", path, default=0),
        item_count=_int(doc, "ItemCount", path, default=0),
        indexes=indexes,
        arn=doc.get("TableArn") if isinstance(doc.get("TableArn"), str) else None,
        created=parse_time(doc.get("CreationDateTime"), f"{path}.CreationDateTime"),
        last_switch_to_on_demand=parse_time(
            _mapping(summary, f"{path}.BillingModeSummary").get(
                "LastUpdateToPayPerRequestDateTime"
            ),
            f"{path}.BillingModeSummary.LastUpdateToPayPerRequestDateTime",
        ),
        on_demand_max=_on_demand_max(doc, path),
    )


def _index(doc: Mapping[str, Any], mode: BillingMode, path: str) -> Index:
    name = _str(doc, "IndexName", path)
    path = f"{path}({name})"
    provisioned: Throughput | None = None
    history = ThroughputHistory()
    if "ProvisionedThroughput" in doc:
        pt = _mapping(doc["ProvisionedThroughput"], f"{path}.ProvisionedThroughput")
        history = _history(pt, f"{path}.ProvisionedThroughput")
        if mode is BillingMode.PROVISIONED:
            provisioned = _throughput(pt, f"{path}.ProvisionedThroughput")
    elif mode is BillingMode.PROVISIONED:
        raise DescribeError(f"{path}.ProvisionedThroughput is missing for a provisioned index")
    return Index(
        name=name,
        status=_str(doc, "IndexStatus", path, default="ACTIVE"),
        provisioned=provisioned,
        history=history,
        warm=_warm(doc, path),
        size_bytes=_int(doc, "IndexSizeBytes", path, default=0),
        item_count=_int(doc, "ItemCount", path, default=0),
        on_demand_max=_on_demand_max(doc, path),
    )


def _hash_key(value: object, path: str) -> int:
    try:
        key = int(str(value))
    except ValueError:
        raise DescribeError(f"{path}: {value!r} is not a hash key (a decimal integer)") from None
    if not 0 <= key < 2**128:
        raise DescribeError(f"{path}: {key} is outside the hash-key space 0 … 2**128 − 1")
    return key


def shard_from_list(doc: Mapping[str, Any], path: str) -> Shard:
    """One element of ``list-shards``' ``Shards``."""
    hkr = _mapping(doc.get("HashKeyRange"), f"{path}.HashKeyRange")
    start = _hash_key(hkr.get("StartingHashKey"), f"{path}.HashKeyRange.StartingHashKey")
    end = _hash_key(hkr.get("EndingHashKey"), f"{path}.HashKeyRange.EndingHashKey")
    if end < start:
        raise DescribeError(f"{path}.HashKeyRange: ends ({end}) before it starts ({start})")
    seq = doc.get("SequenceNumberRange") or {}
    seq = _mapping(seq, f"{path}.SequenceNumberRange")
    return Shard(
        shard_id=_str(doc, "ShardId", path),
        hash_range=HashRange(start, end),
        parent_id=doc.get("ParentShardId") or None,
        adjacent_parent_id=doc.get("AdjacentParentShardId") or None,
        starting_sequence=seq.get("StartingSequenceNumber"),
        ending_sequence=seq.get("EndingSequenceNumber"),
    )


def stream_from_describe(summary: Mapping[str, Any], shards: object) -> Stream:
    """A :class:`Stream` from ``describe-stream-summary`` and ``list-shards`` output.

    ``shards`` is either ``{"Shards": [...]}`` or the list itself.  Open shards are the ones
    without ``EndingSequenceNumber``; ``OpenShardCount`` is kept only for display.
    """
    root = _mapping(summary, "summary")
    doc = root.get("StreamDescriptionSummary", root)
    doc = _mapping(doc, "StreamDescriptionSummary")
    path = "StreamDescriptionSummary"
    if "StreamName" not in doc:
        raise DescribeError(
            "this is not describe-stream-summary output: no StreamDescriptionSummary.StreamName"
        )
    shard_list: object = shards
    if isinstance(shards, Mapping):
        shard_list = shards.get("Shards")
    if not isinstance(shard_list, Sequence) or isinstance(shard_list, str):
        raise DescribeError(
            'shards: expected the output of `aws kinesis list-shards` ({"Shards": [...]})'
        )
    parsed = tuple(
        shard_from_list(_mapping(s, f"Shards[{i}]"), f"Shards[{i}]")
        for i, s in enumerate(shard_list)
    )
    details = _mapping(doc.get("StreamModeDetails") or {}, f"{path}.StreamModeDetails")
    mode_raw = details.get("StreamMode", "PROVISIONED")
    try:
        mode = StreamMode(mode_raw)
    except ValueError:
        allowed = ", ".join(m.value for m in StreamMode)
        raise DescribeError(
            f"{path}.StreamModeDetails.StreamMode: {mode_raw!r} is not a stream mode "
            f"(allowed: {allowed})"
        ) from None
    reported = _int(doc, "OpenShardCount", path) if "OpenShardCount" in doc else None
    return Stream(
        name=_str(doc, "StreamName", path),
        status=_str(doc, "StreamStatus", path, default="ACTIVE"),
        mode=mode,
        retention_hours=_int(doc, "RetentionPeriodHours", path, default=24),
        shards=parsed,
        arn=doc.get("StreamARN") if isinstance(doc.get("StreamARN"), str) else None,
        created=parse_time(doc.get("StreamCreationTimestamp"), f"{path}.StreamCreationTimestamp"),
        reported_open_shards=reported,
        consumer_count=_int(doc, "ConsumerCount", path, default=0),
    )


def resource_from_document(document: Mapping[str, Any]) -> Table | Stream:
    """A table or a stream from one JSON document.

    A table: ``describe-table`` output.  A stream: ``{"summary": <describe-stream-summary>,
    "shards": <list-shards>}``.
    """
    root = _mapping(document, "")
    if "Table" in root or "TableName" in root:
        return table_from_describe(root)
    if "summary" in root and "shards" in root:
        return stream_from_describe(_mapping(root["summary"], "summary"), root["shards"])
    raise DescribeError(
        "the file describes neither a table nor a stream: expected the JSON printed by "
        '`aws dynamodb describe-table`, or {"summary": <aws kinesis describe-stream-summary>, '
        '"shards": <aws kinesis list-shards>}'
    )
