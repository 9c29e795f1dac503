"""Each alarm of a deployed stack fires exactly when its policy would act.

For random consumed / throttled series and capacities, the alarms of :func:`alarms_for` are
evaluated CloudWatch's way (the simulated account's evaluator: the newest 1-minute
datapoint, metric math, a missing throttle minute being no datapoint) and compared with the
policy's decision on the same observation:

* h1, h2 (target tracking, one breach): the alarm fires iff the decision carries the alarm
  (a scale-out, or a hold only because of the capacity bounds);
* capcon: the alarm fires iff capcon scales out when demand is not rising over its trend
  window; on a rising trend capcon may act earlier than the alarm (the tick sees it), never
  later — so a firing alarm always means a scale-out;
* kinesis: any of the stream's three alarms fires iff the policy scales out or holds with
  the alarm (at the maximum shard count).

A datapoint within a millionth of a threshold (but not on it) may go either way: CloudWatch
compares per-minute sums, the policies per-second rates, and the two round differently.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capcon.core.backends.sim.alarms import (
    MathError,
    alarm_metrics,
    alarm_value,
    breaches,
    check_alarm,
    next_state,
    parse_expression,
)
from capcon.core.deploy.alarms import alarms_for, is_gated, stream_target
from capcon.core.deploy.spec import DeploySpec
from capcon.core.policies import Observation, make_policy
from capcon.core.policies.base import trend_slope
from capcon.core.policies.kinesis import stream_observation
from capcon.core.ports import SPARSE_METRICS, AlarmSpec, Scalable

T0 = datetime(2026, 12, 2, 4, 0, tzinfo=UTC)
TABLE = Scalable("orders", "write")
INDEX = Scalable("orders", "read", "by-customer")
STREAM = Scalable("events", "shards")


def _spec(policy: str, target: float) -> DeploySpec:
    return DeploySpec("shop", policy, target, (TABLE, INDEX, STREAM))


def _fires(alarm: AlarmSpec, minute: dict[str, float]) -> tuple[bool, float]:
    """Whether ``alarm`` breaches on one minute of metrics (sums by metric name), and how far
    from its threshold it was (relative).  A zero of a throttle metric is evaluated both as
    no datapoint (as AWS publishes DynamoDB's) and as a published 0: both must agree."""
    answers: list[tuple[bool, float]] = []
    for sparse in (True, False):
        values: dict[str, float | None] = {}
        for qid, metric in alarm_metrics(alarm):
            value = minute.get(metric.metric)
            gap = sparse and metric.metric in SPARSE_METRICS and value == 0
            values[qid] = None if value is None or gap else value
        value = alarm_value(alarm, values)
        if value is None:
            answers.append((False, 1.0))
            continue
        scale = max(1.0, abs(alarm.threshold), *(abs(v) for v in values.values() if v))
        answers.append((breaches(alarm, value), abs(value - alarm.threshold) / scale))
    (a, da), (b, db) = answers
    if not 0 < min(da, db) < 1e-6:
        assert a == b, f"{alarm.name}: a published 0 and a missing datapoint disagree"
    return a, min(da, db)


#: Use as a share of the target's level: anywhere, or close to where policies act (target
#: tracking at 1×, capcon at about 1.1× without throttles).
near = st.one_of(st.floats(0, 3), st.floats(0.98, 1.02), st.floats(1.0, 1.15))
series = st.lists(near, min_size=1, max_size=6)


@settings(max_examples=150, deadline=None)
@given(
    policy=st.sampled_from(["h1", "h2", "capcon"]),
    target=st.sampled_from([20.0, 50.0, 70.0, 85.0, 90.0]),
    capacity=st.integers(1, 5000),
    use=series,
    throttle=series,
    throttled_share=st.floats(0, 1),
    scalable=st.sampled_from([TABLE, INDEX]),
)
def test_table_alarm_fires_exactly_when_the_policy_acts(
    policy: str,
    target: float,
    capacity: int,
    use: list[float],
    throttle: list[float],
    throttled_share: float,
    scalable: Scalable,
) -> None:
    n = len(use)
    consumed = tuple(u * capacity * target / 100 for u in use)
    # throttles: per second, some minutes none (no datapoint at all)
    thr = [(throttle[i % len(throttle)] * capacity * throttled_share) for i in range(n)]
    throttled = tuple(x if x > capacity * 0.01 else 0.0 for x in thr)
    minutes = tuple(T0 + timedelta(minutes=i) for i in range(n))
    obs = Observation(
        now=minutes[-1] + timedelta(minutes=3),
        capacity=capacity,
        min_capacity=1,
        max_capacity=40_000,
        updating=False,
        minutes=minutes,
        consumed=consumed,
        throttled=throttled,
        update_seconds=60,
        metric_delay_seconds=120,
    )
    decision = make_policy(policy, target).decide(obs)
    acts = decision.action == "scale-out" or decision.alarm is not None
    spec = _spec(policy, target)
    alarms = alarms_for(spec, scalable, capacity)
    assert len(alarms) == 1
    word = "Read" if scalable.dimension == "read" else "Write"
    minute = {
        f"Consumed{word}CapacityUnits": consumed[-1] * 60,
        f"{word}ThrottleEvents": throttled[-1] * 60,
    }
    fires, distance = _fires(alarms[0], minute)
    if 0 < distance < 1e-6:
        return  # a hair from the threshold: either answer is CloudWatch's
    if policy == "capcon":
        demand = obs.demand
        k = min(len(demand), 3)
        rising = trend_slope(minutes[-k:], demand[-k:]) > 0
        if fires:
            assert decision.action == "scale-out", (decision, alarms[0])
        if not rising:
            assert fires == (decision.action == "scale-out"), (decision, alarms[0])
        return
    assert fires == acts, (decision, alarms[0])


@settings(max_examples=150, deadline=None)
@given(
    target=st.just(80.0),
    shards=st.integers(1, 500),
    byte_use=near,
    record_use=near,
    throttled=st.one_of(st.just(0.0), st.integers(1, 10_000).map(float)),
    at_max=st.booleans(),
)
def test_stream_alarms_fire_exactly_when_kinesis_acts(
    target: float,
    shards: int,
    byte_use: float,
    record_use: float,
    throttled: float,
    at_max: bool,
) -> None:
    bps, rps = 1_048_576, 1_000
    # records are whole; a record holds at most 1 MiB (Kinesis quotas)
    level = shards * 60 * target / 100
    incoming_records = float(round(record_use * level * rps))
    incoming_bytes = min(byte_use * level * bps, incoming_records * bps)
    obs = stream_observation(
        now=T0 + timedelta(minutes=3),
        shards=shards,
        minutes=[T0],
        incoming_bytes=[incoming_bytes],
        incoming_records=[incoming_records],
        throttled_records=[throttled],
        max_shards=shards if at_max else 10_000,
    )
    spec = _spec("capcon", 70)
    assert stream_target(spec) == target == 80  # what the engine gives streams
    decision = make_policy("kinesis", target).decide(obs)
    acts = decision.action == "scale-out" or decision.alarm is not None
    alarms = alarms_for(spec, STREAM, shards)
    minute = {
        "IncomingBytes": incoming_bytes,
        "IncomingRecords": incoming_records,
        "WriteProvisionedThroughputExceeded": throttled,
    }
    results = [_fires(a, minute) for a in alarms]
    if any(0 < distance < 1e-6 for _, distance in results):
        return
    assert any(fires for fires, _ in results) == acts, (decision, alarms)


def test_capcon_holds_a_small_step_and_so_does_its_alarm() -> None:
    """A 5 % step above the target without throttling: capcon waits (min_increase 10 %), and
    its alarm stays quiet; the same demand with a throttle fires it and capcon acts."""
    spec = _spec("capcon", 70)
    (alarm,) = alarms_for(spec, TABLE, 1000)
    demand = 700 * 1.05  # per second: 5 % above 70 % of 1,000
    quiet, _ = _fires(alarm, {"ConsumedWriteCapacityUnits": demand * 60})
    loud, _ = _fires(
        alarm, {"ConsumedWriteCapacityUnits": (demand - 1) * 60, "WriteThrottleEvents": 60}
    )
    assert (quiet, loud) == (False, True)


def test_every_alarm_is_one_the_simulated_account_evaluates() -> None:
    for policy in ("h1", "h2", "capcon"):
        for scalable in (TABLE, INDEX, STREAM):
            for alarm in alarms_for(_spec(policy, 70), scalable, 37, actions=("arn:x",)):
                check_alarm(alarm)
                assert alarm.name.startswith("shop-")


@pytest.mark.parametrize(
    "text",
    ["SUM(METRICS())", "m1 +", "ANOMALY_DETECTION_BAND(m1)", "m1 ; m2", "FILL(m1, m2)"],
)
def test_other_expressions_are_refused_by_name(text: str) -> None:
    with pytest.raises(MathError, match="simulated account evaluates"):
        parse_expression(text)


@pytest.mark.parametrize(
    ("periods", "needed", "treat", "points", "current", "expected"),
    [
        (1, 1, "notBreaching", [None], "ALARM", "OK"),
        (1, 1, "missing", [None], "OK", "INSUFFICIENT_DATA"),
        (1, 1, "ignore", [None], "ALARM", "ALARM"),
        (1, 1, "breaching", [None], "OK", "ALARM"),
        (3, 2, "notBreaching", [5.0, None, 5.0], "OK", "ALARM"),
        (3, 2, "notBreaching", [5.0, None, 0.0], "ALARM", "OK"),
        (3, 2, "breaching", [5.0, None, 0.0], "OK", "ALARM"),
        (2, 2, "notBreaching", [0.0, 1.0, 5.0], "OK", "OK"),  # only the newest 2 count
    ],
)
def test_cloudwatch_semantics_of_the_simulated_alarms(
    periods: int,
    needed: int,
    treat: str,
    points: list[float | None],
    current: str,
    expected: str,
) -> None:
    """M out of N datapoints above the threshold (1), missing ones treated as configured."""
    (alarm,) = alarms_for(_spec("h1", 50), TABLE, 1)
    alarm = replace(
        alarm,
        threshold=1.0,
        evaluation_periods=periods,
        datapoints_to_alarm=needed,
        treat_missing_data=treat,  # type: ignore[arg-type]
    )
    assert next_state(alarm, current, points) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("policy", "scalable"),
    [("h1", TABLE), ("h2", INDEX), ("h1", STREAM), ("capcon", STREAM), ("kinesis", STREAM)],
)
def test_an_alarm_retuned_after_a_change_ignores_the_minutes_before_it(
    policy: str, scalable: Scalable
) -> None:
    """After a change at 04:10:20, the re-put alarms see nothing before 04:11 (the first
    whole minute the policies count), however far the older minutes breached, and fire as
    before on a minute from 04:11 on."""
    changed = T0 + timedelta(minutes=10, seconds=20)
    plain = alarms_for(_spec(policy, 70), scalable, 40, actions=("arn:x",))
    gated = alarms_for(_spec(policy, 70), scalable, 40, actions=("arn:x",), since=changed)
    assert [a.name for a in gated] == [a.name for a in plain]
    for before, after in zip(plain, gated, strict=True):
        check_alarm(after)
        assert after.metric is None and after.threshold == before.threshold
        assert sum(q.return_data for q in after.queries) == 1
        assert after.actions == before.actions
        loud = {m.id: 1e12 for _, m in alarm_metrics(after)}
        for minute, fires in (
            (T0 + timedelta(minutes=10), False),
            (T0 + timedelta(minutes=11), True),
        ):
            value = alarm_value(after, loud, minute)
            assert value is not None
            assert breaches(after, value) is fires, (after.name, minute)
        # with no datapoint the gate gives none either (missing, as CloudWatch has it)
        quiet = {m.id: None for _, m in alarm_metrics(after)}
        assert alarm_value(after, quiet, T0 + timedelta(minutes=11)) is None


def test_epoch_is_the_datapoints_timestamp_where_its_argument_has_one() -> None:
    from capcon.core.backends.sim.alarms import evaluate

    tree = parse_expression("IF(EPOCH(m1) >= 100, m1, 0)")
    assert evaluate(tree, {"m1": 7.0}, 100.0) == 7.0
    assert evaluate(tree, {"m1": 7.0}, 99.0) == 0.0
    assert evaluate(tree, {"m1": None}, 100.0) is None
    assert evaluate(parse_expression("EPOCH(m1)"), {"m1": 1.0}, None) is None
    with pytest.raises(MathError, match="EPOCH"):
        parse_expression("EPOCH(m1, m2)")


def test_capcon_alarms_keep_every_minute_after_a_change() -> None:
    """capcon sizes from demand and counts every datapoint, also those before a change: its
    re-put alarms are the template's, not gated."""
    changed = T0 + timedelta(minutes=10, seconds=20)
    for scalable in (TABLE, INDEX):
        plain = alarms_for(_spec("capcon", 70), scalable, 40)
        assert alarms_for(_spec("capcon", 70), scalable, 40, since=changed) == plain
        assert not any(is_gated(a) for a in plain)
