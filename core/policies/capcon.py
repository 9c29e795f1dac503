"""capcon's own table policy."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from capcon.core.policies.base import (
    ASSUMED_UPDATE_SECONDS,
    MINUTE,
    Decision,
    Observation,
    check_target,
    clamp,
    consecutive_tail,
    restore_times,
    time_state,
    trend_slope,
    whole_units,
)
from capcon.core.rules.timefmt import fmt_duration


class Capcon:
    """capcon's own policy for a DynamoDB table or GSI dimension (``capcon``).

    Field note B's lessons ("scale up early, scale down slowly", size from requests:
    docs/field-notes.md#what-they-found) plus what the rule book and field note C
    (docs/field-notes.md#partition-dilution) add:

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
      create never merge (field note C, docs/field-notes.md#partition-dilution): when only
      the trend, not measured demand, would
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

    Measured on field note B's grid (docs/field-notes.md#the-grid, ``capcon sim --grid``):
    capcon's success rate is at least H2's everywhere and higher wherever H2 throttles, at
    0.8–1.2× H2's capacity-unit-hours.
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
        check_target(target)
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
        run = consecutive_tail(obs.minutes)
        if run == 0:
            return Decision("hold", None, "no datapoints yet")
        latest = demand[-1]
        k = min(run, self.trend_points)
        slope = trend_slope(obs.minutes[-k:], demand[-k:])
        horizon = self._horizon(obs)
        rise = min(max(0.0, slope) * horizon, latest * (self.max_growth - 1))
        forecast = latest + rise
        base = clamp(whole_units(latest / t), obs)
        early = clamp(whole_units(forecast / (self.ceiling / 100)), obs)
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
            # partitions it would create stay for ever (field note C,
            # docs/field-notes.md#partition-dilution).
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
        drift = trend_slope(obs.minutes[-calm:], window) * 60 / max(peak, 1e-9)
        if drift > 0:
            return Decision("hold", None, f"{within}; demand rising: no decrease")
        need = clamp(whole_units(max(peak, forecast) / t), obs)
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
                f"next allowed in {fmt_duration(budget.next_allowed_at - obs.now, approx=True)}",
            )
        if obs.updating:
            return Decision("hold", None, f"would scale in: {reason}; update in progress")
        if self.last_out is not None and obs.now - self.last_out < calm * MINUTE:
            return Decision("hold", None, f"would scale in: {reason}; scaled out < {calm} min ago")
        return Decision("scale-in", need, reason)

    def fresh_since(self, capacity_since: datetime | None) -> datetime | None:
        """``None``: capcon sizes from demand, which does not depend on the capacity in force, so
        every datapoint counts, also those from before its last change."""
        return None

    def applied(self, decision: Decision, at: datetime) -> None:
        if decision.action == "scale-out":
            self.last_out = at
        elif decision.action == "scale-in":
            self.last_in = at

    _STATE_KEYS = ("last_out", "last_in")

    def state(self) -> dict[str, object]:
        """When it last scaled out and in (its cooldowns and calm periods run from them)."""
        return {"last_out": time_state(self.last_out), "last_in": time_state(self.last_in)}

    def restore(self, data: object) -> None:
        times = restore_times(data, self._STATE_KEYS, self.name)
        self.last_out, self.last_in = times["last_out"], times["last_in"]
