"""Simulated Kinesis streams: shards with hash ranges, per-shard limits, resharding.

Each open shard takes its share of the records (uniform over the key space, plus a hot key's
share on the shard that owns it) and accepts at most 1,000 records/s and 1 MiB/s; the rest
is rejected (``WriteProvisionedThroughputExceeded``).  Consumers read up to 2 MiB/s per shard;
what they cannot read piles up and shows as iterator age.  On-demand streams serve up to twice
the peak of the last 30 minutes (at least 4 MB/s and 4,000 records/s).

``UpdateShardCount``, ``SplitShard`` and ``MergeShards`` are checked by the core rule book,
put the stream in ``UPDATING``, and after a delay replace the shards the way the core reshard
planner describes; closed shards stay listed until the retention period has passed.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime

from capcon.core.backends.sim.metrics import MetricStore, metric_key
from capcon.core.backends.sim.tables import SimSettings, Simulated
from capcon.core.backends.sim.traffic import StreamLoad
from capcon.core.model import HashRange, Shard, Stream, StreamMode
from capcon.core.planning.reshard import ReshardPlan, uniform_ranges
from capcon.core.rules import RuleSettings

NAMESPACE = "AWS/Kinesis"
SEQUENCE_BASE = 49_590_000_000_000_000_000_000_000_000_000_000_000_000_000_000


@dataclass
class SimShard:
    shard_id: str
    hash_range: HashRange
    parent_id: str | None = None
    adjacent_parent_id: str | None = None
    opened_at: int = 0
    closed_at: int | None = None
    start_seq: int = 0
    end_seq: int | None = None

    def to_model(self) -> Shard:
        start = str(SEQUENCE_BASE + self.start_seq)
        end = None if self.end_seq is None else str(SEQUENCE_BASE + self.end_seq)
        return Shard(
            self.shard_id,
            self.hash_range,
            self.parent_id,
            self.adjacent_parent_id,
            start,
            end,
        )


@dataclass
class PendingReshard:
    at: int
    #: (closes, creates, created_labels) per step, labels as the reshard plan names them
    steps: tuple[tuple[tuple[str, ...], tuple[HashRange, ...], tuple[str, ...]], ...]
    mode: StreamMode | None = None


class SimStream(Simulated):
    """One simulated stream."""

    def __init__(
        self,
        name: str,
        *,
        mode: StreamMode,
        shard_count: int,
        load: StreamLoad,
        consumers: int,
        retention_hours: int,
        created: datetime,
        rules: RuleSettings,
        settings: SimSettings,
        region: str,
        account_id: str,
        shard_metrics: bool = True,
        efo_consumers: int = 0,
    ) -> None:
        self.name = name
        self.mode = mode
        self.load = load
        self.consumers = consumers
        #: Enhanced fan-out consumers: each has its own 2 MiB/s per shard (no backlog here),
        #: and is what ``ConsumerCount`` counts (``consumers`` read through GetRecords).
        self.efo_consumers = efo_consumers
        self.retention_hours = retention_hours
        self.created = created
        self.rules = rules
        self.settings = settings
        self.shard_metrics = shard_metrics
        self.arn = f"arn:aws:kinesis:{region}:{account_id}:stream/{name}"
        self._seq = 0  # sequence numbers only grow: children start after their parents end
        self.shards: list[SimShard] = [
            SimShard(f"shardId-{i:012d}", r, start_seq=self._next_seq())
            for i, r in enumerate(uniform_ranges(shard_count))
        ]
        self._next_id = shard_count
        self.pending: PendingReshard | None = None
        self.reshard_history: list[datetime] = []
        self.mode_switches: list[datetime] = []
        self.backlog_bytes = 0.0
        self._peaks: deque[tuple[float, float]] = deque(maxlen=settings.on_demand_peak_minutes)
        self._minute_peak = (0.0, 0.0)
        self._shares: list[float] | None = None
        dims = (("StreamName", self.name),)
        self._keys = {
            m: metric_key(NAMESPACE, m, dims)
            for m in (
                "IncomingBytes",
                "IncomingRecords",
                "WriteProvisionedThroughputExceeded",
                "GetRecords.IteratorAgeMilliseconds",
                "GetRecords.Bytes",
            )
        }

    def _next_seq(self) -> int:
        self._seq += 1_000
        return self._seq

    @property
    def status(self) -> str:
        return "UPDATING" if self.pending else "ACTIVE"

    def open_shards(self) -> list[SimShard]:
        return sorted((s for s in self.shards if s.closed_at is None), key=lambda s: s.hash_range)

    def to_model(self, now_s: int) -> Stream:
        horizon = now_s - self.retention_hours * 3600
        shards = tuple(
            s.to_model() for s in self.shards if s.closed_at is None or s.closed_at > horizon
        )
        return Stream(
            name=self.name,
            status=self.status,
            mode=self.mode,
            retention_hours=self.retention_hours,
            shards=shards,
            arn=self.arn,
            created=self.created,
            reported_open_shards=len(self.open_shards()),
            consumer_count=self.efo_consumers,
            on_demand_advantage=False,  # the simulated account is billed On-demand Standard
        )

    # --- resharding ----------------------------------------------------------------------

    def schedule(self, plan: ReshardPlan, now_s: int, now: datetime, *, counted: bool) -> None:
        """Carry out a (validated) reshard plan after a delay; ``counted``: UpdateShardCount."""
        steps = tuple((s.closes, s.creates, s.created_labels) for s in plan.steps)
        delay = self.settings.reshard_base_seconds + self.settings.reshard_seconds_per_step * len(
            steps
        )
        if not counted:
            delay = self.settings.split_merge_seconds
        self.pending = PendingReshard(now_s + delay, steps)
        if counted:
            self.reshard_history.append(now)

    def schedule_mode(self, mode: StreamMode, now_s: int, now: datetime) -> None:
        self.pending = PendingReshard(now_s + self.settings.mode_switch_seconds, (), mode)
        self.mode_switches.append(now)

    def _apply_due(self, t: int) -> None:
        pending = self.pending
        if pending is None or pending.at > t:
            return
        self.pending = None
        if pending.mode is not None:
            self.mode = pending.mode
        by_label: dict[str, SimShard] = {s.shard_id: s for s in self.shards}
        for closes, creates, labels in pending.steps:
            parents = [by_label[label] for label in closes]
            for parent in parents:
                parent.closed_at = t
                parent.end_seq = self._next_seq()
            for rng, label in zip(creates, labels, strict=True):
                shard = SimShard(
                    f"shardId-{self._next_id:012d}",
                    rng,
                    parents[0].shard_id,
                    parents[1].shard_id if len(parents) > 1 else None,
                    opened_at=t,
                    start_seq=self._next_seq(),
                )
                self._next_id += 1
                self.shards.append(shard)
                by_label[label] = shard
        self._shares = None
        horizon = t - self.retention_hours * 3600
        self.shards = [s for s in self.shards if s.closed_at is None or s.closed_at > horizon]

    def next_change(self) -> int | None:
        return self.pending.at if self.pending else None

    # --- traffic -------------------------------------------------------------------------

    def _capacity(self) -> tuple[float, float]:
        """On-demand write capacity (bytes/s, records/s) from the recent peak."""
        # closed minutes only, so the answer does not depend on how finely time is stepped
        peak_bytes = max((p[0] for p in self._peaks), default=0.0)
        peak_records = max((p[1] for p in self._peaks), default=0.0)
        return max(4e6, 2 * peak_bytes), max(4_000.0, 2 * peak_records)

    def _segment(self, t0: int, t1: int, minute: int, store: MetricStore, dt: int) -> None:
        span = t1 - t0
        step = dt if span % dt == 0 else 1
        n = span // step
        records = self.load.records.rates(t0, n, step)
        size = self.load.record_bytes
        opened = self.open_shards()
        accepted_records = rejected = 0.0
        if self.mode is StreamMode.ON_DEMAND:
            cap_bytes, cap_records = self._capacity()
            limit = min(cap_records, cap_bytes / size)
            for r in records:
                ok = r if r <= limit else limit
                accepted_records += ok * step
                rejected += (r - ok) * step
            peak = max(records, default=0.0)
            peak = min(peak, limit)
            if peak * size > self._minute_peak[0]:
                self._minute_peak = (peak * size, peak)
        else:
            if self._shares is None:
                self._shares = self.load.keys.shard_shares([s.hash_range for s in opened])
            per_shard_limit = min(
                float(self.rules.shard_write_records_per_second),
                self.rules.shard_write_bytes_per_second / size,
            )
            top = max(records, default=0.0)
            for shard, share in zip(opened, self._shares, strict=True):
                if top * share <= per_shard_limit:
                    ok_total = sum(records) * share * step
                    bad_total = 0.0
                else:
                    ok_total = bad_total = 0.0
                    for r in records:
                        demand = r * share
                        ok = demand if demand <= per_shard_limit else per_shard_limit
                        ok_total += ok * step
                        bad_total += (demand - ok) * step
                accepted_records += ok_total
                rejected += bad_total
                if self.shard_metrics:
                    dims = (("ShardId", shard.shard_id), ("StreamName", self.name))
                    store.record(
                        metric_key(NAMESPACE, "IncomingRecords", dims), minute, ok_total, span
                    )
                    store.record(
                        metric_key(NAMESPACE, "IncomingBytes", dims), minute, ok_total * size, span
                    )
                    store.record(
                        metric_key(NAMESPACE, "WriteProvisionedThroughputExceeded", dims),
                        minute,
                        bad_total,
                        span,
                    )
        accepted_bytes = accepted_records * size
        keys = self._keys
        store.record(keys["IncomingRecords"], minute, accepted_records, span)
        store.record(keys["IncomingBytes"], minute, accepted_bytes, span)
        store.record(keys["WriteProvisionedThroughputExceeded"], minute, rejected, span)
        # Consumers each read everything, sharing the 2 MiB/s per shard read limit.
        if self.consumers:
            shards = max(1, len(opened))
            read_capacity = shards * self.rules.shard_read_bytes_per_second * span
            wanted = accepted_bytes * self.consumers + self.backlog_bytes
            self.backlog_bytes = max(0.0, wanted - read_capacity)
            store.record(keys["GetRecords.Bytes"], minute, wanted - self.backlog_bytes, span)
            rate = max(1.0, read_capacity / span)
            age_ms = self.backlog_bytes / rate * 1000
            store.record(
                keys["GetRecords.IteratorAgeMilliseconds"], minute, age_ms, 1, age_ms, age_ms
            )

    def close_minute(self) -> None:
        self._peaks.append(self._minute_peak)
        self._minute_peak = (0.0, 0.0)
