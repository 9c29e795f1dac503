"""The lab's kinesis lane: field note C's Kinesis policy on a simulated stream, run as
``capcon autoscale --policy kinesis --apply`` runs it
(docs/field-notes.md#kinesis-scaling-done-right, docs/field-notes.md#the-36-h-scale-down).

:class:`StreamExperiment` builds a fresh simulated account with one provisioned stream
(:data:`STREAM`, :data:`START_SHARDS` shard, every record :data:`RECORD_BYTES` bytes, the
records per second of the lab's traffic pattern) and, at each minute boundary, runs one round
of the auto-scaling engine (``core/services/engine.py``) on it: the ``kinesis`` policy sees
the published 1-minute datapoints, and what it decides is planned and applied by the core
scaler (uniform ``UpdateShardCount``, not followed to ``ACTIVE``), audited in the lane's own
in-memory trail.  Nothing here calls the account's mutating methods.

The policy is the ``kinesis`` policy as published (core/policies/kinesis.py): up at the
target (at least 60 %, the use it scales back to), down every 36 h if every 5-minute point of
the last 24 h was under 50 %.  The record size turns a table pattern's writes per second into
a stream's load in shards: the bell's 300 records/s of 10 KiB are about three shards.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from capcon.core.backends.sim.account import SimAccount, SimControls
from capcon.core.backends.sim.experiment import LAB_HOURS, START, check_inputs
from capcon.core.backends.sim.traffic import Pattern, StreamLoad
from capcon.core.config.prices import load_price_book
from capcon.core.policies import Decision, KinesisPolicy
from capcon.core.ports import MetricQuery, Scalable
from capcon.core.services.audit import AuditRecord, Origin
from capcon.core.services.engine import AutoscaleEngine
from capcon.core.services.locks import ResourceLocks
from capcon.core.services.scaler import Scaler

STREAM = "experiment-stream"
RESOURCE = f"stream/{STREAM}"
START_SHARDS = 1
MIN_SHARDS = 1
MAX_SHARDS = 64
#: Bytes per record: 10 KiB, so that 100 records/s are about one shard's 1 MiB/s.
RECORD_BYTES = 10_240
#: The kinesis policy scales back to 60 % of the new count: its target is at least that.
LOWEST_TARGET = 60.0
NAMESPACE = "AWS/Kinesis"
DIMS = (("StreamName", STREAM),)
QUERIES = (
    MetricQuery("r", NAMESPACE, "IncomingRecords", DIMS),
    MetricQuery("t", NAMESPACE, "WriteProvisionedThroughputExceeded", DIMS),
)


class LaneAudit:
    """The lane's audit trail, in memory (an :class:`~capcon.core.services.audit.AuditSink`):
    the scaler writes its intent and outcome of every reshard here, not to the user's log."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def check_writable(self) -> None:
        """Always writable."""

    def write(self, record: AuditRecord) -> None:
        self.records.append(record.to_object())

    def take_notices(self) -> list[str]:
        return []

    def read(self, limit: int | None = None) -> list[dict[str, Any]]:
        return list(self.records[-limit:] if limit else self.records)


