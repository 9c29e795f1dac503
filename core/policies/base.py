"""What every policy sees (Observation) and answers (Decision), and the arithmetic they share."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from capcon.core.rules import TARGET_RANGE, DecreaseBudget

Action = Literal["scale-out", "scale-in", "hold"]
MINUTE = timedelta(minutes=1)
#: What a policy assumes when the observation does not say how long an update takes.
ASSUMED_UPDATE_SECONDS = 60
#: The 2017 scale-out alarm's evaluation window, in 1-minute datapoints (field note B,
#: docs/field-notes.md#the-mechanism-in-the-simulator): AAS sized a step from the average
#: consumption over it, including minutes from before the last change, however few
#: breaches fired the alarm.  ``aas-legacy`` fires after all 5; ``h1`` (the studio's first
#: hypothesis) after 1 of them, still sized from the 5-minute average.
WINDOW_2017 = 5


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
      serve; asking for more splits partitions, permanently (field note C,
      docs/field-notes.md#partition-dilution).
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

    def fresh_since(self, capacity_since: datetime | None) -> datetime | None:
        """The moment from which this policy counts datapoints, given the last capacity
        change ``capacity_since`` (``None``: it uses every datapoint).

        A policy that returns a moment promises: while no datapoint of a minute starting at
        or after it is visible, its decision does not depend on the datapoints at all (it
        decides the same on an observation without any).  The engine then decides without
        asking ``GetMetricData`` (:func:`fresh_published_at`)."""
        ...

    def applied(self, decision: Decision, at: datetime) -> None:
        """Told that ``decision`` was carried out at ``at`` (for cooldowns)."""
        ...

    def state(self) -> dict[str, object]:
        """What the policy remembers, as a JSON object (times as ISO 8601 strings)."""
        ...

    def restore(self, data: object) -> None:
        """Take back a :meth:`state`; ``ValueError`` naming the key and what it allows when
        ``data`` is not one (the policy is left as it was)."""
        ...


def consecutive_tail(minutes: tuple[datetime, ...]) -> int:
    """How many of the newest datapoints are consecutive minutes (no gap between them)."""
    if not minutes:
        return 0
    run = 1
    for newer, older in zip(reversed(minutes), list(reversed(minutes))[1:], strict=False):
        if newer - older != timedelta(minutes=1):
            break
        run += 1
    return run


def check_target(target: float) -> None:
    if not 0 < target <= 100:
        low, high = TARGET_RANGE
        raise ValueError(f"target {target}% is not a utilisation: choose {low:g}–{high:g}%")


def whole_units(value: float) -> int:
    """Whole capacity units for ``value`` (rounded up; a hair over a whole number is not)."""
    return max(1, math.ceil(value - 1e-9))


def clamp(value: int, obs: Observation) -> int:
    return max(obs.min_capacity, min(obs.max_capacity, value))


def trend_slope(minutes: Sequence[datetime], values: Sequence[float]) -> float:
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


# --- datapoints since a change ---------------------------------------------------------------


def first_fresh_minute(since: datetime) -> datetime:
    """The first whole minute that starts at or after ``since`` (``since`` itself when it is
    on a minute): the first datapoint a policy counting "since the last change" can use."""
    floor = since.replace(second=0, microsecond=0)
    return floor if floor == since else floor + MINUTE


def fresh_published_at(since: datetime, metric_delay_seconds: int) -> datetime:
    """When the first datapoint of a minute starting at or after ``since`` can first be
    visible: the minute ``[T, T + 60 s)`` (``T`` = :func:`first_fresh_minute`) is published
    ``metric_delay_seconds`` after it ends, so at ``T + 60 s + delay`` exactly; before that
    moment no such datapoint exists (CloudWatch may be later, never earlier than the delay
    it is assumed to have)."""
    return first_fresh_minute(since) + MINUTE + timedelta(seconds=metric_delay_seconds)


def no_fresh_data(since: datetime | None, obs: Observation) -> str:
    """The hold reason of a policy that has no datapoint since the last change yet, with when
    the first one is due when the observation knows the metric delay."""
    if since is None:
        # nothing changed lately: CloudWatch simply has no datapoint in the window (a new or
        # idle table publishes none, a missing minute is never a zero for consumed capacity)
        return "no datapoints yet (none published in the window: a new or idle resource?)"
    why = "no datapoints since the last change yet"
    if obs.metric_delay_seconds is None:
        return why
    minute = first_fresh_minute(since)
    due = fresh_published_at(since, obs.metric_delay_seconds)
    return f"{why} (the minute from {minute:%H:%M} is published about {due:%H:%M:%S})"


# --- saved state ----------------------------------------------------------------------------
#
# A policy's memory (its cooldown clocks, its scale-down schedule) outlives the process that
# made it when the engine saves ``policy.state()`` and a later process ``restore``-s it (the
# deployed engine: one Lambda invocation per alarm or tick).  The state is a JSON object of
# ISO 8601 times (or null); ``restore`` checks every key and raises ``ValueError`` naming the
# key and what it allows, leaving the policy as it was.

PolicyState = dict[str, object]


def time_state(moment: datetime | None) -> str | None:
    """A moment as saved state: ISO 8601 (or ``None``)."""
    return None if moment is None else moment.isoformat()


def restore_times(data: object, keys: Sequence[str], policy: str) -> dict[str, datetime | None]:
    """The times ``keys`` of a saved state ``data``, checked: ``data`` must be a JSON object
    holding exactly ``keys`` (a missing key counts as null), each null or a timezone-aware
    ISO 8601 time; otherwise ``ValueError`` naming the key and what is allowed."""
    if not isinstance(data, dict):
        raise ValueError(
            f"the saved state of policy {policy} is {type(data).__name__}, not an object "
            f"with the keys {', '.join(keys)}"
        )
    unknown = sorted(str(k) for k in data if k not in keys)
    if unknown:
        raise ValueError(
            f"the saved state of policy {policy} has unknown key {unknown[0]!r} "
            f"(allowed: {', '.join(keys)})"
        )
    out: dict[str, datetime | None] = {}
    for key in keys:
        value = data.get(key)
        if value is None:
            out[key] = None
            continue
        moment: datetime | None = None
        if isinstance(value, str) and len(value) <= 64:
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                moment = None
        if moment is None or moment.tzinfo is None:
            raise ValueError(
                f"the saved state of policy {policy}: {key} is not a time (allowed: null or "
                "an ISO 8601 time with its UTC offset, e.g. 2026-12-02T04:00:00+00:00)"
            )
        out[key] = moment
    return out
