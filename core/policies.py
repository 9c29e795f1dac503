"""Auto-scaling policies as code, one interface for all of them.

A policy sees only what it could really see: 1-minute datapoints of consumed capacity and
throttles, late by the account's metric delay, the current provisioned capacity, whether an
update is in progress, its own state, and ``now``.  It answers with a :class:`Decision` whose
``reason`` a human can read ("why did it scale, why didn't it").

This module holds Application Auto Scaling's target tracking as AWS runs it for DynamoDB:

* ``aas`` — today's rule (AWS docs, since 2023): scale out when consumed capacity is above
  the target for **2** consecutive 1-minute datapoints; scale in after **15** consecutive
  datapoints at least **20** points below the target.  The new capacity is
  ``consumed / target`` — computed from *consumed* capacity, which can never exceed
  provisioned (+ burst), the weakness field note B measured.
* ``aas-legacy`` — the 2017 behaviour of field note B: **5** consecutive breaches to scale out.

and the alternatives field note B and C argue for:

* ``h1`` — field note B's first hypothesis: scale out after **1** breach; new capacity still
  ``consumed / target``; scale in as ``aas``.
* ``h2`` — the second hypothesis: scale out after **1** breach and size the step from the
  *actual requests*, ``(consumed + throttled) / target``; scale in as ``aas``.
* ``capcon`` — capcon's own policy (:class:`Capcon`; its docstring explains the design).
* ``oracle`` — knows the future demand (:class:`Oracle`, given a forecast by whoever runs it):
  the unreachable reference.
* ``kinesis`` — field note C's rules for a Kinesis stream (:class:`KinesisPolicy`), on a
  :class:`StreamObservation` (capacity in shards).

:data:`POLICIES` maps each name to a factory taking the target utilisation in percent;
:data:`TABLE_POLICIES` are the ones for DynamoDB tables and GSIs, :data:`STREAM_POLICIES` the
ones for streams.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from capcon.core.rules import DecreaseBudget

Action = Literal["scale-out", "scale-in", "hold"]
MINUTE = timedelta(minutes=1)
#: What a policy assumes when the observation does not say how long an update takes.
ASSUMED_UPDATE_SECONDS = 60


@dataclass(frozen=True, slots=True)
class Observation:
    """What a policy can see of one scalable dimension at ``now``.

    ``minutes`` are the starts of the visible datapoints, oldest first, consecutive minutes
    only up to the newest published one (gaps are left out, as CloudWatch does);
    ``consumed`` and ``throttled`` are units per second averaged over each minute.

    The optional fields describe the world around the numbers; whoever builds the observation
    fills in what it knows (the simulated account fills in all of them):

    * ``decrease_budget``: the decrease budget of this table or GSI today (the rule book's
      :func:`~capcon.core.rules.decrease_budget`); ``next_decrease_after_one``: if a decrease
      happened now, when the one after it would be allowed (``now`` while the "any time"
      decreases last, an hour later after that, midnight once the day's are used up);
    * ``update_seconds``: how long a change takes to take effect (``UPDATING`` meanwhile);
    * ``metric_delay_seconds``: how long after a minute ends its datapoint is published;
    * ``split_above``: the most capacity of this dimension the current (estimated) partitions
      serve; asking for more splits partitions, permanently (field note C).
    """

    now: datetime
    capacity: int
    min_capacity: int
    max_capacity: int
    updating: bool
    minutes: tuple[datetime, ...]
    consumed: tuple[float, ...]
    throttled: tuple[float, ...]
    capacity_since: datetime | None = None
    decrease_budget: DecreaseBudget | None = None
    next_decrease_after_one: datetime | None = None
    update_seconds: int | None = None
    metric_delay_seconds: int | None = None
    split_above: int | None = None

    @property
    def demand(self) -> tuple[float, ...]:
        """What was asked for per second in each minute: consumed plus throttled."""
        throttled = self.throttled
        return tuple(
            c + (throttled[i] if i < len(throttled) else 0.0) for i, c in enumerate(self.consumed)
        )


@dataclass(frozen=True, slots=True)
class Decision:
    """A policy's answer: the capacity to set (``None`` to hold) and why."""

    action: Action
    capacity: int | None
    reason: str
    alarm: str | None = None


class Policy(Protocol):
    """A stateful policy for one scalable dimension."""

    name: str
    target: float

    def decide(self, obs: Observation) -> Decision: ...

    def applied(self, decision: Decision, at: datetime) -> None:
        """Told that ``decision`` was carried out at ``at`` (for cooldowns)."""
        ...


def _consecutive_tail(minutes: tuple[datetime, ...]) -> int:
    """How many of the newest datapoints are consecutive minutes (no gap between them)."""
    if not minutes:
        return 0
    run = 1
    for newer, older in zip(reversed(minutes), list(reversed(minutes))[1:], strict=False):
        if newer - older != timedelta(minutes=1):
            break
        run += 1
    return run


def _check_target(target: float) -> None:
    if not 0 < target <= 100:
        raise ValueError(f"target {target}% is not a utilisation: choose 20–90%")


def _units(value: float) -> int:
    """Whole capacity units for ``value`` (rounded up; a hair over a whole number is not)."""
    return max(1, math.ceil(value - 1e-9))


def _clamp(value: int, obs: Observation) -> int:
    return max(obs.min_capacity, min(obs.max_capacity, value))


def _slope(minutes: Sequence[datetime], values: Sequence[float]) -> float:
    """Least-squares slope of ``values`` against time, in units per second per second."""
    n = len(values)
    if n < 2:
        return 0.0
    xs = [(m - minutes[0]).total_seconds() for m in minutes]
    mx = sum(xs) / n
    my = sum(values) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return 0.0
    return sum((x - mx) * (y - my) for x, y in zip(xs, values, strict=True)) / sxx


def _fmt_delta(delta: timedelta) -> str:
    minutes = delta.total_seconds() / 60
    return f"{minutes:.1f} min" if minutes < 120 else f"{minutes / 60:.1f} h"


class TargetTracking:
    """AAS target tracking for a DynamoDB dimension (see the module docstring).

    ``sizing="requests"`` is field note B's H2: the scale-out step is computed from the
    requests actually made (consumed + throttled) instead of consumed capacity alone.
    """

    def __init__(
        self,
        target: float,
        *,
        name: str = "aas",
        breaches_out: int = 2,
        breaches_in: int = 15,
        scale_in_gap: float = 20.0,
        scale_out_cooldown: int = 0,
        scale_in_cooldown: int = 0,
        disable_scale_in: bool = False,
        sizing: Literal["consumed", "requests"] = "consumed",
    ) -> None:
        _check_target(target)
        self.name = name
        self.target = target
        self.breaches_out = breaches_out
        self.breaches_in = breaches_in
        self.scale_in_gap = scale_in_gap
        self.scale_out_cooldown = scale_out_cooldown
        self.scale_in_cooldown = scale_in_cooldown
        self.disable_scale_in = disable_scale_in
        self.sizing = sizing
        self.last_out: datetime | None = None
        self.last_in: datetime | None = None

    def _needed(self, consumed: float, obs: Observation) -> int:
        wanted = math.ceil(consumed / (self.target / 100) - 1e-9)
        return max(obs.min_capacity, min(obs.max_capacity, max(1, wanted)))

    def decide(self, obs: Observation) -> Decision:
        high = obs.capacity * self.target / 100
        low = obs.capacity * (self.target - self.scale_in_gap) / 100
        run = _consecutive_tail(obs.minutes)
        if obs.capacity_since is not None:
            # The alarms are re-created with the new threshold when capacity changes: only
            # datapoints of whole minutes since then count towards a breach.
            fresh = sum(1 for m in obs.minutes if m >= obs.capacity_since)
            run = min(run, fresh)
        if run == 0:
            return Decision("hold", None, "no datapoints since the last change yet")
        latest = obs.consumed[-1]
        above = 0
        for value in reversed(obs.consumed[len(obs.consumed) - run :]):
            if value > high:
                above += 1
            else:
                break
        below = 0
        for value in reversed(obs.consumed[len(obs.consumed) - run :]):
            if value < low:
                below += 1
            else:
                break
        utilisation = latest / obs.capacity * 100 if obs.capacity else 0.0
        if above >= self.breaches_out:
            alarm = f"AlarmHigh ({self.breaches_out} × 1 min above {self.target:g}%)"
            # The alarm's statistic is the average over its evaluation window: AAS sizes the
            # step from that, not from the newest datapoint.
            window = obs.consumed[-self.breaches_out :]
            latest = sum(window) / len(window)
            utilisation = latest / obs.capacity * 100 if obs.capacity else 0.0
            basis = f"{latest:,.1f}"
            sized = latest
            if self.sizing == "requests":
                throttled = obs.throttled[-self.breaches_out :]
                extra = sum(throttled) / len(throttled) if throttled else 0.0
                sized = latest + extra
                basis = f"requests {sized:,.1f}/s (consumed {latest:,.1f} + throttled {extra:,.1f})"
            new = self._needed(sized, obs)
            if obs.updating:
                return Decision("hold", None, f"{alarm} but an update is in progress", alarm)
            if self.last_out and obs.now - self.last_out < timedelta(
                seconds=self.scale_out_cooldown
            ):
                return Decision("hold", None, f"{alarm} but in scale-out cooldown", alarm)
            if new <= obs.capacity:
                why = "at max capacity" if new >= obs.max_capacity else "no higher capacity needed"
                return Decision("hold", None, f"{alarm} but {why} ({new})", alarm)
            return Decision(
                "scale-out",
                new,
                f"{alarm}: consumed {latest:,.1f}/s is {utilisation:.0f}% of {obs.capacity:,}; "
                f"{basis} / {self.target:g}% → {new:,}",
                alarm,
            )
        if below >= self.breaches_in and not self.disable_scale_in:
            alarm = (
                f"AlarmLow ({self.breaches_in} × 1 min below {self.target - self.scale_in_gap:g}%)"
            )
            new = self._needed(latest, obs)
            if obs.updating:
                return Decision("hold", None, f"{alarm} but an update is in progress", alarm)
            if self.last_in and obs.now - self.last_in < timedelta(seconds=self.scale_in_cooldown):
                return Decision("hold", None, f"{alarm} but in scale-in cooldown", alarm)
            if new >= obs.capacity:
                return Decision("hold", None, f"{alarm} but already at minimum ({new})", alarm)
            return Decision(
                "scale-in",
                new,
                f"{alarm}: consumed {latest:,.1f}/s is {utilisation:.0f}% of {obs.capacity:,}; "
                f"{latest:,.1f} / {self.target:g}% → {new:,}",
                alarm,
            )
        if above:
            return Decision(
                "hold",
                None,
                f"{above} of {self.breaches_out} datapoints above {self.target:g}% "
                f"({utilisation:.0f}% now)",
            )
        return Decision("hold", None, f"{utilisation:.0f}% of {obs.capacity:,}: within target")

    def applied(self, decision: Decision, at: datetime) -> None:
        if decision.action == "scale-out":
            self.last_out = at
        elif decision.action == "scale-in":
            self.last_in = at


class Capcon:
    """capcon's own policy for a DynamoDB table or GSI dimension (``capcon``).

    Field note B's lessons ("scale up early, scale down slowly", size from requests) plus what
    the rule book and field note C add:

    * **Demand, not consumption.**  Every decision starts from the requests actually made,
      consumed + throttled (H2's insight): consumed capacity never exceeds provisioned plus
      burst, so sizing from it under-reacts exactly when it matters.  Demand does not depend
      on the capacity in force, so capcon uses every datapoint, not only those since its last
      change (AAS re-creates its alarms after each change and waits for fresh breaches).
    * **Reaction time.**  The newest datapoint is centred ``metric_delay_seconds`` + 30 s in
      the past, a change takes ``update_seconds`` to land, and it cannot be corrected before
      the next decision after that lands: with the simulated account's 2-minute delay and
      60-second updates, 4.5 minutes.  capcon fits a least-squares trend to the last
      ``trend_points`` minutes of demand and projects it over that reaction time (at most
      ``max_growth`` × the measured demand, so one ramp cannot run away with the forecast).
    * **Scale up early.**  The new capacity is the larger of demand / target (H2's step,
      after a single breach, without waiting for an alarm) and forecast / ``ceiling`` (90 %):
      the target's headroom absorbs the usual lag, and the ceiling makes sure what will be
      asked for by the time the next correction lands still fits.  Increases are free in
      DynamoDB, but one smaller than ``min_increase`` (10 %) waits unless the forecast
      exceeds the capacity itself or requests are being throttled: fewer ``UpdateTable``
      calls, less time ``UPDATING``.
    * **Partitions are for ever.**  A forecast can be wrong, and the partitions it would
      create never merge (field note C): when only the trend, not measured demand, would
      push capacity past what the current partitions serve (``split_above``), capcon stops
      just below the split.  Measured demand is always served.
    * **Scale down slowly, spread over the day's decrease budget.**  Only when demand has not
      risen over the last ``calm_minutes`` (5) and nothing was scaled out in them; the new
      capacity covers those minutes' peak demand (and the forecast) at the target; and never
      when the rule book's :func:`~capcon.core.rules.decrease_budget` says no, so capcon
      never asks for a decrease AWS would refuse.  Decreases are scarce (4 at any time per
      UTC day, then one an hour), so while the "any time" ones last a decrease must save at
      least ``free_step`` (40 %); the last one before the hourly pace, and every one after,
      must save ``paced_step`` (30 %) *and* wait until demand has settled (falling less than
      ``settled``, 2 %/min), because the capacity it sets stays for an hour.  Small early
      savings do not use up the budget the big step after a peak needs.

    Measured on field note B's grid (``capcon sim --grid``): capcon's success rate is at least
    H2's everywhere and higher wherever H2 throttles, at 0.8–1.2× H2's capacity-unit-hours.
    """

    def __init__(
        self,
        target: float,
        *,
        name: str = "capcon",
        ceiling: float = 90.0,
        max_growth: float = 2.0,
        min_increase: float = 0.1,
        trend_points: int = 3,
        calm_minutes: int = 5,
        free_step: float = 0.4,
        paced_step: float = 0.3,
        settled: float = 0.02,
        disable_scale_in: bool = False,
    ) -> None:
        _check_target(target)
        self.name = name
        self.target = target
        self.ceiling = max(ceiling, target)
        self.max_growth = max_growth
        self.min_increase = min_increase
        self.trend_points = trend_points
        self.calm_minutes = calm_minutes
        self.free_step = free_step
        self.paced_step = paced_step
        self.settled = settled
        self.disable_scale_in = disable_scale_in
        self.last_out: datetime | None = None
        self.last_in: datetime | None = None

    def _horizon(self, obs: Observation) -> float:
        """Seconds from the middle of the newest datapoint to the moment a change decided now
        can next be corrected: metric delay + update time + the next chance to act."""
        update = obs.update_seconds if obs.update_seconds is not None else ASSUMED_UPDATE_SECONDS
        newest = obs.minutes[-1] + timedelta(seconds=30)
        effect = obs.now + timedelta(seconds=update)
        # The next decision comes at the first minute boundary after this change took effect.
        next_chance = timedelta(seconds=max(60, update))
        return max(0.0, (effect + next_chance - newest).total_seconds())

    def decide(self, obs: Observation) -> Decision:
        t = self.target / 100
        demand = obs.demand
        run = _consecutive_tail(obs.minutes)
        if run == 0:
            return Decision("hold", None, "no datapoints yet")
        latest = demand[-1]
        k = min(run, self.trend_points)
        slope = _slope(obs.minutes[-k:], demand[-k:])
        horizon = self._horizon(obs)
        rise = min(max(0.0, slope) * horizon, latest * (self.max_growth - 1))
        forecast = latest + rise
        base = _clamp(_units(latest / t), obs)
        early = _clamp(_units(forecast / (self.ceiling / 100)), obs)
        want = max(base, early)
        seen = f"requests {latest:,.1f}/s"
        if demand[-1] > obs.consumed[-1]:
            seen += f" (consumed {obs.consumed[-1]:,.1f} + throttled {obs.throttled[-1]:,.1f})"
        trend = ""
        if rise > 0:
            trend = (
                f", rising {slope * 60:,.1f}/s per min: ≈{forecast:,.1f}/s in "
                f"{horizon / 60:.1f} min (metric delay + update + next chance)"
            )
        split = ""
        if obs.split_above is not None and early > obs.split_above >= max(base, obs.capacity):
            # Only measured demand may split partitions: a forecast can be wrong, and the
            # partitions it would create stay for ever (field note C).
            want = obs.split_above
            split = (
                f"; held at {want:,}: more would split partitions permanently for a trend "
                "not yet measured"
            )
        utilisation = latest / obs.capacity * 100 if obs.capacity else math.inf
        urgent = forecast >= obs.capacity or demand[-1] > obs.consumed[-1]
        if want > obs.capacity and (urgent or want >= obs.capacity * (1 + self.min_increase)):
            if base >= early:
                why = f"{seen} is {utilisation:.0f}% of {obs.capacity:,}{trend}"
                size = f"{latest:,.1f} / {self.target:g}% → {want:,}"
            else:
                why = f"{seen}{trend}: {forecast / obs.capacity * 100:.0f}% of {obs.capacity:,}"
                size = f"{forecast:,.1f} / {self.ceiling:g}% (ceiling) → {want:,}"
            reason = f"{why}; {size}{split}"
            if obs.updating:
                return Decision("hold", None, f"would scale out: {reason}; update in progress")
            return Decision("scale-out", want, reason)
        within = f"{seen} is {utilisation:.0f}% of {obs.capacity:,}{trend}: within target"
        if self.disable_scale_in or want >= obs.capacity:
            return Decision("hold", None, within)
        calm = self.calm_minutes
        if run < calm:
            return Decision("hold", None, f"{within}; {run} calm min of {calm} before a decrease")
        window = demand[-calm:]
        peak = max(window)
        drift = _slope(obs.minutes[-calm:], window) * 60 / max(peak, 1e-9)
        if drift > 0:
            return Decision("hold", None, f"{within}; demand rising: no decrease")
        need = _clamp(_units(max(peak, forecast) / t), obs)
        saving = 1 - need / obs.capacity
        paced = obs.next_decrease_after_one is not None and obs.next_decrease_after_one > obs.now
        falling = drift < -self.settled
        if paced:
            step, kind = self.paced_step, "the last decrease before the hourly pace"
        else:
            step, kind = self.free_step, "a decrease"
        if saving < step:
            return Decision(
                "hold",
                None,
                f"{within}; {kind} to {need:,} would save only {saving:.0%} "
                f"(< {step:.0%}): keeping the budget for a bigger step",
            )
        if paced and falling:
            return Decision(
                "hold",
                None,
                f"{within}; demand still falling {-drift:.0%}/min: the next decrease would "
                "be the last for an hour, so it waits for demand to settle",
            )
        reason = (
            f"peak requests of the last {calm} min {peak:,.1f}/s, not rising; / {self.target:g}% "
            f"→ {need:,} (now {obs.capacity:,}, −{saving:.0%})"
        )
        budget = obs.decrease_budget
        if budget is not None and not budget.allowed_now:
            return Decision(
                "hold",
                None,
                f"would scale in: {reason}; decrease budget: {budget.used_today} used today, "
                f"next allowed in {_fmt_delta(budget.next_allowed_at - obs.now)}",
            )
        if obs.updating:
            return Decision("hold", None, f"would scale in: {reason}; update in progress")
        if self.last_out is not None and obs.now - self.last_out < calm * MINUTE:
            return Decision("hold", None, f"would scale in: {reason}; scaled out < {calm} min ago")
        return Decision("scale-in", need, reason)

    def applied(self, decision: Decision, at: datetime) -> None:
        if decision.action == "scale-out":
            self.last_out = at
        elif decision.action == "scale-in":
            self.last_in = at


#: Demand per second for each whole second in ``[start, end)``.
Forecast = Callable[[datetime, datetime], Sequence[float]]


class Oracle:
    """Knows the future demand: the unreachable reference, not a policy to deploy.

    Whoever runs it hands it a :data:`Forecast` (the experiment runner gives it the traffic
    pattern).  At each decision it sets the capacity to the peak demand of the time that
    capacity will be in force (from ``update_seconds`` ahead until the next change could take
    effect) divided by the target — ahead of the update delay, so it never throttles once
    its first change is in effect.  It decreases only within the decrease budget, only for a
    step of at least ``min_step``, and only to what covers the demand until the next decrease
    would be allowed (at least ``window_minutes`` ahead), so it does not burn the budget on a
    falling slope.
    """

    def __init__(
        self,
        target: float,
        *,
        name: str = "oracle",
        forecast: Forecast | None = None,
        window_minutes: int = 15,
        min_step: float = 0.1,
    ) -> None:
        _check_target(target)
        self.name = name
        self.target = target
        self.forecast = forecast
        self.window_minutes = window_minutes
        self.min_step = min_step

    def _peak(self, start: datetime, end: datetime) -> float:
        assert self.forecast is not None
        return max(self.forecast(start, end), default=0.0)

    def decide(self, obs: Observation) -> Decision:
        if self.forecast is None:
            return Decision("hold", None, "no forecast: the oracle needs the future demand")
        if obs.updating:
            return Decision("hold", None, "update in progress")
        t = self.target / 100
        update = timedelta(
            seconds=obs.update_seconds if obs.update_seconds is not None else ASSUMED_UPDATE_SECONDS
        )
        start = obs.now + update
        # The change after this one can be asked for at the first minute boundary once this
        # one is in effect, and takes ``update`` again.
        end = obs.now + max(update, MINUTE) + update
        soon = self._peak(start, end)
        want = _clamp(_units(soon / t), obs)
        if want > obs.capacity:
            return Decision(
                "scale-out",
                want,
                f"demand peaks at {soon:,.1f}/s in the next {_fmt_delta(end - obs.now)}; "
                f"/ {self.target:g}% → {want:,}",
            )
        if want > obs.capacity * (1 - self.min_step):
            return Decision("hold", None, f"coming peak {soon:,.1f}/s fits {obs.capacity:,}")
        until = obs.now + self.window_minutes * MINUTE
        if obs.next_decrease_after_one is not None:
            until = max(until, obs.next_decrease_after_one + update)
        until = max(until, end)
        later = self._peak(start, until)
        need = _clamp(_units(later / t), obs)
        if need > obs.capacity * (1 - self.min_step):
            return Decision(
                "hold",
                None,
                f"demand peaks at {later:,.1f}/s before the next decrease would be allowed: "
                f"keep {obs.capacity:,}",
            )
        budget = obs.decrease_budget
        if budget is not None and not budget.allowed_now:
            return Decision("hold", None, "a decrease is not allowed yet (decrease budget)")
        return Decision(
            "scale-in",
            need,
            f"demand peaks at {later:,.1f}/s until {_fmt_delta(until - obs.now)} ahead; "
            f"/ {self.target:g}% → {need:,}",
        )

    def applied(self, decision: Decision, at: datetime) -> None:
        """The oracle needs no memory of what it did."""


@dataclass(frozen=True, slots=True)
class StreamObservation(Observation):
    """What a policy can see of a Kinesis stream: capacity in open shards.

    ``consumed`` is the write use in *shard-equivalents* per second (the larger of
    bytes / ``bytes_per_shard`` and records / ``records_per_shard``, averaged over each
    minute), so that ``consumed / capacity`` is the utilisation field note C alarms on;
    ``throttled`` is ``WriteProvisionedThroughputExceeded`` in shard-equivalents per second.
    ``incoming_bytes``, ``incoming_records`` and ``throttled_records`` are the per-minute
    sums CloudWatch gives.  ``reshards_left``: ``UpdateShardCount`` calls left in the rolling
    24 h (``None``: unknown).  Build one with :func:`stream_observation`.
    """

    incoming_bytes: tuple[float, ...] = ()
    incoming_records: tuple[float, ...] = ()
    throttled_records: tuple[float, ...] = ()
    bytes_per_shard: int = 1_000_000
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
    bytes_per_shard: int = 1_000_000,
    records_per_shard: int = 1_000,
    reshards_left: int | None = None,
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
        size = b / r if r else 0.0
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
    """Field note C's auto scaling for a provisioned Kinesis stream ("done right").

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
        _check_target(target)
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
            return Decision("hold", None, f"cooldown after the last action ({_fmt_delta(left)})")
        since = obs.capacity_since or self.last_action
        fresh = [i for i, m in enumerate(obs.minutes) if since is None or m >= since]
        if not fresh:
            return Decision("hold", None, "no datapoints since the last change yet")
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
            needed = _units((use + throttled) / (self.scale_to / 100))
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
            return Decision("scale-out", new, f"{why}; {cap:,} → {new:,} shards{more}", alarm)
        due = self.next_scale_down_check
        if obs.now < due:
            return Decision(
                "hold",
                None,
                f"{self._use(obs, i)}; next scale-down check in {_fmt_delta(due - obs.now)}",
            )
        return self._scale_down(obs)

    def _scale_down(self, obs: Observation) -> Decision:
        cap = obs.capacity
        self.next_scale_down_check = obs.now + self.scale_down_every
        later = f"next check in {_fmt_delta(self.scale_down_every)}"
        start = obs.now - self.lookback
        idx = [i for i, m in enumerate(obs.minutes) if m >= start]
        points = _five_minute_points([obs.minutes[i] for i in idx], [obs.consumed[i] for i in idx])
        expected = int(self.lookback / timedelta(minutes=5))
        # a point or two at the newest end is not published yet
        if len(points) < expected - 2 or points[0][0] > start + timedelta(minutes=5):
            return Decision(
                "hold",
                None,
                f"scale-down check: less than {_fmt_delta(self.lookback)} of "
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
        new = max(math.ceil(cap / 2), obs.min_capacity, _units(peak / (self.target / 100)))
        if isinstance(obs, StreamObservation) and obs.reshards_left == 0:
            return Decision("hold", None, "scale-down check passed but no UpdateShardCount left")
        if new >= cap:
            return Decision(
                "hold", None, f"scale-down check passed but {cap:,} shards is the least safe"
            )
        return Decision(
            "scale-in",
            new,
            f"every 5-minute point of the last {_fmt_delta(self.lookback)} under "
            f"{self.scale_down_below:g}% (highest {worst / cap * 100:.0f}%); "
            f"{cap:,} → {new:,} shards",
        )

    def applied(self, decision: Decision, at: datetime) -> None:
        if decision.action != "hold":
            self.last_action = at


PolicyFactory = Callable[[float], Policy]

POLICIES: dict[str, PolicyFactory] = {
    "aas": lambda target: TargetTracking(target, name="aas", breaches_out=2),
    "aas-legacy": lambda target: TargetTracking(target, name="aas-legacy", breaches_out=5),
    "h1": lambda target: TargetTracking(target, name="h1", breaches_out=1),
    "h2": lambda target: TargetTracking(target, name="h2", breaches_out=1, sizing="requests"),
    "capcon": Capcon,
    "oracle": Oracle,
    "kinesis": KinesisPolicy,
}
#: The policies for DynamoDB tables and GSIs (the experiment grid runs these).
TABLE_POLICIES: tuple[str, ...] = ("aas-legacy", "aas", "h1", "h2", "capcon", "oracle")
#: The policies for Kinesis streams (observations in shards: :class:`StreamObservation`).
STREAM_POLICIES: tuple[str, ...] = ("kinesis",)


def make_policy(name: str, target: float) -> Policy:
    """A fresh policy by name; ``ValueError`` listing the known names otherwise."""
    try:
        factory = POLICIES[name]
    except KeyError:
        raise ValueError(
            f"unknown policy {name!r} (known: {', '.join(sorted(POLICIES))})"
        ) from None
    return factory(target)
