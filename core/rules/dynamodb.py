"""DynamoDB's capacity rules: the decrease budget, per-part and account quotas, mode switches."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from capcon.core.model import (
    BillingMode,
    Index,
    Table,
    TableClass,
    Throughput,
    ThroughputHistory,
    WarmThroughput,
)
from capcon.core.rules.settings import RuleSettings
from capcon.core.rules.timefmt import fmt_duration, fmt_time, next_utc_midnight
from capcon.core.rules.violations import Code, Violation, part_label

#: The target value (percent utilisation) Application Auto Scaling's target tracking accepts
#: for a DynamoDB table or GSI: 20 % to 90 %, as AWS documents for DynamoDB auto scaling.
TARGET_RANGE: tuple[float, float] = (20.0, 90.0)

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


def check_capacity_part(
    label: str,
    status: str,
    current: Throughput | None,
    requested: Throughput,
    history: ThroughputHistory,
    now: datetime,
    rules: RuleSettings,
    *,
    backfilling: bool = False,
) -> list[Violation]:
    """The rules for one part (table or GSI) of an ``UpdateTable`` provisioned-throughput change.

    ``backfilling``: the part is a GSI ``CREATING`` whose backfill has begun, whose capacity
    AWS accepts updates of (docs/aws-rules.md#gsi-states)."""
    found: list[Violation] = []
    busy = busy_message(label, status, backfilling)
    if busy is not None:
        found.append(Violation(Code.RESOURCE_BUSY, label, busy))
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
                    f"{fmt_duration(rules.decrease_gap)} ago"
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
                f"{fmt_duration(rules.switch_window)}; {rules.switches_to_on_demand_per_window} "
                f"are allowed; next allowed at {fmt_time(allowed_at, now)}",
                allowed_at=allowed_at,
            )
        ]
    return []


# --------------------------------------------------------------------------------------------
# GSI states, pre-warming and on-demand maximums
# --------------------------------------------------------------------------------------------

CREATING = "CREATING"

#: Table states that no wait ends (botocore ``TableStatus``; TableDescription's documentation).
STUCK = {
    "INACCESSIBLE_ENCRYPTION_CREDENTIALS": "its KMS key is inaccessible (restore access to the "
    "key; after seven days DynamoDB archives the table)",
    "ARCHIVING": "it is being archived (its KMS key stayed inaccessible)",
    "ARCHIVED": "it is archived (see ArchivalSummary; restore it from its backup)",
    "REPLICATION_NOT_AUTHORIZED": "this region's replica is not authorized to replicate",
}


def busy_message(label: str, status: str, backfilling: bool = False) -> str | None:
    """Why AWS refuses an update of a table or GSI in ``status`` (``None``: it accepts one).

    A GSI ``CREATING`` with ``Backfilling: true`` accepts capacity updates: UpdateTable's API
    reference says that once the index begins backfilling, other operations may be sent
    (docs/aws-rules.md#gsi-states).  Every other state but ``ACTIVE`` is explained."""
    if status == "ACTIVE":
        return None
    if status == CREATING and backfilling:
        return None
    if status == CREATING:
        return (
            f"{label} is CREATING and has not begun backfilling: AWS accepts its capacity "
            "updates once backfilling has begun (Backfilling: true in DescribeTable); "
            "wait and preview again (ResourceInUseException)"
        )
    if status == "DELETING":
        return f"{label} is DELETING: it is being removed and takes no further updates"
    if status in STUCK:
        return f"{label} is {status}: {STUCK[status]}; AWS refuses updates until it is ACTIVE"
    return (
        f"{label} is {status}: AWS refuses another update until it is ACTIVE "
        "(ResourceInUseException); wait for the current change to finish"
    )


def index_busy_message(label: str, table: Table, index: Index) -> str | None:
    """:func:`busy_message` for a GSI: the table's own state first, then the index's."""
    if table.status != "ACTIVE":
        return busy_message(part_label(table.name), table.status)
    return busy_message(label, index.status, index.backfilling)


