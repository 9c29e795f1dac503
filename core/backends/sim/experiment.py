"""Field note B's experiment as code: one traffic shape, one target, one policy, one table
(docs/field-notes.md#b-auto-scaling-too-slow).

:func:`run_experiment` builds a fresh simulated account with one table at 50 WCU (reads
steady and tiny), registers a scalable target on its writes (5 … 40,000 WCU) with a
target-tracking policy at ``target`` %, lets the simulated AAS run ``policy`` for ``hours``
at 1-second resolution, and measures what the game studio measured — success rate (consumed
/ requested) and throttled units — plus what the capacity cost: provisioned WCU integrated
over time, its price, the scaling actions, the decreases used and the partitions left behind.

:func:`run_grid` runs the whole grid of field note B (docs/field-notes.md#the-grid: bell and
top heavy × targets 30 … 80 %) for every table policy, in a fixed order: the same inputs give
the same results.

The ``oracle`` policy is handed the traffic pattern through the account's ``policy_setup``
hook; no other policy sees the future.  :func:`experiment_account` builds the experiment's
account without running it (to run several side by side, as the trainer lab does).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache

from capcon.core.backends.sim.account import SimAccount, TableSpec
from capcon.core.backends.sim.tables import Pending
from capcon.core.backends.sim.traffic import (
    Clamped,
    Pattern,
    RandomWalk,
    Scaled,
    Shifted,
    Steady,
    Sum,
    TrafficError,
    parse_pattern,
)
from capcon.core.config.prices import load_price_book
from capcon.core.model import Throughput
from capcon.core.policies import POLICIES, STREAM_POLICIES, TABLE_POLICIES, Oracle, Policy
from capcon.core.ports import (
    TABLE_WRITE,
    WRITE_UTILIZATION,
    MetricQuery,
    ScalableTarget,
    ScalingPolicy,
)
from capcon.core.pricing import PriceBook
from capcon.core.rules import TARGET_RANGE

#: The experiment's start: a Monday morning, UTC, far from midnight (decreases reset there).
START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
TABLE = "experiment"
RESOURCE = f"table/{TABLE}"
MIN_WCU = 5
MAX_WCU = 40_000
READ_CAPACITY = 5
#: Field note B's grid (docs/field-notes.md#the-grid).
GRID_PATTERNS: tuple[str, ...] = ("bell", "top-heavy")
GRID_TARGETS: tuple[float, ...] = (30, 40, 50, 60, 70, 80)
#: How long one experiment runs: the grid's cells and the lab's stop (simulated hours).
EXPERIMENT_HOURS = 3.0

Progress = Callable[[int, int, "ExperimentResult"], None]


@dataclass(frozen=True, slots=True)
class ExperimentResult:
    """What one run measured.  ``success_rate`` is consumed / requested (0–1)."""

    policy: str
    pattern: str
    target: float
    success_rate: float
    throttled_units: float
    capacity_unit_hours: float
    cost_usd: float
    scale_ups: int
    scale_downs: int
    decreases_used: int
    partitions_end: int

    def to_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


def _with_seed(pattern: Pattern, seed: int) -> Pattern:
    """``pattern`` with ``seed`` given to every random walk that kept the default seed 0."""
    if seed == 0:
        return pattern
    if isinstance(pattern, RandomWalk):
        return dataclasses.replace(pattern, seed=seed) if pattern.seed == 0 else pattern
    if isinstance(pattern, Sum):
        return Sum(tuple(_with_seed(p, seed) for p in pattern.parts))
    if isinstance(pattern, Scaled | Shifted | Clamped):
        return dataclasses.replace(pattern, pattern=_with_seed(pattern.pattern, seed))
    return pattern


def _label(pattern: Pattern | str) -> str:
    if isinstance(pattern, str):
        return pattern
    try:
        return pattern.spec()
    except TrafficError:
        return pattern.describe()


def check_inputs(pattern: Pattern | str, target: float, policy: str, hours: float) -> Pattern:
    """The parsed pattern, or ``ValueError`` naming the bad input and what is allowed."""
    if policy not in POLICIES or policy in STREAM_POLICIES:
        known = [name for name in POLICIES if name not in STREAM_POLICIES]
        raise ValueError(f"unknown table policy {policy!r}; policies: {', '.join(known)}")
    low, high = TARGET_RANGE
    if not (isinstance(target, int | float) and low <= target <= high):
        raise ValueError(f"target {target!r}% is outside {low:g}–{high:g}%, what DynamoDB allows")
    if not (isinstance(hours, int | float) and 0 < hours < math.inf):
        raise ValueError(f"hours must be a finite number > 0, not {hours!r}")
    if isinstance(pattern, Pattern):
        return pattern
    try:
        return parse_pattern(pattern)
    except TrafficError as error:
        raise ValueError(str(error)) from None


@cache
def _prices() -> PriceBook:
    return load_price_book("us-east-1")


#: How long a lab session's lanes keep every minute (CloudWatch's own 1-minute retention).
LAB_HOURS = 15 * 24


def experiment_account(
    pattern: Pattern | str,
    target: float,
    policy: str,
    *,
    start_wcu: int = 50,
    seed: int = 0,
    hours: float = LAB_HOURS,
) -> SimAccount:
    """The experiment's fresh simulated account, at its start: one table :data:`TABLE` with
    ``start_wcu`` WCU carrying ``pattern`` on its writes, auto scaled by ``policy`` at
    ``target`` % (writes :data:`MIN_WCU` … :data:`MAX_WCU`).  The trainer lab runs several of
    these side by side; :func:`run_experiment` runs one and measures it.  Every minute of
    the first ``hours`` stays readable at 1-minute resolution (the measures add them up)."""
    shape = _with_seed(check_inputs(pattern, target, policy, 1.0), seed)
    if start_wcu < 1:
        raise ValueError(f"start_wcu must be ≥ 1, not {start_wcu}")
    retention = timedelta(minutes=math.ceil(hours * 60) + 60)
    account = SimAccount(START, aas_policy=policy, minute_retention=retention)
    epoch = account.epoch

    def forecast(start: datetime, end: datetime) -> Sequence[float]:
        t0 = math.ceil((start - epoch).total_seconds())
        t1 = math.ceil((end - epoch).total_seconds())
        return shape.rates(t0, max(0, t1 - t0))

    def setup(instance: Policy, spec: ScalingPolicy) -> None:
        if isinstance(instance, Oracle):
            instance.forecast = forecast  # the oracle alone is told the future

    account.policy_setup = setup
    account.add_table(
        TableSpec(TABLE, Throughput(READ_CAPACITY, start_wcu), reads=Steady(1.0), writes=shape)
    )
    account.register_scalable_target(ScalableTarget(RESOURCE, TABLE_WRITE, MIN_WCU, MAX_WCU))
    account.put_scaling_policy(
        ScalingPolicy(
            f"{TABLE}-write",
            RESOURCE,
            TABLE_WRITE,
            target_value=float(target),
            predefined_metric=WRITE_UTILIZATION,
        )
    )
    return account


def run_experiment(
    pattern: Pattern | str,
    target: float,
    policy: str,
    *,
    hours: float = EXPERIMENT_HOURS,
    start_wcu: int = 50,
    seed: int = 0,
    prices: PriceBook | None = None,
) -> ExperimentResult:
    """Run ``policy`` at ``target`` % on a fresh table carrying ``pattern`` for ``hours``.

    ``pattern`` is a :class:`Pattern` or a :func:`parse_pattern` spec (``"bell"``,
    ``"top-heavy"``, …); ``seed`` goes to random walks in it that kept the default seed.
    Time advances at 1-second resolution.  The cost is priced with ``prices`` (capcon's
    us-east-1 defaults when not given: the experiment's table lives there).  Bad inputs raise
    ``ValueError`` naming the problem and what is allowed.
    """
    check_inputs(pattern, target, policy, hours)
    account = experiment_account(
        pattern, target, policy, start_wcu=start_wcu, seed=seed, hours=hours
    )
    part = account.tables[TABLE].table
    seconds = max(1, round(hours * 3600))
    ups = downs = 0
    per_day: dict[date, int] = {}
    seen: Pending | None = None
    while account.clock.elapsed < seconds:
        # minute by minute: the policy acts at minute boundaries, and a change it asks for
        # stays pending for update_seconds, so each one is seen here exactly once
        account.advance(min(60 - account.clock.elapsed % 60, seconds - account.clock.elapsed))
        pending = part.pending
        if pending is None or pending is seen or pending.capacity is None:
            continue
        seen = pending
        assert part.capacity is not None
        if pending.capacity.write > part.capacity.write:
            ups += 1
        elif pending.capacity.write < part.capacity.write:
            downs += 1
            day = account.now().astimezone(UTC).date()
            per_day[day] = per_day.get(day, 0) + 1
    end = START + timedelta(seconds=seconds)
    dims = (("TableName", TABLE),)
    consumed, throttled, provisioned = account.store.query(
        [
            MetricQuery("c", "AWS/DynamoDB", "ConsumedWriteCapacityUnits", dims),
            MetricQuery("t", "AWS/DynamoDB", "WriteThrottleEvents", dims),
            MetricQuery("p", "AWS/DynamoDB", "ProvisionedWriteCapacityUnits", dims),
        ],
        START,
        end,
        end + timedelta(days=1),  # as if every minute were published
    )
    served, refused = sum(consumed.values), sum(throttled.values)
    requested = served + refused
    # the provisioned series records capacity × seconds: its sum is WCU-seconds
    unit_hours = sum(provisioned.values) / 3600
    return ExperimentResult(
        policy=policy,
        pattern=_label(pattern),
        target=float(target),
        success_rate=served / requested if requested > 0 else 1.0,
        throttled_units=refused,
        capacity_unit_hours=unit_hours,
        cost_usd=unit_hours * (prices or _prices()).wcu_hour,
        scale_ups=ups,
        scale_downs=downs,
        decreases_used=max(per_day.values(), default=0),
        partitions_end=part.partitions,
    )


def run_grid(
    patterns: Iterable[Pattern | str] = GRID_PATTERNS,
    targets: Iterable[float] = GRID_TARGETS,
    policies: Iterable[str] = TABLE_POLICIES,
    progress: Progress | None = None,
    *,
    hours: float = EXPERIMENT_HOURS,
    prices: PriceBook | None = None,
) -> list[ExperimentResult]:
    """Every pattern × target × policy, in that order (deterministic, one process).

    ``progress(done, total, result)`` is called after each run.  Inputs are checked before
    anything runs.
    """
    shapes, goals, names = list(patterns), list(targets), list(policies)
    for shape in shapes:
        for goal in goals:
            for name in names:
                check_inputs(shape, goal, name, hours)
    total = len(shapes) * len(goals) * len(names)
    results: list[ExperimentResult] = []
    for shape in shapes:
        for goal in goals:
            for name in names:
                result = run_experiment(shape, goal, name, hours=hours, prices=prices)
                results.append(result)
                if progress is not None:
                    progress(len(results), total, result)
    return results


__all__ = [
    "EXPERIMENT_HOURS",
    "GRID_PATTERNS",
    "GRID_TARGETS",
    "POLICIES",
    "TABLE_POLICIES",
    "TARGET_RANGE",
    "ExperimentResult",
    "check_inputs",
    "experiment_account",
    "run_experiment",
    "run_grid",
]
