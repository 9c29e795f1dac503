"""The rule book: AWS's capacity rules for DynamoDB and Kinesis as named, configurable data.

Each check returns typed :class:`Violation` values carrying a human message (what was asked,
what is allowed, and when it will be allowed) instead of raising, so the planner, the scaler,
the simulated account and the console all refuse the same requests with the same words.

Sources (see domain.md §2–§3): DynamoDB service quotas (minimum 1 unit; 40,000 RCU/WCU per
table or GSI, 80,000 per account; decreases per UTC day: 4 at any time, then one more after an
hour with none, 27 at most; another update while ``UPDATING`` is ``ResourceInUseException``;
provisioned → on-demand 4 times per rolling 24 h since 2025-08) and Kinesis
``UpdateShardCount`` (½…2× of open shards, 10 per rolling 24 h, 10,000 shards per stream,
within the account shard quota, provisioned streams only; stream mode twice per 24 h).
Where AWS has changed or may change a rule the number is a field of :class:`RuleSettings`,
so a user can set it from a file (``capcon.core.settings.apply_overrides``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from capcon.core.model import BillingMode, Stream, StreamMode, Table, Throughput, ThroughputHistory
from capcon.core.settings import apply_overrides, read_toml

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


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


def load_rule_settings(path: Path | None) -> RuleSettings:
    """Defaults, with the overrides of a TOML file when one is given."""
    base = RuleSettings()
    if path is None:
        return base
    return apply_overrides(base, read_toml(path), str(path))


class Code(StrEnum):
    """What kind of rule a request breaks: stable identifiers for tests and ``--json``."""

    BELOW_MINIMUM = "below-minimum"
    ABOVE_RESOURCE_QUOTA = "above-resource-quota"
    ABOVE_ACCOUNT_QUOTA = "above-account-quota"
    DECREASE_BUDGET = "decrease-budget"
    RESOURCE_BUSY = "resource-busy"
    NO_CHANGE = "no-change"
    NOT_PROVISIONED = "not-provisioned"
    UNKNOWN_INDEX = "unknown-index"
    MODE_SWITCH_LIMIT = "mode-switch-limit"
    MISSING_CAPACITY = "missing-capacity"
    SHARD_FACTOR = "shard-factor"
    RESHARD_LIMIT = "reshard-limit"
    STREAM_SHARD_MAX = "stream-shard-max"
    ACCOUNT_SHARD_QUOTA = "account-shard-quota"
    WHOLE_REQUEST = "whole-request"


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: which part of the request, a human message, and when it clears."""

    code: Code
    part: str
    message: str
    allowed_at: datetime | None = None


def fmt_time(moment: datetime, now: datetime) -> str:
    """``2026-11-23 14:05 UTC (in 1 h 12 min)``: absolute for the log, relative for 3 a.m."""
    delta = moment - now
    minutes = max(0, round(delta.total_seconds() / 60))
    if minutes == 0:
        relative = "now"
    elif minutes < 60:
        relative = f"in {minutes} min"
    else:
        hours, mins = divmod(minutes, 60)
        relative = f"in {hours} h {mins} min" if mins else f"in {hours} h"
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC ({relative})"


def next_utc_midnight(now: datetime) -> datetime:
    start = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return start + DAY


# --------------------------------------------------------------------------------------------
# DynamoDB decreases
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DecreaseBudget:
    """The decrease budget of one table or GSI at ``now``."""

    used_today: int
    left_today: int
    allowed_now: bool
    next_allowed_at: datetime
    resets_at: datetime


def _decreases_used(history: ThroughputHistory, now: datetime) -> int:
    """AWS's ``NumberOfDecreasesToday`` re-based on the UTC day of ``now``."""
    last = history.last_decrease
    if last is not None and last.astimezone(UTC).date() < now.astimezone(UTC).date():
        return 0
    return history.decreases_today


def _decrease_allowed(used: int, last: datetime | None, at: datetime, rules: RuleSettings) -> bool:
    if used >= rules.max_decreases_per_day:
        return False
    if used < rules.decreases_any_time_per_day:
        return True
    return last is None or at - last >= rules.decrease_gap


