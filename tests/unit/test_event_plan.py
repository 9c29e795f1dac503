"""Planned events (``capcon event plan``): parse_when and plan_event, refusals at their edges."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capcon.core.config.prices import load_price_book
from capcon.core.model import (
    BillingMode,
    Index,
    Stream,
    StreamMode,
    Table,
    Throughput,
    ThroughputHistory,
    WarmThroughput,
)
from capcon.core.planning.events import (
    AAS_START,
    APPLY_MARGIN,
    EVENT_AFTER,
    MAX_AHEAD,
    MAX_EVENT,
    EventPlan,
    EventRequest,
    ReactiveEstimate,
    event_fingerprint,
    event_id,
    parse_when,
    plan_event,
    shard_steps,
)
from capcon.core.planning.planner import PlanContext, Refusal, Usage
from capcon.core.planning.reshard import uniform_shards
from capcon.core.planning.schedules import action_name
from capcon.core.ports import (
    INDEX_WRITE,
    TABLE_READ,
    TABLE_WRITE,
    ScalableTarget,
    ScalingPolicy,
    ScheduledAction,
    at_schedule,
)
from capcon.core.pricing import provisioned_table_cost
from capcon.core.rules import AccountCapacity, AccountShards, Code, RuleSettings

RULES = RuleSettings()
PRICES = load_price_book("us-east-1")
NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
START = datetime(2026, 12, 5, 18, 0, tzinfo=UTC)
END = datetime(2026, 12, 5, 23, 0, tzinfo=UTC)


def orders(**kwargs: object) -> Table:
    base = Table(
        "orders",
        provisioned=Throughput(100, 400),
        indexes=(Index("by-customer", provisioned=Throughput(50, 200)),),
    )
    return dataclasses.replace(base, **kwargs)  # type: ignore[arg-type]


def clicks(shards: int = 4, **kwargs: object) -> Stream:
    base = Stream("clicks", shards=uniform_shards(shards), arn=None)
    return dataclasses.replace(base, **kwargs)  # type: ignore[arg-type]


def event(
    resource: str = "orders",
    start: datetime = START,
    end: datetime = END,
    **kwargs: object,
) -> EventRequest:
    return EventRequest(resource, start, end, **kwargs)  # type: ignore[arg-type]


def run(resource: Table | Stream, request: EventRequest, **kwargs: object) -> EventPlan | Refusal:
    return plan_event(resource, request, NOW, rules=RULES, prices=PRICES, **kwargs)  # type: ignore[arg-type]


def ok(result: EventPlan | Refusal) -> EventPlan:
    assert isinstance(result, EventPlan), result
    return result


def refused(result: EventPlan | Refusal, code: Code) -> Refusal:
    assert isinstance(result, Refusal), result
    assert code in {v.code for v in result.violations}, result.violations
    return result


WRITE_TARGET = ScalableTarget("table/orders", TABLE_WRITE, 100, 1_000)
WRITE_POLICY = ScalingPolicy("orders-write", "table/orders", TABLE_WRITE, target_value=70.0)


# --------------------------------------------------------------------------------------------
# parse_when
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-05T18:00", START),
        ("2026-12-05T18:00Z", START),
        ("2026-12-05 18:00:00+00:00", START),
        ("2026-12-05T19:00+01:00", START),
        ("2026-12-05T13:00-05:00", START),
        ("+90m", NOW + timedelta(minutes=90)),
        ("+2h", NOW + timedelta(hours=2)),
        ("+1d", NOW + timedelta(days=1)),
        ("+1.5h", NOW + timedelta(minutes=90)),
        ("  +8 hours ", NOW + timedelta(hours=8)),
        ("now", NOW),
    ],
)
def test_parse_when_reads_iso_and_relative_times_in_utc(text: str, expected: datetime) -> None:
    moment = parse_when(text, NOW)
    assert moment == expected
    assert moment.utcoffset() == timedelta(0)


def test_parse_when_drops_fractions_of_a_second() -> None:
    now = NOW + timedelta(microseconds=123_456)
    assert parse_when("+1h", now) == NOW + timedelta(hours=1)


@pytest.mark.parametrize(
    "text",
    ["", "   ", "tomorrow", "+2x", "-2h", "+h", "2026-13-01T00:00", "18:00 today", "+1e400d"],
)
def test_parse_when_refuses_bad_text_naming_what_is_allowed(text: str) -> None:
    with pytest.raises(ValueError, match=r"\+2h|\+90m") as caught:
        parse_when(text, NOW)
    if text.strip():
        assert repr(text.strip()[:10])[1:-1] in str(caught.value)


def test_parse_when_refuses_a_relative_time_beyond_any_calendar() -> None:
    with pytest.raises(ValueError, match="too far ahead"):
        parse_when("+99999999999d", NOW)


@settings(max_examples=200)
@given(st.text(max_size=40))
def test_parse_when_never_raises_anything_but_value_error(text: str) -> None:
    try:
        moment = parse_when(text, NOW)
    except ValueError as error:
        assert str(error)
    else:
        assert moment.tzinfo is not None


# --------------------------------------------------------------------------------------------
# A provisioned table without auto scaling: a scheduled-only target, min = max
# --------------------------------------------------------------------------------------------


def test_table_without_auto_scaling_registers_a_scheduled_only_target() -> None:
    plan = ok(run(orders(), event(write=5_000)))
    eid = event_id("orders", None, START, END)
    assert plan.event_id == eid
    assert plan.how == "aas-scheduled-target"
    assert plan.registers == (ScalableTarget("table/orders", TABLE_WRITE, 400, 400),)
    raise_, restore = plan.actions
    assert raise_.name == action_name(eid, "raise", "write")
    assert (raise_.min_capacity, raise_.max_capacity) == (5_000, 5_000)
    assert restore.name == action_name(eid, "restore", "write")
    assert (restore.min_capacity, restore.max_capacity) == (400, 400)
    assert restore.at == END
    assert raise_.resource_id == restore.resource_id == "table/orders"
    assert raise_.dimension == restore.dimension == TABLE_WRITE
    assert plan.before == {"read": 100, "write": 400}
    assert plan.peak == {"read": 100, "write": 5_000}
    assert plan.after == plan.before
    assert plan.return_allowed


def test_lead_time_sends_the_raise_an_update_and_aas_start_ahead_on_a_minute() -> None:
    plan = ok(run(orders(), event(write=5_000), update_seconds=600))
    lead = timedelta(seconds=600) + AAS_START
    assert plan.send_at == START - lead
    assert plan.actions[0].schedule == at_schedule(START - lead)
    ready = next(s for s in plan.timeline if s.kind == "ready")
    assert ready.at <= START
    odd = ok(run(orders(), event(write=5_000), update_seconds=90))
    assert odd.send_at == datetime(2026, 12, 5, 17, 57, tzinfo=UTC)  # 2 min 30 s, floored
    assert not [w for w in plan.warnings if w.code == "late"]


def test_an_event_too_soon_for_the_lead_time_is_sent_as_soon_as_possible_and_says_late() -> None:
    start = NOW + timedelta(minutes=3)
    plan = ok(run(orders(), event(start=start, end=start + timedelta(hours=1), write=800)))
    assert plan.send_at == NOW + APPLY_MARGIN
    assert [w for w in plan.warnings if w.code == "late"]
    roomy = NOW + APPLY_MARGIN + AAS_START + timedelta(seconds=60)
    plan = ok(run(orders(), event(start=roomy, end=roomy + timedelta(hours=1), write=800)))
    assert not [w for w in plan.warnings if w.code == "late"]


def test_both_dimensions_get_an_action_each_and_a_gsi_its_own_resource_id() -> None:
    plan = ok(run(orders(), event(read=900, write=5_000)))
    assert [a.dimension for a in plan.actions] == [TABLE_READ, TABLE_WRITE] * 2
    gsi = ok(run(orders(), event(index="by-customer", write=900)))
    assert gsi.registers == (
        ScalableTarget("table/orders/index/by-customer", INDEX_WRITE, 200, 200),
    )
    assert gsi.actions[0].resource_id == "table/orders/index/by-customer"
    assert gsi.event_id != plan.event_id


def test_partitions_added_for_good_and_each_ones_throughput_after_the_return() -> None:
    plan = ok(run(orders(), event(write=5_000)))
    assert plan.partitions_before == 1
    assert plan.partitions_after > 1
    assert plan.per_partition_after_return == (
        100 / plan.partitions_after,
        400 / plan.partitions_after,
    )
    assert any("partitions" in w.message and "permanently" in w.message for w in plan.warnings)
    assert any("at most 966 WCU" in a for a in plan.alternatives)
    small = ok(run(orders(), event(write=900)))
    assert small.partitions_after == small.partitions_before == 1
    assert not any("at most" in a for a in small.alternatives)


# --------------------------------------------------------------------------------------------
# A table with auto scaling: min/max raised and restored, not fought
# --------------------------------------------------------------------------------------------


def test_auto_scaled_table_raises_min_keeps_max_above_peak_and_restores_both() -> None:
    plan = ok(run(orders(), event(write=800), targets=(WRITE_TARGET,), policies=(WRITE_POLICY,)))
    assert plan.how == "aas-scheduled"
    assert plan.registers == ()
    raise_, restore = plan.actions
    assert (raise_.min_capacity, raise_.max_capacity) == (800, 1_000)
    assert (restore.min_capacity, restore.max_capacity) == (100, 1_000)
    # the policy scales in after the restore: the decrease comes after its alarm
    returns = [s for s in plan.timeline if s.kind == "return"]
    assert [s.at for s in returns] == [END + timedelta(minutes=15)]


def test_auto_scaled_table_peak_above_max_raises_max_and_comes_down_at_the_end() -> None:
    plan = ok(run(orders(), event(write=5_000), targets=(WRITE_TARGET,), policies=(WRITE_POLICY,)))
    raise_, restore = plan.actions
    assert (raise_.min_capacity, raise_.max_capacity) == (5_000, 5_000)
    assert (restore.min_capacity, restore.max_capacity) == (100, 1_000)
    # down to the restored max at the end, then the policy scales in after its alarm
    returns = [s.at for s in plan.timeline if s.kind == "return"]
    assert returns == [END, END + timedelta(minutes=15)]


def test_a_policys_later_scale_in_over_budget_is_a_warning_the_forced_return_a_refusal() -> None:
    aas = {"targets": (WRITE_TARGET,), "policies": (WRITE_POLICY,)}
    last = END - timedelta(minutes=10)
    # 4th decrease at the end (forced down to max 1,000), 5th within the hour: the policy waits
    plan = ok(run(orders(history=used(3, last)), event(write=5_000), **aas))
    assert "decrease 4" in plan.return_note
    assert [w for w in plan.warnings if w.code == "scale-in-delayed"]
    refused(run(orders(history=used(4, last)), event(write=5_000), **aas), Code.DECREASE_BUDGET)
    # below max nothing is forced at the end: only the policy's scale-in, which waits
    plan = ok(run(orders(history=used(4, last)), event(write=800), **aas))
    assert [w for w in plan.warnings if w.code == "scale-in-delayed"]
    assert not [
        w
        for w in ok(run(orders(), event(write=800), **aas)).warnings
        if w.code == "scale-in-delayed"
    ]


def test_auto_scaled_peak_at_or_below_min_is_refused() -> None:
    target = dataclasses.replace(WRITE_TARGET, min_capacity=800)
    refused(
        run(orders(), event(write=800), targets=(target,), policies=(WRITE_POLICY,)),
        Code.NO_CHANGE,
    )
    ok(run(orders(), event(write=801), targets=(target,), policies=(WRITE_POLICY,)))


def test_policy_without_scale_in_warns_that_capacity_stays_at_peak() -> None:
    policy = dataclasses.replace(WRITE_POLICY, disable_scale_in=True)
    plan = ok(run(orders(), event(write=800), targets=(WRITE_TARGET,), policies=(policy,)))
    assert [w for w in plan.warnings if w.code == "no-scale-in"]
    assert not [s for s in plan.timeline if s.kind == "return"]


def test_a_peak_nothing_brings_back_is_not_promised_back() -> None:
    """A target without a policy whose max is above the peak keeps the peak after the
    restore: the timeline says so, not "back at today's capacity" (seen in the console)."""
    no_policy = ScalableTarget("table/orders", TABLE_WRITE, 50, 5_000)
    plan = ok(run(orders(), event(write=800), targets=(no_policy,)))
    assert not [s for s in plan.timeline if s.kind == "settled"]
    assert [s for s in plan.timeline if "does not come back by itself" in s.what]
    back = ok(run(orders(), event(write=800), targets=(WRITE_TARGET,), policies=(WRITE_POLICY,)))
    assert [s for s in back.timeline if s.kind == "settled"]


def test_a_target_without_a_policy_is_reused_not_registered_again() -> None:
    scheduled_only = ScalableTarget("table/orders", TABLE_WRITE, 400, 400)
    plan = ok(run(orders(), event(write=5_000), targets=(scheduled_only,)))
    assert plan.registers == ()
    assert plan.how == "aas-scheduled"
    assert (plan.actions[1].min_capacity, plan.actions[1].max_capacity) == (400, 400)


# --------------------------------------------------------------------------------------------
# Refusals of the event's times, at their edges
# --------------------------------------------------------------------------------------------


def test_end_at_the_start_is_refused_a_second_later_is_not() -> None:
    refused(run(orders(), event(end=START, write=800)), Code.EVENT_TIME)
    refused(run(orders(), event(end=START - timedelta(hours=1), write=800)), Code.EVENT_TIME)
    ok(run(orders(), event(end=START + timedelta(seconds=1), write=800)))


def test_a_start_in_the_past_is_refused_now_is_not() -> None:
    past = NOW - timedelta(seconds=1)
    refusal = refused(run(orders(), event(start=past, write=800)), Code.EVENT_TIME)
    assert "in the past" in refusal.violations[0].message
    ok(run(orders(), event(start=NOW, write=800)))


def test_an_event_longer_than_31_days_is_refused() -> None:
    ok(run(orders(), event(end=START + MAX_EVENT, write=800)))
    refusal = refused(
        run(orders(), event(end=START + MAX_EVENT + timedelta(seconds=1), write=800)),
        Code.EVENT_TIME,
    )
    assert "31 days" in refusal.violations[0].message


def test_a_start_more_than_366_days_ahead_is_refused_with_when_it_is_allowed() -> None:
    far = NOW + MAX_AHEAD
    ok(run(orders(), event(start=far, end=far + timedelta(hours=2), write=800)))
    later = far + timedelta(seconds=1)
    refusal = refused(
        run(orders(), event(start=later, end=later + timedelta(hours=2), write=800)),
        Code.EVENT_TIME,
    )
    assert refusal.allowed_at == NOW + timedelta(seconds=1)


def test_every_reason_is_named_at_once() -> None:
    refusal = refused(
        run(orders(), event(start=NOW - timedelta(days=40), end=NOW - timedelta(days=41))),
        Code.EVENT_TIME,
    )
    assert {v.code for v in refusal.violations} >= {Code.EVENT_TIME, Code.NO_CHANGE}
    assert len([v for v in refusal.violations if v.code is Code.EVENT_TIME]) == 2
    late = event(start=NOW - timedelta(hours=1), write=40_001)
    refusal = refused(run(orders(), late), Code.EVENT_TIME)
    assert Code.ABOVE_RESOURCE_QUOTA in {v.code for v in refusal.violations}
    lower = event(start=NOW - timedelta(hours=1), write=300)
    assert Code.NO_CHANGE in {
        v.code for v in refused(run(orders(), lower), Code.EVENT_TIME).violations
    }


# --------------------------------------------------------------------------------------------
# The return and the decrease budget of its UTC day
# --------------------------------------------------------------------------------------------


def used(count: int, last: datetime) -> ThroughputHistory:
    return ThroughputHistory(decreases_today=count, last_decrease=last)


def test_return_as_the_fourth_decrease_of_the_day_is_allowed() -> None:
    table = orders(history=used(3, END - timedelta(minutes=10)))
    plan = ok(run(table, event(write=800)))
    assert "decrease 4" in plan.return_note


def test_return_as_the_fifth_decrease_within_the_hour_is_refused_with_when_allowed() -> None:
    last = END - timedelta(minutes=30)
    table = orders(history=used(4, last))
    refusal = refused(run(table, event(write=800)), Code.DECREASE_BUDGET)
    assert refusal.allowed_at == last + timedelta(hours=1)
    assert "23:30" in refusal.violations[0].message


def test_return_as_the_fifth_decrease_an_hour_after_the_last_is_allowed() -> None:
    table = orders(history=used(4, END - timedelta(hours=1)))
    plan = ok(run(table, event(write=800)))
    assert "decrease 5" in plan.return_note


def test_returning_two_dimensions_uses_two_decreases() -> None:
    last = END - timedelta(minutes=10)
    ok(run(orders(history=used(2, last)), event(read=900, write=800)))
    refusal = refused(
        run(orders(history=used(3, last)), event(read=900, write=800)), Code.DECREASE_BUDGET
    )
    assert refusal.allowed_at == END + timedelta(hours=1)


def test_all_27_decreases_used_means_the_next_utc_day() -> None:
    table = orders(history=used(27, END - timedelta(hours=2)))
    refusal = refused(run(table, event(write=800)), Code.DECREASE_BUDGET)
    assert refusal.allowed_at == datetime(2026, 12, 6, tzinfo=UTC)


def test_a_return_on_a_later_utc_day_starts_fresh_and_says_so() -> None:
    table = orders(history=used(27, NOW - timedelta(minutes=5)))
    end = datetime(2026, 12, 6, 0, 30, tzinfo=UTC)
    plan = ok(run(table, event(end=end, write=800)))
    assert "decrease 1 of 2026-12-06" in plan.return_note
    assert any("later day" in a and "fresh" in a for a in plan.assumptions)
    # a count without a date (a table read from a file) is today's, not that day's
    undated = orders(history=ThroughputHistory(decreases_today=27))
    ok(run(undated, event(end=end, write=800)))
    refused(run(undated, event(write=800)), Code.DECREASE_BUDGET)


# --------------------------------------------------------------------------------------------
# Quotas and what the planner refuses for the peak
# --------------------------------------------------------------------------------------------


def test_peak_above_the_table_quota_is_refused_at_the_quota_not() -> None:
    ok(run(orders(), event(write=40_000)))
    refused(run(orders(), event(write=40_001)), Code.ABOVE_RESOURCE_QUOTA)


def test_peak_above_the_account_quota_is_refused() -> None:
    context = PlanContext(account_capacity=AccountCapacity(1_000, 75_400))
    ok(run(orders(), event(write=5_000), context=context))
    refused(run(orders(), event(write=5_001), context=context), Code.ABOVE_ACCOUNT_QUOTA)


def test_a_lower_or_equal_capacity_is_not_an_event() -> None:
    refused(run(orders(), event(write=399)), Code.NO_CHANGE)
    refused(run(orders(), event(write=400)), Code.NO_CHANGE)
    refused(run(orders(), event(write=0)), Code.BELOW_MINIMUM)
    refused(run(orders(), event()), Code.NO_CHANGE)


def test_unknown_index_and_shards_on_a_table_are_refused() -> None:
    refused(run(orders(), event(index="nope", write=900)), Code.UNKNOWN_INDEX)
    refused(run(orders(), event(shards=8)), Code.NO_CHANGE)


def test_a_table_updating_now_is_planned_with_a_warning_a_deleting_one_is_refused() -> None:
    plan = ok(run(orders(status="UPDATING"), event(write=900)))
    assert [w for w in plan.warnings if w.code == "busy-now"]
    refused(run(orders(status="DELETING"), event(write=900)), Code.RESOURCE_BUSY)


# --------------------------------------------------------------------------------------------
# On-demand tables: pre-warming
# --------------------------------------------------------------------------------------------


def on_demand() -> Table:
    return orders(
        billing_mode=BillingMode.PAY_PER_REQUEST,
        provisioned=None,
        warm=WarmThroughput(12_000, 4_000),
        indexes=(),
    )


def test_on_demand_table_with_capacity_is_refused_pointing_at_warm() -> None:
    refusal = refused(run(on_demand(), event(write=5_000)), Code.NOT_PROVISIONED)
    assert "--warm" in refusal.violations[0].message
    refused(run(on_demand(), event()), Code.NO_CHANGE)


def test_on_demand_table_is_pre_warmed_at_apply() -> None:
    warm = WarmThroughput(12_000, 10_000)
    plan = ok(run(on_demand(), event(warm=warm)))
    assert plan.how == "prewarm"
    assert plan.warm == warm
    assert plan.send_at == NOW
    assert plan.actions == () and plan.registers == ()
    assert any(w.code == "prewarm-irreversible" for w in plan.warnings)
    assert plan.partitions_after >= 10
    refused(run(on_demand(), event(warm=WarmThroughput(100, 100))), Code.WARM_DECREASE)


def test_warm_on_a_provisioned_table_is_refused() -> None:
    refused(run(orders(), event(write=900, warm=WarmThroughput(5, 5))), Code.SEPARATE_REQUEST)


# --------------------------------------------------------------------------------------------
# Money
# --------------------------------------------------------------------------------------------


def test_costs_over_the_window_from_the_price_book() -> None:
    plan = ok(run(orders(), event(write=5_000)))
    by = {c.label.split(" (")[0]: c for c in plan.costs}
    # only the event's dimension: reads and storage cost the same in every case
    peak_h = provisioned_table_cost(Throughput(0, 5_000), PRICES).per_hour
    base_h = provisioned_table_cost(Throughput(0, 400), PRICES).per_hour
    assert plan.costs_until == END + EVENT_AFTER
    hours = (END - plan.send_at).total_seconds() / 3600
    tail = EVENT_AFTER.total_seconds() / 3600
    assert by["scheduled"].usd == pytest.approx(peak_h * hours + base_h * tail)
    assert by["stay at peak"].usd == pytest.approx(peak_h * (hours + tail))
    assert by["stay at peak"].after_per_month == pytest.approx(peak_h * 730)
    assert by["scheduled"].after_per_month == pytest.approx(base_h * 730)
    assert by["reactive"].usd is None
    demand = 5_000 * 0.7 * 3600 * PRICES.on_demand_write_per_million / 1e6
    assert by["on-demand"].usd == pytest.approx(demand * (hours + tail))  # no recent use known
    assert "us-east-1" in plan.price_book and PRICES.as_of.isoformat() in plan.price_book


def test_on_demand_cost_follows_recent_use_and_the_peak_share() -> None:
    low = ok(run(orders(), event(write=5_000), usage=Usage(1.0, 10.0), peak_utilisation=0.5))
    high = ok(run(orders(), event(write=5_000), usage=Usage(1.0, 10.0), peak_utilisation=1.0))

    def od(plan: EventPlan) -> float:
        cost = next(c for c in plan.costs if c.label == "on-demand")
        assert cost.usd is not None
        return cost.usd

    assert od(high) > od(low)


def test_reactive_estimate_is_shown_as_given() -> None:
    reactive = ReactiveEstimate("aas", 70.0, 12.5, 0.93, 40_000.0, 3, 2, 4_800, note="sim")
    plan = ok(run(orders(), event(write=5_000), reactive=reactive))
    cost = next(c for c in plan.costs if c.label.startswith("reactive"))
    assert cost.usd == 12.5
    assert cost.served == 0.93
    assert "aas" in cost.label and "93.0%" in cost.note


def test_fingerprint_moves_with_the_auto_scaling_state() -> None:
    plain = ok(run(orders(), event(write=800)))
    assert plain.fingerprint == event_fingerprint(orders())
    scaled = ok(run(orders(), event(write=800), targets=(WRITE_TARGET,), policies=(WRITE_POLICY,)))
    assert scaled.fingerprint != plain.fingerprint
    assert scaled.fingerprint == event_fingerprint(orders(), None, (WRITE_TARGET,), (WRITE_POLICY,))


# --------------------------------------------------------------------------------------------
# Scheduled actions already there
# --------------------------------------------------------------------------------------------


def test_the_same_event_twice_is_refused() -> None:
    plan = ok(run(orders(), event(write=800)))
    refusal = refused(run(orders(), event(write=800), scheduled=plan.actions), Code.EVENT_CONFLICT)
    assert "already scheduled" in refusal.violations[0].message


def test_another_capcon_event_inside_the_window_is_refused_outside_is_not() -> None:
    other = event(start=START + timedelta(days=1), end=END + timedelta(days=1), write=700)
    theirs = ok(run(orders(), other)).actions
    ok(run(orders(), event(write=800), scheduled=theirs))
    inside = tuple(
        dataclasses.replace(a, schedule=at_schedule(START + timedelta(hours=1))) for a in theirs
    )
    refused(run(orders(), event(write=800), scheduled=inside), Code.EVENT_CONFLICT)
    around = ok(
        run(
            orders(),
            event(start=START - timedelta(hours=2), end=END + timedelta(hours=1), write=700),
        )
    )
    refused(run(orders(), event(write=800), scheduled=around.actions), Code.EVENT_CONFLICT)
    # another dimension, or another table's actions, do not collide
    reads = ok(run(orders(), event(read=700))).actions
    ok(run(orders(), event(write=800), scheduled=reads))


def test_another_tools_action_in_the_window_is_a_warning() -> None:
    action = ScheduledAction(
        "nightly", "table/orders", TABLE_WRITE, at_schedule(START + timedelta(hours=2)), 50, 60
    )
    plan = ok(run(orders(), event(write=800), scheduled=(action,)))
    assert [w for w in plan.warnings if w.code == "scheduled-action-in-window"]


# --------------------------------------------------------------------------------------------
# Streams: ½…2× steps, 10 reshards per rolling 24 h, the account quota
# --------------------------------------------------------------------------------------------


def test_shard_steps_halve_and_double() -> None:
    assert shard_steps(4, 16, RULES) == (8, 16)
    assert shard_steps(16, 4, RULES) == (8, 4)
    assert shard_steps(3, 10, RULES) == (6, 10)
    assert shard_steps(10, 3, RULES) == (5, 3)
    assert shard_steps(4, 8, RULES) == (8,)


def test_a_4_to_16_stream_event_needs_two_steps_each_way() -> None:
    plan = ok(run(clicks(4), event("clicks", shards=16)))
    assert plan.how == "stream-schedule"
    assert [(s.shards, s.phase) for s in plan.reshards] == [
        (8, "raise"),
        (16, "raise"),
        (8, "restore"),
        (4, "restore"),
    ]
    raises = [s.at for s in plan.reshards if s.phase == "raise"]
    assert raises[0] < raises[1] <= START
    assert plan.reshards[2].at == END
    assert plan.before == plan.after == {"shards": 4}
    assert plan.peak == {"shards": 16}


def test_ten_reshards_in_24_hours_are_allowed_eleven_are_not() -> None:
    recent = tuple(START - timedelta(hours=h) for h in range(1, 9))  # 8 in the last 24 h
    ok(run(clicks(4), event("clicks", shards=8), reshard_history=recent))
    refusal = refused(
        run(
            clicks(4),
            event("clicks", shards=8),
            reshard_history=(*recent, START - timedelta(hours=10)),
        ),
        Code.RESHARD_LIMIT,
    )
    assert "restore step" in refusal.violations[0].message
    old = (*recent, START - timedelta(hours=30))  # outside the rolling window
    ok(run(clicks(4), event("clicks", shards=8), reshard_history=old))


def test_the_account_shard_quota_is_checked_at_each_step() -> None:
    fits = PlanContext(account_shards=AccountShards(open_shards=100, shard_quota=112))
    ok(run(clicks(4), event("clicks", shards=16), context=fits))
    tight = PlanContext(account_shards=AccountShards(open_shards=100, shard_quota=111))
    refused(run(clicks(4), event("clicks", shards=16), context=tight), Code.ACCOUNT_SHARD_QUOTA)


def test_stream_refusals() -> None:
    refused(run(clicks(4), event("clicks", shards=4)), Code.NO_CHANGE)
    refused(run(clicks(4), event("clicks", shards=2)), Code.NO_CHANGE)
    refused(run(clicks(4), event("clicks", shards=10_001)), Code.STREAM_SHARD_MAX)
    refused(run(clicks(4), event("clicks", write=5)), Code.NO_CHANGE)
    on_demand_stream = clicks(4, mode=StreamMode.ON_DEMAND)
    refused(run(on_demand_stream, event("clicks", shards=8)), Code.NOT_PROVISIONED)
    refused(run(clicks(4), event("clicks", end=START, shards=8)), Code.EVENT_TIME)


def test_stream_costs_count_shard_hours_step_by_step() -> None:
    plan = ok(run(clicks(4), event("clicks", shards=16)))
    by = {c.label.split(" (")[0]: c for c in plan.costs}
    assert by["scheduled"].usd is not None and by["stay at peak"].usd is not None
    assert 0 < by["scheduled"].usd < by["stay at peak"].usd
    assert by["stay at peak"].after_per_month == pytest.approx(16 * PRICES.shard_hour * 730)


def test_an_event_under_way_restores_to_its_own_restore_values_not_its_raise() -> None:
    # event A raised writes to min 3,000 (its raise ran), restores to 100–1,000 before ours
    a_start, a_end = NOW - timedelta(hours=1), NOW + timedelta(hours=2)
    eid = event_id("orders", None, a_start, a_end)
    theirs = (
        ScheduledAction(action_name(eid, "raise", "write"), "table/orders", TABLE_WRITE,
                        at_schedule(a_start), 3_000, 3_000),
        ScheduledAction(action_name(eid, "restore", "write"), "table/orders", TABLE_WRITE,
                        at_schedule(a_end), 100, 1_000),
    )  # fmt: skip
    raised_now = ScalableTarget("table/orders", TABLE_WRITE, 3_000, 3_000)
    plan = ok(
        run(orders(), event(write=5_000), targets=(raised_now,), policies=(WRITE_POLICY,),
            scheduled=theirs)
    )  # fmt: skip
    restore = plan.actions[-1]
    assert (restore.min_capacity, restore.max_capacity) == (100, 1_000)


TABLE = orders(
    history=ThroughputHistory(decreases_today=2, last_decrease=NOW - timedelta(minutes=5))
)


@settings(max_examples=120, deadline=None)
@given(
    start_min=st.integers(-120, 60 * 24 * 400),
    length_min=st.integers(-60, 60 * 24 * 40),
    read=st.one_of(st.none(), st.integers(-5, 50_000)),
    write=st.one_of(st.none(), st.integers(-5, 50_000)),
    index=st.sampled_from([None, "by-customer", "nope"]),
    scaled=st.booleans(),
    update=st.integers(-10, 10**9),
)
def test_any_table_request_is_a_plan_or_a_refusal_and_plans_hold_together(
    start_min: int,
    length_min: int,
    read: int | None,
    write: int | None,
    index: str | None,
    scaled: bool,
    update: int,
) -> None:
    start = NOW + timedelta(minutes=start_min)
    request = event(start=start, end=start + timedelta(minutes=length_min), read=read,
                    write=write, index=index)  # fmt: skip
    aas: dict[str, object] = (
        {"targets": (WRITE_TARGET,), "policies": (WRITE_POLICY,)} if scaled else {}
    )
    result = run(TABLE, request, update_seconds=update, **aas)
    if isinstance(result, Refusal):
        assert result.violations and all(v.message for v in result.violations)
        return
    assert NOW < result.send_at < result.return_at == request.end
    raises = [a for a in result.actions if "-raise-" in a.name]
    restores = [a for a in result.actions if "-restore-" in a.name]
    assert len(raises) == len(restores) >= 1
    for up, down in zip(raises, restores, strict=True):
        assert up.at == result.send_at and down.at == request.end
        assert up.min_capacity is not None and down.min_capacity is not None
        assert up.max_capacity is not None and down.max_capacity is not None
        assert up.min_capacity > down.min_capacity
        assert up.min_capacity <= up.max_capacity and down.min_capacity <= down.max_capacity
    assert [s.at for s in result.timeline] == sorted(s.at for s in result.timeline)
    assert result.partitions_after >= result.partitions_before


@settings(max_examples=60, deadline=None)
@given(
    current=st.integers(1, 40),
    peak=st.integers(-3, 170),
    history=st.lists(st.integers(1, 60 * 30), max_size=12),
)
def test_any_stream_request_steps_within_half_and_double(
    current: int, peak: int, history: list[int]
) -> None:
    recent = tuple(START - timedelta(minutes=m) for m in history)
    result = run(clicks(current), event("clicks", shards=peak), reshard_history=recent)
    if isinstance(result, Refusal):
        assert result.violations
        return
    counts = [current, *(s.shards for s in result.reshards)]
    for a, b in itertools.pairwise(counts):
        assert a / 2 <= b <= 2 * a
    assert counts[-1] == current and max(counts) == peak
    times = [s.at for s in result.reshards]
    assert times == sorted(times)
    for t in times:  # never more than 10 in any rolling 24 h
        window = [h for h in (*recent, *times) if t - timedelta(hours=24) < h <= t]
        assert len(window) <= RULES.reshards_per_window


def test_reshards_at_the_same_moment_each_count() -> None:
    same = (START - timedelta(hours=1),) * 8
    ok(run(clicks(4), event("clicks", shards=8), reshard_history=same))
    refused(run(clicks(4), event("clicks", shards=8), reshard_history=same * 2), Code.RESHARD_LIMIT)
    context = PlanContext(reshard_history=(START - timedelta(hours=1),) * 9)
    refused(run(clicks(4), event("clicks", shards=8), context=context), Code.RESHARD_LIMIT)


def test_a_suspended_target_is_a_warning() -> None:
    suspended = dataclasses.replace(WRITE_TARGET, suspended=True)
    plan = ok(run(orders(), event(write=800), targets=(suspended,), policies=(WRITE_POLICY,)))
    assert [w for w in plan.warnings if w.code == "target-suspended"]
    plan = ok(run(orders(), event(write=800), targets=(WRITE_TARGET,), policies=(WRITE_POLICY,)))
    assert not [w for w in plan.warnings if w.code == "target-suspended"]


def test_a_stream_event_ending_before_its_raise_is_done_is_refused() -> None:
    soon = NOW + timedelta(minutes=5)  # 4 → 16: two reshards from 10:02, done about 10:06
    refused(run(clicks(4), event("clicks", start=soon, end=soon, shards=16)), Code.EVENT_TIME)
    refused(
        run(clicks(4), event("clicks", start=soon, end=soon + timedelta(seconds=59), shards=16)),
        Code.EVENT_TIME,
    )
    plan = ok(
        run(clicks(4), event("clicks", start=soon, end=soon + timedelta(minutes=1), shards=16))
    )
    assert [w for w in plan.warnings if w.code == "late"]


@settings(max_examples=60, deadline=None)
@given(
    read=st.integers(-5, 60_000),
    write=st.integers(-5, 60_000),
    with_capacity=st.booleans(),
    index=st.sampled_from([None, "by-customer"]),
)
def test_any_on_demand_request_is_a_plan_or_a_refusal(
    read: int, write: int, with_capacity: bool, index: str | None
) -> None:
    table = dataclasses.replace(
        on_demand(), indexes=(Index("by-customer", warm=WarmThroughput(3_000, 1_000)),)
    )
    request = event(
        warm=WarmThroughput(read, write), write=write if with_capacity else None, index=index
    )
    result = run(table, request)
    if isinstance(result, Refusal):
        assert result.violations
        return
    assert not with_capacity and result.how == "prewarm" and result.warm == request.warm
    assert result.peak == {"read": read, "write": write}


def test_naive_times_are_taken_as_utc() -> None:
    naive = event(start=START.replace(tzinfo=None), end=END.replace(tzinfo=None), write=800)
    plan = ok(run(orders(), naive))
    assert plan.return_at == END
    assert plan.event_id == event_id("orders", None, START, END)
