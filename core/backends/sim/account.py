"""The simulated AWS account: tables, streams, metrics and auto scaling behind the ports.

:class:`SimAccount` implements every port of :mod:`capcon.core.ports`, so the console, the
CLI and the scaler cannot tell it from the AWS adapter.  Time moves only when told to
(:meth:`SimAccount.advance`, or :meth:`SimAccount.tick` with real elapsed seconds times the
clock's speed), minute by minute: at each minute boundary the metrics of that minute are
stored (visible ``metric_delay_seconds`` later), Application Auto Scaling runs the one-time
scheduled actions whose moment has come (docs/aws-rules.md#scheduled-actions) and evaluates its
policies on what it can see, as AWS's alarms do.

Every change request goes through the same rule book as the planner, so the simulated account
refuses exactly what AWS would, with the same messages, and changes nothing when it refuses.
"""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from capcon.core.backends.sim.alarms import SimAlarms
from capcon.core.backends.sim.clock import MAX_SPEED, MIN_SPEED, SimClock
from capcon.core.backends.sim.metrics import MetricStore
from capcon.core.backends.sim.streams import SimStream
from capcon.core.backends.sim.tables import SimPart, SimSettings, SimTable
from capcon.core.backends.sim.traffic import Pattern, StreamLoad
from capcon.core.errors import NotFound, ResourceInUse, ValidationFailed
from capcon.core.model import (
    BillingMode,
    HashRange,
    Replica,
    ReplicaScaling,
    Stream,
    StreamMode,
    Table,
    TableClass,
    Throughput,
)
from capcon.core.planning.partitions import estimate_partitions, split_above
from capcon.core.planning.planner import PlanContext, check_table_change
from capcon.core.planning.reshard import ReshardPlan, ReshardStep, uniform_plan
from capcon.core.policies import (
    Capcon,
    Decision,
    Observation,
    Policy,
    TargetTracking,
    make_policy,
)
from capcon.core.ports import (
    INDEX_READ,
    INDEX_WRITE,
    TABLE_READ,
    TABLE_WRITE,
    AccountLimits,
    MetricQuery,
    MetricSeries,
    RequestCounter,
    ScalableTarget,
    ScalingActivity,
    ScalingPolicy,
    ScheduledAction,
    SimulationControls,
    TableChange,
    parse_resource_id,
)
from capcon.core.rules import (
    AccountCapacity,
    AccountShards,
    RuleSettings,
    after_decrease,
    check_shard_count,
    check_stream_mode_switch,
    decrease_budget,
    error_for_violations,
    shard_quota,
)

READ_DIMENSIONS = {TABLE_READ, INDEX_READ}
DIMENSIONS = (TABLE_READ, TABLE_WRITE, INDEX_READ, INDEX_WRITE)


@dataclass
class _Engine:
    """A policy instance bound to one scalable target."""

    policy: Policy
    spec: ScalingPolicy
    last_reason: str = ""


@dataclass
class IndexSpec:
    """A GSI of a simulated table."""

    name: str
    capacity: Throughput | None
    reads: Pattern
    write_ratio: float = 1.0
    size_bytes: int = 0


@dataclass
class TableSpec:
    """A simulated table: capacity, traffic, hot keys, partitions seen before."""

    name: str
    capacity: Throughput | None  # None: on-demand
    reads: Pattern
    writes: Pattern
    hot_share: float = 0.0
    size_bytes: int = 0
    item_count: int = 0
    previous_partitions: int | None = None
    indexes: list[IndexSpec] = field(default_factory=list)
    table_class: TableClass = TableClass.STANDARD
    #: A global table's other regions (static: the simulation runs this region only).
    replicas: tuple[Replica, ...] = ()
    #: ``DescribeTableReplicaAutoScaling``'s answer for the replicas.
    replica_scaling: tuple[ReplicaScaling, ...] = ()


