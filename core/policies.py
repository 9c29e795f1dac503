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
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

Action = Literal["scale-out", "scale-in", "hold"]


@dataclass(frozen=True, slots=True)
class Observation:
    """What a policy can see of one scalable dimension at ``now``.

    ``minutes`` are the starts of the visible datapoints, oldest first, consecutive minutes
    only up to the newest published one (gaps are left out, as CloudWatch does);
    ``consumed`` and ``throttled`` are units per second averaged over each minute.
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


class TargetTracking:
    """AAS target tracking for a DynamoDB dimension (see the module docstring)."""

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
    ) -> None:
        if not 0 < target <= 100:
            raise ValueError(f"target {target}% is not a utilisation: choose 20–90%")
        self.name = name
        self.target = target
        self.breaches_out = breaches_out
        self.breaches_in = breaches_in
        self.scale_in_gap = scale_in_gap
        self.scale_out_cooldown = scale_out_cooldown
        self.scale_in_cooldown = scale_in_cooldown
        self.disable_scale_in = disable_scale_in
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
            new = self._needed(latest, obs)
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
                f"{latest:,.1f} / {self.target:g}% → {new:,}",
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


PolicyFactory = Callable[[float], Policy]

POLICIES: dict[str, PolicyFactory] = {
    "aas": lambda target: TargetTracking(target, name="aas", breaches_out=2),
    "aas-legacy": lambda target: TargetTracking(target, name="aas-legacy", breaches_out=5),
}


def make_policy(name: str, target: float) -> Policy:
    """A fresh policy by name; ``ValueError`` listing the known names otherwise."""
    try:
        factory = POLICIES[name]
    except KeyError:
        raise ValueError(
            f"unknown policy {name!r} (known: {', '.join(sorted(POLICIES))})"
        ) from None
    return factory(target)
