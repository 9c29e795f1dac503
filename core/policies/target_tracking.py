"""Application Auto Scaling's target tracking (today's and 2017's) and the request-count
variants H1/H2."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Literal

from capcon.core.policies.base import (
    Decision,
    Observation,
    check_target,
    consecutive_tail,
    no_fresh_data,
    restore_times,
    time_state,
)


class TargetTracking:
    """AAS target tracking for a DynamoDB dimension (see the module docstring).

    ``sizing="requests"`` is field note B's H2 (docs/field-notes.md#h1-and-h2): the
    scale-out step is computed from the requests actually made (consumed + throttled) instead
    of consumed capacity alone.

    ``sizing_window``: how many of the newest datapoints the step is sized from (their
    average: the alarm's statistic over its evaluation window), by default the breaches it
    takes.  2017's AAS evaluated 5 (:data:`~capcon.core.policies.base.WINDOW_2017`), and the
    window spans the last change: right after a step its older minutes still show the
    consumption the old capacity allowed, so the next step is smaller
    (docs/field-notes.md#the-mechanism-in-the-simulator).
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
        sizing_window: int | None = None,
    ) -> None:
        check_target(target)
        self.name = name
        self.target = target
        self.breaches_out = breaches_out
        self.breaches_in = breaches_in
        self.scale_in_gap = scale_in_gap
        self.scale_out_cooldown = scale_out_cooldown
        self.scale_in_cooldown = scale_in_cooldown
        self.disable_scale_in = disable_scale_in
        self.sizing = sizing
        self.sizing_window = max(1, sizing_window or breaches_out)
        self.last_out: datetime | None = None
        self.last_in: datetime | None = None

    def _needed(self, consumed: float, obs: Observation) -> int:
        wanted = math.ceil(consumed / (self.target / 100) - 1e-9)
        return max(obs.min_capacity, min(obs.max_capacity, max(1, wanted)))

    def decide(self, obs: Observation) -> Decision:
        high = obs.capacity * self.target / 100
        low = obs.capacity * (self.target - self.scale_in_gap) / 100
        run = consecutive_tail(obs.minutes)
        if obs.capacity_since is not None:
            # The alarms are re-created with the new threshold when capacity changes: only
            # datapoints of whole minutes since then count towards a breach.
            fresh = sum(1 for m in obs.minutes if m >= obs.capacity_since)
            run = min(run, fresh)
        if run == 0:
            return Decision("hold", None, no_fresh_data(obs.capacity_since, obs))
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
            # step from that, not from the newest datapoint (the window may reach back past
            # the last change: those minutes count for the size, not as breaches).
            window = obs.consumed[-self.sizing_window :]
            latest = sum(window) / len(window)
            utilisation = latest / obs.capacity * 100 if obs.capacity else 0.0
            basis = f"{latest:,.1f}"
            if len(window) > self.breaches_out:
                basis = f"{len(window)}-min average {latest:,.1f}"
            sized = latest
            if self.sizing == "requests":
                throttled = obs.throttled[-self.sizing_window :]
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

    def fresh_since(self, capacity_since: datetime | None) -> datetime | None:
        """The last change: only datapoints of whole minutes since then count (the alarms
        are re-created with the new thresholds); before the first of them is visible the
        decision is the hold above, whatever older datapoints say."""
        return capacity_since

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
