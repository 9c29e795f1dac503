"""Build model values from the JSON AWS returns.

Accepts what ``aws dynamodb describe-table``, ``aws kinesis describe-stream-summary`` and
``aws kinesis list-shards`` print (AWS CLI v1 prints timestamps as epoch seconds, v2 as ISO
8601 strings) and what boto3 returns (``datetime`` objects), with or without the outer
``{"Table": ...}`` / ``{"StreamDescriptionSummary": ...}`` wrapper.  Anything malformed raises
:class:`DescribeError` naming the field, what it held and what is allowed: numbers are whole,
from 0 to AWS's ``Long`` (2**63 − 1) or a field's own documented maximum; timestamps lie
between :data:`EARLIEST` and :data:`LATEST` (calendar arithmetic on them never overflows);
text is valid Unicode.  :func:`document_from_json` reads a file's bytes with the same care
(UTF-8, a size and a nesting limit), and a described stream's open shards must cover the
hash-key space exactly once.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from capcon.core.model import (
    BillingMode,
    HashRange,
    Index,
    Replica,
    ReplicaIndex,
    ReplicaScaling,
    ScalingRange,
    Shard,
    Stream,
    StreamMode,
    StreamWarmThroughput,
    Table,
    TableClass,
    Throughput,
    ThroughputHistory,
    WarmThroughput,
)
from capcon.core.planning.reshard import ReshardError, validate_cover
from capcon.core.schema import json_depth, nesting_depth, shown_value

#: The earliest and latest timestamps accepted (inclusive), in UTC.  AWS's resources are all
#: newer than 1970; the upper end leaves centuries of room for the planner's windows and
#: waits, so year 1 or 9999 (or epoch seconds beyond them) is refused, never an overflow.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC)

#: AWS's ``Long``: the largest whole number any describe field holds.
LONG_MAX = 2**63 - 1

#: Kinesis retention is at most 8,760 hours (365 days).
MAX_RETENTION_HOURS = 8760

#: The deepest nesting a describe document may have: describe-table output is about six
#: levels deep; the limit keeps a hostile file from exhausting the parser's stack.
MAX_DEPTH = 32

#: The largest describe file read (a 10,000-shard list-shards output is about 3 MB).
MAX_DOCUMENT_BYTES = 50_000_000


class DescribeError(ValueError):
    """The JSON given does not describe a table or stream the way AWS does."""


def _where(path: str) -> str:
    return path or "the document"


def _mapping(value: object, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise DescribeError(f"{_where(path)}: expected a JSON object, got {type(value).__name__}")
    return value


def _text(value: object, path: str) -> str:
    """``value`` if it is a string of valid Unicode (no lone surrogates, which JSON's
    ``\\ud800`` escapes can make and no terminal or file can write)."""
    if not isinstance(value, str):
        raise DescribeError(f"{path}: expected a string, got {shown_value(value)}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise DescribeError(
            f"{path}: {shown_value(value)} is not valid Unicode text (a lone surrogate)"
        ) from None
    return value


def _str(doc: Mapping[str, Any], key: str, path: str, default: str | None = None) -> str:
    value = doc.get(key, default)
    if value is None:
        raise DescribeError(f"{path}.{key} is missing (a string is required)")
    return _text(value, f"{path}.{key}")


def _optional_str(doc: Mapping[str, Any], key: str, path: str) -> str | None:
    """A string field AWS may leave out (``None``, and an empty string, mean absent)."""
    value = doc.get(key)
    if value is None or value == "":
        return None
    return _text(value, f"{path}.{key}")


def _int(
    doc: Mapping[str, Any],
    key: str,
    path: str,
    default: int | None = None,
    high: int = LONG_MAX,
) -> int:
    value = doc.get(key, default)
    if value is None:
        raise DescribeError(f"{path}.{key} is missing (a whole number is required)")
    allowed = f"a whole number ≥ 0 and at most {high:,}"
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (isinstance(value, float) and not math.isfinite(value))
        or value != int(value)
    ):
        raise DescribeError(f"{path}.{key}: expected {allowed}, got {shown_value(value)}")
    if not 0 <= value <= high:
        raise DescribeError(f"{path}.{key}: expected {allowed}, got {shown_value(value)}")
    return int(value)


def _in_range(moment: datetime, value: object, path: str) -> datetime:
    """``moment`` (naive taken as UTC) if it lies between :data:`EARLIEST` and
    :data:`LATEST`; :class:`DescribeError` naming ``value`` and the range otherwise."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:  # an offset can push year 9999 past the calendar's end
        inside = EARLIEST <= moment <= LATEST
    except OverflowError:
        inside = False
    if not inside:
        raise DescribeError(
            f"{path}: {shown_value(value)} is out of range (a time from"
            f" {EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d %H:%M:%S} UTC is allowed)"
        )
    return moment


