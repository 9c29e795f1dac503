"""Application Auto Scaling as a planned change: see it, catch its traps, change it safely.

Field note A (docs/field-notes.md#the-no-policy-trap) is how most teams meet DynamoDB auto
scaling: they register a scalable target,
the console says "auto scaling", and nothing ever scales because no target-tracking policy
exists; or a manual ``UpdateTable`` is undone minutes later by an alarm.  This module finds
those traps (:func:`find_traps`) and turns an edit of min, max and target (or setting auto
scaling up, or switching it off) into a previewable plan (:func:`plan_autoscaling`) that the
core scaler applies with the same stale check and audit trail as a capacity change.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from capcon.core.model import Table, Throughput
from capcon.core.planning.partitions import (
    PartitionEstimate,
    after_capacity_change,
    estimate_partitions,
)
from capcon.core.planning.planner import Refusal, Usage, Warning_, fingerprint
from capcon.core.planning.requests import (
    AutoScalingChange,
    dimension_word,
    scalable_dimension,
)
from capcon.core.planning.schedules import parse_action_name
from capcon.core.ports import (
    READ_UTILIZATION,
    WRITE_UTILIZATION,
    ScalableTarget,
    ScalingPolicy,
    ScheduledAction,
)
from capcon.core.pricing import PriceBook, provisioned_table_cost
from capcon.core.pricing import assumptions as price_assumptions
from capcon.core.rules import (
    TARGET_RANGE,
    Code,
    RuleSettings,
    Violation,
    decrease_budget,
    fmt_time,
)


def find_traps(
    table: Table | None,
    index: str | None,
    targets: tuple[ScalableTarget, ...],
    policies: tuple[ScalingPolicy, ...],
    scheduled: tuple[ScheduledAction, ...] = (),
) -> list[str]:
    """Every trap of auto scaling on one table or GSI, in words (``table`` None: deleted).

    ``scheduled``: the scheduled actions on this table or GSI.  A target with scheduled
    actions and no target-tracking policy is *scheduled-only* (capacity moves at the
    actions' times, e.g. a planned event's raise and restore), not the "registered but no
    policy" trap: :func:`scheduled_only` says so in words."""
    found: list[str] = []
    if not targets and not policies:
        return found
    label = f"{table.name if table else '?'}{'/' + index if index else ''}"
    if table is None:
        return [
            "scalable targets or policies are left on a table that no longer exists: "
            "deregister them"
        ]
    covered = {p.dimension for p in policies if p.policy_type == "TargetTrackingScaling"}
    registered = {t.dimension for t in targets}
    planned = {a.dimension for a in scheduled}
    for target in targets:
        word = dimension_word(target.dimension)
        if target.dimension not in covered and target.dimension not in planned:
            found.append(f"{word}s: scalable target registered but no policy — nothing scales")
        if target.suspended:
            found.append(f"{word}s: scaling is suspended on this target")
    for policy in policies:
        word = dimension_word(policy.dimension)
        if policy.policy_type != "TargetTrackingScaling":
            found.append(
                f"{word}s: policy {policy.name} is {policy.policy_type}; DynamoDB supports only "
                "target tracking, so it never acts"
            )
        elif not TARGET_RANGE[0] <= policy.target_value <= TARGET_RANGE[1]:
            found.append(
                f"{word}s: target {policy.target_value:g}% is outside the"
                f" {TARGET_RANGE[0]:g}–{TARGET_RANGE[1]:g}% DynamoDB allows"
            )
        if policy.dimension not in registered:
            found.append(f"{word}s: policy {policy.name} has no registered scalable target")
    both = {scalable_dimension(index, "read"), scalable_dimension(index, "write")}
    if len(covered & both) == 1 and not (both - covered) <= planned:
        only = dimension_word(next(iter(covered)))
        other = "writes" if only == "read" else "reads"
        found.append(f"auto scaling covers only {only}s: {other} stay fixed")
    if table.is_on_demand:
        found.append(
            f"{label} is on-demand: auto scaling does nothing until it is provisioned again"
        )
    else:
        current = _capacity(table, index)
        if current is not None:
            for target in targets:
                value = (
                    current.read if dimension_word(target.dimension) == "read" else current.write
                )
                word = dimension_word(target.dimension)
                if value < target.min_capacity:
                    found.append(
                        f"{word}s: capacity {value:,} is below min {target.min_capacity:,}: "
                        "registering moves it up"
                    )
                elif value > target.max_capacity:
                    found.append(
                        f"{word}s: capacity {value:,} is above max {target.max_capacity:,}: "
                        "registering moves it down"
                    )
    return found