class SimAccount:
    """A simulated AWS account and region, deterministic for a given setup."""

    label = "simulated"

    def __init__(
        self,
        start: datetime,
        *,
        rules: RuleSettings | None = None,
        settings: SimSettings | None = None,
        aas_policy: str = "aas",
        speed: float = 1.0,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        scenario: str = "custom",
        minute_retention: timedelta | None = None,
    ) -> None:
        """``minute_retention``: how long simulated CloudWatch keeps 1-minute datapoints
        (default: :class:`MetricStore`'s 3 h, then 5-minute and hourly roll-ups); runs that
        read every minute back (experiments, the lab) keep them longer."""
        self.rules = rules or RuleSettings()
        self.settings = settings or SimSettings()
        self.clock = SimClock(start, speed)
        self.epoch = start
        delay = timedelta(seconds=self.settings.metric_delay_seconds)
        if minute_retention is None:
            self.store = MetricStore(start, delay)
        else:
            self.store = MetricStore(
                start,
                delay,
                minute_retention=minute_retention,
                five_minute_retention=max(minute_retention, timedelta(hours=24)),
                hour_retention=max(minute_retention, timedelta(days=8)),
            )
        self.region = region
        self.account_id = account_id
        self.scenario = scenario
        self.aas_policy = aas_policy
        make_policy(aas_policy, 70.0)  # fail early on an unknown policy name
        self.tables: dict[str, SimTable] = {}
        self.streams: dict[str, SimStream] = {}
        self.targets: dict[tuple[str, str], ScalableTarget] = {}
        self.policies: dict[tuple[str, str, str], ScalingPolicy] = {}
        #: scheduled actions by (name, resource id, dimension)
        self.scheduled: dict[tuple[str, str, str], ScheduledAction] = {}
        #: the one-time actions that ran, and when (they stay listed: see
        #: docs/aws-rules.md#scheduled-actions); a new put of the same name may run again
        self.scheduled_ran: dict[tuple[str, str, str], datetime] = {}
        #: targets whose bounds a scheduled action moved and whose capacity is still to be
        #: moved inside them (at this minute boundary, or the first one the table is ACTIVE)
        self._bounds_due: dict[tuple[str, str], str] = {}
        self.activities: list[ScalingActivity] = []
        #: every policy decision, held or not, for "why did it scale, why didn't it"
        self.decisions: deque[tuple[datetime, str, str, Decision]] = deque(maxlen=5_000)
        self._engines: dict[tuple[str, str, str], _Engine] = {}
        #: Called with each policy instance the account creates and the scaling policy it
        #: serves (the experiment runner hands the oracle its forecast here).
        self.policy_setup: Callable[[Policy, ScalingPolicy], None] | None = None
        #: CloudWatch alarms (the Alarms port), evaluated at each minute boundary
        self.alarms = SimAlarms(region, account_id, self.now)
        #: the account's clock and exact knowledge, for the console and the CLI
        self.controls: SimulationControls = SimControls(self)

    # --- building ------------------------------------------------------------------------

    def add_table(self, spec: TableSpec) -> SimTable:
        if spec.name in self.tables:
            raise ValueError(f"table {spec.name} already exists")
        mode = BillingMode.PROVISIONED if spec.capacity else BillingMode.PAY_PER_REQUEST
        table_part = SimPart(
            None,
            spec.capacity,
            spec.reads,
            spec.writes,
            size_bytes=spec.size_bytes,
            item_count=spec.item_count,
            estimate=estimate_partitions(
                spec.capacity, spec.size_bytes, self.rules, previous=spec.previous_partitions
            ),
        )
        parts = [table_part]
        for index in spec.indexes:
            parts.append(
                SimPart(
                    index.name,
                    index.capacity if spec.capacity else None,
                    index.reads,
                    write_ratio=index.write_ratio,
                    size_bytes=index.size_bytes,
                )
            )
        table = SimTable(
            spec.name,
            mode=mode,
            parts=parts,
            hot_share=spec.hot_share,
            created=self.clock.now(),
            rules=self.rules,
            settings=self.settings,
            region=self.region,
            account_id=self.account_id,
        )
        table.table_class = spec.table_class
        table.replicas = spec.replicas
        table.replica_scaling = spec.replica_scaling
        self.tables[spec.name] = table
        return table

    def add_stream(
        self,
        name: str,
        *,
        shards: int,
        load: StreamLoad,
        mode: StreamMode = StreamMode.PROVISIONED,
        consumers: int = 1,
        retention_hours: int = 24,
        shard_metrics: bool = True,
        efo_consumers: int = 0,
    ) -> SimStream:
        if name in self.streams:
            raise ValueError(f"stream {name} already exists")
        stream = SimStream(
            name,
            mode=mode,
            shard_count=shards,
            load=load,
            consumers=consumers,
            retention_hours=retention_hours,
            created=self.clock.now(),
            rules=self.rules,
            settings=self.settings,
            region=self.region,
            account_id=self.account_id,
            shard_metrics=shard_metrics,
            efo_consumers=efo_consumers,
        )
        self.streams[name] = stream
        return stream

    # --- time ------------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock.now()

    def tick(self, real_seconds: float) -> int:
        """Advance by ``real_seconds`` × speed (nothing while paused); returns sim seconds."""
        due = self.clock.due(real_seconds)
        if due:
            self.advance(due)
        return due

    def advance(self, seconds: int, *, resolution: int = 1) -> None:
        """Run the world forward ``seconds`` simulated seconds.

        ``resolution`` > 1 samples demand every that many seconds (for fast-forwarding
        history); it must divide 60.
        """
        if seconds < 0:
            raise ValueError("time only moves forward")
        if 60 % resolution:
            raise ValueError("resolution must divide 60")
        end = self.clock.elapsed + seconds
        while self.clock.elapsed < end:
            t0 = self.clock.elapsed
            minute = t0 // 60
            t1 = min(end, (minute + 1) * 60)
            for table in self.tables.values():
                table.run(t0, t1, minute, self.store, resolution)
            for stream in self.streams.values():
                stream.run(t0, t1, minute, self.store, resolution)
            self.clock.elapsed = t1
            if t1 % 60 == 0:
                for table in self.tables.values():
                    table.close_minute()
                for stream in self.streams.values():
                    stream.close_minute()
                self._run_scheduled()
                self._autoscale()
                if self.alarms.alarms:
                    seen = self.store.published_until(self.now()) - self.epoch
                    self.alarms.evaluate(
                        self.epoch + timedelta(minutes=seen // timedelta(minutes=1)),
                        lambda qs, start, end: self.store.query(qs, start, end, self.now()),
                    )

    def step(self, seconds: int = 1) -> None:
        """Single-step, paused or not."""
        self.advance(seconds)

    # --- a trainer's hot keys (field note C: docs/field-notes.md#partition-dilution) ----------

    def hot_key(self, table: str, index: str | None = None) -> float:
        """Share of ``table``'s (or its GSI ``index``'s) traffic on its one hot partition key."""
        sim = self._table(table)
        return sim.hot_of(self._part(sim, index))

    def set_hot_key(self, table: str, share: float, index: str | None = None) -> None:
        """Put ``share`` (0 … 1; 0: uniform keys) of ``table``'s (or its GSI ``index``'s)
        traffic on one partition key, from the next simulated second on.  A ``ValueError``
        outside 0 … 1, :class:`NotFound` for an unknown table or index; nothing changes then."""
        if not (isinstance(share, int | float) and math.isfinite(share) and 0 <= share <= 1):
            raise ValueError(f"a hot key's share must be in 0 … 1 (0: uniform), not {share!r}")
        sim = self._table(table)
        self._part(sim, index).hot_share = float(share)

    @staticmethod
    def _part(sim: SimTable, index: str | None) -> SimPart:
        try:
            return sim.part(index)
        except KeyError:
            raise NotFound(f"index {index} of table {sim.name} not found") from None

    def shard_times(self, stream: str) -> dict[str, tuple[datetime, datetime | None]]:
        """When each listed shard of ``stream`` opened and closed (``None``: open)."""
        sim = self._stream(stream)
        at = self.epoch.__add__
        return {
            s.shard_id: (
                at(timedelta(seconds=s.opened_at)),
                None if s.closed_at is None else at(timedelta(seconds=s.closed_at)),
            )
            for s in sim.shards
        }

    # --- inventory -------------------------------------------------------------------------

    def list_tables(self) -> list[str]:
        return sorted(self.tables)

    def _table(self, name: str) -> SimTable:
        try:
            return self.tables[name]
        except KeyError:
            raise NotFound(f"table {name} not found") from None

    def _stream(self, name: str) -> SimStream:
        try:
            return self.streams[name]
        except KeyError:
            raise NotFound(f"stream {name} not found") from None

    def describe_table(self, name: str) -> Table:
        return self._table(name).to_model(self.now())

    def describe_tables(self, names: Sequence[str]) -> list[Table]:
        now = self.now()
        return [self.tables[n].to_model(now) for n in names if n in self.tables]

    def describe_streams(self, names: Sequence[str]) -> list[Stream]:
        return [self.streams[n].to_model(self.clock.elapsed) for n in names if n in self.streams]

    def list_streams(self) -> list[str]:
        return sorted(self.streams)

    def describe_stream(self, name: str) -> Stream:
        return self._stream(name).to_model(self.clock.elapsed)

    def _account_capacity(self) -> AccountCapacity:
        read = write = 0
        for table in self.tables.values():
            if table.mode is BillingMode.PROVISIONED:
                for part in table.parts:
                    if part.capacity is not None:
                        read += part.capacity.read
                        write += part.capacity.write
        return AccountCapacity(read, write)

    def _open_shards(self) -> int:
        return sum(len(s.open_shards()) for s in self.streams.values())

    def account_limits(self) -> AccountLimits:
        return AccountLimits(
            account_max_read_units=self.rules.account_max_read_units,
            account_max_write_units=self.rules.account_max_write_units,
            table_max_read_units=self.rules.table_max_read_units,
            table_max_write_units=self.rules.table_max_write_units,
            shard_limit=shard_quota(self.rules, self.region)[0],
            open_shard_count=self._open_shards(),
            on_demand_stream_count=sum(
                s.mode is StreamMode.ON_DEMAND for s in self.streams.values()
            ),
            on_demand_stream_count_limit=self.rules.on_demand_streams_quota,
        )

    # --- metrics ---------------------------------------------------------------------------

    def get_metric_data(
        self,
        queries: Sequence[MetricQuery],
        start: datetime,
        end: datetime,
        *,
        sent: RequestCounter | None = None,
    ) -> list[MetricSeries]:
        """One request, answered raw (no limits, no cache): ``sent`` is told of it."""
        if sent is not None:
            sent(len(queries))
        return self.store.query(queries, start, end, self.now())

    # --- actuation -------------------------------------------------------------------------

    def update_table(self, name: str, change: TableChange) -> Table:
        table = self._table(name)
        now = self.now()
        model = table.to_model(now)
        context = PlanContext(
            account_capacity=self._account_capacity(),
            class_switch_history=tuple(table.class_updates),
        )
        violations = check_table_change(model, change, now, self.rules, context)
        if violations:
            raise error_for_violations(violations)
        if change.table_class is not None:
            table.request_class(change.table_class, self.clock.elapsed, now)
            return table.to_model(now)
        mode = change.billing_mode or table.mode
        if mode is BillingMode.PAY_PER_REQUEST and table.mode is BillingMode.PROVISIONED:
            table.last_switch_to_on_demand = now
            for part in table.parts:
                table.request(part.index, None, mode, self.clock.elapsed, now)
        else:
            if change.table is not None:
                table.request(None, change.table, mode, self.clock.elapsed, now)
            for index, capacity in change.indexes:
                table.request(index, capacity, mode, self.clock.elapsed, now)
        warms = ((None, change.warm),) if change.warm is not None else ()
        for part, warm in (*warms, *change.index_warm):
            table.prewarm(part, warm)
        limits = ((None, change.on_demand_max),) if change.on_demand_max is not None else ()
        for part, limit in (*limits, *change.index_on_demand_max):
            table.limit(part, limit)
        return table.to_model(now)

    def _check_stream(self, stream: SimStream, target: int, plan: ReshardPlan | None) -> None:
        violations = check_shard_count(
            stream.to_model(self.clock.elapsed),
            target,
            self.now(),
            self.rules,
            stream.reshard_history,
            AccountShards(self._open_shards(), shard_quota(self.rules, self.region)[0]),
            plan.peak_open if plan else None,
        )
        if violations:
            raise error_for_violations(violations)

    def describe_table_replica_auto_scaling(self, name: str) -> tuple[ReplicaScaling, ...]:
        """The replicas' auto scaling as the scenario set it (``ReplicaAutoScaling``)."""
        return self._table(name).replica_scaling

    def update_shard_count(self, name: str, target: int) -> Stream:
        stream = self._stream(name)
        model = stream.to_model(self.clock.elapsed)
        plan = None
        in_range = 1 <= target <= self.rules.max_shards_per_stream
        if model.open_shard_count and in_range and not model.is_on_demand:
            plan = uniform_plan(model, target, self.now())
        self._check_stream(stream, target, plan)
        assert plan is not None
        stream.schedule(plan, self.clock.elapsed, self.now(), counted=True)
        return stream.to_model(self.clock.elapsed)

    def _split_merge_ready(self, stream: SimStream) -> None:
        if stream.mode is StreamMode.ON_DEMAND:
            raise ValidationFailed(f"stream {stream.name} is on-demand: AWS manages its shards")
        if stream.pending is not None:
            raise ResourceInUse(
                f"stream {stream.name} is UPDATING: AWS refuses SplitShard and MergeShards "
                "until it is ACTIVE (ResourceInUseException)"
            )

    def split_shard(self, name: str, shard_id: str, new_starting_hash_key: int) -> None:
        stream = self._stream(name)
        self._split_merge_ready(stream)
        shard = next((s for s in stream.open_shards() if s.shard_id == shard_id), None)
        if shard is None:
            raise NotFound(f"stream {name} has no open shard {shard_id}")
        rng = shard.hash_range
        if not rng.start < new_starting_hash_key <= rng.end:
            raise ValidationFailed(
                f"NewStartingHashKey {new_starting_hash_key} is not inside shard {shard_id} "
                f"({rng.start}…{rng.end}); it must be above its first key and at most its last"
            )
        if self._open_shards() + 1 > shard_quota(self.rules, self.region)[0]:
            raise error_for_violations(
                check_shard_count(
                    stream.to_model(self.clock.elapsed),
                    len(stream.open_shards()) + 1,
                    self.now(),
                    self.rules,
                    account=AccountShards(
                        self._open_shards(), shard_quota(self.rules, self.region)[0]
                    ),
                )
            )
        step = ReshardStep(
            "split",
            (shard_id,),
            (
                HashRange(rng.start, new_starting_hash_key - 1),
                HashRange(new_starting_hash_key, rng.end),
            ),
            ("split-a", "split-b"),
            new_starting_hash_key,
        )
        stream.schedule(
            _single_step_plan(stream, step, self.now()),
            self.clock.elapsed,
            self.now(),
            counted=False,
        )

    def merge_shards(self, name: str, shard_id: str, adjacent_shard_id: str) -> None:
        stream = self._stream(name)
        self._split_merge_ready(stream)
        shards = {s.shard_id: s for s in stream.open_shards()}
        missing = [s for s in (shard_id, adjacent_shard_id) if s not in shards]
        if missing:
            raise NotFound(f"stream {name} has no open shard {', '.join(missing)}")
        a, b = sorted((shards[shard_id], shards[adjacent_shard_id]), key=lambda s: s.hash_range)
        if a.hash_range.end + 1 != b.hash_range.start:
            raise ValidationFailed(
                f"shards {shard_id} and {adjacent_shard_id} are not adjacent: MergeShards needs "
                "two shards whose hash-key ranges touch"
            )
        step = ReshardStep(
            "merge",
            (shard_id, adjacent_shard_id),
            (HashRange(a.hash_range.start, b.hash_range.end),),
            ("merged",),
        )
        stream.schedule(
            _single_step_plan(stream, step, self.now()),
            self.clock.elapsed,
            self.now(),
            counted=False,
        )

    def update_stream_mode(self, name: str, mode: StreamMode) -> None:
        stream = self._stream(name)
        violations = check_stream_mode_switch(
            stream.to_model(self.clock.elapsed), mode, self.now(), self.rules, stream.mode_switches
        )
        if violations:
            raise error_for_violations(violations)
        stream.schedule_mode(mode, self.clock.elapsed, self.now())

    # --- Application Auto Scaling ------------------------------------------------------------

    def describe_scalable_targets(self) -> list[ScalableTarget]:
        return list(self.targets.values())

    def describe_scaling_policies(self) -> list[ScalingPolicy]:
        return list(self.policies.values())

    def describe_scaling_activities(self, resource_id: str | None = None) -> list[ScalingActivity]:
        found = [a for a in self.activities if resource_id is None or a.resource_id == resource_id]
        return sorted(found, key=lambda a: a.start, reverse=True)

    def _check_target(self, rid: str, dimension: str) -> tuple[SimTable, str | None]:
        try:
            table_name, index = parse_resource_id(rid)
        except ValueError as error:
            raise ValidationFailed(str(error)) from None
        if dimension not in DIMENSIONS:
            raise ValidationFailed(
                f"{dimension!r} is not a DynamoDB scalable dimension (allowed: "
                f"{', '.join(DIMENSIONS)})"
            )
        if (index is None) != dimension.startswith("dynamodb:table:"):
            raise ValidationFailed(
                f"dimension {dimension} does not match resource {rid} "
                "(table dimensions for tables, index dimensions for GSIs)"
            )
        table = self._table(table_name)
        if index is not None:
            try:
                table.part(index)
            except KeyError:
                raise NotFound(f"table {table_name} has no index {index}") from None
        return table, index

    def register_scalable_target(self, target: ScalableTarget) -> None:
        table, index = self._check_target(target.resource_id, target.dimension)
        if not 1 <= target.min_capacity <= target.max_capacity:
            raise ValidationFailed(
                f"min {target.min_capacity} and max {target.max_capacity}: need 1 ≤ min ≤ max"
            )
        self.targets[(target.resource_id, target.dimension)] = target
        # Registering moves the current capacity inside [min, max], as AAS does.
        part = table.part(index)
        if part.capacity is None or table.mode is BillingMode.PAY_PER_REQUEST:
            return
        current = part.capacity.read if target.dimension in READ_DIMENSIONS else part.capacity.write
        wanted = min(max(current, target.min_capacity), target.max_capacity)
        if wanted != current:
            self._scale(
                table, index, target.dimension, wanted,
                Decision("scale-out" if wanted > current else "scale-in", wanted,
                         f"registered range {target.min_capacity}–{target.max_capacity} "
                         f"moves capacity {current} → {wanted}"),
                ScalingPolicy("(registration)", target.resource_id, target.dimension),
            )  # fmt: skip

    def deregister_scalable_target(self, resource_id: str, dimension: str) -> None:
        if self.targets.pop((resource_id, dimension), None) is None:
            raise NotFound(f"no scalable target {resource_id} {dimension}")
        for key in [k for k in self.policies if k[1:] == (resource_id, dimension)]:
            del self.policies[key]
            self._engines.pop(key, None)
        # AWS: "Any scheduled actions that were specified for the scalable target are deleted"
        for action_key in [k for k in self.scheduled if k[1:] == (resource_id, dimension)]:
            del self.scheduled[action_key]
            self.scheduled_ran.pop(action_key, None)
        self._bounds_due.pop((resource_id, dimension), None)

    def put_scaling_policy(self, policy: ScalingPolicy) -> None:
        self._check_target(policy.resource_id, policy.dimension)
        if (policy.resource_id, policy.dimension) not in self.targets:
            raise ValidationFailed(
                f"no scalable target registered for {policy.resource_id} {policy.dimension}: "
                "register it first"
            )
        if policy.policy_type != "TargetTrackingScaling":
            raise ValidationFailed(
                f"{policy.policy_type} is not supported for DynamoDB: only "
                "TargetTrackingScaling works"
            )
        if not 20 <= policy.target_value <= 90:
            raise ValidationFailed(
                f"target value {policy.target_value:g}% is outside 20–90%, what DynamoDB allows"
            )
        key = (policy.name, policy.resource_id, policy.dimension)
        self.policies[key] = policy
        self._engines.pop(key, None)

    def delete_scaling_policy(self, name: str, resource_id: str, dimension: str) -> None:
        key = (name, resource_id, dimension)
        if self.policies.pop(key, None) is None:
            raise NotFound(f"no scaling policy {name} on {resource_id} {dimension}")
        self._engines.pop(key, None)

    def describe_scheduled_actions(self, resource_id: str | None = None) -> list[ScheduledAction]:
        return [
            a
            for a in self.scheduled.values()
            if resource_id is None or a.resource_id == resource_id
        ]

    def put_scheduled_action(self, action: ScheduledAction) -> None:
        """Create or replace a scheduled action (the same name on the same target replaces
        it, as ``PutScheduledAction`` does); checked as AWS checks it, nothing stored when a
        field is wrong."""
        self._check_target(action.resource_id, action.dimension)
        if (action.resource_id, action.dimension) not in self.targets:
            raise ValidationFailed(
                f"no scalable target registered for {action.resource_id} {action.dimension}: "
                "register it first"
            )
        problem = scheduled_action_problem(action)
        if problem is not None:
            raise ValidationFailed(problem)
        key = (action.name, action.resource_id, action.dimension)
        self.scheduled[key] = replace(action, created=self.now())
        self.scheduled_ran.pop(key, None)

    def delete_scheduled_action(self, name: str, resource_id: str, dimension: str) -> None:
        key = (name, resource_id, dimension)
        if self.scheduled.pop(key, None) is None:
            raise NotFound(f"no scheduled action {name} on {resource_id} {dimension}")
        self.scheduled_ran.pop(key, None)

    def _run_scheduled(self) -> None:
        """At a minute boundary: every one-time ``at(...)`` action whose moment has come
        and that has not run sets its target's min and max (``None``: that bound unchanged)
        and moves the capacity inside them, oldest moment first (AWS keeps the order of a
        target's actions).  ``cron``/``rate`` actions are kept and not run."""
        now = self.now()
        due = sorted(
            (moment, action.created or now, key)
            for key, action in self.scheduled.items()
            if key not in self.scheduled_ran and (moment := action.at) is not None and moment <= now
        )
        for _moment, _created, key in due:
            self.scheduled_ran[key] = now
            self._scheduled_action(self.scheduled[key])
        for target_key, why in list(self._bounds_due.items()):
            self._move_inside(target_key, why)

    def _scheduled_action(self, action: ScheduledAction) -> None:
        target_key = (action.resource_id, action.dimension)
        target = self.targets.get(target_key)
        if target is None:  # deregistered since: its actions went with it
            return
        low = target.min_capacity if action.min_capacity is None else action.min_capacity
        high = target.max_capacity if action.max_capacity is None else action.max_capacity
        why = f"scheduled action {action.name} ({action.schedule})"
        if low > high:
            self._scheduled_activity(
                target,
                "Failed",
                f"{why}: min {low} would be above max {high}; nothing changed",
                f"{why} was triggered",
                None,
            )
            return
        self.targets[target_key] = replace(target, min_capacity=low, max_capacity=high)
        # the capacity moves once all of this minute's actions have set their bounds
        self._bounds_due[target_key] = f"{why} set min {low}, max {high}"

    def _move_inside(self, target_key: tuple[str, str], why: str) -> None:
        """Move the capacity of ``target_key`` inside its [min, max] (a scheduled action just
        set them); wait while the table is UPDATING, as a second UpdateTable would be
        refused; a refusal by the rule book is recorded once and not retried."""
        target = self.targets.get(target_key)
        if target is None:
            self._bounds_due.pop(target_key, None)
            return
        table, index = self._check_target(*target_key)
        part = table.part(index)
        if table.mode is BillingMode.PAY_PER_REQUEST or part.capacity is None:
            self._bounds_due.pop(target_key, None)
            return
        if any(p.pending is not None for p in table.parts) or table.pending_class is not None:
            return  # UPDATING: try again at the next minute boundary
        self._bounds_due.pop(target_key, None)
        read = target.dimension in READ_DIMENSIONS
        current = part.capacity.read if read else part.capacity.write
        wanted = min(max(current, target.min_capacity), target.max_capacity)
        if wanted == current:
            return
        new = (
            Throughput(wanted, part.capacity.write)
            if read
            else Throughput(part.capacity.read, wanted)
        )
        change = TableChange(table=new) if index is None else TableChange(indexes=((index, new),))
        cause = f"{why}: capacity {current} → {wanted}"
        try:
            self.update_table(table.name, change)
        except Exception as error:  # a refusal by the rule book: recorded, never raised
            self._scheduled_activity(target, "Failed", str(error), cause, wanted)
            return
        self._scheduled_activity(target, "Successful", "", cause, wanted)

    def _scheduled_activity(
        self,
        target: ScalableTarget,
        status: str,
        message: str,
        cause: str,
        capacity: int | None,
    ) -> None:
        word = "read" if target.dimension in READ_DIMENSIONS else "write"
        description = (
            f"Setting {word} capacity units to {capacity}."
            if capacity is not None
            else f"No change to {word} capacity units."
        )
        self.activities.append(
            ScalingActivity(
                resource_id=target.resource_id,
                dimension=target.dimension,
                start=self.now(),
                description=description,
                cause=cause,
                status=status,  # type: ignore[arg-type]
                end=self.now(),
                status_message=message,
            )
        )

    def _engine(self, key: tuple[str, str, str], spec: ScalingPolicy) -> _Engine:
        engine = self._engines.get(key)
        if engine is None or engine.spec != spec:
            policy = make_policy(self.aas_policy, spec.target_value)
            if isinstance(policy, TargetTracking):
                policy.scale_out_cooldown = spec.scale_out_cooldown
                policy.scale_in_cooldown = spec.scale_in_cooldown
                policy.disable_scale_in = spec.disable_scale_in
            elif isinstance(policy, Capcon):
                policy.disable_scale_in = spec.disable_scale_in
            if self.policy_setup is not None:
                self.policy_setup(policy, spec)
            engine = self._engines[key] = _Engine(policy, spec)
        return engine

    def observe(self, rid: str, dimension: str, *, minutes: int = 20) -> Observation:
        """What a policy on this target can see now: the published 1-minute datapoints."""
        table, index = self._check_target(rid, dimension)
        part = table.part(index)
        read = dimension in READ_DIMENSIONS
        word = "Read" if read else "Write"
        dims = [("TableName", table.name)]
        if index:
            dims.append(("GlobalSecondaryIndexName", index))
        now = self.now()
        start = now - timedelta(
            minutes=minutes + math.ceil(self.settings.metric_delay_seconds / 60)
        )
        consumed, throttled = self.store.query(
            [
                MetricQuery("c", "AWS/DynamoDB", f"Consumed{word}CapacityUnits", tuple(dims)),
                MetricQuery("t", "AWS/DynamoDB", f"{word}ThrottleEvents", tuple(dims)),
            ],
            start,
            now,
            now,
        )
        target = self.targets[(rid, dimension)]
        capacity = 0
        if part.capacity is not None:
            capacity = part.capacity.read if read else part.capacity.write
        throttles = dict(zip(throttled.timestamps, throttled.values, strict=True))
        changed_at = part.read_changed_at if read else part.write_changed_at
        return Observation(
            now=now,
            capacity=capacity,
            min_capacity=target.min_capacity,
            max_capacity=target.max_capacity,
            updating=part.pending is not None,
            minutes=consumed.timestamps,
            consumed=tuple(v / 60 for v in consumed.values),
            throttled=tuple(throttles.get(t, 0.0) / 60 for t in consumed.timestamps),
            capacity_since=(
                None if changed_at is None else self.epoch + timedelta(seconds=changed_at)
            ),
            decrease_budget=decrease_budget(part.history, now, self.rules),
            next_decrease_after_one=decrease_budget(
                after_decrease(part.history, now), now, self.rules
            ).next_allowed_at,
            update_seconds=self.settings.update_seconds,
            metric_delay_seconds=self.settings.metric_delay_seconds,
            split_above=split_above(part.capacity, part.partitions, read, self.rules),
        )

    def _autoscale(self) -> None:
        """Evaluate every policy at a minute boundary, as AAS's alarms do."""
        for key, spec in list(self.policies.items()):
            target = self.targets.get((spec.resource_id, spec.dimension))
            if target is None or target.suspended:
                continue
            table, index = self._check_target(spec.resource_id, spec.dimension)
            if table.mode is BillingMode.PAY_PER_REQUEST:
                continue
            engine = self._engine(key, spec)
            decision = engine.policy.decide(self.observe(spec.resource_id, spec.dimension))
            self.decisions.append((self.now(), spec.resource_id, spec.dimension, decision))
            if decision.capacity is None:
                if decision.alarm and decision.reason != engine.last_reason:
                    self._activity(spec, decision, "Unfulfilled", decision.reason)
                engine.last_reason = decision.reason
                continue
            engine.last_reason = decision.reason
            if self._scale(table, index, spec.dimension, decision.capacity, decision, spec):
                engine.policy.applied(decision, self.now())

    def _scale(
        self,
        table: SimTable,
        index: str | None,
        dimension: str,
        capacity: int,
        decision: Decision,
        spec: ScalingPolicy,
    ) -> bool:
        part = table.part(index)
        assert part.capacity is not None
        read = dimension in READ_DIMENSIONS
        new = (
            Throughput(capacity, part.capacity.write)
            if read
            else Throughput(part.capacity.read, capacity)
        )
        change = TableChange(table=new) if index is None else TableChange(indexes=((index, new),))
        try:
            self.update_table(table.name, change)
        except Exception as error:  # a refusal by the rule book: recorded, never raised
            self._activity(spec, decision, "Failed", str(error))
            return False
        self._activity(spec, decision, "Successful", "")
        return True

    def _activity(self, spec: ScalingPolicy, decision: Decision, status: str, message: str) -> None:
        word = "read" if spec.dimension in READ_DIMENSIONS else "write"
        last = next(
            (
                a
                for a in reversed(self.activities)
                if a.resource_id == spec.resource_id and a.dimension == spec.dimension
            ),
            None,
        )
        if (
            status == "Failed"
            and last is not None
            and last.status == "Failed"
            and last.status_message == message
        ):
            return  # the same refusal again: one activity says it
        description = (
            f"Setting {word} capacity units to {decision.capacity}."
            if decision.capacity is not None
            else f"No change to {word} capacity units."
        )
        self.activities.append(
            ScalingActivity(
                resource_id=spec.resource_id,
                dimension=spec.dimension,
                start=self.now(),
                description=description,
                cause=f"policy {spec.name} ({self.aas_policy}): {decision.reason}",
                status=status,  # type: ignore[arg-type]
                end=self.now(),
                status_message=message,
            )
        )


class SimControls:
    """The simulated account's :class:`~capcon.core.ports.SimulationControls`."""

    def __init__(self, account: SimAccount) -> None:
        self._account = account

    def now(self) -> datetime:
        return self._account.now()

    @property
    def paused(self) -> bool:
        return self._account.clock.paused

    def pause(self) -> None:
        self._account.clock.paused = True

    def resume(self) -> None:
        self._account.clock.paused = False

    @property
    def speed(self) -> float:
        return self._account.clock.speed

    @speed.setter
    def speed(self, value: float) -> None:
        self._account.clock.speed = value  # checked: a SpeedError (ValueError) outside the range

    @property
    def speed_range(self) -> tuple[float, float]:
        return (MIN_SPEED, MAX_SPEED)

    def tick(self, real_seconds: float) -> int:
        return self._account.tick(real_seconds)

    def step(self, seconds: int) -> None:
        self._account.step(seconds)

    def provisioned_in_use(self) -> Throughput:
        used = self._account._account_capacity()
        return Throughput(used.read_units, used.write_units)

    def reshard_history(self, stream: str) -> tuple[datetime, ...]:
        return tuple(self._account._stream(stream).reshard_history)

    def hot_key(self, table: str, index: str | None = None) -> float:
        return self._account.hot_key(table, index)

    def set_hot_key(self, table: str, share: float, index: str | None = None) -> None:
        self._account.set_hot_key(table, share, index)

    def shard_times(self, stream: str) -> dict[str, tuple[datetime, datetime | None]]:
        return self._account.shard_times(stream)


def _single_step_plan(stream: SimStream, step: ReshardStep, now: datetime) -> ReshardPlan:
    opened = len(stream.open_shards())
    after = opened + (1 if step.kind == "split" else -1)
    return ReshardPlan(
        strategy="targeted",
        stream_name=stream.name,
        current_open=opened,
        requested_target=after,
        target_open=after,
        reached_target=True,
        steps=(step,),
        shards_created=step.created_labels,
        shards_closed=step.closes,
        short_lived=(),
        existing_closed=step.closes,
        peak_open=max(opened, after),
        final_ranges=(),
        final_labels=(),
        closed_readable_until=now + timedelta(hours=stream.retention_hours),
        estimate=False,
    )


#: ``ScheduledActionName``: 1–256 characters, no control character, none of ``: / |``, no
#: space at either end (the botocore model's pattern).
_ACTION_NAME = re.compile(r"\A(?! )[^\x00-\x1f\x7f-\x9f:/|]{1,256}(?<! )\Z")
_AT = re.compile(r"\Aat\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\)\Z")
_RATE = re.compile(r"\Arate\(([1-9]\d*) (minute|minutes|hour|hours|day|days)\)\Z")
_CRON = re.compile(r"\Acron\(\S+( \S+){5}\)\Z")


def scheduled_action_problem(action: ScheduledAction) -> str | None:
    """What is wrong with ``action`` for ``PutScheduledAction``, in words, or ``None``."""
    if not _ACTION_NAME.match(action.name):
        return (
            f"scheduled action name {action.name!r} is not allowed: 1–256 characters, no "
            "control characters, none of ':', '/', '|', no space at either end"
        )
    schedule = action.schedule
    if not (_AT.match(schedule) or _RATE.match(schedule) or _CRON.match(schedule)):
        return (
            f"schedule {schedule!r} is not allowed: at(yyyy-mm-ddThh:mm:ss), "
            "rate(N minute|minutes|hour|hours|day|days) or cron(6 fields)"
        )
    if action.timezone:
        try:
            ZoneInfo(action.timezone)
        except (ValueError, KeyError, OSError):
            return f"time zone {action.timezone!r} is not an IANA time zone name"
    if _AT.match(schedule) and action.at is None:
        return f"schedule {schedule!r} is not a valid date and time"
    for field_name, value in (
        ("MinCapacity", action.min_capacity),
        ("MaxCapacity", action.max_capacity),
    ):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1
        ):
            return f"{field_name} {value!r} is not allowed: a whole number ≥ 1"
    if (
        action.min_capacity is not None
        and action.max_capacity is not None
        and action.min_capacity > action.max_capacity
    ):
        return f"MinCapacity {action.min_capacity} is above MaxCapacity {action.max_capacity}"
    return None