class StreamExperiment:
    """One stream carrying ``pattern`` (records per second) under the ``kinesis`` policy at
    ``target`` % (at least :data:`LOWEST_TARGET`); :meth:`advance` runs it,
    :attr:`decisions` is every minute's decision with what became of it."""

    def __init__(self, pattern: Pattern | str, target: float, *, hours: float = LAB_HOURS):
        shape = check_inputs(pattern, target, "aas", 1.0)
        retention = timedelta(minutes=round(hours * 60) + 60)
        self.account = SimAccount(START, minute_retention=retention)
        self.epoch = self.account.epoch
        self.stream = self.account.add_stream(
            STREAM, shards=START_SHARDS, load=StreamLoad(records=shape, record_bytes=RECORD_BYTES)
        )
        self.target = max(LOWEST_TARGET, float(target))
        self.audit = LaneAudit()
        origin = Origin("capcon lab", "sim")
        scaler = Scaler(
            self.account,
            self.audit,
            origin,
            wait=lambda _seconds: None,
            follow=False,
            locks=ResourceLocks.in_temp(origin),
        )
        self.scalable = Scalable(STREAM, "shards")
        self.engine = AutoscaleEngine(
            self.account,
            "kinesis",
            self.target,
            self.account.rules,
            load_price_book("us-east-1"),
            [self.scalable],
            (MIN_SHARDS, MAX_SHARDS),
            scaler,
            shard_bounds=(MIN_SHARDS, MAX_SHARDS),
            metric_delay_seconds=self.account.settings.metric_delay_seconds,
            stream_target=self.target,
            reshard_history=SimControls(self.account).reshard_history,
        )
        #: (time, resource, dimension, decision), as the simulated account's decisions; a
        #: decision the scaler did not carry out says why in its reason
        self.decisions: list[tuple[datetime, str, str, Decision]] = []
        #: open shards at the start of each minute since the start
        self.shards_by_minute: list[int] = []
        self.scale_ups = 0
        self.scale_downs = 0

    @property
    def policy(self) -> KinesisPolicy | None:
        policy = self.engine.policies.get(self.scalable.key)
        return policy if isinstance(policy, KinesisPolicy) else None

    @property
    def open_shards(self) -> int:
        return len(self.stream.open_shards())

    @property
    def closed_shards(self) -> int:
        return len(self.stream.shards) - self.open_shards

    def next_scale_down_check(self) -> datetime | None:
        """When the policy next checks whether it may halve the stream (36 h apart)."""
        policy = self.policy
        return None if policy is None else policy.next_scale_down_check

    def now(self) -> datetime:
        return self.account.now()

    def advance(self, seconds: int) -> None:
        """Run ``seconds`` forward; the engine runs a round at each minute boundary."""
        end = self.account.clock.elapsed + seconds
        while self.account.clock.elapsed < end:
            elapsed = self.account.clock.elapsed
            if elapsed % 60 == 0 and len(self.shards_by_minute) <= elapsed // 60:
                self.shards_by_minute.append(self.open_shards)
            self.account.advance(min(60 - elapsed % 60, end - elapsed))
            if self.account.clock.elapsed % 60 == 0:
                self._round()

    def _round(self) -> None:
        for made in self.engine.round():
            decision = made.decision
            if decision.action != "hold" and made.outcome in ("applied", "accepted"):
                if decision.action == "scale-out":
                    self.scale_ups += 1
                else:
                    self.scale_downs += 1
            elif decision.action != "hold":
                decision = Decision("hold", None, f"{decision.reason}; {made.outcome}")
            self.decisions.append((made.at, RESOURCE, "shards", decision))

    def _series(self) -> tuple[list[datetime], list[float], dict[datetime, float]]:
        now = self.now()
        records, throttled = self.account.store.query(
            list(QUERIES), self.epoch, now, now + timedelta(days=1)
        )
        thr = dict(zip(throttled.timestamps, throttled.values, strict=True))
        return list(records.timestamps), list(records.values), thr

    def minutes(self) -> list[tuple[datetime, float, float, float]]:
        """Per minute so far: (time, demand, accepted, open shards), demand and accepted in
        shards' worth of writes (records/s ÷ what one shard takes of these records: 1 MiB/s
        of bytes or 1,000 records/s, whichever binds): every minute, as a trainer sees it."""
        rules = self.account.rules
        per_shard = min(
            float(rules.shard_write_records_per_second),
            rules.shard_write_bytes_per_second / RECORD_BYTES,
        )
        stamps, values, thr = self._series()
        out: list[tuple[datetime, float, float, float]] = []
        for t, r in zip(stamps, values, strict=True):
            index = round((t - self.epoch).total_seconds() / 60)
            shards = self.shards_by_minute[min(index, len(self.shards_by_minute) - 1)]
            demand = (r + thr.get(t, 0.0)) / 60 / per_shard
            out.append((t, demand, r / 60 / per_shard, float(shards)))
        return out

    def totals(self) -> tuple[float, float, float]:
        """(records accepted, records throttled, open shard-hours) so far."""
        _stamps, values, thr = self._series()
        shard_hours = sum(self.shards_by_minute[: len(values)]) / 60
        return sum(values), sum(thr.values()), shard_hours