def parse_time(value: object, path: str) -> datetime | None:
    """A timestamp as AWS CLI v1 (epoch seconds), v2 (ISO 8601) or boto3 (datetime) gives it.

    Naive values are taken as UTC, which is what AWS means.  Times outside
    :data:`EARLIEST` … :data:`LATEST` are refused.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return _in_range(value, value, path)
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            moment = datetime.fromtimestamp(float(value), tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise DescribeError(
                f"{path}: {shown_value(value)} is not a timestamp (epoch seconds from"
                f" {EARLIEST.timestamp():.0f} to {LATEST.timestamp():.0f} are allowed)"
            ) from None
        return _in_range(moment, value, path)
    if isinstance(value, str):
        try:
            seconds = float(value)  # epoch seconds given as text (--now)
        except ValueError:
            pass
        else:
            return parse_time(seconds, path)
        text = value.strip().replace("Z", "+00:00")
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise DescribeError(
                f"{path}: {shown_value(value)} is not a timestamp (expected ISO 8601 such as "
                "2026-01-31T12:00:00+00:00, or epoch seconds)"
            ) from None
        return _in_range(parsed, value, path)
    raise DescribeError(f"{path}: expected a timestamp, got {shown_value(value)}")


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
        status=_text(warm.get("Status") or warm.get("TableStatus") or "ACTIVE", f"{wpath}.Status"),
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
    except (ValueError, TypeError):  # TypeError: an unhashable value (a list, an object)
        allowed = ", ".join(m.value for m in BillingMode)
        raise DescribeError(
            f"{path}.BillingModeSummary.BillingMode: {shown_value(raw)} is not a billing mode "
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
        arn=_optional_str(doc, "TableArn", path),
        created=parse_time(doc.get("CreationDateTime"), f"{path}.CreationDateTime"),
        last_switch_to_on_demand=parse_time(
            _mapping(summary, f"{path}.BillingModeSummary").get(
                "LastUpdateToPayPerRequestDateTime"
            ),
            f"{path}.BillingModeSummary.LastUpdateToPayPerRequestDateTime",
        ),
        on_demand_max=_on_demand_max(doc, path),
        table_class=_table_class(doc, "TableClassSummary", path) or TableClass.STANDARD,
        table_class_updated=_class_updated(doc, path),
        replicas=_replicas(doc, path, {i.name for i in indexes}),
        global_table_version=_optional_str(doc, "GlobalTableVersion", path),
    )


# --------------------------------------------------------------------------------------------
# Table classes and global-table replicas (docs/aws-rules.md#global-tables-and-table-classes)
# --------------------------------------------------------------------------------------------


def _table_class(doc: Mapping[str, Any], key: str, path: str) -> TableClass | None:
    """``doc[key].TableClass`` (a ``TableClassSummary``); ``None`` when absent."""
    raw_summary = doc.get(key)
    if raw_summary is None:
        return None
    summary = _mapping(raw_summary, f"{path}.{key}")
    raw = summary.get("TableClass")
    if raw is None:
        return None
    try:
        return TableClass(raw)
    except (ValueError, TypeError):  # TypeError: an unhashable value (a list, an object)
        allowed = ", ".join(c.value for c in TableClass)
        raise DescribeError(
            f"{path}.{key}.TableClass: {shown_value(raw)} is not a table class (allowed: {allowed})"
        ) from None


def _class_updated(doc: Mapping[str, Any], path: str) -> datetime | None:
    raw = doc.get("TableClassSummary")
    if raw is None:
        return None
    summary = _mapping(raw, f"{path}.TableClassSummary")
    return parse_time(
        summary.get("LastUpdateDateTime"), f"{path}.TableClassSummary.LastUpdateDateTime"
    )


def _list(doc: Mapping[str, Any], key: str, path: str) -> Sequence[Any]:
    raw = doc.get(key) or []
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise DescribeError(f"{path}.{key}: expected a list, got {shown_value(raw)}")
    return raw


def _read_override(doc: Mapping[str, Any], path: str) -> int | None:
    raw = doc.get("ProvisionedThroughputOverride")
    if raw is None:
        return None
    override = _mapping(raw, f"{path}.ProvisionedThroughputOverride")
    if override.get("ReadCapacityUnits") is None:
        return None
    return _int(override, "ReadCapacityUnits", f"{path}.ProvisionedThroughputOverride")


def _on_demand_read_max(doc: Mapping[str, Any], path: str) -> int | None:
    raw = doc.get("OnDemandThroughputOverride")
    if raw is None:
        return None
    override = dict(_mapping(raw, f"{path}.OnDemandThroughputOverride"))
    value = override.get("MaxReadRequestUnits")
    if value is None or value == -1:  # -1: AWS's "no maximum"
        return None
    return _int(override, "MaxReadRequestUnits", f"{path}.OnDemandThroughputOverride")


def _replicas(doc: Mapping[str, Any], path: str, index_names: set[str]) -> tuple[Replica, ...]:
    """``Replicas``: the other regions of a global table, each region once."""
    found: list[Replica] = []
    seen: set[str] = set()
    for i, raw in enumerate(_list(doc, "Replicas", path)):
        rpath = f"{path}.Replicas[{i}]"
        replica = _mapping(raw, rpath)
        region = _str(replica, "RegionName", rpath)
        if not region.strip():
            raise DescribeError(f"{rpath}.RegionName is empty (a region name is required)")
        if region in seen:
            raise DescribeError(
                f"{rpath}.RegionName: {shown_value(region)} is listed twice "
                "(each replica region appears once)"
            )
        seen.add(region)
        rpath = f"{rpath}({region})"
        indexes: list[ReplicaIndex] = []
        for j, raw_index in enumerate(_list(replica, "GlobalSecondaryIndexes", rpath)):
            ipath = f"{rpath}.GlobalSecondaryIndexes[{j}]"
            index = _mapping(raw_index, ipath)
            name = _str(index, "IndexName", ipath)
            if index_names and name not in index_names:
                known = ", ".join(sorted(index_names))
                raise DescribeError(
                    f"{ipath}.IndexName: {shown_value(name)} is not a global secondary index "
                    f"of the table (it has: {known})"
                )
            indexes.append(
                ReplicaIndex(
                    name=name,
                    read_override=_read_override(index, ipath),
                    on_demand_read_max=_on_demand_read_max(index, ipath),
                    warm=_warm(index, ipath),
                )
            )
        found.append(
            Replica(
                region=region,
                status=_str(replica, "ReplicaStatus", rpath, default="ACTIVE"),
                read_override=_read_override(replica, rpath),
                on_demand_read_max=_on_demand_read_max(replica, rpath),
                table_class=_table_class(replica, "ReplicaTableClassSummary", rpath),
                warm=_warm(replica, rpath),
                indexes=tuple(indexes),
                status_description=_optional_str(replica, "ReplicaStatusDescription", rpath),
            )
        )
    return tuple(found)


def _scaling_range(doc: Mapping[str, Any], key: str, path: str) -> ScalingRange | None:
    raw = doc.get(key)
    if raw is None:
        return None
    spath = f"{path}.{key}"
    settings = _mapping(raw, spath)
    disabled = settings.get("AutoScalingDisabled", False)
    if not isinstance(disabled, bool):
        raise DescribeError(
            f"{spath}.AutoScalingDisabled: expected true or false, got {shown_value(disabled)}"
        )
    target: float | None = None
    for i, raw_policy in enumerate(_list(settings, "ScalingPolicies", spath)):
        ppath = f"{spath}.ScalingPolicies[{i}]"
        policy = _mapping(raw_policy, ppath)
        config = policy.get("TargetTrackingScalingPolicyConfiguration")
        if config is None:
            continue
        cpath = f"{ppath}.TargetTrackingScalingPolicyConfiguration"
        value = _mapping(config, cpath).get("TargetValue")
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or not 0 < value <= 100
        ):
            raise DescribeError(
                f"{cpath}.TargetValue: expected a utilisation in percent (0 < value ≤ 100), "
                f"got {shown_value(value)}"
            )
        target = float(value)
    return ScalingRange(
        minimum=_int(settings, "MinimumUnits", spath) if "MinimumUnits" in settings else None,
        maximum=_int(settings, "MaximumUnits", spath) if "MaximumUnits" in settings else None,
        target=target,
        disabled=disabled,
    )


def replica_auto_scaling_from_describe(document: Mapping[str, Any]) -> tuple[ReplicaScaling, ...]:
    """``describe-table-replica-auto-scaling`` output (``{"TableAutoScalingDescription": …}``
    or the inner object): each replica region's read and write auto scaling."""
    root = _mapping(document, "")
    path = "TableAutoScalingDescription"
    doc = _mapping(root.get(path, root), path)
    found: list[ReplicaScaling] = []
    for i, raw in enumerate(_list(doc, "Replicas", path)):
        rpath = f"{path}.Replicas[{i}]"
        replica = _mapping(raw, rpath)
        region = _str(replica, "RegionName", rpath)
        rpath = f"{rpath}({region})"
        indexes = []
        for j, raw_index in enumerate(_list(replica, "GlobalSecondaryIndexes", rpath)):
            ipath = f"{rpath}.GlobalSecondaryIndexes[{j}]"
            index = _mapping(raw_index, ipath)
            indexes.append(
                (
                    _str(index, "IndexName", ipath),
                    _scaling_range(index, "ProvisionedReadCapacityAutoScalingSettings", ipath),
                    _scaling_range(index, "ProvisionedWriteCapacityAutoScalingSettings", ipath),
                )
            )
        found.append(
            ReplicaScaling(
                region=region,
                status=_str(replica, "ReplicaStatus", rpath, default="ACTIVE"),
                read=_scaling_range(
                    replica, "ReplicaProvisionedReadCapacityAutoScalingSettings", rpath
                ),
                write=_scaling_range(
                    replica, "ReplicaProvisionedWriteCapacityAutoScalingSettings", rpath
                ),
                indexes=tuple(indexes),
            )
        )
    return tuple(found)


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
        backfilling=_backfilling(doc, path),
    )


