"""The lab's "scheduled" lane: a known event scaled ahead, against the reactive policies.

Field note B's studio scaled its tables up *ahead* of each live-ops event, so capacity was
there before the spike, and kept reactive scaling only for the unplanned burst
(docs/field-notes.md#b-auto-scaling-too-slow).  This lane runs the same table, traffic and
target-tracking policy as the others, plus what ``capcon event apply`` puts on a table with
auto scaling: an Application Auto Scaling scheduled action at the send time raising the
target's minimum to the capacity that serves the event's peak at the target, and one at the
event's end putting the minimum and maximum back (auto scaling then scales in on its own).
The simulated account executes the scheduled actions at their time, as AAS does.

The event must be known: the lane reads it from the pattern (a top-heavy shape's jump and
decay, a spike's rise and fall).  A pattern without a known event gets a message naming
the patterns that have one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from capcon.core.backends.sim.account import SimAccount
from capcon.core.backends.sim.experiment import (
    MAX_WCU,
    MIN_WCU,
    RESOURCE,
    TABLE,
    check_inputs,
    experiment_account,
)
from capcon.core.backends.sim.traffic import Pattern, Spike, TopHeavy
from capcon.core.planning.events import event_id
from capcon.core.planning.schedules import action_name
from capcon.core.ports import TABLE_WRITE, ScheduledAction, at_schedule

#: The lane's name in ``--policies``.
SCHEDULED = "scheduled"
#: The reactive policy under the scheduled actions (AWS target tracking, as on a table
#: with auto scaling).
FALLBACK_POLICY = "aas"
#: How long before the event's start the raise is sent: an update takes about a minute in
#: the simulated account (docs/aws-rules.md), and AAS runs a one-time action within the
#: minute of its time; five minutes leaves room for both.
LEAD = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class KnownEvent:
    """An event the pattern announces: from ``start_s`` to ``end_s`` (seconds from the
    lane's start), at ``peak`` writes per second at most."""

    start_s: float
    end_s: float
    peak: float


def known_event(pattern: Pattern) -> KnownEvent:
    """The event in ``pattern``, or ``ValueError`` naming the patterns that have one."""
    if isinstance(pattern, TopHeavy):
        end = pattern.back_at_base_s
        if not math.isfinite(end):
            raise ValueError(
                "the scheduled lane needs an event that ends: this top-heavy pattern never "
                "decays back to its base (decay_per_minute 0)"
            )
        return KnownEvent(pattern.steady_s, end, float(pattern.peak))
    if isinstance(pattern, Spike):
        end = pattern.at_s + 2 * pattern.ramp_s + pattern.duration_s
        return KnownEvent(pattern.at_s, end, float(pattern.peak))
    raise ValueError(
        f"the scheduled lane needs a known event in the pattern: top-heavy or spike, not "
        f"{pattern.describe()!r}"
    )


@dataclass(frozen=True, slots=True)
class ScheduledLane:
    """The lane's account and the event it was scaled for."""

    account: SimAccount
    event: KnownEvent
    raise_at: datetime
    restore_at: datetime
    peak_capacity: int
    actions: tuple[ScheduledAction, ...]


def scheduled_lane(
    pattern: Pattern | str, target: float, *, lead: timedelta = LEAD
) -> ScheduledLane:
    """The experiment's account (the same table, traffic and target tracking at ``target``
    % as the reactive lanes) with the event's raise and restore put as scheduled actions.

    The raise is sent ``lead`` before the start, at a whole minute, and sets the minimum to
    ``ceil(peak ÷ target)`` (the maximum kept at the experiment's, or raised to the peak);
    the restore at the end puts the experiment's minimum and maximum back."""
    shape = check_inputs(pattern, target, FALLBACK_POLICY, 1.0)
    event = known_event(shape)
    account = experiment_account(shape, target, FALLBACK_POLICY)
    epoch = account.epoch
    start = epoch + timedelta(seconds=event.start_s)
    end = epoch + timedelta(seconds=math.ceil(event.end_s))
    raise_at = max(epoch, (start - lead).replace(second=0, microsecond=0))
    peak_capacity = max(MIN_WCU, math.ceil(event.peak * 100 / target))
    ident = event_id(TABLE, None, start, end)
    actions = (
        ScheduledAction(
            action_name(ident, "raise", "write"),
            RESOURCE,
            TABLE_WRITE,
            at_schedule(raise_at),
            min_capacity=peak_capacity,
            max_capacity=max(MAX_WCU, peak_capacity),
        ),
        ScheduledAction(
            action_name(ident, "restore", "write"),
            RESOURCE,
            TABLE_WRITE,
            at_schedule(end),
            min_capacity=MIN_WCU,
            max_capacity=MAX_WCU,
        ),
    )
    for action in actions:
        account.put_scheduled_action(action)
    return ScheduledLane(account, event, raise_at, end, peak_capacity, actions)
