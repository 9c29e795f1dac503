"""The numbers of the rule book that AWS has changed or may change: one dataclass,
overridable from a file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from capcon.core.rules.timefmt import DAY, HOUR


@dataclass(frozen=True, slots=True)
class RuleSettings:
    """Every number the rule book uses, named; defaults are AWS's documented values."""

    # DynamoDB capacity (per table and per GSI; account totals across tables and GSIs)
    min_capacity_units: int = 1
    table_max_read_units: int = 40_000
    table_max_write_units: int = 40_000
    account_max_read_units: int = 80_000
    account_max_write_units: int = 80_000
    # DynamoDB decreases, per UTC day, per table and per GSI separately
    decreases_any_time_per_day: int = 4
    decrease_gap: timedelta = HOUR
    max_decreases_per_day: int = 27
    # DynamoDB billing-mode switch, provisioned → on-demand (since 2025-08; was 1 per 24 h)
    switches_to_on_demand_per_window: int = 4
    switch_window: timedelta = DAY
    # DynamoDB partitions (the historical formula; an estimate)
    read_units_per_partition: int = 3_000
    write_units_per_partition: int = 1_000
    bytes_per_partition: int = 10 * 2**30
    # Kinesis
    shard_scale_up_factor: float = 2.0
    shard_scale_down_factor: float = 0.5
    reshards_per_window: int = 10
    reshard_window: timedelta = DAY
    max_shards_per_stream: int = 10_000
    account_shard_quota: int = 500
    stream_mode_switches_per_window: int = 2
    shard_write_bytes_per_second: int = 1_000_000
    shard_write_records_per_second: int = 1_000
    shard_read_bytes_per_second: int = 2_000_000