def decrease_budget(
    history: ThroughputHistory, now: datetime, rules: RuleSettings
) -> DecreaseBudget:
    """How many decreases are left before UTC midnight and when the next one is allowed.

    The rule (AWS service quotas): four decreases at any time in a UTC day, then one more
    whenever there was none in the preceding hour, 27 at most.  ``left_today`` counts what a
    user could still do today if they used every chance from ``now`` on.
    """
    midnight = next_utc_midnight(now)
    used = _decreases_used(history, now)
    last = history.last_decrease
    if last is not None and last.astimezone(UTC).date() < now.astimezone(UTC).date():
        last = None  # yesterday's decrease does not gate today's first hour
    allowed_now = _decrease_allowed(used, last, now, rules)
    if allowed_now:
        next_at = now
    elif used >= rules.max_decreases_per_day or last is None:
        next_at = midnight
    else:
        next_at = min(last + rules.decrease_gap, midnight)
    # Count the decreases still possible today by taking every chance greedily.
    left, n, t, last_t = 0, used, now, last
    while t < midnight and n < rules.max_decreases_per_day:
        if _decrease_allowed(n, last_t, t, rules):
            n, left, last_t = n + 1, left + 1, t
            continue
        assert last_t is not None
        t = last_t + rules.decrease_gap
    return DecreaseBudget(
        used_today=used,
        left_today=left,
        allowed_now=allowed_now,
        next_allowed_at=next_at,
        resets_at=midnight,
    )


def after_decrease(history: ThroughputHistory, now: datetime) -> ThroughputHistory:
    """The history AWS will report after a decrease at ``now``."""
    return ThroughputHistory(
        decreases_today=_decreases_used(history, now) + 1,
        last_decrease=now,
        last_increase=history.last_increase,
    )


# --------------------------------------------------------------------------------------------
# DynamoDB capacity updates
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccountCapacity:
    """Provisioned units in use across every table and GSI of the account and region."""

    read_units: int
    write_units: int


def part_label(table: str, index: str | None = None) -> str:
    return f"index {table}/{index}" if index else f"table {table}"


def check_capacity_part(
    label: str,
    status: str,
    current: Throughput | None,
    requested: Throughput,
    history: ThroughputHistory,
    now: datetime,
    rules: RuleSettings,
) -> list[Violation]:
    """The rules for one part (table or GSI) of an ``UpdateTable`` provisioned-throughput change."""
    found: list[Violation] = []
    if status != "ACTIVE":
        found.append(
            Violation(
                Code.RESOURCE_BUSY,
                label,
                f"{label} is {status}: AWS refuses another update until it is ACTIVE "
                "(ResourceInUseException); wait for the current change to finish",
            )
        )
    for unit, value, cap in (
        ("RCU", requested.read, rules.table_max_read_units),
        ("WCU", requested.write, rules.table_max_write_units),
    ):
        if value < rules.min_capacity_units:
            found.append(
                Violation(
                    Code.BELOW_MINIMUM,
                    label,
                    f"{label}: {value} {unit} asked; the minimum is "
                    f"{rules.min_capacity_units} {unit}",
                )
            )
        elif value > cap:
            found.append(
                Violation(
                    Code.ABOVE_RESOURCE_QUOTA,
                    label,
                    f"{label}: {value:,} {unit} asked; the per-table/GSI quota is {cap:,} {unit} "
                    "(raise it with a Service Quotas request, then set the rule)",
                )
            )
    if current is not None and requested == current:
        found.append(
            Violation(
                Code.NO_CHANGE,
                label,
                f"{label}: already at {current}; AWS rejects an update that changes nothing",
            )
        )
    if current is not None and (requested.read < current.read or requested.write < current.write):
        budget = decrease_budget(history, now, rules)
        if not budget.allowed_now:
            if budget.used_today >= rules.max_decreases_per_day:
                why = f"all {rules.max_decreases_per_day} decreases of this UTC day are used"
            else:
                why = (
                    f"{budget.used_today} decreases used today and the last one was less than "
                    f"{_fmt_gap(rules.decrease_gap)} ago"
                )
            found.append(
                Violation(
                    Code.DECREASE_BUDGET,
                    label,
                    f"{label}: decrease from {current} to {requested} refused: {why}; "
                    f"next decrease allowed at {fmt_time(budget.next_allowed_at, now)}",
                    allowed_at=budget.next_allowed_at,
                )
            )
    return found


def _fmt_gap(gap: timedelta) -> str:
    minutes = round(gap.total_seconds() / 60)
    return "an hour" if minutes == 60 else f"{minutes} min"


