"""The Kinesis stream policy of the field notes: scale up fast on a push signal, down rarely
from a schedule (docs/field-notes.md#kinesis-scaling-done-right)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from capcon.core.policies.base import (
    Decision,
    Observation,
    check_target,
    no_fresh_data,
    restore_times,
    time_state,
    whole_units,
)
from capcon.core.rules.settings import SHARD_WRITE_BYTES
from capcon.core.rules.timefmt import fmt_duration


@dataclass(frozen=True, slots=True)
class StreamObservation(Observation):
    """What a policy can see of a Kinesis stream: capacity in open shards.

    ``consumed`` is the write use in *shard-equivalents* per second (the larger of
    bytes / ``bytes_per_shard`` and records / ``records_per_shard``, averaged over each
    minute), so that ``consumed / capacity`` is the utilisation field note C alarms on
    (docs/field-notes.md#kinesis-scaling-done-right);
    ``throttled`` is ``WriteProvisionedThroughputExceeded`` in shard-equivalents per second.
    ``incoming_bytes``, ``incoming_records`` and ``throttled_records`` are the per-minute
    sums CloudWatch gives.  ``reshards_left``: ``UpdateShardCount`` calls left in the rolling
    24 h (``None``: unknown).  Build one with :func:`stream_observation`.
    """

    incoming_bytes: tuple[float, ...] = ()
    incoming_records: tuple[float, ...] = ()
    throttled_records: tuple[float, ...] = ()
    bytes_per_shard: int = SHARD_WRITE_BYTES
    records_per_shard: int = 1_000
    reshards_left: int | None = None


def stream_observation(
    *,
    now: datetime,
    shards: int,
    minutes: Sequence[datetime],
    incoming_bytes: Sequence[float],
    incoming_records: Sequence[float],
    throttled_records: Sequence[float] = (),
    min_shards: int = 1,
    max_shards: int = 10_000,
    updating: bool = False,
    shards_since: datetime | None = None,
    bytes_per_shard: int = SHARD_WRITE_BYTES,
    records_per_shard: int = 1_000,
    reshards_left: int | None = None,
    metric_delay_seconds: int | None = None,
) -> StreamObservation:
    """A :class:`StreamObservation` from per-minute sums of ``IncomingBytes``,
    ``IncomingRecords`` and ``WriteProvisionedThroughputExceeded`` (0 where not given)."""
    if not len(minutes) == len(incoming_bytes) == len(incoming_records):
        raise ValueError("minutes, incoming_bytes and incoming_records must be the same length")
    thr = tuple(throttled_records) or (0.0,) * len(minutes)
    if len(thr) != len(minutes):
        raise ValueError("throttled_records must have one value per minute (or none)")
    used: list[float] = []
    blocked: list[float] = []
    for b, r, x in zip(incoming_bytes, incoming_records, thr, strict=True):
        used.append(max(b / 60 / bytes_per_shard, r / 60 / records_per_shard))
        # A throttled record would have cost its share of the records limit or, at the
        # minute's average record size, of the bytes limit: whichever binds.
        # (fewer than one record with bytes is no real minute: no size to speak of)
        size = b / r if r >= 1 else 0.0
        blocked.append(x / 60 * max(1 / records_per_shard, size / bytes_per_shard))
    return StreamObservation(
        now=now,
        capacity=shards,
        min_capacity=min_shards,
        max_capacity=max_shards,
        updating=updating,
        minutes=tuple(minutes),
        consumed=tuple(used),
        throttled=tuple(blocked),
        capacity_since=shards_since,
        incoming_bytes=tuple(incoming_bytes),
        incoming_records=tuple(incoming_records),
        throttled_records=thr,
        bytes_per_shard=bytes_per_shard,
        records_per_shard=records_per_shard,
        reshards_left=reshards_left,
        metric_delay_seconds=metric_delay_seconds,
    )


def _five_minute_points(
    minutes: Sequence[datetime], values: Sequence[float]
) -> list[tuple[datetime, float]]:
    """Average per-second rate of each 5-minute period (aligned on the clock), oldest first."""
    sums: dict[datetime, list[float]] = {}
    for m, v in zip(minutes, values, strict=True):
        start = m.replace(minute=m.minute - m.minute % 5, second=0, microsecond=0)
        sums.setdefault(start, []).append(v)
    return [(start, sum(vs) / len(vs)) for start, vs in sorted(sums.items())]


class KinesisPolicy:
    """Field note C's auto scaling for a provisioned Kinesis stream ("done right":
    docs/field-notes.md#kinesis-scaling-done-right, docs/field-notes.md#the-36-h-scale-down).

    * **Up, fast, on a push signal**: when the newest datapoint since the last action is at
      or above ``target`` % of the provisioned write throughput (bytes or records, whichever
      is higher), or any write was throttled.  The new count brings the newest use down to
      ``scale_to`` % and is rounded up to 125 %, 150 %, 175 % or 200 % of the current count
      (multiples of 25 % are the fastest ``UpdateShardCount`` targets); on throttling it
      doubles, since the real demand hides behind the throttles.  Never more than 2× (AWS's
      limit) nor ``max_capacity``: a bigger need is reached in several steps.
    * **One action at a time, with a cooldown**: nothing while the stream is resharding
      (``updating``), nor for ``cooldown`` after an action; the thresholds move with the new
      shard count, and only datapoints since the change count.
    * **Down, rarely, on a schedule**: every ``scale_down_every`` (36 h = 1.5 × a 24 h
      retention) and only if **every** 5-minute point of the last ``lookback`` (24 h) is
      below ``scale_down_below`` % with no throttling; then halve (the other fast target),
      but never so far that the last day's 1-minute peak would be at or above ``target`` %.
      A failed check waits for the next one.  History with gaps is not enough to scale down.
    * ``UpdateShardCount`` is limited to 10 calls per rolling 24 h: with ``reshards_left``
      at 0 it holds.

    The decision's ``capacity`` is the target open-shard count, always within ½…2× of the
    current count.  The policy is stateful: the cooldown runs from the action it was told
    about (:meth:`applied`), and the scale-down schedule starts at the first observation it
    decides on.
    """

    def __init__(
        self,
        target: float = 80.0,
        *,
        name: str = "kinesis",
        scale_to: float = 60.0,
        scale_down_below: float = 50.0,
        scale_down_every: timedelta = timedelta(hours=36),
        lookback: timedelta = timedelta(hours=24),
        cooldown: timedelta = timedelta(minutes=5),
    ) -> None:
        check_target(target)
        if not 0 < scale_to <= target:
            raise ValueError(f"scale_to {scale_to}% must be in 0 … target ({target:g}%)")
        self.name = name
        self.target = target
        self.scale_to = scale_to
        self.scale_down_below = scale_down_below
        self.scale_down_every = scale_down_every
        self.lookback = lookback
        self.cooldown = cooldown
        self.last_action: datetime | None = None
        self.next_scale_down_check: datetime | None = None

    @staticmethod
    def _use(obs: Observation, i: int) -> str:
        """The use of datapoint ``i`` for a human, by bytes and records when known."""
        cap = obs.capacity
        if isinstance(obs, StreamObservation) and obs.incoming_bytes:
            b = obs.incoming_bytes[i] / 60 / (cap * obs.bytes_per_shard) * 100
            r = obs.incoming_records[i] / 60 / (cap * obs.records_per_shard) * 100
            return f"bytes {b:.0f}% / records {r:.0f}% of {cap:,} shards"
        return f"{obs.consumed[i] / cap * 100:.0f}% of {cap:,} shards"

    def decide(self, obs: Observation) -> Decision:
        if self.next_scale_down_check is None:
            self.next_scale_down_check = obs.now + self.scale_down_every
        cap = obs.capacity
        if cap < 1:
            return Decision("hold", None, "no open shards")
        if obs.updating:
            return Decision("hold", None, "one action at a time: the stream is resharding")
        if self.last_action is not None and obs.now - self.last_action < self.cooldown:
            left = self.cooldown - (obs.now - self.last_action)
            wait = fmt_duration(left, approx=True)
            return Decision("hold", None, f"cooldown after the last action ({wait})")
        since = obs.capacity_since or self.last_action
        fresh = [i for i, m in enumerate(obs.minutes) if since is None or m >= since]
        if not fresh:
            return Decision("hold", None, no_fresh_data(since, obs))
        i = fresh[-1]
        use, throttled = obs.consumed[i], obs.throttled[i] if i < len(obs.throttled) else 0.0
        budget_gone = isinstance(obs, StreamObservation) and obs.reshards_left == 0
        high = cap * self.target / 100
        if use >= high or throttled > 0:
            alarm = (
                "WriteProvisionedThroughputExceeded"
                if throttled > 0
                else f"IncomingBytes/IncomingRecords ≥ {self.target:g}%"
            )
            why = f"{alarm}: {self._use(obs, i)}"
            if cap >= obs.max_capacity:
                return Decision("hold", None, f"{why}; already at the maximum {cap:,}", alarm)
            if budget_gone:
                return Decision(
                    "hold", None, f"{why}; no UpdateShardCount call left in 24 h", alarm
                )
            needed = whole_units((use + throttled) / (self.scale_to / 100))
            if throttled > 0:
                needed = max(needed, 2 * cap)
            new = 2 * cap
            for factor in (1.25, 1.5, 1.75, 2.0):
                step = max(cap + 1, math.ceil(cap * factor - 1e-9))
                if step >= needed:
                    new = step
                    break
            new = min(new, 2 * cap, obs.max_capacity)
            more = "" if new >= needed else f" ({needed:,} needed: the rest after the cooldown)"
            return Decision(
                "scale-out",
                new,
                f"{why}; {cap:,} → {new:,} shards{more}{self._countdown(obs)}",
                alarm,
            )
        due = self.next_scale_down_check
        if obs.now < due:
            return Decision(
                "hold",
                None,
                f"{self._use(obs, i)}; next scale-down check in"
                f" {fmt_duration(due - obs.now, approx=True)}",
            )
        return self._scale_down(obs)

    def _countdown(self, obs: Observation) -> str:
        """``; next scale-down check in 21 h 4 min``: scaling up does not move the schedule
        (docs/field-notes.md#the-36-h-scale-down)."""
        due = self.next_scale_down_check
        if due is None or due <= obs.now:
            return ""
        return f"; next scale-down check in {fmt_duration(due - obs.now, approx=True)}"

    def _scale_down(self, obs: Observation) -> Decision:
        cap = obs.capacity
        self.next_scale_down_check = obs.now + self.scale_down_every
        later = f"next check in {fmt_duration(self.scale_down_every)}"
        start = obs.now - self.lookback
        idx = [i for i, m in enumerate(obs.minutes) if m >= start]
        points = _five_minute_points([obs.minutes[i] for i in idx], [obs.consumed[i] for i in idx])
        expected = int(self.lookback / timedelta(minutes=5))
        # a point or two at the newest end is not published yet
        if len(points) < expected - 2 or points[0][0] > start + timedelta(minutes=5):
            return Decision(
                "hold",
                None,
                f"scale-down check: less than {fmt_duration(self.lookback)} of "
                f"5-minute points ({len(points)}); {later}",
            )
        if any(obs.throttled[i] > 0 for i in idx if i < len(obs.throttled)):
            return Decision("hold", None, f"scale-down check: throttling in the last day; {later}")
        worst_at, worst = max(points, key=lambda p: p[1])
        limit = cap * self.scale_down_below / 100
        if worst >= limit:
            return Decision(
                "hold",
                None,
                f"scale-down check: the 5-minute point at {worst_at:%Y-%m-%d %H:%M} was at "
                f"{worst / cap * 100:.0f}% (not every point under {self.scale_down_below:g}%); "
                f"{later}",
            )
        peak = max(obs.consumed[i] for i in idx)
        new = max(math.ceil(cap / 2), obs.min_capacity, whole_units(peak / (self.target / 100)))
        if isinstance(obs, StreamObservation) and obs.reshards_left == 0:
            return Decision("hold", None, "scale-down check passed but no UpdateShardCount left")
        if new >= cap:
            return Decision(
                "hold", None, f"scale-down check passed but {cap:,} shards is the least safe"
            )
        return Decision(
            "scale-in",
            new,
            f"every 5-minute point of the last {fmt_duration(self.lookback)} under "
            f"{self.scale_down_below:g}% (highest {worst / cap * 100:.0f}%); "
            f"{cap:,} → {new:,} shards",
        )

    def fresh_since(self, capacity_since: datetime | None) -> datetime | None:
        """The last reshard (or, when the backend does not report reshards, the last action
        this policy was told about): only datapoints since then count; before the first of
        them is visible it holds (state, updating or cooldown first), and its scale-down
        check, the one reader of older datapoints, is not reached."""
        return capacity_since or self.last_action

    def applied(self, decision: Decision, at: datetime) -> None:
        if decision.action != "hold":
            self.last_action = at

    _STATE_KEYS = ("last_action", "next_scale_down_check")

    def state(self) -> dict[str, object]:
        """The last action (its cooldown) and when the next scale-down check is due."""
        return {
            "last_action": time_state(self.last_action),
            "next_scale_down_check": time_state(self.next_scale_down_check),
        }

    def restore(self, data: object) -> None:
        times = restore_times(data, self._STATE_KEYS, self.name)
        self.last_action = times["last_action"]
        self.next_scale_down_check = times["next_scale_down_check"]
