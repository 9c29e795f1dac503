"""Kinesis's resharding rules: UpdateShardCount's bounds, its rolling budget, the account
shard quota, mode switches."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from capcon.core.model import Stream, StreamMode
from capcon.core.rules.settings import RuleSettings
from capcon.core.rules.timefmt import fmt_duration, fmt_time
from capcon.core.rules.violations import Code, Violation

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
    """Open shards across the account and region, and the quota (``DescribeLimits``).

    ``shard_quota`` ``None``: not reported, so the rule settings' quota, or AWS's default for
    ``region`` (:func:`shard_quota`), is used.  ``complete`` false: only some of the account's
    shards are known (a stream read from a file), so a quota check is a lower bound."""

    open_shards: int
    shard_quota: int | None = None
    region: str | None = None
    complete: bool = True
    on_demand_streams: int | None = None
    on_demand_streams_quota: int | None = None


#: AWS's default account shard quota (provisioned streams) by region: 20,000 in US East
#: (N. Virginia), US West (Oregon) and Europe (Ireland); "1,000 or 6,000" in every other
#: region, the page not saying which region has which, so capcon takes the lower figure
#: (docs/aws-rules.md#account-shard-quota; Kinesis developer guide, "Quotas and limits",
#: read 2026-12-02).
DEFAULT_SHARD_QUOTAS: dict[str, int] = {
    "us-east-1": 20_000,
    "us-west-2": 20_000,
    "eu-west-1": 20_000,
}
#: The default shard quota in any other region: the lower of AWS's "1,000 or 6,000".
OTHER_REGIONS_SHARD_QUOTA = 1_000


def shard_quota(
    rules: RuleSettings, region: str | None, reported: int | None = None
) -> tuple[int, str]:
    """The account shard quota to check against, and where it comes from: the account's own
    (``DescribeLimits``' ``ShardLimit``), else ``account_shard_quota`` when a rules file sets
    it, else AWS's default for ``region`` (unknown region: the lower default)."""
    if reported is not None:
        return reported, "the account's quota (DescribeLimits)"
    if rules.account_shard_quota:
        return rules.account_shard_quota, "account_shard_quota in your rule settings"
    if region in DEFAULT_SHARD_QUOTAS:
        return DEFAULT_SHARD_QUOTAS[region], f"AWS's default quota in {region}"
    where = region or "an unknown region"
    return (
        OTHER_REGIONS_SHARD_QUOTA,
        f"AWS's default quota in {where} is 1,000 or 6,000 (AWS does not say which): the lower "
        "is assumed; set account_shard_quota in a rules file if yours differs",
    )


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
                f"{fmt_duration(rules.reshard_window)}; {rules.reshards_per_window} are allowed; "
                f"next allowed at {fmt_time(budget.next_allowed_at, now)}",
                allowed_at=budget.next_allowed_at,
            )
        )
    if account is not None:
        quota, source = shard_quota(rules, account.region, account.shard_quota)
        peak = max(peak_open if peak_open is not None else target, target)
        in_use = account.open_shards - current + peak
        if peak > current and in_use > quota:
            others = "" if account.complete else " (other streams' shards not counted)"
            found.append(
                Violation(
                    Code.ACCOUNT_SHARD_QUOTA,
                    label,
                    f"{label}: resharding needs up to {peak} open shards at once (short-lived "
                    f"shards count), bringing the account to {in_use:,}{others}; the account "
                    f"shard quota is {quota:,} ({max(0, quota - account.open_shards):,} left; "
                    f"{source})",
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
                f"{fmt_duration(rules.switch_window)}; {rules.stream_mode_switches_per_window} "
                f"are allowed; next allowed at {fmt_time(allowed_at, now)}",
                allowed_at=allowed_at,
            )
        )
    return found
