"""The auto-scaling engine: run a policy on real or simulated tables, explaining every decision.

Each round (a minute), for every table and dimension it manages, the engine builds the
:class:`~capcon.core.policies.Observation` a policy could really see through the ports
(published 1-minute datapoints of consumed capacity and throttles, the capacity from
``DescribeTable``, the decrease budget from the rule book) and asks the policy.  Every
decision is returned with its reason.  In dry-run mode (the default) nothing else happens;
otherwise an action becomes a core plan and goes through the core scaler — the same stale
check, rule book and audit log as a change made by hand.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from capcon.core.errors import CapconError
from capcon.core.model import Table, Throughput
from capcon.core.planning.partitions import estimate_partitions, split_above
from capcon.core.planning.planner import Refusal, plan
from capcon.core.policies import Decision, Observation, Policy, make_policy
from capcon.core.ports import Backend, MetricQuery, Metrics, TableChange
from capcon.core.pricing import PriceBook
from capcon.core.rules import RuleSettings, after_decrease, decrease_budget
from capcon.core.services.metrics import MetricsService
from capcon.core.services.scaler import Scaler

Dimension = Literal["read", "write"]
#: Assumed CloudWatch delay when the backend does not say (AWS: typically 1–3 minutes).
DEFAULT_METRIC_DELAY = 120


@dataclass(frozen=True, slots=True)
class EngineDecision:
    """One decision of one round, and what became of it."""

    at: datetime
    table: str
    dimension: Dimension
    decision: Decision
    outcome: str  # "dry-run", "applied", "refused: …", "failed: …", "held"

    @property
    def line(self) -> str:
        what = (
            f"{self.decision.action} → {self.decision.capacity:,}"
            if self.decision.capacity is not None
            else "hold"
        )
        return (
            f"{self.at:%H:%M} {self.table} {self.dimension}s: {what} — {self.decision.reason}"
            + ("" if self.outcome in ("held", "dry-run") else f" [{self.outcome}]")
            + (" [dry run: not applied]" if self.outcome == "dry-run" else "")
        )


def observe(
    backend: Backend,
    table: Table,
    dimension: Dimension,
    bounds: tuple[int, int],
    rules: RuleSettings,
    *,
    minutes: int = 20,
    metric_delay_seconds: int = DEFAULT_METRIC_DELAY,
    update_seconds: int | None = None,
    metrics: Metrics | None = None,
) -> Observation:
    """What a policy on ``table``'s ``dimension`` can see now, through the ports (metrics
    through ``metrics``, by default a fresh :class:`MetricsService` over ``backend``: the
    whole window every time)."""
    now = backend.now()
    word = "Read" if dimension == "read" else "Write"
    dims = (("TableName", table.name),)
    start = now - timedelta(minutes=minutes + math.ceil(metric_delay_seconds / 60))
    source = metrics if metrics is not None else MetricsService(backend)
    consumed, throttled = source.get_metric_data(
        [
            MetricQuery("c", "AWS/DynamoDB", f"Consumed{word}CapacityUnits", dims),
            MetricQuery("t", "AWS/DynamoDB", f"{word}ThrottleEvents", dims),
        ],
        start,
        now,
    )
    capacity = table.provisioned or Throughput(0, 0)
    value = capacity.read if dimension == "read" else capacity.write
    throttles = dict(zip(throttled.timestamps, throttled.values, strict=True))
    history = table.history
    changes = [t for t in (history.last_increase, history.last_decrease) if t is not None]
    partitions = estimate_partitions(table.provisioned, table.size_bytes, rules, warm=table.warm)
    return Observation(
        now=now,
        capacity=value,
        min_capacity=bounds[0],
        max_capacity=bounds[1],
        updating=table.status != "ACTIVE",
        minutes=consumed.timestamps,
        consumed=tuple(v / 60 for v in consumed.values),
        throttled=tuple(throttles.get(t, 0.0) / 60 for t in consumed.timestamps),
        capacity_since=max(changes) if changes else None,
        decrease_budget=decrease_budget(history, now, rules),
        next_decrease_after_one=decrease_budget(
            after_decrease(history, now), now, rules
        ).next_allowed_at,
        update_seconds=update_seconds,
        metric_delay_seconds=metric_delay_seconds,
        split_above=split_above(table.provisioned, partitions.count, dimension == "read", rules),
    )


@dataclass
class AutoscaleEngine:
    """Runs one policy over some tables; ``scaler`` None means dry run."""

    backend: Backend
    policy_name: str
    target: float
    rules: RuleSettings
    prices: PriceBook
    tables: Sequence[str]
    bounds: tuple[int, int]
    scaler: Scaler | None = None
    dimensions: tuple[Dimension, ...] = ("read", "write")
    metric_delay_seconds: int = DEFAULT_METRIC_DELAY
    update_seconds: int | None = None
    policies: dict[tuple[str, str], Policy] = field(default_factory=dict)

    def __post_init__(self) -> None:
        make_policy(self.policy_name, self.target)  # an unknown name fails here

    def _policy(self, table: str, dimension: str) -> Policy:
        key = (table, dimension)
        if key not in self.policies:
            self.policies[key] = make_policy(self.policy_name, self.target)
        return self.policies[key]

    def round(self) -> list[EngineDecision]:
        """One evaluation of every managed table and dimension."""
        out: list[EngineDecision] = []
        for name in self.tables:
            table = self.backend.describe_table(name)
            if table.provisioned is None:
                continue  # on-demand: nothing to scale
            for dimension in self.dimensions:
                policy = self._policy(name, dimension)
                obs = observe(
                    self.backend,
                    table,
                    dimension,
                    self.bounds,
                    self.rules,
                    metric_delay_seconds=self.metric_delay_seconds,
                    update_seconds=self.update_seconds,
                )
                decision = policy.decide(obs)
                outcome = self._carry_out(table, dimension, decision, policy)
                out.append(EngineDecision(obs.now, name, dimension, decision, outcome))
                if outcome == "applied":
                    table = self.backend.describe_table(name)
        return out

    def _carry_out(
        self, table: Table, dimension: Dimension, decision: Decision, policy: Policy
    ) -> str:
        if decision.capacity is None:
            return "held"
        if self.scaler is None:
            return "dry-run"
        current = table.provisioned
        assert current is not None
        new = (
            Throughput(decision.capacity, current.write)
            if dimension == "read"
            else Throughput(current.read, decision.capacity)
        )
        result = plan(
            table,
            TableChange(table=new),
            self.backend.now(),
            rules=self.rules,
            prices=self.prices,
        )
        if isinstance(result, Refusal):
            return "refused: " + "; ".join(v.message for v in result.violations)
        try:
            applied = self.scaler.apply(result, previous=table)
        except CapconError as error:
            return f"failed: {error}"
        if applied.outcome != "applied":
            return f"{applied.outcome}: {applied.error}"
        policy.applied(decision, self.backend.now())
        return "applied"


def run_rounds(
    engine: AutoscaleEngine,
    rounds: int,
    wait: Callable[[float], None],
    report: Callable[[EngineDecision], None],
    *,
    every: float = 60.0,
) -> list[EngineDecision]:
    """``rounds`` rounds, ``every`` seconds apart (``wait`` lets the time pass)."""
    history: list[EngineDecision] = []
    for number in range(rounds):
        if number:
            wait(every)
        for decision in engine.round():
            report(decision)
            history.append(decision)
    return history
