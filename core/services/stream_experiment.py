"""A Kinesis auto-scaling experiment: the engine's ``kinesis`` policy (field note C,
docs/field-notes.md#kinesis-scaling-done-right) on one simulated stream, minute by minute,
applied through the core scaler, with its results (``capcon sim --policy kinesis``, the lab's
stream lane).

Everything goes through the ports, as on AWS: the :class:`AutoscaleEngine` reads the
stream's metrics and decides, the :class:`Scaler` sends ``UpdateShardCount`` and follows the
stream back to ``ACTIVE`` (the simulation's clock moving while it waits), and the results are
read back from the stream's own CloudWatch metrics.  The audit records of the run stay in
memory: the experiment's account is thrown away with it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from capcon.core.ports import Backend, MetricQuery, Scalable, SimulationControls
from capcon.core.pricing import PriceBook
from capcon.core.rules import RuleSettings
from capcon.core.services.audit import Origin, StoreAudit
from capcon.core.services.engine import AutoscaleEngine, EngineDecision
from capcon.core.services.metrics import MetricsService
from capcon.core.services.scaler import Scaler

#: The policy a stream experiment runs (the registry's one stream policy).
STREAM_POLICY = "kinesis"
#: The most shards a stream may have (UpdateShardCount: docs/aws-rules.md).
MAX_SHARDS = 10_000


@dataclass(frozen=True, slots=True)
class StreamExperimentResult:
    """What one stream experiment did: records accepted against requested, throttled
    records, shard-hours and their cost, its reshards, and when the policy's next
    scale-down check is due at the end (the 36-hour schedule)."""

    stream: str
    policy: str
    target: float
    minutes: int
    success_rate: float
    """Records accepted ÷ records requested (accepted + throttled)."""
    requested_records: float
    throttled_records: float
    shard_hours: float
    cost_usd: float
    """Shard-hours at the price book's shard-hour (PUT payload units left out: the same
    records are put whatever the policy)."""
    scale_ups: int
    scale_downs: int
    shards_start: int
    shards_end: int
    next_scale_down_check: datetime | None
    decisions: tuple[EngineDecision, ...]
    """Every decision of the run, held ones included (each explains itself)."""

    @property
    def actions(self) -> tuple[EngineDecision, ...]:
        return tuple(d for d in self.decisions if d.acted)

    def to_dict(self) -> dict[str, object]:
        return {
            "stream": self.stream,
            "policy": self.policy,
            "target": self.target,
            "minutes": self.minutes,
            "success_rate": self.success_rate,
            "requested_records": self.requested_records,
            "throttled_records": self.throttled_records,
            "shard_hours": self.shard_hours,
            "cost_usd": self.cost_usd,
            "scale_ups": self.scale_ups,
            "scale_downs": self.scale_downs,
            "shards_start": self.shards_start,
            "shards_end": self.shards_end,
            "next_scale_down_check": (
                None
                if self.next_scale_down_check is None
                else self.next_scale_down_check.isoformat()
            ),
            "actions": [d.to_json() for d in self.actions],
        }


class _Kept:
    """The run's audit records, in memory (an :class:`~capcon.core.ports.AuditStore`)."""

    def __init__(self) -> None:
        self.records: list[dict[str, object]] = []

    def append(self, record: dict[str, object]) -> None:
        self.records.append(record)

    def read(self, limit: int | None = None) -> list[dict[str, object]]:
        return list(self.records if limit is None else self.records[-limit:])


def run_stream_experiment(
    backend: Backend,
    controls: SimulationControls,
    stream: str,
    *,
    target: float,
    minutes: int,
    rules: RuleSettings,
    prices: PriceBook,
    metric_delay_seconds: int,
    update_seconds: int | None = None,
    scale_down_every: timedelta = timedelta(hours=36),
    on_decision: Callable[[EngineDecision], None] | None = None,
) -> StreamExperimentResult:
    """Run the ``kinesis`` policy at ``target`` % on ``stream`` for ``minutes`` simulated
    minutes (a round at each minute, as the field note's alarms and schedule would fire),
    then read back what the stream served.  ``on_decision`` sees each decision as it is
    made (a progress log)."""
    if minutes < 1:
        raise ValueError(f"minutes must be ≥ 1, not {minutes}")
    audit = StoreAudit(_Kept(), label="the experiment's memory")
    # a scope of its own: experiments side by side never share a resource lock
    origin = Origin("capcon sim", f"sim:stream-experiment:{os.getpid()}:{id(backend)}")
    scaler = Scaler(
        backend, audit, origin, wait=lambda s: controls.step(max(1, math.ceil(s))), poll_seconds=5
    )
    metrics = MetricsService(backend)
    engine = AutoscaleEngine(
        backend,
        STREAM_POLICY,
        target,
        rules,
        prices,
        [Scalable(stream, "shards")],
        (1, MAX_SHARDS),
        scaler,
        shard_bounds=(1, MAX_SHARDS),
        stream_check_every=scale_down_every,
        metric_delay_seconds=metric_delay_seconds,
        update_seconds=update_seconds,
        reshard_history=controls.reshard_history,
    )
    start = controls.now()
    end = start + timedelta(minutes=minutes)
    shards_start = backend.describe_stream(stream).open_shard_count
    decisions: list[EngineDecision] = []
    shard_seconds = 0.0
    while controls.now() < end:
        for decision in engine.round():
            decisions.append(decision)
            if on_decision is not None:
                on_decision(decision)
        now = controls.now()
        # on to the next minute boundary (a reshard followed to ACTIVE took some of it)
        step = 60 - now.second - (1 if now.microsecond else 0)
        step = min(step, max(1, math.ceil((end - now).total_seconds())))
        shard_seconds += backend.describe_stream(stream).open_shard_count * step
        controls.step(step)
    # the last minutes are published metric_delay_seconds later
    controls.step(metric_delay_seconds + 60)
    dims = (("StreamName", stream),)
    answers = {
        s.id: sum(s.values)
        for s in metrics.get_metric_data(
            (
                MetricQuery("r", "AWS/Kinesis", "IncomingRecords", dims, "Sum", 60),
                MetricQuery("x", "AWS/Kinesis", "WriteProvisionedThroughputExceeded", dims),
            ),
            start,
            end,
        )
    }
    accepted, throttled = answers.get("r", 0.0), answers.get("x", 0.0)
    requested = accepted + throttled
    policy = engine.policies.get(Scalable(stream, "shards").key)
    due = getattr(policy, "next_scale_down_check", None)
    acted = [d for d in decisions if d.acted]
    shard_hours = shard_seconds / 3600
    return StreamExperimentResult(
        stream=stream,
        policy=STREAM_POLICY,
        target=target,
        minutes=minutes,
        success_rate=accepted / requested if requested else 1.0,
        requested_records=requested,
        throttled_records=throttled,
        shard_hours=shard_hours,
        cost_usd=shard_hours * prices.shard_hour,
        scale_ups=sum(1 for d in acted if d.decision.action == "scale-out"),
        scale_downs=sum(1 for d in acted if d.decision.action == "scale-in"),
        shards_start=shards_start,
        shards_end=backend.describe_stream(stream).open_shard_count,
        next_scale_down_check=due if isinstance(due, datetime) else None,
        decisions=tuple(decisions),
    )
