"""The auto-scaling policies on synthetic observations: h1, h2, capcon, oracle and kinesis.

Each test builds exactly what a policy could see (1-minute datapoints, late) and checks the
decision and that its reason says why.  The experiment grid is in ``test_experiment.py``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from capcon.core.backends.sim.account import SimAccount, TableSpec
from capcon.core.backends.sim.traffic import Steady
from capcon.core.model import Throughput, ThroughputHistory
from capcon.core.policies import (
    POLICIES,
    STREAM_POLICIES,
    TABLE_POLICIES,
    Capcon,
    Decision,
    KinesisPolicy,
    Observation,
    Oracle,
    StreamObservation,
    TargetTracking,
    make_policy,
    stream_observation,
)
from capcon.core.ports import TABLE_WRITE, ScalableTarget, ScalingPolicy
from capcon.core.rules import RuleSettings, after_decrease, decrease_budget

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
RULES = RuleSettings()


def table_obs(
    demand: Sequence[float],
    capacity: int,
    *,
    throttled: Sequence[float] | None = None,
    delay_minutes: int = 3,
    updating: bool = False,
    history: ThroughputHistory | None = None,
    split_above: int | None = None,
    capacity_since: datetime | None = None,
) -> Observation:
    """An observation at the minute boundary ``delay_minutes`` after the newest datapoint's
    start, with the decrease budget of ``history`` (none used by default)."""
    n = len(demand)
    minutes = tuple(T0 + i * MIN for i in range(n))
    now = minutes[-1] + delay_minutes * MIN
    thr = tuple(throttled) if throttled is not None else (0.0,) * n
    consumed = tuple(d - x for d, x in zip(demand, thr, strict=True))
    hist = history or ThroughputHistory()
    return Observation(
        now=now,
        capacity=capacity,
        min_capacity=1,
        max_capacity=40_000,
        updating=updating,
        minutes=minutes,
        consumed=consumed,
        throttled=thr,
        capacity_since=capacity_since,
        decrease_budget=decrease_budget(hist, now, RULES),
        next_decrease_after_one=decrease_budget(
            after_decrease(hist, now), now, RULES
        ).next_allowed_at,
        update_seconds=60,
        metric_delay_seconds=120,
        split_above=split_above,
    )


# --- the registry ------------------------------------------------------------------------


def test_every_policy_is_registered_and_table_and_stream_policies_split_them() -> None:
    assert set(POLICIES) == {"aas", "aas-legacy", "h1", "h2", "capcon", "oracle", "kinesis"}
    assert set(TABLE_POLICIES) | set(STREAM_POLICIES) == set(POLICIES)
    assert not set(TABLE_POLICIES) & set(STREAM_POLICIES)
    for name in POLICIES:
        policy = make_policy(name, 70)
        assert policy.name == name
        assert policy.target == 70


def test_make_policy_names_the_known_policies() -> None:
    with pytest.raises(ValueError, match="unknown policy 'h3'") as raised:
        make_policy("h3", 70)
    for name in POLICIES:
        assert name in str(raised.value)


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_a_target_outside_0_to_100_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="not a utilisation"):
        make_policy(name, 0)


def test_demand_is_consumed_plus_throttled() -> None:
    obs = table_obs([10, 50], 40, throttled=[0, 10])
    assert obs.demand == (10.0, 50.0)
    short = Observation(T0, 10, 1, 100, False, (T0,), (4.0,), ())
    assert short.demand == (4.0,)


# --- h1 and h2 -----------------------------------------------------------------------------


def test_h1_and_h2_scale_out_after_one_breach_aas_waits_for_two() -> None:
    obs = table_obs([25, 25, 45], 50)
    assert make_policy("aas", 50).decide(obs).action == "hold"
    for name in ("h1", "h2"):
        decision = make_policy(name, 50).decide(obs)
        assert decision.action == "scale-out"
        assert "AlarmHigh (1 × 1 min above 50%)" in decision.reason
    # h2 sizes from the newest minute's requests; h1 as 2017's AAS did, from the average of
    # its 5-minute evaluation window (here the 3 minutes there are), before the breach too
    # (docs/field-notes.md#the-mechanism-in-the-simulator)
    assert make_policy("h2", 50).decide(obs).capacity == 90  # 45 / 50 %
    h1 = make_policy("h1", 50).decide(obs)
    assert h1.capacity == 64  # (25 + 25 + 45) / 3 / 50 %
    assert "3-min average 31.7 / 50% → 64" in h1.reason


def test_h1_sizes_from_consumed_h2_from_the_requests_made() -> None:
    # 100 writes/s asked for, 60 served (the table is at 50 WCU and out of burst): consumed
    # can never show the demand, the requests do.
    obs = table_obs([100, 100], 50, throttled=[40, 40])
    h1 = make_policy("h1", 80).decide(obs)
    h2 = make_policy("h2", 80).decide(obs)
    assert h1.capacity == 75  # 60 / 80 %: one step of 1/target
    assert h2.capacity == 125  # 100 / 80 %
    assert "requests 100.0/s (consumed 60.0 + throttled 40.0)" in h2.reason


@pytest.mark.parametrize("name", ["h1", "h2"])
def test_h1_and_h2_scale_in_as_aas_does(name: str) -> None:
    policy = make_policy(name, 70)
    quiet = table_obs([20] * 15, 100)
    decision = policy.decide(quiet)
    assert decision.action == "scale-in"
    assert decision.capacity == 29
    assert "AlarmLow (15 × 1 min below 50%)" in decision.reason
    assert policy.decide(table_obs([20] * 14, 100)).action == "hold"


# --- capcon ----------------------------------------------------------------------------------


def test_capcon_scales_out_on_the_trend_before_any_breach() -> None:
    # 56 % of 90 now, but rising 10/s per minute: in the 4.5 min until a change decided now
    # can next be corrected, ~95/s: more than the capacity itself.
    obs = table_obs([30, 40, 50], 90)
    assert make_policy("h2", 70).decide(obs).action == "hold"
    decision = make_policy("capcon", 70).decide(obs)
    assert decision.action == "scale-out"
    assert decision.capacity is not None and decision.capacity >= math.ceil(95 / 0.9)
    assert "rising 10.0/s per min" in decision.reason
    assert "metric delay + update" in decision.reason


def test_capcon_sizes_from_requests_on_a_breach() -> None:
    decision = make_policy("capcon", 80).decide(table_obs([100, 100], 50, throttled=[40, 40]))
    assert decision.action == "scale-out"
    assert decision.capacity == 125
    assert "consumed 60.0 + throttled 40.0" in decision.reason


def test_capcon_the_horizon_follows_the_reaction_time() -> None:
    policy = Capcon(70)
    fast = table_obs([30, 40, 50], 100, delay_minutes=1)
    slow = table_obs([30, 40, 50], 100, delay_minutes=5)
    assert policy._horizon(fast) < policy._horizon(slow)
    assert policy._horizon(table_obs([30, 40, 50], 100)) == pytest.approx(270)


def test_capcon_holds_while_the_table_is_updating() -> None:
    decision = make_policy("capcon", 70).decide(table_obs([100, 100], 50, updating=True))
    assert decision.action == "hold"
    assert "update in progress" in decision.reason


def test_capcon_skips_small_increases_unless_urgent() -> None:
    # 66/s at 70 % wants 95 (+6 %): too small while the forecast is under the capacity
    assert make_policy("capcon", 70).decide(table_obs([66, 66, 66], 90)).action == "hold"
    # the same step when requests are throttled is made at once
    urgent = table_obs([66, 66, 66], 90, throttled=[0, 0, 1])
    assert make_policy("capcon", 70).decide(urgent).action == "scale-out"


def test_capcon_does_not_split_partitions_for_a_forecast() -> None:
    # measured demand needs 900 at 70 %... 630/s; the trend would ask for far more, past the
    # 998 WCU one partition serves: capcon stops at 998
    obs = table_obs([430, 530, 630], 700, split_above=998)
    decision = make_policy("capcon", 70).decide(obs)
    assert decision.capacity == 998
    assert "split partitions" in decision.reason
    # measured demand is always served, partitions or not
    measured = make_policy("capcon", 70).decide(table_obs([800, 800, 800], 700, split_above=998))
    assert measured.capacity == 1143


def test_capcon_scales_in_slowly_after_calm_minutes() -> None:
    policy = make_policy("capcon", 70)
    assert policy.decide(table_obs([20] * 4, 100)).action == "hold"  # 4 calm minutes of 5
    decision = policy.decide(table_obs([20] * 5, 100))
    assert decision.action == "scale-in"
    assert decision.capacity == 29
    assert "peak requests of the last 5 min 20.0/s" in decision.reason


def test_capcon_keeps_small_decreases_for_a_bigger_step() -> None:
    decision = make_policy("capcon", 70).decide(table_obs([50] * 10, 100))  # 72: −28 %
    assert decision.action == "hold"
    assert "keeping the budget" in decision.reason


def test_capcon_never_asks_for_a_decrease_the_rule_book_refuses() -> None:
    # four decreases today, the last 10 minutes ago: AWS refuses a fifth for 50 minutes
    history = ThroughputHistory(4, T0 + 5 * MIN, None)
    obs = table_obs([20] * 10, 100, history=history)
    assert obs.decrease_budget is not None and not obs.decrease_budget.allowed_now
    decision = make_policy("capcon", 70).decide(obs)
    assert decision.action == "hold"
    assert "decrease budget" in decision.reason


def test_capcon_the_last_free_decrease_waits_for_demand_to_settle() -> None:
    # three decreases used: the next is the last before the hourly pace
    history = ThroughputHistory(3, T0, None)
    falling = table_obs([100, 90, 80, 70, 60, 50, 40], 300, history=history)
    decision = make_policy("capcon", 70).decide(falling)
    assert decision.action == "hold"
    assert "settle" in decision.reason
    settled = table_obs([40] * 7, 300, history=history)
    assert make_policy("capcon", 70).decide(settled).action == "scale-in"
    # with decreases to spare, a falling demand is followed down
    assert make_policy("capcon", 70).decide(
        table_obs([100, 90, 80, 70, 60, 50, 40], 300)
    ).action == ("scale-in")


def test_capcon_does_not_scale_in_right_after_a_scale_out() -> None:
    policy = make_policy("capcon", 70)
    obs = table_obs([20] * 6, 100)
    policy.applied(Decision("scale-out", 100, "test"), obs.now - 2 * MIN)
    decision = policy.decide(obs)
    assert decision.action == "hold"
    assert "scaled out" in decision.reason


# --- oracle ----------------------------------------------------------------------------------


def forecast_of(rate: Callable[[float], float]) -> Callable[[datetime, datetime], list[float]]:
    def forecast(start: datetime, end: datetime) -> list[float]:
        t0 = int((start - T0).total_seconds())
        t1 = int((end - T0).total_seconds())
        return [rate(t) for t in range(t0, t1)]

    return forecast


def test_the_oracle_without_a_forecast_holds() -> None:
    decision = make_policy("oracle", 70).decide(table_obs([25] * 3, 50))
    assert decision.action == "hold"
    assert "forecast" in decision.reason


def test_the_oracle_scales_ahead_of_the_update_delay() -> None:
    # a step to 300/s two minutes after now: the oracle asks now, so it is in force in time
    obs = table_obs([25] * 3, 50)
    step_at = (obs.now - T0).total_seconds() + 90
    oracle = Oracle(75, forecast=forecast_of(lambda t: 300.0 if t >= step_at else 25.0))
    decision = oracle.decide(obs)
    assert decision.action == "scale-out"
    assert decision.capacity == 400


def test_the_oracle_decreases_only_for_what_stays_low_and_within_the_budget() -> None:
    obs = table_obs([300] * 3, 400)
    now_s = (obs.now - T0).total_seconds()
    drop = Oracle(75, forecast=forecast_of(lambda t: 30.0))
    decision = drop.decide(obs)
    assert decision.action == "scale-in"
    assert decision.capacity == 40
    # demand comes back within the window: keep the capacity
    back = Oracle(75, forecast=forecast_of(lambda t: 300.0 if t > now_s + 600 else 30.0))
    assert back.decide(obs).action == "hold"
    # the budget says no
    spent = table_obs([300] * 3, 400, history=ThroughputHistory(27, T0, None))
    assert drop.decide(spent).action == "hold"


# --- the simulated account gives the policies what they need -------------------------------------


def test_the_account_observation_carries_budget_reaction_time_and_partitions() -> None:
    account = SimAccount(T0, aas_policy="capcon")
    account.add_table(TableSpec("t", Throughput(5, 50), reads=Steady(1), writes=Steady(25)))
    account.register_scalable_target(ScalableTarget("table/t", TABLE_WRITE, 5, 40_000))
    account.put_scaling_policy(ScalingPolicy("p", "table/t", TABLE_WRITE, target_value=70))
    account.advance(300)
    obs = account.observe("table/t", TABLE_WRITE)
    assert obs.update_seconds == account.settings.update_seconds
    assert obs.metric_delay_seconds == account.settings.metric_delay_seconds
    assert obs.decrease_budget is not None and obs.decrease_budget.allowed_now
    assert obs.next_decrease_after_one == obs.now  # four decreases at any time
    # ceil(5/3000 + w/1000) ≤ 1 partition: w ≤ 998
    assert obs.split_above == 998
    seen: list[str] = []
    account.policy_setup = lambda policy, spec: seen.append(f"{policy.name}:{spec.name}")
    account.put_scaling_policy(ScalingPolicy("p", "table/t", TABLE_WRITE, target_value=60))
    account.advance(60)
    assert seen == ["capcon:p"]


# --- kinesis ----------------------------------------------------------------------------------


MB = 2**20  # a shard takes 1 MiB/s (docs/aws-rules.md#per-shard-limits)


def stream(
    now_minute: int,
    shards: int,
    bytes_per_s: float | Callable[[int], float],
    records_per_s: float = 100.0,
    *,
    throttled_per_s: float = 0.0,
    history_minutes: int | None = None,
    **kw: object,
) -> StreamObservation:
    """A stream seen at ``T0 + now_minute``: datapoints up to 2 minutes before, per-minute
    sums of ``bytes_per_s`` (a rate, or a function of the datapoint index)."""
    n = history_minutes if history_minutes is not None else now_minute - 2
    first = now_minute - 2 - n
    minutes = [T0 + (first + i) * MIN for i in range(n)]

    def rate(i: int) -> float:
        return bytes_per_s(i) if callable(bytes_per_s) else bytes_per_s

    return stream_observation(
        now=T0 + now_minute * MIN,
        shards=shards,
        minutes=minutes,
        incoming_bytes=[rate(i) * 60 for i in range(n)],
        incoming_records=[records_per_s * 60] * n,
        throttled_records=[throttled_per_s * 60] * n,
        **kw,  # type: ignore[arg-type]
    )


def test_stream_observation_measures_use_in_shards_by_bytes_or_records() -> None:
    obs = stream(10, 4, 2 * MB, 3_000)
    assert obs.consumed[-1] == pytest.approx(3.0)  # records bind: 3,000/s of 4,000/s
    assert stream(10, 4, 3.5 * MB, 100).consumed[-1] == pytest.approx(3.5)
    with pytest.raises(ValueError, match="same length"):
        stream_observation(
            now=T0, shards=1, minutes=[T0], incoming_bytes=[1.0, 2.0], incoming_records=[1.0]
        )


def test_kinesis_scales_up_at_80_percent_of_bytes() -> None:
    decision = KinesisPolicy().decide(stream(10, 4, 3.3 * MB))
    assert decision.action == "scale-out"
    assert decision.capacity == 6  # 3.3 shards' worth at 60 % → 5.5: 150 % of 4
    assert "bytes 82%" in decision.reason
    assert KinesisPolicy().decide(stream(10, 4, 3.1 * MB)).action == "hold"  # 78 %


def test_kinesis_scales_up_at_80_percent_of_records() -> None:
    decision = KinesisPolicy().decide(stream(10, 4, 0.5 * MB, 3_300))
    assert decision.action == "scale-out"
    assert "records 82%" in decision.reason


def test_kinesis_doubles_on_throttling() -> None:
    decision = KinesisPolicy().decide(stream(10, 4, 1 * MB, throttled_per_s=5))
    assert decision.action == "scale-out"
    assert decision.capacity == 8
    assert decision.alarm == "WriteProvisionedThroughputExceeded"


def test_kinesis_never_more_than_doubles_nor_passes_the_maximum() -> None:
    big = KinesisPolicy().decide(stream(10, 4, 7 * MB))
    assert big.capacity == 8
    assert "the rest after the cooldown" in big.reason
    capped = KinesisPolicy().decide(stream(10, 4, 7 * MB, max_shards=5))
    assert capped.capacity == 5
    at_max = KinesisPolicy().decide(stream(10, 5, 7 * MB, max_shards=5))
    assert at_max.action == "hold"
    assert "maximum" in at_max.reason


def test_kinesis_one_action_at_a_time_with_a_cooldown() -> None:
    policy = KinesisPolicy(cooldown=timedelta(minutes=5))
    assert policy.decide(stream(10, 4, 3.5 * MB, updating=True)).action == "hold"
    first = policy.decide(stream(10, 4, 3.5 * MB))
    assert first.action == "scale-out"
    policy.applied(first, T0 + 10 * MIN)
    hot = policy.decide(stream(13, 6, 5.5 * MB))
    assert hot.action == "hold"
    assert "cooldown" in hot.reason
    # after the cooldown only datapoints since the action count
    stale = policy.decide(stream(15, 6, lambda i: 5.5 * MB if i < 12 else 3 * MB))
    assert stale.action == "hold"
    assert policy.decide(stream(16, 6, 5.5 * MB)).action == "scale-out"


def test_kinesis_holds_without_update_shard_count_calls_left() -> None:
    decision = KinesisPolicy().decide(stream(10, 4, 3.5 * MB, reshards_left=0))
    assert decision.action == "hold"
    assert "UpdateShardCount" in decision.reason


DAY_AND_HALF = 36 * 60


def test_kinesis_scales_down_only_on_its_36_hour_schedule() -> None:
    policy = KinesisPolicy()
    assert policy.decide(stream(10, 8, 1 * MB)).action == "hold"  # 12 %: but not due
    early = policy.decide(stream(DAY_AND_HALF, 8, 1 * MB, history_minutes=1500))
    assert early.action == "hold"
    assert "next scale-down check" in early.reason
    due = policy.decide(stream(DAY_AND_HALF + 10, 8, 1 * MB, history_minutes=1500))
    assert due.action == "scale-in"
    assert due.capacity == 4  # halve: within ½…2×
    assert "every 5-minute point" in due.reason


def test_kinesis_does_not_scale_down_if_any_5_minute_point_reached_50_percent() -> None:
    policy = KinesisPolicy()
    policy.decide(stream(10, 8, 1 * MB))

    def load(i: int) -> float:  # ten minutes at 55 % (a whole 5-minute point), the rest 25 %
        return 4.4 * MB if 700 <= i < 710 else 2 * MB

    decision = policy.decide(stream(DAY_AND_HALF + 10, 8, load, history_minutes=1500))
    assert decision.action == "hold"
    assert "not every point under 50%" in decision.reason
    # the failed check waits for the next one, 36 h later
    assert policy.next_scale_down_check == T0 + (2 * DAY_AND_HALF + 10) * MIN
    assert policy.decide(stream(DAY_AND_HALF + 20, 8, 1 * MB, history_minutes=1500)).action == (
        "hold"
    )


def test_kinesis_needs_a_whole_day_of_history_to_scale_down() -> None:
    policy = KinesisPolicy()
    policy.decide(stream(10, 8, 1 * MB))
    decision = policy.decide(stream(DAY_AND_HALF + 10, 8, 1 * MB, history_minutes=600))
    assert decision.action == "hold"
    assert "less than" in decision.reason


def test_kinesis_scale_down_keeps_the_day_peak_under_the_alarm() -> None:
    policy = KinesisPolicy()
    policy.decide(stream(10, 10, 1 * MB))

    def load(i: int) -> float:  # 5-minute points under 50 %, but one minute at 45 %
        return 4.5 * MB if i == 800 else 3 * MB

    decision = policy.decide(stream(DAY_AND_HALF + 10, 10, load, history_minutes=1500))
    assert decision.action == "scale-in"
    assert decision.capacity == 6  # 4.5 shards' worth at 80 % → 6, not 5
    assert decision.capacity >= math.ceil(10 / 2)


def test_kinesis_never_leaves_half_to_double() -> None:
    for shards in (1, 2, 3, 7, 10):
        for rate in (0.0, 0.5, 0.9, 1.5, 3.0):
            up = KinesisPolicy().decide(stream(10, shards, rate * shards * MB))
            if up.capacity is not None:
                assert shards < up.capacity <= 2 * shards
            policy = KinesisPolicy()
            policy.decide(stream(10, shards, 0.0))
            down = policy.decide(
                stream(DAY_AND_HALF + 10, shards, rate * shards * MB / 4, history_minutes=1500)
            )
            if down.capacity is not None:
                assert math.ceil(shards / 2) <= down.capacity < shards


def test_kinesis_is_a_registered_policy_and_works_on_a_plain_observation() -> None:
    # a plain Observation of use in shard-equivalents works too (no bytes/records detail)
    obs = Observation(T0 + 10 * MIN, 4, 1, 100, False, (T0 + 7 * MIN,), (3.5,), (0.0,))
    decision = make_policy("kinesis", 80).decide(obs)
    assert decision.action == "scale-out"
    assert "88% of 4 shards" in decision.reason
    assert isinstance(make_policy("h2", 70), TargetTracking)


def test_capcon_honours_disable_scale_in_from_the_scaling_policy() -> None:
    def final_capacity(disable: bool) -> int:
        account = SimAccount(T0, aas_policy="capcon")
        account.add_table(TableSpec("t", Throughput(5, 100), reads=Steady(1), writes=Steady(20)))
        account.register_scalable_target(ScalableTarget("table/t", TABLE_WRITE, 5, 40_000))
        account.put_scaling_policy(
            ScalingPolicy("p", "table/t", TABLE_WRITE, target_value=70, disable_scale_in=disable)
        )
        account.advance(1800)
        provisioned = account.describe_table("t").provisioned
        assert provisioned is not None
        return provisioned.write

    assert final_capacity(False) == 29
    assert final_capacity(True) == 100


@pytest.mark.parametrize("records", [0.0, 1e-310, 0.5])
def test_throttled_bytes_without_a_whole_record_stay_finite(records: float) -> None:
    """Bytes with less than one record in a minute (no real minute, but a number CloudWatch
    could be asked for) do not make the throttled share infinite, nor the decision overflow."""
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    minutes = [now - timedelta(minutes=3)]
    obs = stream_observation(
        now=now,
        shards=4,
        minutes=minutes,
        incoming_bytes=[6e7],
        incoming_records=[records],
        throttled_records=[10.0],
    )
    assert all(math.isfinite(v) for v in obs.throttled + obs.consumed)
    decision = KinesisPolicy().decide(obs)
    assert decision.action == "scale-out" and decision.capacity == 8


def test_no_datapoint_at_all_is_not_called_waiting_for_a_change() -> None:
    """A new or idle table has no datapoint and no change: the hold says so, instead of
    waiting for datapoints "since the last change" there never was."""
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    empty = Observation(now, 100, 1, 1000, False, (), (), (), metric_delay_seconds=120)
    for policy in (TargetTracking(70.0, name="h1", breaches_out=1), KinesisPolicy()):
        decision = policy.decide(empty)
        assert decision.action == "hold"
        assert decision.reason.startswith("no datapoints yet"), decision.reason
    changed = Observation(
        now, 100, 1, 1000, False, (), (), (), capacity_since=now, metric_delay_seconds=120
    )
    waiting = TargetTracking(70.0).decide(changed).reason
    assert waiting.startswith("no datapoints since the last change yet")
