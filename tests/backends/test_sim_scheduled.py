"""The simulated account runs Application Auto Scaling scheduled actions at their time.

A one-time ``at(...)`` action, at the first minute boundary at or after its moment, sets its
target's min and max (``None``: that bound unchanged) and moves the capacity inside them, as
AAS does (docs/aws-rules.md#scheduled-actions); ``cron``/``rate`` actions are kept, not run.
Every expected number is computed here from those rules and the simulator's documented model
(a change takes effect ``update_seconds`` after it is sent), never read back from it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capcon.core.backends.sim.account import SimAccount, TableSpec
from capcon.core.backends.sim.tables import SimSettings
from capcon.core.backends.sim.traffic import Spike, Steady
from capcon.core.config.prices import load_price_book
from capcon.core.errors import NotFound, ValidationFailed
from capcon.core.model import Throughput
from capcon.core.planning.events import EventPlan, EventRequest, plan_event
from capcon.core.ports import (
    TABLE_READ,
    TABLE_WRITE,
    WRITE_UTILIZATION,
    MetricQuery,
    ScalableTarget,
    ScalingPolicy,
    ScheduledAction,
    TableChange,
    at_schedule,
)
from capcon.core.rules import RuleSettings
from capcon.core.services.overview import auto_scaling_by_resource, with_traps

#: A Monday, 10:00 UTC: every test stays inside one UTC day.
T0 = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)
MIN = 60
RID = "table/orders"
UPDATE = SimSettings().update_seconds


def account(
    capacity: int = 100, writes: Any = None, rules: RuleSettings | None = None
) -> SimAccount:
    acc = SimAccount(T0, settings=SimSettings(metric_delay_seconds=0), rules=rules)
    acc.add_table(
        TableSpec(
            "orders",
            Throughput(10, capacity),
            reads=Steady(1.0),
            writes=writes if writes is not None else Steady(10.0),
        )
    )
    return acc


def write_capacity(acc: SimAccount) -> int:
    capacity = acc.describe_table("orders").provisioned
    assert capacity is not None
    return capacity.write


def action(
    name: str, at: datetime, low: int | None, high: int | None, **kw: Any
) -> ScheduledAction:
    return ScheduledAction(name, RID, TABLE_WRITE, at_schedule(at), low, high, **kw)


def advance_to(acc: SimAccount, moment: datetime) -> None:
    acc.advance(int((moment - acc.now()).total_seconds()))


def throttled(acc: SimAccount, start: datetime, end: datetime) -> float:
    (series,) = acc.store.query(
        [MetricQuery("t", "AWS/DynamoDB", "WriteThrottleEvents", (("TableName", "orders"),))],
        start,
        end,
        end,
    )
    return sum(series.values)


def target_of(acc: SimAccount) -> ScalableTarget:
    return acc.targets[(RID, TABLE_WRITE)]


# --- a planned event, raised before the spike and restored after --------------------------

SPIKE_AT = 60 * MIN  # 11:00
SPIKE_FOR = 60 * MIN  # until 12:00
PEAK = 1_500.0
SPIKE = Spike(base=50.0, peak=PEAK, at_s=SPIKE_AT, duration_s=SPIKE_FOR, ramp_s=0.0)


def with_policy(acc: SimAccount) -> None:
    acc.register_scalable_target(ScalableTarget(RID, TABLE_WRITE, 50, 1_000))
    acc.put_scaling_policy(
        ScalingPolicy("orders-w", RID, TABLE_WRITE, target_value=70.0,
                      predefined_metric=WRITE_UTILIZATION)
    )  # fmt: skip


def test_a_table_with_auto_scaling_is_raised_before_the_spike_and_restored_after() -> None:
    acc = account(100, SPIKE)
    with_policy(acc)
    peak = 2_200  # ≥ 1,500 / 0.7: no throttling at the peak
    raise_at = T0 + timedelta(seconds=SPIKE_AT - 10 * MIN)
    end = T0 + timedelta(seconds=SPIKE_AT + SPIKE_FOR)
    acc.put_scheduled_action(action("capcon-event-0a1b2c3d-raise-write", raise_at, peak, peak))
    acc.put_scheduled_action(action("capcon-event-0a1b2c3d-restore-write", end, 50, 1_000))

    advance_to(acc, raise_at - timedelta(seconds=1))
    before = write_capacity(acc)
    assert before < peak and target_of(acc).max_capacity == 1_000
    advance_to(acc, raise_at)
    # the action ran at its minute: the bounds are raised, the raise is under way
    assert (target_of(acc).min_capacity, target_of(acc).max_capacity) == (peak, peak)
    assert acc.describe_table("orders").status == "UPDATING"
    advance_to(acc, raise_at + timedelta(seconds=UPDATE))
    assert write_capacity(acc) == peak
    (raised,) = [a for a in acc.describe_scaling_activities(RID) if "raise" in a.cause]
    assert raised.description == f"Setting write capacity units to {peak}."
    assert raised.status == "Successful"
    assert "capcon-event-0a1b2c3d-raise-write" in raised.cause

    advance_to(acc, end)
    # the whole spike was served: scaled ahead, nothing throttled, the policy held at ≥ min
    assert throttled(acc, T0 + timedelta(seconds=SPIKE_AT), end) == 0
    assert (target_of(acc).min_capacity, target_of(acc).max_capacity) == (50, 1_000)
    advance_to(acc, end + timedelta(seconds=UPDATE))
    assert write_capacity(acc) == 1_000  # moved inside the restored max at once
    # later the policy scales in further (scale-in needs 15 low minutes)
    advance_to(acc, end + timedelta(minutes=30))
    assert write_capacity(acc) < 1_000
    # the one-time actions ran once each and are still listed
    assert len(acc.describe_scheduled_actions(RID)) == 2
    assert set(acc.scheduled_ran.values()) == {raise_at, end}
    assert len([a for a in acc.describe_scaling_activities(RID) if "capcon-event" in a.cause]) == 2


def test_without_the_actions_the_same_spike_throttles() -> None:
    """The control: the policy alone, reacting, is late on a top-heavy jump."""
    acc = account(100, SPIKE)
    with_policy(acc)
    end = T0 + timedelta(seconds=SPIKE_AT + SPIKE_FOR)
    advance_to(acc, end)
    assert throttled(acc, T0 + timedelta(seconds=SPIKE_AT), end) > 0


def test_a_scheduled_only_target_raises_and_restores_and_is_not_the_no_policy_trap() -> None:
    acc = account(100, SPIKE)
    acc.register_scalable_target(ScalableTarget(RID, TABLE_WRITE, 100, 100))
    raise_at = T0 + timedelta(seconds=SPIKE_AT - 5 * MIN)
    end = T0 + timedelta(seconds=SPIKE_AT + SPIKE_FOR)
    acc.put_scheduled_action(action("capcon-event-feedf00d-raise-write", raise_at, 2_200, 2_200))
    acc.put_scheduled_action(action("capcon-event-feedf00d-restore-write", end, 100, 100))
    table = acc.describe_table("orders")
    state = with_traps(table, None, auto_scaling_by_resource(acc)[RID])
    assert state.traps == ()
    assert state.notes == ("writes: scheduled-only (event feedf00d)",)

    advance_to(acc, raise_at + timedelta(seconds=UPDATE))
    assert write_capacity(acc) == 2_200
    advance_to(acc, end + timedelta(seconds=UPDATE))
    assert write_capacity(acc) == 100
    assert throttled(acc, T0 + timedelta(seconds=SPIKE_AT), end) == 0
    # without its actions the same target is the trap again
    for name in ("capcon-event-feedf00d-raise-write", "capcon-event-feedf00d-restore-write"):
        acc.delete_scheduled_action(name, RID, TABLE_WRITE)
    state = with_traps(table, None, auto_scaling_by_resource(acc)[RID])
    assert state.traps == ("writes: scalable target registered but no policy — nothing scales",)
    assert state.notes == ()


# --- timing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "runs_at"),
    [(0, 10), (1, 11), (59, 11), (60, 11), (61, 12)],
)
def test_an_action_runs_at_the_first_minute_boundary_at_or_after_its_moment(
    seconds: int, runs_at: int
) -> None:
    acc = account(100)
    acc.register_scalable_target(ScalableTarget(RID, TABLE_WRITE, 100, 100))
    moment = T0 + timedelta(minutes=10, seconds=seconds)
    acc.put_scheduled_action(action("a", moment, 300, 300))
    boundary = T0 + timedelta(minutes=runs_at)
    advance_to(acc, boundary - timedelta(seconds=1))
    assert target_of(acc).min_capacity == 100 and acc.scheduled_ran == {}
    advance_to(acc, boundary)
    assert target_of(acc).min_capacity == 300
    assert acc.scheduled_ran == {("a", RID, TABLE_WRITE): boundary}


def test_an_at_in_a_time_zone_runs_at_that_zone_s_moment() -> None:
    acc = account(100)
    acc.register_scalable_target(ScalableTarget(RID, TABLE_WRITE, 100, 100))
    # 11:30 in Paris on 2025-03-03 (UTC+1) is 10:30 UTC
    acc.put_scheduled_action(
        ScheduledAction("paris", RID, TABLE_WRITE, "at(2025-03-03T11:30:00)", 200, 200,
                        timezone="Europe/Paris")
    )  # fmt: skip
    advance_to(acc, T0 + timedelta(minutes=29))
    assert target_of(acc).min_capacity == 100
    advance_to(acc, T0 + timedelta(minutes=30))
    assert target_of(acc).min_capacity == 200


def test_cron_and_rate_actions_are_kept_and_not_run() -> None:
    acc = account(100)
    acc.register_scalable_target(ScalableTarget(RID, TABLE_WRITE, 100, 100))
    for name, schedule in (("c", "cron(0 * * * ? *)"), ("r", "rate(1 minute)")):
        acc.put_scheduled_action(ScheduledAction(name, RID, TABLE_WRITE, schedule, 500, 500))
    advance_to(acc, T0 + timedelta(hours=2))
    assert target_of(acc).min_capacity == 100 and write_capacity(acc) == 100
    assert {a.name for a in acc.describe_scheduled_actions(RID)} == {"c", "r"}
    assert acc.scheduled_ran == {} and acc.describe_scaling_activities(RID) == []


def test_actions_due_in_the_same_minute_run_in_the_order_of_their_moments() -> None:
    acc = account(100)
    acc.register_scalable_target(ScalableTarget(RID, TABLE_WRITE, 100, 100))
    # put the later one first: the order is the moments', not the puts'
    acc.put_scheduled_action(action("second", T0 + timedelta(minutes=4, seconds=50), 400, 400))
    acc.put_scheduled_action(action("first", T0 + timedelta(minutes=4, seconds=10), 300, 300))
    advance_to(acc, T0 + timedelta(minutes=5) + timedelta(seconds=UPDATE))
    assert (target_of(acc).min_capacity, target_of(acc).max_capacity) == (400, 400)
    assert write_capacity(acc) == 400


# --- bounds -----------------------------------------------------------------------------------


def test_a_bound_left_out_is_unchanged_and_capacity_moves_only_when_outside() -> None:
    acc = account(100)
    acc.register_scalable_target(ScalableTarget(RID, TABLE_WRITE, 50, 500))
    acc.put_scheduled_action(action("min-only", T0 + timedelta(minutes=1), 80, None))
    acc.put_scheduled_action(action("max-only", T0 + timedelta(minutes=3), None, 90))
    advance_to(acc, T0 + timedelta(minutes=2))
    # 100 is inside [80, 500]: the bounds change, the capacity does not
    assert (target_of(acc).min_capacity, target_of(acc).max_capacity) == (80, 500)
    assert write_capacity(acc) == 100 and acc.describe_scaling_activities(RID) == []
    advance_to(acc, T0 + timedelta(minutes=3, seconds=UPDATE))
    assert (target_of(acc).min_capacity, target_of(acc).max_capacity) == (80, 90)
    assert write_capacity(acc) == 90


def test_a_min_above_the_target_s_max_fails_and_changes_nothing() -> None:
    acc = account(100)
    acc.register_scalable_target(ScalableTarget(RID, TABLE_WRITE, 50, 500))
    acc.put_scheduled_action(action("too-high", T0 + timedelta(minutes=1), 600, None))
    advance_to(acc, T0 + timedelta(minutes=3))
    assert (target_of(acc).min_capacity, target_of(acc).max_capacity) == (50, 500)
    assert write_capacity(acc) == 100
    (failed,) = acc.describe_scaling_activities(RID)
    assert failed.status == "Failed" and "min 600 would be above max 500" in failed.status_message


def test_an_action_due_while_the_table_is_updating_moves_capacity_once_it_is_active() -> None:
    acc = account(100)
    acc.register_scalable_target(ScalableTarget(RID, TABLE_WRITE, 100, 100))
    acc.put_scheduled_action(action("raise", T0 + timedelta(minutes=2), 700, 700))
    advance_to(acc, T0 + timedelta(minutes=1, seconds=30))
    acc.update_table("orders", TableChange(table=Throughput(20, 100)))  # reads: UPDATING
    advance_to(acc, T0 + timedelta(minutes=2))
    assert target_of(acc).min_capacity == 700 and write_capacity(acc) == 100
    # ACTIVE again at 10:02:30; the capacity is sent at the next boundary (10:03)
    advance_to(acc, T0 + timedelta(minutes=3) + timedelta(seconds=UPDATE - 1))
    assert write_capacity(acc) == 100
    advance_to(acc, T0 + timedelta(minutes=3) + timedelta(seconds=UPDATE))
    assert write_capacity(acc) == 700
    assert [a.status for a in acc.describe_scaling_activities(RID)] == ["Successful"]


def test_a_restore_the_decrease_budget_refuses_is_recorded_as_failed_once() -> None:
    rules = RuleSettings(decreases_any_time_per_day=1, max_decreases_per_day=1)
    acc = account(1_000, rules=rules)
    acc.register_scalable_target(ScalableTarget(RID, TABLE_WRITE, 1_000, 1_000))
    acc.update_table("orders", TableChange(table=Throughput(10, 900)))  # the day's decrease
    acc.put_scheduled_action(action("restore", T0 + timedelta(minutes=5), 100, 100))
    advance_to(acc, T0 + timedelta(minutes=30))
    assert write_capacity(acc) == 900
    assert (target_of(acc).min_capacity, target_of(acc).max_capacity) == (100, 100)
    (failed,) = acc.describe_scaling_activities(RID)
    assert (
        failed.status == "Failed" and failed.description == "Setting write capacity units to 100."
    )
    assert "decrease" in failed.status_message.lower()


# --- lifecycle and checks ---------------------------------------------------------------------


def test_putting_an_action_again_runs_it_again_at_its_new_time() -> None:
    acc = account(100)
    acc.register_scalable_target(ScalableTarget(RID, TABLE_WRITE, 100, 100))
    acc.put_scheduled_action(action("a", T0 + timedelta(minutes=1), 200, 200))
    advance_to(acc, T0 + timedelta(minutes=2))
    acc.put_scheduled_action(action("a", T0 + timedelta(minutes=5), 300, 300))
    assert acc.scheduled_ran == {}
    advance_to(acc, T0 + timedelta(minutes=5))
    assert target_of(acc).min_capacity == 300


def test_deregistering_a_target_deletes_its_scheduled_actions() -> None:
    acc = account(100)
    acc.register_scalable_target(ScalableTarget(RID, TABLE_WRITE, 100, 100))
    acc.register_scalable_target(ScalableTarget(RID, TABLE_READ, 10, 10))
    acc.put_scheduled_action(action("w", T0 + timedelta(minutes=5), 300, 300))
    acc.put_scheduled_action(
        ScheduledAction("r", RID, TABLE_READ, at_schedule(T0 + timedelta(minutes=5)), 20, 20)
    )
    acc.deregister_scalable_target(RID, TABLE_WRITE)
    assert [a.name for a in acc.describe_scheduled_actions()] == ["r"]
    with pytest.raises(NotFound):
        acc.delete_scheduled_action("w", RID, TABLE_WRITE)
    advance_to(acc, T0 + timedelta(minutes=6))
    assert write_capacity(acc) == 100  # nothing ran on the deregistered target


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"name": ""}, "scheduled action name '' is not allowed"),
        ({"name": "a/b"}, "none of ':', '/', '|'"),
        ({"name": "a:b"}, "none of ':', '/', '|'"),
        ({"name": " lead"}, "no space at either end"),
        ({"name": "x\x1b[31m"}, "no control characters"),
        ({"name": "n" * 257}, "1–256 characters"),
        ({"schedule": "at(2025-03-03 10:05)"}, "at\\(yyyy-mm-ddThh:mm:ss\\)"),
        ({"schedule": "at(2025-02-30T10:05:00)"}, "is not a valid date and time"),
        ({"schedule": "rate(0 minutes)"}, "rate\\(N minute"),
        ({"schedule": "rate(5 weeks)"}, "rate\\(N minute"),
        ({"schedule": "cron(0 10 * * ?)"}, "cron\\(6 fields\\)"),
        ({"timezone": "Mars/Olympus"}, "not an IANA time zone name"),
        ({"min_capacity": 0}, "MinCapacity 0 is not allowed"),
        ({"max_capacity": -5}, "MaxCapacity -5 is not allowed"),
        ({"min_capacity": 10, "max_capacity": 5}, "MinCapacity 10 is above MaxCapacity 5"),
    ],
)
def test_a_bad_action_is_refused_naming_the_field_and_nothing_is_stored(
    change: dict[str, Any], words: str
) -> None:
    acc = account(100)
    acc.register_scalable_target(ScalableTarget(RID, TABLE_WRITE, 100, 100))
    fields: dict[str, Any] = {
        "name": "ok", "resource_id": RID, "dimension": TABLE_WRITE,
        "schedule": "at(2025-03-03T10:05:00)", "min_capacity": 5, "max_capacity": 50,
    }  # fmt: skip
    with pytest.raises(ValidationFailed, match=words):
        acc.put_scheduled_action(ScheduledAction(**(fields | change)))
    assert acc.describe_scheduled_actions() == []


def test_an_action_needs_a_registered_target() -> None:
    acc = account(100)
    with pytest.raises(ValidationFailed, match="register it first"):
        acc.put_scheduled_action(action("a", T0, 5, 5))
    with pytest.raises(NotFound):
        acc.delete_scheduled_action("a", RID, TABLE_WRITE)


# --- any actions: refused with a message, or run without a traceback -------------------------

SCHEDULES = st.one_of(
    st.datetimes(min_value=datetime(2025, 3, 3, 9, 0), max_value=datetime(2025, 3, 3, 12, 0)).map(
        lambda d: f"at({d.replace(microsecond=0).isoformat()})"
    ),
    st.sampled_from(["cron(0 * * * ? *)", "rate(5 minutes)", "at()", "at(2025-03-03T10:05)"]),
    st.text(max_size=30),
)
ACTIONS = st.builds(
    ScheduledAction,
    name=st.text(min_size=0, max_size=12),
    resource_id=st.sampled_from([RID, "table/none", "nonsense"]),
    dimension=st.sampled_from([TABLE_WRITE, TABLE_READ, "dynamodb:index:WriteCapacityUnits"]),
    schedule=SCHEDULES,
    min_capacity=st.none() | st.integers(-5, 50_000),
    max_capacity=st.none() | st.integers(-5, 50_000),
    timezone=st.none()
    | st.sampled_from(["UTC", "Europe/Paris", "Pacific/Kiritimati", "Nope/X", ""]),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(ACTIONS, max_size=6))
def test_any_actions_are_refused_with_a_message_or_run_and_bounds_stay_sane(
    actions: list[ScheduledAction],
) -> None:
    acc = account(100)
    acc.register_scalable_target(ScalableTarget(RID, TABLE_WRITE, 50, 500))
    acc.register_scalable_target(ScalableTarget(RID, TABLE_READ, 5, 50))
    for a in actions:
        try:
            acc.put_scheduled_action(a)
        except (ValidationFailed, NotFound) as error:
            assert str(error)
    advance_to(acc, T0 + timedelta(hours=3))
    for target in acc.targets.values():
        assert 1 <= target.min_capacity <= target.max_capacity
    capacity = acc.describe_table("orders").provisioned
    assert capacity is not None and 1 <= capacity.write <= 40_000 and 1 <= capacity.read <= 40_000
    assert set(acc.scheduled_ran) <= set(acc.scheduled)


# --- plan_event's actions, run by the simulated account ---------------------------------------


@pytest.mark.parametrize("auto_scaled", [False, True])
def test_a_planned_event_put_as_planned_is_ready_at_the_start_and_back_after_the_end(
    auto_scaled: bool,
) -> None:
    """What ``capcon event apply`` sends (the plan's targets, then its actions), run here:
    the capacity is the peak when the event starts, no write is throttled during it, and the
    restore puts back what was there (the scheduled-only target) or its bounds (auto scaling)."""
    acc = account(100, SPIKE)
    if auto_scaled:
        with_policy(acc)
    start = T0 + timedelta(seconds=SPIKE_AT)
    end = start + timedelta(seconds=SPIKE_FOR)
    table = acc.describe_table("orders")
    plan = plan_event(
        table,
        EventRequest("orders", start, end, write=2_200),
        acc.now(),
        rules=acc.rules,
        prices=load_price_book("us-east-1"),
        targets=tuple(acc.describe_scalable_targets()),
        policies=tuple(acc.describe_scaling_policies()),
        update_seconds=UPDATE,
    )
    assert isinstance(plan, EventPlan), plan
    before = target_of(acc) if auto_scaled else None
    for target in plan.registers:
        acc.register_scalable_target(target)
    for planned in plan.actions:
        acc.put_scheduled_action(planned)

    advance_to(acc, start)
    assert write_capacity(acc) == 2_200
    advance_to(acc, end)
    assert throttled(acc, start, end) == 0
    advance_to(acc, end + timedelta(minutes=1) + timedelta(seconds=UPDATE))
    if before is None:  # the scheduled-only target: back to where it was
        assert write_capacity(acc) == 100
        assert (target_of(acc).min_capacity, target_of(acc).max_capacity) == (100, 100)
    else:  # auto scaling's own bounds again; its policy takes it from there
        assert (target_of(acc).min_capacity, target_of(acc).max_capacity) == (
            before.min_capacity, before.max_capacity
        )  # fmt: skip
        assert write_capacity(acc) <= before.max_capacity
    assert all(key in acc.scheduled_ran for key in acc.scheduled)
