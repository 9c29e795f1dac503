"""The oracle: knows future demand; the unreachable reference."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from capcon.core.policies.base import (
    ASSUMED_UPDATE_SECONDS,
    MINUTE,
    Decision,
    Observation,
    check_target,
    clamp,
    restore_times,
    whole_units,
)
from capcon.core.rules.timefmt import fmt_duration

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
        check_target(target)
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
        want = clamp(whole_units(soon / t), obs)
        if want > obs.capacity:
            return Decision(
                "scale-out",
                want,
                f"demand peaks at {soon:,.1f}/s in the next"
                f" {fmt_duration(end - obs.now, approx=True)}; "
                f"/ {self.target:g}% → {want:,}",
            )
        if want > obs.capacity * (1 - self.min_step):
            return Decision("hold", None, f"coming peak {soon:,.1f}/s fits {obs.capacity:,}")
        until = obs.now + self.window_minutes * MINUTE
        if obs.next_decrease_after_one is not None:
            until = max(until, obs.next_decrease_after_one + update)
        until = max(until, end)
        later = self._peak(start, until)
        need = clamp(whole_units(later / t), obs)
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
            f"demand peaks at {later:,.1f}/s until"
            f" {fmt_duration(until - obs.now, approx=True)} ahead; "
            f"/ {self.target:g}% → {need:,}",
        )

    def fresh_since(self, capacity_since: datetime | None) -> datetime | None:
        """``None``: the oracle decides from its forecast, never waiting for fresh datapoints."""
        return None

    def applied(self, decision: Decision, at: datetime) -> None:
        """The oracle needs no memory of what it did."""

    def state(self) -> dict[str, object]:
        """Nothing: the oracle decides from its forecast alone (the forecast is code, given
        by whoever runs it, and is not saved)."""
        return {}

    def restore(self, data: object) -> None:
        restore_times(data, (), self.name)
