"""Simulated DynamoDB tables and GSIs: demand, burst, partitions, hot keys, updates.

Per second (or per ``dt``-second sample when fast-forwarding history):

* **Provisioned**: consumed = demand while it fits the capacity plus the burst bucket.  The
  bucket banks unused capacity up to ``burst_seconds`` (300 s, as AWS documents) of it; the
  rest is throttled.
* **Hot keys and partitions**: a share ``hot_share`` of the demand goes to one partition key.
  That partition can serve its even share of the capacity (capacity / partitions) times
  ``adaptive_boost`` (adaptive capacity), never more than the per-partition maximum (3,000
  RCU / 1,000 WCU).  So a diluted table — many partitions from an earlier scale-up, low
  capacity now — throttles a hot key while the table as a whole is under capacity
  (field note C, docs/field-notes.md#partition-dilution).  Partitions come from the core
  estimator and never decrease.  Each GSI may have a hot key of its own (a trainer's, from
  the console), else it has the table's.
* **GSIs** have their own capacity and burst.  A GSI receives ``write_ratio`` of the table's
  writes; when it throttles them, the table's writes are throttled too (as AWS does).
* **On-demand**: serves instantly up to twice the peak of the last 30 minutes (at least the
  initial warm throughput of a new on-demand table); no burst bucket.
* **UpdateTable**: the part goes ``UPDATING`` and the new capacity takes effect after
  ``update_seconds``.  Requests are checked by the core rule book before anything changes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

from capcon.core.backends.sim.metrics import MetricStore, metric_key
from capcon.core.backends.sim.traffic import Pattern
from capcon.core.model import (
    BillingMode,
    Index,
    Replica,
    ReplicaScaling,
    Table,
    TableClass,
    Throughput,
    ThroughputHistory,
    WarmThroughput,
)
from capcon.core.planning.partitions import (
    PartitionEstimate,
    after_capacity_change,
    after_warm_change,
    estimate_partitions,
)
from capcon.core.rules import RuleSettings, after_decrease

NAMESPACE = "AWS/DynamoDB"


@dataclass(frozen=True, slots=True)
class SimSettings:
    """How the simulated account behaves where AWS leaves room (all overridable)."""

    update_seconds: int = 60
    mode_switch_seconds: int = 120
    burst_seconds: int = 300
    adaptive_boost: float = 1.5
    on_demand_initial_read: float = 12_000.0
    on_demand_initial_write: float = 4_000.0
    on_demand_peak_minutes: int = 30
    metric_delay_seconds: int = 120
    reshard_base_seconds: int = 30
    reshard_seconds_per_step: int = 2
    split_merge_seconds: int = 10


class _Dim:
    """One served dimension (reads or writes) of a table or GSI."""

    __slots__ = ("bucket", "minute_peak", "peaks")

    def __init__(self, capacity: float, burst_seconds: int, peak_minutes: int) -> None:
        self.bucket = capacity * burst_seconds  # start with a full burst bucket
        self.peaks: deque[float] = deque(maxlen=peak_minutes)
        self.minute_peak = 0.0

    def recent_peak(self) -> float:
        """The peak of the closed minutes in the on-demand window (not the running minute,
        so the answer does not depend on how finely time is stepped)."""
        return max(self.peaks, default=0.0)

    def close_minute(self) -> None:
        self.peaks.append(self.minute_peak)
        self.minute_peak = 0.0

    def serve(
        self,
        demand: list[float],
        dt: float,
        cap: float,
        bucket_max: float,
        hot_share: float,
        hot_limit: float,
        per_sample: list[float] | None = None,
        accepted: list[float] | None = None,
    ) -> tuple[float, float]:
        """Serve ``demand`` (units/s, one sample per ``dt`` s): (consumed, throttled) units.

        ``per_sample``, when given, receives the throttled units of each sample, and
        ``accepted`` the rate served in each sample (units/s).
        """
        bucket = min(self.bucket, bucket_max)
        if (
            not hot_share
            and per_sample is None
            and accepted is None
            and bucket >= bucket_max
            and (top := max(demand, default=0.0)) <= cap
        ):
            self.bucket = bucket
            if top > self.minute_peak:
                self.minute_peak = top
            return sum(demand) * dt, 0.0
        consumed = throttled = 0.0
        peak = self.minute_peak
        for d in demand:
            t = 0.0
            if hot_share:
                hot = d * hot_share
                if hot > hot_limit:
                    t = hot - hot_limit
                    d -= t
            if d <= cap:
                bucket += (cap - d) * dt
                if bucket > bucket_max:
                    bucket = bucket_max
            else:
                need = (d - cap) * dt
                if need <= bucket:
                    bucket -= need
                else:
                    served = cap + bucket / dt
                    t += d - served
                    d = served
                    bucket = 0.0
            consumed += d * dt
            throttled += t * dt
            if d > peak:
                peak = d
            if per_sample is not None:
                per_sample.append(t * dt)
            if accepted is not None:
                accepted.append(d)
        self.bucket = bucket
        self.minute_peak = peak
        return consumed, throttled


@dataclass
class Pending:
    """A change waiting to take effect at ``at`` (simulated seconds since the epoch)."""

    at: int
    capacity: Throughput | None
    mode: BillingMode


@dataclass
class SimPart:
    """The table itself (``index`` None) or one GSI."""

    index: str | None
    capacity: Throughput | None
    reads: Pattern
    writes: Pattern | None = None  # the table's own writes; GSIs use write_ratio
    write_ratio: float = 1.0
    size_bytes: int = 0
    item_count: int = 0
    history: ThroughputHistory = field(default_factory=ThroughputHistory)
    pending: Pending | None = None
    estimate: PartitionEstimate | None = None
    read: _Dim | None = None
    write: _Dim | None = None
    #: simulated second the current read / write capacity took effect
    read_changed_at: int | None = None
    write_changed_at: int | None = None
    #: pre-warmed values (``UpdateTable WarmThroughput``): warm throughput never goes below
    warm_floor: WarmThroughput | None = None
    #: ``OnDemandThroughput``: on-demand requests above it throttle (0: no maximum)
    on_demand_max: Throughput | None = None
    #: this part's own hot key (a trainer's, from the console); ``None``: the table's
    hot_share: float | None = None

    @property
    def status(self) -> str:
        return "UPDATING" if self.pending else "ACTIVE"

    @property
    def partitions(self) -> int:
        assert self.estimate is not None
        return self.estimate.count


class Simulated(ABC):
    """A simulated resource that serves demand in segments between its pending changes."""

    @abstractmethod
    def next_change(self) -> int | None:
        """When the next pending change takes effect (simulated second), if any."""

    @abstractmethod
    def _segment(self, t0: int, t1: int, minute: int, store: MetricStore, dt: int) -> None:
        """Serve demand from ``t0`` to ``t1`` with no change taking effect in between."""

    @abstractmethod
    def _apply_due(self, t: int) -> None:
        """Carry out the changes due at ``t``."""

    def run(self, t0: int, t1: int, minute: int, store: MetricStore, dt: int = 1) -> None:
        """Serve demand from ``t0`` to ``t1`` (simulated seconds, inside one minute), splitting
        the span where a pending change takes effect."""
        while t0 < t1:
            cut = t1
            nxt = self.next_change()
            if nxt is not None and t0 < nxt < t1:
                cut = nxt
            self._segment(t0, cut, minute, store, dt)
            self._apply_due(cut)
            t0 = cut


class SimTable(Simulated):
    """One simulated table with its GSIs."""

    def __init__(
        self,
        name: str,
        *,
        mode: BillingMode,
        parts: list[SimPart],
        hot_share: float,
        created: datetime,
        rules: RuleSettings,
        settings: SimSettings,
        region: str,
        account_id: str,
    ) -> None:
        self.name = name
        self.mode = mode
        self.parts = parts
        self.hot_share = hot_share
        self.created = created
        self.rules = rules
        self.settings = settings
        self.arn = f"arn:aws:dynamodb:{region}:{account_id}:table/{name}"
        self.last_switch_to_on_demand: datetime | None = None
        self.table_class = TableClass.STANDARD
        #: Every class update, as AWS counts them (it reports only the last).
        self.class_updates: list[datetime] = []
        #: A class switch under way: (when it takes effect, in elapsed seconds; the class).
        self.pending_class: tuple[int, TableClass] | None = None
        self.replicas: tuple[Replica, ...] = ()
        self.replica_scaling: tuple[ReplicaScaling, ...] = ()
        for part in parts:
            cap = part.capacity or Throughput(0, 0)
            part.read = _Dim(cap.read, settings.burst_seconds, settings.on_demand_peak_minutes)
            part.write = _Dim(cap.write, settings.burst_seconds, settings.on_demand_peak_minutes)
            if part.estimate is None:
                part.estimate = estimate_partitions(part.capacity, part.size_bytes, rules)
        self._keys = {
            part.index: {
                metric: metric_key(NAMESPACE, metric, self._dims(part.index))
                for metric in (
                    "ConsumedReadCapacityUnits",
                    "ConsumedWriteCapacityUnits",
                    "ReadThrottleEvents",
                    "WriteThrottleEvents",
                    "ProvisionedReadCapacityUnits",
                    "ProvisionedWriteCapacityUnits",
                )
            }
            for part in parts
        }

    def _dims(self, index: str | None) -> tuple[tuple[str, str], ...]:
        if index is None:
            return (("TableName", self.name),)
        return (("TableName", self.name), ("GlobalSecondaryIndexName", index))

    @property
    def table(self) -> SimPart:
        return self.parts[0]

    def hot_of(self, part: SimPart) -> float:
        """Share of ``part``'s traffic on its one hot partition key: its own, or the table's."""
        return self.hot_share if part.hot_share is None else part.hot_share

    def part(self, index: str | None) -> SimPart:
        for part in self.parts:
            if part.index == index:
                return part
        raise KeyError(index)

    # ----------------------------------------------------------------------------------------

    def _history(self, part: SimPart, now: datetime) -> ThroughputHistory:
        """``NumberOfDecreasesToday`` counts the current UTC day, as AWS reports it."""
        h = part.history
        if h.last_decrease is not None and h.last_decrease.date() < now.astimezone(UTC).date():
            return ThroughputHistory(0, h.last_decrease, h.last_increase)
        return h

    def to_model(self, now: datetime) -> Table:
        """The table as ``DescribeTable`` would show it at ``now``."""
        table = self.table
        indexes = tuple(
            Index(
                name=part.index or "",
                status=part.status,
                provisioned=part.capacity if self.mode is BillingMode.PROVISIONED else None,
                history=self._history(part, now),
                warm=self._warm(part),
                size_bytes=part.size_bytes,
                item_count=part.item_count,
                on_demand_max=part.on_demand_max,
            )
            for part in self.parts[1:]
        )
        busy = any(p.pending for p in self.parts) or self.pending_class is not None
        return Table(
            name=self.name,
            status="UPDATING" if busy else "ACTIVE",
            billing_mode=self.mode,
            provisioned=table.capacity if self.mode is BillingMode.PROVISIONED else None,
            history=self._history(table, now),
            warm=self._warm(table),
            size_bytes=table.size_bytes,
            item_count=table.item_count,
            indexes=indexes,
            arn=self.arn,
            created=self.created,
            last_switch_to_on_demand=self.last_switch_to_on_demand,
            on_demand_max=table.on_demand_max,
            table_class=self.table_class,
            table_class_updated=self.class_updates[-1] if self.class_updates else None,
            replicas=self.replicas,
            global_table_version="2019.11.21" if self.replicas else None,
        )

    def _warm(self, part: SimPart) -> WarmThroughput:
        """Warm throughput: what the partitions serve instantly, or what it was pre-warmed to
        if more (it never decreases)."""
        p = part.partitions
        floor = part.warm_floor
        return WarmThroughput(
            read_units_per_second=max(
                p * self.rules.read_units_per_partition,
                floor.read_units_per_second if floor else 0,
            ),
            write_units_per_second=max(
                p * self.rules.write_units_per_partition,
                floor.write_units_per_second if floor else 0,
            ),
        )

    def prewarm(self, index: str | None, warm: WarmThroughput) -> None:
        """Apply an already-validated pre-warm: AWS splits partitions ahead of traffic, so the
        partitions grow to what the warm values need (per dimension) and never shrink."""
        part = self.part(index)
        assert part.estimate is not None
        floor = part.warm_floor
        part.warm_floor = WarmThroughput(
            max(warm.read_units_per_second, floor.read_units_per_second if floor else 0),
            max(warm.write_units_per_second, floor.write_units_per_second if floor else 0),
        )
        part.estimate = after_warm_change(part.estimate, part.warm_floor, self.rules)

    def limit(self, index: str | None, limit: Throughput) -> None:
        """Set an already-validated on-demand maximum (0 in a dimension: none)."""
        part = self.part(index)
        part.on_demand_max = None if limit == Throughput(0, 0) else limit

    # ----------------------------------------------------------------------------------------

    def request(
        self,
        index: str | None,
        capacity: Throughput | None,
        mode: BillingMode,
        now_s: int,
        now: datetime,
    ) -> None:
        """Accept an already-validated change for one part: UPDATING until it takes effect."""
        part = self.part(index)
        delay = (
            self.settings.mode_switch_seconds
            if mode is not self.mode
            else self.settings.update_seconds
        )
        before = part.capacity
        if before is not None and capacity is not None and mode is self.mode:
            if capacity.read < before.read or capacity.write < before.write:
                part.history = after_decrease(part.history, now)
            if capacity.read > before.read or capacity.write > before.write:
                part.history = ThroughputHistory(
                    part.history.decreases_today, part.history.last_decrease, now
                )
        part.pending = Pending(now_s + delay, capacity, mode)

    def request_class(self, table_class: TableClass, now_s: int, now: datetime) -> None:
        """Accept an already-validated table class switch: UPDATING until it takes effect."""
        self.class_updates.append(now)
        self.pending_class = (now_s + self.settings.update_seconds, table_class)

    def _apply_due(self, t: int) -> None:
        if self.pending_class is not None and self.pending_class[0] <= t:
            self.table_class = self.pending_class[1]
            self.pending_class = None
        for part in self.parts:
            pending = part.pending
            if pending is None or pending.at > t:
                continue
            part.pending = None
            if pending.mode is not self.mode and part.index is None:
                self.mode = pending.mode
            if pending.capacity is not None:
                assert part.estimate is not None
                part.estimate = after_capacity_change(
                    part.estimate,
                    pending.capacity,
                    part.size_bytes,
                    self.rules,
                    warm=self._warm(part),
                )
                old = part.capacity
                if old is None or old.read != pending.capacity.read:
                    part.read_changed_at = t
                if old is None or old.write != pending.capacity.write:
                    part.write_changed_at = t
                part.capacity = pending.capacity
            elif pending.mode is BillingMode.PAY_PER_REQUEST:
                part.capacity = None

    def next_change(self) -> int | None:
        times = [p.pending.at for p in self.parts if p.pending]
        if self.pending_class is not None:
            times.append(self.pending_class[0])
        return min(times) if times else None

    # ----------------------------------------------------------------------------------------

    def _limits(self, part: SimPart, dim: _Dim, read: bool) -> tuple[float, float, float]:
        """(capacity, burst bucket max, hot-key limit) of one dimension, per second."""
        per_partition_max = (
            self.rules.read_units_per_partition if read else self.rules.write_units_per_partition
        )
        if self.mode is BillingMode.PAY_PER_REQUEST or part.capacity is None:
            floor = (
                self.settings.on_demand_initial_read
                if read
                else self.settings.on_demand_initial_write
            )
            cap = max(floor, 2 * dim.recent_peak())
            limit = part.on_demand_max
            most = (limit.read if read else limit.write) if limit is not None else 0
            if most > 0:  # OnDemandThroughput: requests above the maximum throttle
                cap = min(cap, float(most))
            return cap, 0.0, float(per_partition_max)
        cap = float(part.capacity.read if read else part.capacity.write)
        share = cap / part.partitions * self.settings.adaptive_boost
        return cap, cap * self.settings.burst_seconds, min(float(per_partition_max), share)

    def _segment(self, t0: int, t1: int, minute: int, store: MetricStore, dt: int) -> None:
        span = t1 - t0
        step = dt if span % dt == 0 else 1
        n = span // step
        table = self.table
        assert table.writes is not None
        writes = table.writes.rates(t0, n, step)
        assert table.write is not None
        cap, bmax, hot = self._limits(table, table.write, read=False)
        accepted: list[float] | None = [] if len(self.parts) > 1 else None
        consumed, throttled = table.write.serve(
            writes, step, cap, bmax, self.hot_of(table), hot, accepted=accepted
        )
        blocked_total = 0.0
        if accepted is not None:
            # A GSI receives only the writes the table accepted; what a GSI throttles is
            # throttled for the table too (AWS rejects the base-table write).
            blocked = [0.0] * len(accepted)
            for part in self.parts[1:]:
                assert part.write is not None
                ratio = part.write_ratio
                g_cap, g_bmax, g_hot = self._limits(part, part.write, read=False)
                per: list[float] = []
                g_consumed, g_throttled = part.write.serve(
                    [a * ratio for a in accepted],
                    step,
                    g_cap,
                    g_bmax,
                    self.hot_of(part),
                    g_hot,
                    per,
                )
                self._record(part, minute, "Write", g_consumed, g_throttled, g_cap, span, store)
                if g_throttled and ratio > 0:
                    blocked = [max(b, x / ratio / step) for b, x in zip(blocked, per, strict=True)]
            blocked_total = sum(blocked) * step
            if blocked_total:
                consumed -= blocked_total
                throttled += blocked_total
                table.write.bucket = min(
                    table.write.bucket + blocked_total, cap * self.settings.burst_seconds
                )
        for part in self.parts[1:]:
            self._serve_reads(part, t0, n, step, minute, span, store)
        self._record(table, minute, "Write", consumed, throttled, cap, span, store)
        self._serve_reads(table, t0, n, step, minute, span, store)

    def _serve_reads(
        self, part: SimPart, t0: int, n: int, step: int, minute: int, span: int, store: MetricStore
    ) -> None:
        assert part.read is not None
        reads = part.reads.rates(t0, n, step)
        cap, bmax, hot = self._limits(part, part.read, read=True)
        consumed, throttled = part.read.serve(reads, step, cap, bmax, self.hot_of(part), hot)
        self._record(part, minute, "Read", consumed, throttled, cap, span, store)

    def _record(
        self,
        part: SimPart,
        minute: int,
        dim: str,
        consumed: float,
        throttled: float,
        cap: float,
        span: int,
        store: MetricStore,
    ) -> None:
        keys = self._keys[part.index]
        store.record(keys[f"Consumed{dim}CapacityUnits"], minute, consumed, span)
        store.record(keys[f"{dim}ThrottleEvents"], minute, throttled, span)
        if part.capacity is not None and self.mode is BillingMode.PROVISIONED:
            store.record(keys[f"Provisioned{dim}CapacityUnits"], minute, cap * span, span, cap, cap)

    def close_minute(self) -> None:
        for part in self.parts:
            assert part.read is not None and part.write is not None
            part.read.close_minute()
            part.write.close_minute()