def _capacity(table: Table, index: str | None) -> Throughput | None:
    return table.index(index).provisioned if index else table.provisioned


def scheduled_only(
    targets: tuple[ScalableTarget, ...],
    policies: tuple[ScalingPolicy, ...],
    scheduled: tuple[ScheduledAction, ...],
) -> list[str]:
    """Each *scheduled-only* target (scheduled actions, no target-tracking policy) in words:
    ``writes: scheduled-only (event 1a2b3c4d)`` for capcon's planned events (their ids, in
    order), ``reads: scheduled-only (2 scheduled actions)`` for any other."""
    covered = {p.dimension for p in policies if p.policy_type == "TargetTrackingScaling"}
    found: list[str] = []
    for target in targets:
        if target.dimension in covered:
            continue
        mine = [a for a in scheduled if a.dimension == target.dimension]
        if not mine:
            continue
        events: list[str] = []
        others = 0
        for action in mine:
            parsed = parse_action_name(action.name)
            if parsed is None:
                others += 1
            elif parsed[0] not in events:
                events.append(parsed[0])
        what = [f"event {', '.join(events)}"] if events else []
        if others:
            what.append(f"{others} scheduled action{'s' if others > 1 else ''}")
        found.append(f"{dimension_word(target.dimension)}s: scheduled-only ({'; '.join(what)})")
    return found


@dataclass(frozen=True, slots=True)
class AutoScalingPlan:
    """What an auto-scaling change will do, for a preview; the scaler applies it."""

    JSON_PROPERTIES: ClassVar[tuple[str, ...]] = ("kind",)

    resource: str
    summary: str
    made_at: datetime
    fingerprint: str
    change: AutoScalingChange
    policy_name: str
    current: int | None
    capacity_after_registration: int | None
    capacity_at_current_traffic: int | None
    usage: float | None
    cost_at_min: float
    cost_at_max: float
    cost_now: float | None
    partitions_now: PartitionEstimate
    partitions_at_max: PartitionEstimate
    target_before: ScalableTarget | None
    policy_before: ScalingPolicy | None
    warnings: tuple[Warning_, ...]
    #: The price book's date and source, as with every plan that shows money.
    assumptions: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return "autoscaling"