def check_warm_part(
    label: str,
    current: WarmThroughput | None,
    requested: WarmThroughput,
    rules: RuleSettings,
) -> list[Violation]:
    """Pre-warming one table or GSI: warm throughput never decreases, and it is raised up to
    the per-table/GSI quota at most (docs/aws-rules.md#pre-warming)."""
    found: list[Violation] = []
    pairs = (
        ("read", requested.read_units_per_second, rules.table_max_read_units,
         current.read_units_per_second if current else None),
        ("write", requested.write_units_per_second, rules.table_max_write_units,
         current.write_units_per_second if current else None),
    )  # fmt: skip
    for word, value, cap, now_value in pairs:
        if value < rules.min_capacity_units:
            found.append(
                Violation(
                    Code.BELOW_MINIMUM,
                    label,
                    f"{label}: warm throughput of {value:,} {word} units/s asked; the minimum "
                    f"is {rules.min_capacity_units}",
                )
            )
        elif now_value is not None and value < now_value:
            found.append(
                Violation(
                    Code.WARM_DECREASE,
                    label,
                    f"{label}: warm throughput can never decrease: {value:,} {word} units/s "
                    f"asked, it is {now_value:,} now; ask for {now_value:,} or more",
                )
            )
        elif value > cap:
            found.append(
                Violation(
                    Code.ABOVE_RESOURCE_QUOTA,
                    label,
                    f"{label}: warm throughput of {value:,} {word} units/s asked; a table or "
                    f"GSI is pre-warmed up to its quota, {cap:,} (raise it with a Service "
                    "Quotas request, then set the rule)",
                )
            )
    if (
        not found
        and current is not None
        and requested.read_units_per_second == current.read_units_per_second
        and requested.write_units_per_second == current.write_units_per_second
    ):
        found.append(
            Violation(
                Code.NO_CHANGE,
                label,
                f"{label}: warm throughput is already {current.read_units_per_second:,} read / "
                f"{current.write_units_per_second:,} write units/s",
            )
        )
    return found


def check_on_demand_max_part(
    label: str,
    current: Throughput | None,
    requested: Throughput,
    on_demand_after: bool,
) -> list[Violation]:
    """``OnDemandThroughput`` of one table or GSI: on-demand tables only; each dimension is a
    maximum of 1 or more request units a second, or 0 for none (sent as AWS's -1)."""
    found: list[Violation] = []
    if not on_demand_after:
        found.append(
            Violation(
                Code.NOT_ON_DEMAND,
                label,
                f"{label} is provisioned: a maximum of on-demand request units applies to "
                "on-demand tables (switch with --mode on-demand in the same request)",
            )
        )
    for word, value in (("read", requested.read), ("write", requested.write)):
        if value < 0:
            found.append(
                Violation(
                    Code.BELOW_MINIMUM,
                    label,
                    f"{label}: {value} {word} request units asked; give 1 or more, or none",
                )
            )
    if not found and (current or Throughput(0, 0)) == requested:
        found.append(
            Violation(
                Code.NO_CHANGE,
                label,
                f"{label}: the on-demand maximum is already {fmt_on_demand_max(requested)}",
            )
        )
    return found


def fmt_on_demand_max(limit: Throughput | None) -> str:
    """An on-demand maximum in words (0 or ``None``: no maximum)."""
    if limit is None:
        return "none"

    def one(value: int, unit: str) -> str:
        return f"{value:,} {unit}/s" if value else f"no {unit} maximum"

    return f"{one(limit.read, 'read units')}, {one(limit.write, 'write units')}"


def near_on_demand_max(
    label: str,
    read: float | None,
    write: float | None,
    limit: Throughput | None,
    rules: RuleSettings,
) -> list[str]:
    """Messages for each dimension whose consumed request units a second (``read``,
    ``write``; ``None``: unknown) reach ``on_demand_max_warn_share`` of the on-demand maximum
    ``limit``: requests above a maximum are throttled (docs/aws-rules.md#on-demand-maximums)."""
    if limit is None:
        return []
    found: list[str] = []
    share = rules.on_demand_max_warn_share
    for word, used, cap in (("read", read, limit.read), ("write", write, limit.write)):
        if used is None or cap <= 0 or used < share * cap:
            continue
        found.append(
            f"{label}: consumed {used:,.0f} {word} request units/s is {used / cap:.0%} of its "
            f"on-demand maximum of {cap:,}/s: requests above the maximum are throttled"
        )
    return found


