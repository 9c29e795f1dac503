"""The simulated CloudWatch: late datapoints, gaps, periods and statistics.

First through the account's ``get_metric_data`` port, then on :class:`MetricStore` directly
with hand-made datapoints.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from capcon.core.model import Throughput
from capcon.core.ports import MetricQuery, TableChange
from capcon.core.sim.account import SimAccount, TableSpec
from capcon.core.sim.metrics import MetricStore, metric_key
from capcon.core.sim.tables import SimSettings
from capcon.core.sim.traffic import Steady, StreamLoad

T0 = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)
MIN = 60
TABLE = (("TableName", "t"),)


def account(delay: int, **settings: Any) -> SimAccount:
    acc = SimAccount(T0, settings=SimSettings(metric_delay_seconds=delay, **settings))
    acc.add_table(TableSpec("t", Throughput(5, 100), reads=Steady(0), writes=Steady(50)))
    return acc


def query(
    acc: SimAccount,
    metric: str = "ConsumedWriteCapacityUnits",
    dims: tuple[tuple[str, str], ...] = TABLE,
    *,
    stat: Any = "Sum",
    period: int = 60,
    namespace: str = "AWS/DynamoDB",
    start: datetime = T0,
) -> tuple[list[datetime], list[float]]:
    (answer,) = acc.get_metric_data(
        [MetricQuery("q", namespace, metric, dims, stat, period)], start, acc.now()
    )
    assert answer.id == "q"
    return list(answer.timestamps), list(answer.values)


def minutes(*indexes: int) -> list[datetime]:
    return [T0 + timedelta(minutes=i) for i in indexes]


# ============================================================================================
# Through the account
# ============================================================================================


@pytest.mark.parametrize("delay", [0, 60, 120, 180])
def test_a_minute_is_published_delay_seconds_after_it_ends(delay: int) -> None:
    acc = account(delay)
    acc.advance(MIN + delay - 1)
    assert query(acc) == ([], [])  # minute 0 has ended but is not published yet
    acc.advance(1)
    assert query(acc) == (minutes(0), [3_000.0])
    acc.advance(MIN - 1)
    assert query(acc) == (minutes(0), [3_000.0])  # minute 1 still on its way
    acc.advance(1)
    assert query(acc) == (minutes(0, 1), [3_000.0, 3_000.0])


def test_default_delay_is_two_minutes() -> None:
    acc = SimAccount(T0)
    acc.add_table(TableSpec("t", Throughput(5, 100), reads=Steady(0), writes=Steady(50)))
    acc.advance(3 * MIN - 1)
    assert query(acc) == ([], [])
    acc.advance(1)
    assert query(acc) == (minutes(0), [3_000.0])


def test_an_unfinished_minute_is_never_returned() -> None:
    acc = account(0)
    acc.advance(90)
    assert query(acc) == (minutes(0), [3_000.0])


def test_minutes_before_a_resource_existed_are_absent_not_zero() -> None:
    acc = account(0)
    acc.advance(5 * MIN)
    acc.add_stream("late", shards=1, load=StreamLoad(Steady(10), record_bytes=100))
    acc.advance(3 * MIN)
    stamps, values = query(
        acc, "IncomingRecords", (("StreamName", "late"),), namespace="AWS/Kinesis"
    )
    assert stamps == minutes(5, 6, 7)
    assert values == [600.0] * 3
    # the table, there from the start, has all eight minutes
    assert query(acc)[0] == minutes(*range(8))


def test_an_unknown_metric_is_an_empty_series() -> None:
    acc = account(0)
    acc.advance(3 * MIN)
    assert query(acc, "NoSuchMetric") == ([], [])
    assert query(acc, dims=(("TableName", "other"),)) == ([], [])


def test_five_minute_periods_sum_five_minutes_and_drop_the_unfinished_one() -> None:
    acc = account(0)
    acc.advance(12 * MIN)
    stamps, values = query(acc, period=300)
    assert stamps == minutes(0, 5)  # minutes 10…14 are not all over yet
    assert values == [15_000.0, 15_000.0]


def test_statistics_of_provisioned_capacity_across_a_change() -> None:
    # 100 WCU until 90 s, 300 WCU from then on: minute 1 is half and half.
    acc = account(0, update_seconds=90)
    acc.update_table("t", TableChange(Throughput(5, 300)))
    acc.advance(5 * MIN)
    metric = "ProvisionedWriteCapacityUnits"
    assert query(acc, metric, stat="Average") == (
        minutes(0, 1, 2, 3, 4),
        [100.0, 200.0, 300.0, 300.0, 300.0],
    )
    assert query(acc, metric, stat="Maximum")[1] == [100.0, 300.0, 300.0, 300.0, 300.0]
    assert query(acc, metric, stat="Minimum")[1] == [100.0, 100.0, 300.0, 300.0, 300.0]
    # over five minutes: 90 s at 100 and 210 s at 300
    assert query(acc, metric, stat="Average", period=300) == (
        minutes(0),
        [(90 * 100 + 210 * 300) / 300],  # 240, exact in binary
    )
    assert query(acc, metric, stat="Maximum", period=300)[1] == [300.0]
    assert query(acc, metric, stat="Minimum", period=300)[1] == [100.0]


def test_several_queries_answer_in_order() -> None:
    acc = account(0)
    acc.advance(2 * MIN)
    queries = [
        MetricQuery("b", "AWS/DynamoDB", "WriteThrottleEvents", TABLE),
        MetricQuery("a", "AWS/DynamoDB", "ConsumedWriteCapacityUnits", TABLE),
        MetricQuery("c", "AWS/DynamoDB", "ConsumedReadCapacityUnits", TABLE),
    ]
    answers = acc.get_metric_data(queries, T0, acc.now())
    assert [a.id for a in answers] == ["b", "a", "c"]
    assert [list(a.values) for a in answers] == [[0.0, 0.0], [3_000.0] * 2, [0.0, 0.0]]


# ============================================================================================
# MetricStore directly
# ============================================================================================

KEY = metric_key("NS", "M", [("B", "2"), ("A", "1")])


def q(stat: Any = "Sum", period: int = 60, metric: str = "M", qid: str = "x") -> MetricQuery:
    return MetricQuery(qid, "NS", metric, (("A", "1"), ("B", "2")), stat, period)


def store_with(values: dict[int, float], delay: timedelta = timedelta(0)) -> MetricStore:
    store = MetricStore(T0, delay)
    for minute, value in sorted(values.items()):
        store.record(KEY, minute, value)
    return store


def ask(
    store: MetricStore,
    query_: MetricQuery,
    *,
    start: datetime = T0,
    end: datetime | None = None,
    now: datetime | None = None,
) -> tuple[list[datetime], list[float]]:
    end = end or T0 + timedelta(hours=1)
    (answer,) = store.query([query_], start, end, now or end)
    return list(answer.timestamps), list(answer.values)


def test_dimension_order_does_not_matter() -> None:
    store = store_with({0: 7.0})
    assert ask(store, q()) == (minutes(0), [7.0])


def test_gaps_are_absent_and_zeros_are_present() -> None:
    store = store_with({0: 1.0, 1: 0.0, 4: 4.0})
    assert ask(store, q()) == (minutes(0, 1, 4), [1.0, 0.0, 4.0])


def test_a_period_without_any_datapoint_is_absent() -> None:
    store = store_with({0: 1.0, 3: 2.0, 12: 5.0})
    assert ask(store, q(period=300)) == (minutes(0, 10), [3.0, 5.0])


@pytest.mark.parametrize(
    ("stat", "expected"),
    [
        ("Sum", [15.0, 40.0]),
        ("Average", [3.0, 8.0]),
        ("Maximum", [5.0, 10.0]),
        ("Minimum", [1.0, 6.0]),
        ("SampleCount", [5.0, 5.0]),
    ],
)
def test_statistics_over_five_minute_periods(stat: str, expected: list[float]) -> None:
    store = store_with({m: float(m + 1) for m in range(12)})  # 1 … 12
    assert ask(store, q(stat, 300), end=T0 + timedelta(minutes=12)) == (minutes(0, 5), expected)


def test_average_weighs_samples_not_minutes() -> None:
    store = MetricStore(T0, timedelta(0))
    store.record(KEY, 0, 600.0, 60)  # 60 samples summing to 600
    store.record(KEY, 1, 30.0, 1)  # one sample of 30
    assert ask(store, q("Average", 120)) == (minutes(0), [630.0 / 61])
    assert ask(store, q("SampleCount", 120))[1] == [61.0]


def test_explicit_maximum_and_minimum_of_a_minute() -> None:
    store = MetricStore(T0, timedelta(0))
    store.record(KEY, 0, 50.0, 2, maximum=40.0, minimum=10.0)
    store.record(KEY, 0, 5.0, 1, maximum=5.0, minimum=5.0)
    assert ask(store, q("Maximum"))[1] == [40.0]
    assert ask(store, q("Minimum"))[1] == [5.0]
    assert ask(store, q("Sum"))[1] == [55.0]


def test_periods_are_anchored_at_the_start_of_the_query() -> None:
    store = store_with({m: 1.0 for m in range(12)})
    assert ask(store, q(period=300), start=T0 + timedelta(minutes=2)) == (minutes(2, 7), [5.0, 5.0])


def test_the_end_is_exclusive_and_partial_minutes_are_left_out() -> None:
    store = store_with({m: 1.0 for m in range(5)})
    assert ask(store, q(), end=T0 + timedelta(minutes=3))[0] == minutes(0, 1, 2)
    assert ask(store, q(), end=T0 + timedelta(minutes=3, seconds=59))[0] == minutes(0, 1, 2)


def test_store_delay_hides_the_newest_minutes() -> None:
    store = store_with({m: 1.0 for m in range(5)}, delay=timedelta(minutes=2))
    now = T0 + timedelta(minutes=5)
    assert store.published_until(now) == T0 + timedelta(minutes=3)
    assert ask(store, q(), end=now, now=now)[0] == minutes(0, 1, 2)
    later = now + timedelta(minutes=2)
    assert ask(store, q(), end=later, now=later)[0] == minutes(0, 1, 2, 3, 4)


def test_start_before_the_first_datapoint() -> None:
    store = MetricStore(T0, timedelta(0))
    store.record(KEY, 3, 2.0)
    store.record(KEY, 4, 3.0)
    assert ask(store, q()) == (minutes(3, 4), [2.0, 3.0])
    assert ask(store, q(period=180)) == (minutes(3), [5.0])


@pytest.mark.parametrize("period", [0, 30, 90, -60])
def test_periods_must_be_whole_minutes(period: int) -> None:
    with pytest.raises(ValueError, match="multiple of 60"):
        ask(store_with({0: 1.0}), q(period=period))


def test_unknown_statistic_is_refused() -> None:
    with pytest.raises(ValueError, match="not supported"):
        ask(store_with({0: 1.0}), q(stat="p99"))


def test_recording_goes_forward_in_time() -> None:
    store = store_with({5: 1.0})
    with pytest.raises(ValueError):
        store.record(KEY, 4, 1.0)
    assert store.series_count() == 1


def test_queries_for_several_series() -> None:
    store = MetricStore(T0, timedelta(0))
    other = metric_key("NS", "Other", [("A", "1"), ("B", "2")])
    store.record(KEY, 0, 1.0)
    store.record(other, 0, 2.0)
    store.record(other, 1, 3.0)
    answers = store.query(
        [q(qid="one"), q(metric="Other", qid="two"), q(metric="Missing", qid="three")],
        T0,
        T0 + timedelta(minutes=10),
        T0 + timedelta(minutes=10),
    )
    assert [(a.id, list(a.values)) for a in answers] == [
        ("one", [1.0]),
        ("two", [2.0, 3.0]),
        ("three", []),
    ]
    assert store.series_count() == 2