def state_fingerprint(
    table: Table, targets: tuple[ScalableTarget, ...], policies: tuple[ScalingPolicy, ...]
) -> str:
    """The table's fingerprint and its auto-scaling state: the scaler refuses if it moved."""
    parts = (fingerprint(table), sorted(map(repr, targets)), sorted(map(repr, policies)))
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def plan_autoscaling(
    table: Table,
    change: AutoScalingChange,
    targets: tuple[ScalableTarget, ...],
    policies: tuple[ScalingPolicy, ...],
    now: datetime,
    *,
    rules: RuleSettings,
    prices: PriceBook,
    usage: Usage | None = None,
) -> AutoScalingPlan | Refusal:
    """Preview an auto-scaling change, or refuse it with every reason (pure)."""
    label = change.label
    summary = (
        f"{label}: auto scaling {change.min_capacity:,}–{change.max_capacity:,} at "
        f"{change.target:g}%"
        if change.enabled
        else f"{label}: switch auto scaling off"
    )
    found: list[Violation] = []
    if change.index is not None and change.index not in {i.name for i in table.indexes}:
        have = ", ".join(i.name for i in table.indexes) or "none"
        found.append(
            Violation(
                Code.UNKNOWN_INDEX,
                label,
                f"table {table.name} has no index {change.index!r} ({have})",
            )
        )
        return Refusal(table.name, "table", summary, now, tuple(found))
    mine_t = tuple(t for t in targets if t.dimension == change.scalable_dimension)
    mine_p = tuple(p for p in policies if p.dimension == change.scalable_dimension)
    target_before = mine_t[0] if mine_t else None
    policy_before = mine_p[0] if mine_p else None
    if change.enabled:
        quota = (
            rules.table_max_read_units
            if change.dimension == "read"
            else rules.table_max_write_units
        )
        if change.min_capacity < rules.min_capacity_units:
            found.append(
                Violation(
                    Code.BELOW_MINIMUM, label, f"{label}: min {change.min_capacity} is below 1"
                )
            )
        if change.max_capacity < change.min_capacity:
            found.append(
                Violation(
                    Code.BELOW_MINIMUM,
                    label,
                    f"{label}: max {change.max_capacity:,} is below min {change.min_capacity:,}",
                )
            )
        if change.max_capacity > quota:
            found.append(
                Violation(
                    Code.ABOVE_RESOURCE_QUOTA,
                    label,
                    f"{label}: max {change.max_capacity:,} is above the per-table/GSI quota "
                    f"of {quota:,}",
                )
            )
        if not TARGET_RANGE[0] <= change.target <= TARGET_RANGE[1]:
            found.append(
                Violation(
                    Code.NO_CHANGE,
                    label,
                    f"{label}: target {change.target:g}% — DynamoDB target tracking allows"
                    f" {TARGET_RANGE[0]:g}–{TARGET_RANGE[1]:g}%",
                )
            )
        if table.is_on_demand:
            found.append(
                Violation(
                    Code.NOT_PROVISIONED,
                    label,
                    f"{table.name} is on-demand: auto scaling needs provisioned capacity "
                    "(switch the table to provisioned first)",
                )
            )
        if (
            target_before is not None
            and policy_before is not None
            and target_before.min_capacity == change.min_capacity
            and target_before.max_capacity == change.max_capacity
            and policy_before.target_value == change.target
            and policy_before.disable_scale_in == (not change.scale_in)
        ):
            found.append(Violation(Code.NO_CHANGE, label, f"{label}: already set like this"))
    elif target_before is None and policy_before is None:
        found.append(Violation(Code.NO_CHANGE, label, f"{label}: auto scaling is not set up"))
    if found:
        return Refusal(table.name, "table", summary, now, tuple(found))

    capacity = _capacity(table, change.index)
    current = None
    if capacity is not None:
        current = capacity.read if change.dimension == "read" else capacity.write
    size = table.index(change.index).size_bytes if change.index else table.size_bytes
    warm = table.index(change.index).warm if change.index else table.warm
    partitions_now = estimate_partitions(capacity, size, rules, warm=warm)

    def with_value(value: int) -> Throughput:
        base = capacity or Throughput(1, 1)
        return (
            Throughput(value, base.write)
            if change.dimension == "read"
            else Throughput(base.read, value)
        )

    after_registration = None
    at_traffic = None
    used = None
    if usage is not None:
        used = usage.read if change.dimension == "read" else usage.write
    warnings: list[Warning_] = []
    if change.enabled and current is not None:
        after_registration = min(max(current, change.min_capacity), change.max_capacity)
        if used is not None:
            wanted = math.ceil(used / (change.target / 100)) if used > 0 else change.min_capacity
            at_traffic = min(max(wanted, change.min_capacity), change.max_capacity)
        if after_registration < current:
            history = table.index(change.index).history if change.index else table.history
            budget = decrease_budget(history, now, rules)
            message = (
                f"{label}: max {change.max_capacity:,} is below the current {current:,}: "
                f"registering lowers capacity now (a decrease: {budget.left_today} left today)"
            )
            if not budget.allowed_now:
                message += (
                    "; the decrease budget is spent, so auto scaling will fail to apply it "
                    f"until {fmt_time(budget.next_allowed_at, now)}"
                )
            warnings.append(Warning_("registration-decrease", message))
        elif after_registration > current:
            warnings.append(
                Warning_(
                    "registration-increase",
                    f"{label}: min {change.min_capacity:,} is above the current {current:,}: "
                    "registering raises capacity now",
                )
            )
        if used is not None and used > change.max_capacity * change.target / 100:
            warnings.append(
                Warning_(
                    "max-too-low",
                    f"{label}: current traffic ({used:,.0f}/s) needs more than max at "
                    f"{change.target:g}% — auto scaling will stop at {change.max_capacity:,} "
                    "and requests will throttle",
                )
            )
        if change.target > 70:
            warnings.append(
                Warning_(
                    "high-target",
                    f"{label}: a target above 70% leaves little headroom while auto scaling "
                    "reacts (field note B)",
                )
            )
        if not change.scale_in:
            warnings.append(
                Warning_("no-scale-in", f"{label}: scale-in disabled: capacity only grows")
            )
    at_max = after_capacity_change(partitions_now, with_value(change.max_capacity), size, rules)
    if change.enabled and at_max.count > partitions_now.count:
        warnings.append(
            Warning_(
                "partitions-at-max",
                f"{label}: reaching max {change.max_capacity:,} would raise estimated partitions "
                f"{partitions_now.count} → {at_max.count}, permanently; later, at today's "
                "capacity, each partition gets less",
            )
        )
    if not change.enabled:
        warnings.append(
            Warning_(
                "aas-off",
                f"{label}: capacity stays at {current if current is not None else '?'} and no "
                "longer follows traffic",
            )
        )
    policy_name = (
        policy_before.name
        if policy_before is not None
        else f"capcon-{table.name}{'-' + change.index if change.index else ''}-{change.dimension}"
    )
    return AutoScalingPlan(
        resource=table.name,
        summary=summary,
        made_at=now,
        fingerprint=state_fingerprint(table, targets, policies),
        change=change,
        policy_name=policy_name,
        current=current,
        capacity_after_registration=after_registration,
        capacity_at_current_traffic=at_traffic,
        usage=used,
        cost_at_min=provisioned_table_cost(
            with_value(change.min_capacity), prices, table_class=table.table_class
        ).per_hour,
        cost_at_max=provisioned_table_cost(
            with_value(change.max_capacity), prices, table_class=table.table_class
        ).per_hour,
        cost_now=(
            provisioned_table_cost(capacity, prices, table_class=table.table_class).per_hour
            if capacity
            else None
        ),
        partitions_now=partitions_now,
        partitions_at_max=at_max,
        target_before=target_before,
        policy_before=policy_before,
        warnings=tuple(warnings),
        assumptions=tuple(a for a in price_assumptions(prices) if "closed shards" not in a),
    )


def policy_for(plan: AutoScalingPlan) -> ScalingPolicy:
    change = plan.change
    return ScalingPolicy(
        name=plan.policy_name,
        resource_id=change.resource_id,
        dimension=change.scalable_dimension,
        target_value=change.target,
        predefined_metric=READ_UTILIZATION if change.dimension == "read" else WRITE_UTILIZATION,
        scale_out_cooldown=plan.policy_before.scale_out_cooldown if plan.policy_before else 0,
        scale_in_cooldown=plan.policy_before.scale_in_cooldown if plan.policy_before else 0,
        disable_scale_in=not change.scale_in,
    )


def target_for(plan: AutoScalingPlan) -> ScalableTarget:
    change = plan.change
    return ScalableTarget(
        change.resource_id, change.scalable_dimension, change.min_capacity, change.max_capacity
    )