def check_account_capacity(
    label: str,
    delta: Throughput,
    account: AccountCapacity,
    rules: RuleSettings,
) -> list[Violation]:
    """The account-wide provisioned quotas, given the change in units the request makes."""
    found: list[Violation] = []
    for unit, used, change, cap in (
        ("RCU", account.read_units, delta.read, rules.account_max_read_units),
        ("WCU", account.write_units, delta.write, rules.account_max_write_units),
    ):
        if change > 0 and used + change > cap:
            found.append(
                Violation(
                    Code.ABOVE_ACCOUNT_QUOTA,
                    label,
                    f"{label}: +{change:,} {unit} would bring the account to {used + change:,} "
                    f"{unit}; the account quota is {cap:,} {unit} ({max(0, cap - used):,} left)",
                )
            )
    return found


def whole_request(violations: Sequence[Violation], parts: Sequence[str]) -> list[Violation]:
    """Add the whole-request refusal when a multi-part ``UpdateTable`` has a broken part.

    AWS validates an ``UpdateTable`` as one request: one disallowed part (say a GSI decrease
    over budget) rejects every part, including increases that alone would be fine.
    """
    if not violations or len(parts) < 2:
        return list(violations)
    broken = {v.part for v in violations}
    fine = [p for p in parts if p not in broken]
    if not fine:
        return list(violations)
    return [
        *violations,
        Violation(
            Code.WHOLE_REQUEST,
            "request",
            "AWS rejects an UpdateTable as a whole: because of "
            + ", ".join(sorted(broken))
            + ", the change to "
            + ", ".join(fine)
            + " would not happen either; send it as a separate request",
        ),
    ]


def check_switch_to_on_demand(
    table: Table,
    now: datetime,
    rules: RuleSettings,
    known_switches: Iterable[datetime] = (),
) -> list[Violation]:
    """Provisioned → on-demand is limited per rolling window; the other way is free."""
    label = part_label(table.name)
    if table.billing_mode is BillingMode.PAY_PER_REQUEST:
        return [Violation(Code.NO_CHANGE, label, f"{label} is already on-demand")]
    times = set(known_switches)
    if table.last_switch_to_on_demand is not None:
        times.add(table.last_switch_to_on_demand)
    recent = sorted(t for t in times if now - rules.switch_window < t <= now)
    if len(recent) >= rules.switches_to_on_demand_per_window:
        allowed_at = recent[-rules.switches_to_on_demand_per_window] + rules.switch_window
        return [
            Violation(
                Code.MODE_SWITCH_LIMIT,
                label,
                f"{label}: {len(recent)} switches to on-demand in the last "
                f"{_fmt_window(rules.switch_window)}; {rules.switches_to_on_demand_per_window} "
                f"are allowed; next allowed at {fmt_time(allowed_at, now)}",
                allowed_at=allowed_at,
            )
        ]
    return []


def _fmt_window(window: timedelta) -> str:
    hours = window.total_seconds() / 3600
    return f"{hours:g} h"


# --------------------------------------------------------------------------------------------
# Kinesis
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReshardBudget:
    """``UpdateShardCount`` calls in the rolling window and when the next is allowed."""

    used: int
    left: int
    next_allowed_at: datetime


def reshard_budget(
    history: Iterable[datetime], now: datetime, rules: RuleSettings
) -> ReshardBudget:
    """The rolling-window budget of ``UpdateShardCount`` calls.

    AWS does not report past calls; ``history`` is what capcon knows (its audit log, the
    simulated account), so callers must say so when it may be incomplete.
    """
    recent = sorted(t for t in history if now - rules.reshard_window < t <= now)
    left = max(0, rules.reshards_per_window - len(recent))
    if left:
        next_at = now
    else:
        next_at = recent[len(recent) - rules.reshards_per_window] + rules.reshard_window
    return ReshardBudget(used=len(recent), left=left, next_allowed_at=next_at)


@dataclass(frozen=True, slots=True)
class AccountShards:
    """Open shards across the account and region, and the quota (``DescribeLimits``)."""

    open_shards: int
    shard_quota: int | None = None


def shard_count_bounds(open_shards: int, rules: RuleSettings) -> tuple[int, int]:
    """The smallest and largest target ``UpdateShardCount`` accepts from ``open_shards``."""
    low = max(1, math.ceil(open_shards * rules.shard_scale_down_factor))
    high = min(rules.max_shards_per_stream, math.floor(open_shards * rules.shard_scale_up_factor))
    return low, high


