"""The numbers of the rule book that AWS has changed or may change: one dataclass,
overridable from a file.

Each number is declared with what a file may set it to (:func:`capcon.core.schema.setting`):
a count the planner divides by is positive, a count of changes is a whole number from 0, a
window is a positive number of seconds no longer than a year, and nothing is larger than a
generous ceiling far above any AWS quota (a value such as 2**63 is refused by name, never an
overflow in the planner's arithmetic).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from capcon.core.rules.timefmt import DAY, HOUR
from capcon.core.schema import setting

#: Ceiling for capacity units, throughput per partition or shard and quotas: a thousand
#: times any quota AWS grants today.
_UNITS = 10**12
#: Ceiling for counts of changes a window allows (one a minute for a day).
_CHANGES = 1440
#: Longest window, in seconds: a year.
_YEAR = 365 * 86_400.0
#: A Kinesis shard takes in 1 MiB/s and serves 2 MiB/s (API reference, CreateStream and
#: GetRecords: docs/aws-rules.md#per-shard-limits).
SHARD_WRITE_BYTES = 2**20
SHARD_READ_BYTES = 2 * 2**20


@dataclass(frozen=True, slots=True)
class RuleSettings:
    """Every number the rule book uses, named; defaults are AWS's documented values."""

    # DynamoDB capacity (per table and per GSI; account totals across tables and GSIs)
    min_capacity_units: int = setting(
        1, "The smallest capacity a provisioned table or GSI takes.", positive=True, high=_UNITS
    )
    table_max_read_units: int = setting(
        40_000, "Per-table read capacity quota.", positive=True, high=_UNITS
    )
    table_max_write_units: int = setting(
        40_000, "Per-table write capacity quota.", positive=True, high=_UNITS
    )
    account_max_read_units: int = setting(
        80_000, "Account read capacity quota.", positive=True, high=_UNITS
    )
    account_max_write_units: int = setting(
        80_000, "Account write capacity quota.", positive=True, high=_UNITS
    )
    # DynamoDB decreases, per UTC day, per table and per GSI separately
    decreases_any_time_per_day: int = setting(
        4, "Decreases allowed at any time of a UTC day.", high=_CHANGES
    )
    decrease_gap: timedelta = setting(  # noqa: RUF009 (a timedelta is immutable)
        HOUR, "After those, one more decrease per this gap.", high=86_400.0, unit="seconds"
    )
    max_decreases_per_day: int = setting(27, "Decreases a UTC day allows at most.", high=_CHANGES)
    # DynamoDB billing-mode switch, provisioned → on-demand (since 2025-08; was 1 per 24 h)
    switches_to_on_demand_per_window: int = setting(
        4, "Switches to on-demand allowed per switch_window.", positive=True, high=_CHANGES
    )
    switch_window: timedelta = setting(  # noqa: RUF009 (a timedelta is immutable)
        DAY, "The window of the on-demand switch quota.", positive=True, high=_YEAR, unit="seconds"
    )
    # DynamoDB partitions (the historical formula; an estimate)
    read_units_per_partition: int = setting(
        3_000, "Read units one partition serves.", positive=True, high=_UNITS
    )
    write_units_per_partition: int = setting(
        1_000, "Write units one partition serves.", positive=True, high=_UNITS
    )
    bytes_per_partition: int = setting(
        10 * 2**30, "Bytes one partition holds.", positive=True, high=2**50
    )
    # DynamoDB on-demand maximums (OnDemandThroughput): requests above the maximum throttle.
    # Consumption is a one-minute average that hides bursts within the minute, so a warning at
    # 80 % leaves room before throttling starts (docs/aws-rules.md#on-demand-maximums).
    on_demand_max_warn_share: float = setting(
        0.8,
        "Warn when consumed request units reach this share of an on-demand maximum.",
        positive=True,
        high=1.0,
    )
    # Kinesis
    shard_scale_up_factor: float = setting(
        2.0, "UpdateShardCount may multiply the open shards by at most this.", low=1.0, high=1000.0
    )
    shard_scale_down_factor: float = setting(
        0.5,
        "UpdateShardCount may cut the open shards to no less than this share.",
        positive=True,
        high=1.0,
    )
    reshards_per_window: int = setting(
        10, "Reshards allowed per reshard_window.", positive=True, high=_CHANGES
    )
    reshard_window: timedelta = setting(  # noqa: RUF009 (a timedelta is immutable)
        DAY, "The window of the reshard quota.", positive=True, high=_YEAR, unit="seconds"
    )
    max_shards_per_stream: int = setting(
        10_000, "Open shards one stream may have.", positive=True, high=100_000
    )
    account_shard_quota: int = setting(
        0,
        "Open shards the account may have in a region; 0: AWS's default for the region "
        "(20,000 in us-east-1, us-west-2 and eu-west-1, 1,000 elsewhere).",
        high=10**7,
        note="(0: AWS's default for the region)",
    )
    stream_mode_switches_per_window: int = setting(
        2, "Stream mode switches allowed per switch_window.", positive=True, high=_CHANGES
    )
    shard_write_bytes_per_second: int = setting(
        SHARD_WRITE_BYTES, "Bytes a second one shard takes in (1 MiB).", positive=True, high=_UNITS
    )
    shard_write_records_per_second: int = setting(
        1_000, "Records a second one shard takes in.", positive=True, high=_UNITS
    )
    shard_read_bytes_per_second: int = setting(
        SHARD_READ_BYTES, "Bytes a second one shard serves (2 MiB).", positive=True, high=_UNITS
    )
    on_demand_streams_quota: int = setting(
        50, "On-demand streams the account may have in a region.", positive=True, high=10**7
    )
    # DynamoDB table class: "no more than two table class updates on your table are allowed
    # in a 30-day trailing period" (DynamoDB Developer Guide, table classes; recorded 2026-12,
    # docs/aws-rules.md#global-tables-and-table-classes)
    table_class_updates_per_window: int = setting(
        2, "Table class updates allowed per table_class_window.", positive=True, high=_CHANGES
    )
    table_class_window: timedelta = setting(  # noqa: RUF009 (a timedelta is immutable)
        30 * DAY,
        "The trailing window of the table class update quota.",
        positive=True,
        high=_YEAR,
        unit="seconds",
    )
