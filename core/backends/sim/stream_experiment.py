"""Field note C's Kinesis policy on a simulated stream, for the trainer lab
(docs/field-notes.md#kinesis-scaling-done-right, docs/field-notes.md#the-36-h-scale-down).

:class:`StreamExperiment` builds a fresh simulated account with one provisioned stream
(:data:`STREAM`, :data:`START_SHARDS` shard, every record :data:`RECORD_BYTES` bytes, the
records per second of a traffic pattern) and runs :class:`~capcon.core.policies.KinesisPolicy`
on it minute by minute, as a Lambda behind the stream's alarms would: it sees only published
1-minute datapoints (``IncomingBytes``, ``IncomingRecords``,
``WriteProvisionedThroughputExceeded``), and what it decides goes through the account's
``UpdateShardCount`` (uniform resharding, with its own rules and delay).  It reads 24 h of
datapoints only when the policy's 36 h scale-down check is due; otherwise the last few
minutes.

The policy is the ``kinesis`` policy as published (core/policies/kinesis.py): up at
``target`` % to 60 % (or to the target when it is lower), down every 36 h if every 5-minute
point of the last 24 h was under 50 %.  The record size makes a table pattern's writes per
second a stream's load in shards: the bell's 300 records/s of 10 KiB are about three shards.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from capcon.core.backends.sim.account import SimAccount
from capcon.core.backends.sim.experiment import LAB_HOURS, START, check_inputs
from capcon.core.backends.sim.traffic import Pattern, StreamLoad
from capcon.core.errors import CapconError
from capcon.core.policies import Decision, KinesisPolicy, stream_observation
from capcon.core.ports import MetricQuery

STREAM = "experiment-stream"
RESOURCE = f"stream/{STREAM}"
START_SHARDS = 1
MIN_SHARDS = 1
MAX_SHARDS = 64
#: Bytes per record: 10 KiB, so that 100 records/s are about one shard's 1 MiB/s.
RECORD_BYTES = 10_240
#: The minutes the policy reads when no scale-down check is due (the newest fresh one counts).
RECENT_MINUTES = 10
NAMESPACE = "AWS/Kinesis"
DIMS = (("StreamName", STREAM),)
QUERIES = (
    MetricQuery("b", NAMESPACE, "IncomingBytes", DIMS),
    MetricQuery("r", NAMESPACE, "IncomingRecords", DIMS),
    MetricQuery("t", NAMESPACE, "WriteProvisionedThroughputExceeded", DIMS),
)


class StreamExperiment:
    """One stream carrying ``pattern`` (records per second) under the ``kinesis`` policy at
    ``target`` %; :meth:`advance` runs it, :attr:`decisions` is every minute's decision."""

    def __init__(self, pattern: Pattern | str, target: float, *, hours: float = LAB_HOURS):
        shape = check_inputs(pattern, target, "aas", 1.0)
        retention = timedelta(minutes=round(hours * 60) + 60)
        self.account = SimAccount(START, minute_retention=retention)
        self.epoch = self.account.epoch
        self.stream = self.account.add_stream(
            STREAM,
            shards=START_SHARDS,
            load=StreamLoad(records=shape, record_bytes=RECORD_BYTES),
        )
        self.policy = KinesisPolicy(target, scale_to=min(60.0, target))
        #: (time, resource, dimension, decision), as the simulated account's decisions
        self.decisions: list[tuple[datetime, str, str, Decision]] = []
        #: open shards at the start of each minute since the start
        self.shards_by_minute: list[int] = []
        self.shards_since: datetime | None = None
        self.scale_ups = 0
        self.scale_downs = 0

    @property
    def open_shards(self) -> int:
        return len(self.stream.open_shards())

    @property
    def closed_shards(self) -> int:
        return len(self.stream.shards) - self.open_shards

    def next_scale_down_check(self) -> datetime | None:
        """When the policy next checks whether it may halve the stream (36 h apart)."""
        return self.policy.next_scale_down_check

    def now(self) -> datetime:
        return self.account.now()

    def advance(self, seconds: int) -> None:
        """Run ``seconds`` forward; the policy decides at each minute boundary."""
        end = self.account.clock.elapsed + seconds
        while self.account.clock.elapsed < end:
            elapsed = self.account.clock.elapsed
            if elapsed % 60 == 0 and len(self.shards_by_minute) <= elapsed // 60:
                self.shards_by_minute.append(self.open_shards)
            before = self.open_shards
            self.account.advance(min(60 - elapsed % 60, end - elapsed))
            if self.open_shards != before:
                self.shards_since = self.now()
            if self.account.clock.elapsed % 60 == 0:
                self._decide()

    def _decide(self) -> None:
        now = self.now()
        due = self.policy.next_scale_down_check
        lookback = self.policy.lookback if due is not None and now >= due else timedelta(0)
        start = now - max(lookback + timedelta(minutes=15), timedelta(minutes=RECENT_MINUTES))
        start = max(start, self.epoch)
        incoming_bytes, records, throttled = self.account.store.query(
            list(QUERIES), start, now, now
        )
        thr = dict(zip(throttled.timestamps, throttled.values, strict=True))
        by_records = dict(zip(records.timestamps, records.values, strict=True))
        minutes = incoming_bytes.timestamps
        obs = stream_observation(
            now=now,
            shards=self.open_shards,
            minutes=minutes,
            incoming_bytes=incoming_bytes.values,
            incoming_records=[by_records.get(m, 0.0) for m in minutes],
            throttled_records=[thr.get(m, 0.0) for m in minutes],
            min_shards=MIN_SHARDS,
            max_shards=MAX_SHARDS,
            updating=self.stream.pending is not None,
            shards_since=self.shards_since,
            metric_delay_seconds=self.account.settings.metric_delay_seconds,
        )
        decision = self.policy.decide(obs)
        if decision.action != "hold" and decision.capacity is not None:
            try:
                self.account.update_shard_count(STREAM, decision.capacity)
            except CapconError as error:  # a refusal (limits, quotas) is the lesson, in words
                decision = Decision("hold", None, f"{decision.reason}; refused: {error}")
            else:
                self.policy.applied(decision, now)
                if decision.action == "scale-out":
                    self.scale_ups += 1
                else:
                    self.scale_downs += 1
        self.decisions.append((now, RESOURCE, "kinesis:stream:WriteShards", decision))

    def minutes(self) -> list[tuple[datetime, float, float, float]]:
        """Per minute so far: (time, demand, accepted, open shards), demand and accepted in
        shards' worth of writes (records/s × record size ÷ 1 MiB/s, or ÷ 1,000 records/s
        when that binds): a trainer's view of the truth, every minute."""
        now = self.now()
        _bytes, records, throttled = self.account.store.query(
            list(QUERIES), self.epoch, now, now + timedelta(days=1)
        )
        rules = self.account.rules
        per_shard = min(
            float(rules.shard_write_records_per_second),
            rules.shard_write_bytes_per_second / RECORD_BYTES,
        )
        thr = dict(zip(throttled.timestamps, throttled.values, strict=True))
        out: list[tuple[datetime, float, float, float]] = []
        for t, r in zip(records.timestamps, records.values, strict=True):
            index = round((t - self.epoch).total_seconds() / 60)
            shards = self.shards_by_minute[min(index, len(self.shards_by_minute) - 1)]
            demand = (r + thr.get(t, 0.0)) / 60 / per_shard
            out.append((t, demand, r / 60 / per_shard, float(shards)))
        return out

    def totals(self) -> tuple[float, float, float]:
        """(records accepted, records throttled, open shard-hours) so far."""
        now = self.now()
        _bytes, records, throttled = self.account.store.query(
            list(QUERIES), self.epoch, now, now + timedelta(days=1)
        )
        shard_hours = sum(self.shards_by_minute[: len(records.values)]) / 60
        return sum(records.values), sum(throttled.values), shard_hours