def check_shard_count(
    stream: Stream,
    target: int,
    now: datetime,
    rules: RuleSettings,
    history: Iterable[datetime] = (),
    account: AccountShards | None = None,
    peak_open: int | None = None,
) -> list[Violation]:
    """The rules of ``UpdateShardCount`` for ``stream`` → ``target`` open shards.

    ``peak_open`` is the most shards open at once while resharding (short-lived shards
    count against the account quota); without it the target is used.
    """
    label = f"stream {stream.name}"
    found: list[Violation] = []
    current = stream.open_shard_count
    if stream.mode is StreamMode.ON_DEMAND:
        found.append(
            Violation(
                Code.NOT_PROVISIONED,
                label,
                f"{label} is on-demand: UpdateShardCount works on provisioned streams only "
                "(switch the stream to provisioned first)",
            )
        )
    if stream.status != "ACTIVE":
        found.append(
            Violation(
                Code.RESOURCE_BUSY,
                label,
                f"{label} is {stream.status}: AWS refuses resharding until it is ACTIVE "
                "(ResourceInUseException)",
            )
        )
    if target < 1:
        found.append(
            Violation(Code.BELOW_MINIMUM, label, f"{label}: {target} shards asked; minimum 1")
        )
    if target == current:
        found.append(Violation(Code.NO_CHANGE, label, f"{label} already has {current} open shards"))
    low, high = shard_count_bounds(current, rules)
    if 1 <= target < low:
        found.append(
            Violation(
                Code.SHARD_FACTOR,
                label,
                f"{label}: {target} shards asked; UpdateShardCount can go at most down to half "
                f"of the {current} open shards: {low}…{high} allowed (reach {target} in "
                "several steps, or merge shards)",
            )
        )
    if target > current * rules.shard_scale_up_factor:
        found.append(
            Violation(
                Code.SHARD_FACTOR,
                label,
                f"{label}: {target} shards asked; UpdateShardCount can at most double the "
                f"{current} open shards: {low}…{high} allowed (reach {target} in several steps)",
            )
        )
    if target > rules.max_shards_per_stream:
        found.append(
            Violation(
                Code.STREAM_SHARD_MAX,
                label,
                f"{label}: {target:,} shards asked; a stream can have at most "
                f"{rules.max_shards_per_stream:,}",
            )
        )
    budget = reshard_budget(history, now, rules)
    if budget.left == 0:
        found.append(
            Violation(
                Code.RESHARD_LIMIT,
                label,
                f"{label}: {budget.used} UpdateShardCount calls in the last "
                f"{_fmt_window(rules.reshard_window)}; {rules.reshards_per_window} are allowed; "
                f"next allowed at {fmt_time(budget.next_allowed_at, now)}",
                allowed_at=budget.next_allowed_at,
            )
        )
    if account is not None:
        quota = (
            account.shard_quota if account.shard_quota is not None else rules.account_shard_quota
        )
        peak = max(peak_open if peak_open is not None else target, target)
        in_use = account.open_shards - current + peak
        if peak > current and in_use > quota:
            found.append(
                Violation(
                    Code.ACCOUNT_SHARD_QUOTA,
                    label,
                    f"{label}: resharding needs up to {peak} open shards at once (short-lived "
                    f"shards count), bringing the account to {in_use:,}; the account shard "
                    f"quota is {quota:,} ({max(0, quota - account.open_shards):,} left)",
                )
            )
    return found


def check_stream_mode_switch(
    stream: Stream,
    target: StreamMode,
    now: datetime,
    rules: RuleSettings,
    known_switches: Iterable[datetime] = (),
) -> list[Violation]:
    """``UpdateStreamMode``: an ACTIVE stream, a real change, and at most two per 24 h.

    AWS does not report past switches; ``known_switches`` is what capcon has seen.
    """
    label = f"stream {stream.name}"
    if stream.mode is target:
        return [Violation(Code.NO_CHANGE, label, f"{label} is already {target.label}")]
    found: list[Violation] = []
    if stream.status != "ACTIVE":
        found.append(
            Violation(Code.RESOURCE_BUSY, label, f"{label} is {stream.status}: wait for ACTIVE")
        )
    recent = sorted(t for t in known_switches if now - rules.switch_window < t <= now)
    if len(recent) >= rules.stream_mode_switches_per_window:
        allowed_at = recent[-rules.stream_mode_switches_per_window] + rules.switch_window
        found.append(
            Violation(
                Code.MODE_SWITCH_LIMIT,
                label,
                f"{label}: {len(recent)} capacity-mode switches in the last "
                f"{_fmt_window(rules.switch_window)}; {rules.stream_mode_switches_per_window} "
                f"are allowed; next allowed at {fmt_time(allowed_at, now)}",
                allowed_at=allowed_at,
            )
        )
    return found