def _backfilling(doc: Mapping[str, Any], path: str) -> bool:
    """``Backfilling`` of a GSI: absent (indexes made with the table never show it) is false."""
    raw = doc.get("Backfilling", False)
    if raw is None:
        return False
    if not isinstance(raw, bool):
        raise DescribeError(f"{path}.Backfilling: expected true or false, got {shown_value(raw)}")
    return raw


def _hash_key(value: object, path: str) -> int:
    text = value if isinstance(value, str) else None
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    # at most 39 digits: 2**128 − 1 has 39, and int() of a longer text is never needed
    if text is None or len(text.strip()) > 40:
        raise DescribeError(
            f"{path}: {shown_value(value)} is not a hash key (a decimal integer"
            " 0 … 2**128 − 1, as a string)"
        )
    try:
        key = int(text)
    except ValueError:
        raise DescribeError(
            f"{path}: {shown_value(value)} is not a hash key (a decimal integer)"
        ) from None
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
    spath = f"{path}.SequenceNumberRange"
    return Shard(
        shard_id=_str(doc, "ShardId", path),
        hash_range=HashRange(start, end),
        parent_id=_optional_str(doc, "ParentShardId", path),
        adjacent_parent_id=_optional_str(doc, "AdjacentParentShardId", path),
        starting_sequence=_optional_str(seq, "StartingSequenceNumber", spath),
        ending_sequence=_optional_str(seq, "EndingSequenceNumber", spath),
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
    except (ValueError, TypeError):  # TypeError: an unhashable value (a list, an object)
        allowed = ", ".join(m.value for m in StreamMode)
        raise DescribeError(
            f"{path}.StreamModeDetails.StreamMode: {shown_value(mode_raw)} is not a stream mode "
            f"(allowed: {allowed})"
        ) from None
    reported = _int(doc, "OpenShardCount", path) if "OpenShardCount" in doc else None
    return Stream(
        name=_str(doc, "StreamName", path),
        status=_str(doc, "StreamStatus", path, default="ACTIVE"),
        mode=mode,
        retention_hours=_int(
            doc, "RetentionPeriodHours", path, default=24, high=MAX_RETENTION_HOURS
        ),
        shards=parsed,
        arn=_optional_str(doc, "StreamARN", path),
        created=parse_time(doc.get("StreamCreationTimestamp"), f"{path}.StreamCreationTimestamp"),
        reported_open_shards=reported,
        consumer_count=_int(doc, "ConsumerCount", path, default=0, high=MAX_CONSUMERS),
        warm_throughput=stream_warm_throughput(doc, path),
        # WarmThroughput is reported only for on-demand streams of accounts with On-demand
        # Advantage (botocore); an empty one, or one on a provisioned stream, says nothing
        on_demand_advantage=(
            True
            if mode is StreamMode.ON_DEMAND
            and isinstance(doc.get("WarmThroughput"), dict)
            and doc["WarmThroughput"]
            else None
        ),
    )


#: ``ConsumerCount``'s documented maximum (botocore ``ConsumerCountObject``).
MAX_CONSUMERS = 1_000_000

#: ``MinimumThroughputBillingCommitment.Status`` values under which the account is billed at
#: On-demand Advantage rates (botocore ``kinesis`` model): ``ENABLED_UNTIL_EARLIEST_ALLOWED_END``
#: is a request to disable that takes effect only at ``EarliestAllowedEndAt``.
ADVANTAGE_STATUSES = ("ENABLED", "ENABLED_UNTIL_EARLIEST_ALLOWED_END")
ADVANTAGE_ALL_STATUSES = (*ADVANTAGE_STATUSES, "DISABLED")


def stream_warm_throughput(doc: Mapping[str, Any], path: str) -> StreamWarmThroughput | None:
    """``WarmThroughput {TargetMiBps, CurrentMiBps}`` of a stream summary, if present."""
    raw = doc.get("WarmThroughput")
    if raw is None:
        return None
    warm = _mapping(raw, f"{path}.WarmThroughput")
    wpath = f"{path}.WarmThroughput"
    return StreamWarmThroughput(
        target_mibps=_int(warm, "TargetMiBps", wpath) if "TargetMiBps" in warm else None,
        current_mibps=_int(warm, "CurrentMiBps", wpath) if "CurrentMiBps" in warm else None,
    )


def advantage_from_settings(document: object) -> bool | None:
    """On-demand Advantage from ``aws kinesis describe-account-settings`` output: true when
    ``MinimumThroughputBillingCommitment.Status`` is ``ENABLED`` or
    ``ENABLED_UNTIL_EARLIEST_ALLOWED_END``, false when ``DISABLED``, ``None`` when absent."""
    root = _mapping(document, "account_settings")
    raw = root.get("MinimumThroughputBillingCommitment")
    if raw is None:
        return None
    path = "MinimumThroughputBillingCommitment"
    status = _mapping(raw, path).get("Status")
    if status not in ADVANTAGE_ALL_STATUSES:
        raise DescribeError(
            f"{path}.Status: {shown_value(status)} is not a status (allowed: "
            f"{', '.join(ADVANTAGE_ALL_STATUSES)})"
        )
    return status in ADVANTAGE_STATUSES


def consumers_from_list(document: object) -> int:
    """How many enhanced fan-out consumers ``aws kinesis list-stream-consumers`` lists
    (``{"Consumers": [...]}`` or the list itself), each with a ``ConsumerName``; those
    ``DELETING`` are left out (AWS stops billing them)."""
    listed: object = document
    if isinstance(document, Mapping):
        listed = document.get("Consumers")
    if not isinstance(listed, Sequence) or isinstance(listed, str):
        raise DescribeError(
            "consumers: expected the output of `aws kinesis list-stream-consumers` "
            '({"Consumers": [...]})'
        )
    count = 0
    for i, item in enumerate(listed):
        consumer = _mapping(item, f"Consumers[{i}]")
        _str(consumer, "ConsumerName", f"Consumers[{i}]")
        if consumer.get("ConsumerStatus") != "DELETING":
            count += 1
    return count


def resource_from_document(document: Mapping[str, Any]) -> Table | Stream:
    """A table or a stream from one JSON document.

    A table: ``describe-table`` output.  A stream: ``{"summary": <describe-stream-summary>,
    "shards": <list-shards>}``, and optionally ``"consumers": <list-stream-consumers>`` (counted
    when the summary has no ``ConsumerCount``) and ``"account_settings":
    <describe-account-settings>`` (On-demand Advantage).
    """
    root = _mapping(document, "")
    if "Table" in root or "TableName" in root:
        return table_from_describe(root)
    if "summary" in root and "shards" in root:
        stream = stream_from_describe(_mapping(root["summary"], "summary"), root["shards"])
        summary = _mapping(root["summary"], "summary")
        doc = summary.get("StreamDescriptionSummary", summary)
        if root.get("consumers") is not None and "ConsumerCount" not in doc:
            stream = dataclasses.replace(
                stream, consumer_count=consumers_from_list(root["consumers"])
            )
        if root.get("account_settings") is not None and stream.on_demand_advantage is None:
            stream = dataclasses.replace(
                stream, on_demand_advantage=advantage_from_settings(root["account_settings"])
            )
        check_shards(stream)
        return stream
    raise DescribeError(
        "the file describes neither a table nor a stream: expected the JSON printed by "
        '`aws dynamodb describe-table`, or {"summary": <aws kinesis describe-stream-summary>, '
        '"shards": <aws kinesis list-shards>}'
    )


def check_shards(stream: Stream) -> None:
    """:class:`DescribeError` unless ``stream``'s shard ids are unique and its open shards
    cover the hash-key space 0 … 2**128 − 1 exactly once (what AWS keeps true): a list with
    a gap or an overlap was cut or edited, and no reshard can be planned on it.  A stream
    with no open shard (being created or deleted) passes."""
    seen: set[str] = set()
    for shard in stream.shards:
        if shard.shard_id in seen:
            raise DescribeError(
                f"Shards: {shown_value(shard.shard_id)} is listed twice (shard ids are unique)"
            )
        seen.add(shard.shard_id)
    ranges = [s.hash_range for s in stream.shards if s.ending_sequence is None]
    if not ranges:
        return
    try:
        validate_cover(ranges)
    except ReshardError as error:
        raise DescribeError(
            f"Shards: the open shards (no EndingSequenceNumber) must cover the hash keys"
            f" 0 … 2**128 − 1 exactly once: {error}"
        ) from None


def document_from_json(data: bytes) -> Any:
    """The JSON value in ``data`` (a describe file's bytes), or :class:`DescribeError` saying
    why not: not UTF-8, not JSON, larger than :data:`MAX_DOCUMENT_BYTES` or nested deeper
    than :data:`MAX_DEPTH` (checked before parsing, so 100,000 brackets never reach the
    parser's recursion)."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DescribeError(f"too large (at most {MAX_DOCUMENT_BYTES:,} bytes)")
    # PowerShell 5's ``aws … > file`` writes UTF-16 with a byte-order mark
    utf16 = data[:2] in (b"\xff\xfe", b"\xfe\xff")
    try:
        text = data.decode("utf-16" if utf16 else "utf-8-sig")
    except UnicodeDecodeError as error:
        what = "UTF-16" if utf16 else "UTF-8"
        raise DescribeError(f"not {what} text ({error.reason} at byte {error.start})") from None
    if json_depth(text, MAX_DEPTH + 1) > MAX_DEPTH:
        raise DescribeError(f"nested more than {MAX_DEPTH} levels deep (AWS's output is not)")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise DescribeError(f"not valid JSON ({error})") from None
    except RecursionError:  # pragma: no cover - the depth check above comes first
        raise DescribeError(f"nested more than {MAX_DEPTH} levels deep") from None
    if nesting_depth(value, MAX_DEPTH + 1) > MAX_DEPTH:  # pragma: no cover - same
        raise DescribeError(f"nested more than {MAX_DEPTH} levels deep (AWS's output is not)")
    return value