# Table classes and global-table replicas (docs/aws-rules.md#global-tables-and-table-classes)
# --------------------------------------------------------------------------------------------

#: Replica states in which a replica is changing: AWS answers another ``UpdateTable`` of the
#: global table with ``ResourceInUseException`` until it is ACTIVE (capcon's reading of the
#: UpdateTable rule "while it's UPDATING, you can't issue another UpdateTable request").
REPLICA_BUSY_STATES = frozenset({"CREATING", "UPDATING", "DELETING", "ARCHIVING"})


def check_replicas_ready(table: Table) -> list[Violation]:
    """A change to a global table while one of its replicas is being created, updated or
    deleted is refused, as a change while the table itself is ``UPDATING`` is."""
    label = part_label(table.name)
    busy = [r for r in table.replicas if r.status in REPLICA_BUSY_STATES]
    if not busy:
        return []
    regions = ", ".join(f"{r.region} ({r.status})" for r in busy)
    return [
        Violation(
            Code.RESOURCE_BUSY,
            label,
            f"{label} is a global table whose replica in {regions} is changing: AWS refuses "
            "another UpdateTable until every replica is ACTIVE (ResourceInUseException); wait "
            "and preview again",
        )
    ]


#: An audit-log time this close to AWS's ``LastUpdateDateTime`` is the same class update.
SAME_UPDATE = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class ClassSwitchBudget:
    """Table class updates known in the trailing window, and when the next is allowed."""

    used: int
    left: int
    next_allowed_at: datetime


def class_switch_budget(
    table: Table, now: datetime, rules: RuleSettings, known: Iterable[datetime] = ()
) -> ClassSwitchBudget:
    """What capcon knows of ``table``'s class updates in the trailing ``table_class_window``:
    AWS reports only the last one (``TableClassSummary.LastUpdateDateTime``); ``known`` adds
    the ones capcon's audit log recorded."""
    reported = table.table_class_updated
    # capcon's audit time of an update and AWS's LastUpdateDateTime of the same update differ
    # by the time it took: one within SAME_UPDATE of AWS's is that update, not another
    times = {t for t in known if reported is None or abs(t - reported) > SAME_UPDATE}
    if reported is not None:
        times.add(reported)
    recent = sorted(t for t in times if now - rules.table_class_window < t <= now)
    limit = rules.table_class_updates_per_window
    next_at = recent[-limit] + rules.table_class_window if len(recent) >= limit else now
    return ClassSwitchBudget(len(recent), max(0, limit - len(recent)), next_at)


def check_table_class_switch(
    table: Table,
    target: TableClass,
    now: datetime,
    rules: RuleSettings,
    known: Iterable[datetime] = (),
) -> list[Violation]:
    """``UpdateTable TableClass``: a change of class, on an ACTIVE table whose replicas are
    ready, within AWS's limit of class updates per trailing window."""
    label = part_label(table.name)
    if target is table.table_class:
        return [Violation(Code.NO_CHANGE, label, f"{label} is already {target.label}")]
    found: list[Violation] = []
    if table.status != "ACTIVE":
        found.append(
            Violation(Code.RESOURCE_BUSY, label, f"{label} is {table.status}: wait for ACTIVE")
        )
    found += check_replicas_ready(table)
    budget = class_switch_budget(table, now, rules, known)
    if budget.left == 0:
        found.append(
            Violation(
                Code.CLASS_SWITCH_LIMIT,
                label,
                f"{label}: {budget.used} table class updates in the trailing "
                f"{fmt_duration(rules.table_class_window)}; AWS allows "
                f"{rules.table_class_updates_per_window}; next allowed at "
                f"{fmt_time(budget.next_allowed_at, now)}",
                allowed_at=budget.next_allowed_at,
            )
        )
    return found
