"""The simulated CloudWatch: late datapoints, gaps, periods and statistics.

First through the account's ``get_metric_data`` port, then on :class:`MetricStore` directly
with hand-made datapoints.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from capcon.core.backends.sim.account import SimAccount, TableSpec
from capcon.core.backends.sim.metrics import MetricStore, metric_key
from capcon.core.backends.sim.tables import SimSettings
from capcon.core.backends.sim.traffic import Steady, StreamLoad
from capcon.core.model import Throughput
from capcon.core.ports import MetricQuery, TableChange

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
    # no throttling: no throttle datapoint at all (as AWS publishes them)
    assert [list(a.values) for a in answers] == [[], [3_000.0] * 2, [0.0, 0.0]]


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


# ============================================================================================
# Retention: 1-minute data rolled up into 5-minute and hourly periods, then dropped
# ============================================================================================

HOUR = 60  # minutes
DAY = 24 * HOUR
HUGE = timedelta(days=10_000)


def tiered(
    epoch: datetime = T0, minutes_: int = 60, fives: int = 3 * HOUR, hours: int = DAY
) -> MetricStore:
    return MetricStore(
        epoch,
        timedelta(0),
        minute_retention=timedelta(minutes=minutes_),
        five_minute_retention=timedelta(minutes=fives),
        hour_retention=timedelta(minutes=hours),
    )


def unbounded(epoch: datetime = T0) -> MetricStore:
    return MetricStore(
        epoch,
        timedelta(0),
        minute_retention=HUGE,
        five_minute_retention=HUGE,
        hour_retention=HUGE,
    )


def fill(stores: list[MetricStore], minutes_: int, seed: int = 1) -> None:
    """The same known datapoints into every store: whole numbers (sums exact in binary),
    varied sample counts and extremes, and a few empty minutes."""
    rng = random.Random(seed)
    for minute in range(minutes_):
        if rng.random() < 0.05:
            continue  # no datapoint this minute
        count = float(rng.randint(1, 60))
        high = float(rng.randint(0, 1_000))
        low = float(rng.randint(-1_000, int(high)))
        total = float(rng.randint(int(low * count), int(high * count)))
        for store in stores:
            store.record(KEY, minute, total, count, high, low)


def answer(
    store: MetricStore, stat: str, period: int, start: datetime, end: datetime
) -> tuple[list[datetime], list[float]]:
    (series,) = store.query([q(stat, period)], start, end, end)
    return list(series.timestamps), list(series.values)


STATS = ["Sum", "Average", "Maximum", "Minimum", "SampleCount"]


@pytest.mark.parametrize(
    ("epoch", "fives", "periods"),
    [
        # 5-minute data back to the start: 5-minute periods and longer are all answered
        (T0, DAY, [300, 600, 900, 3600, 7200]),
        (T0 + timedelta(minutes=17), DAY, [300, 600, 3600]),
        (T0 + timedelta(minutes=17, seconds=30), DAY, [300, 3600]),
        # 5-minute data for the newest 2 h only: hourly periods come from the hourly data
        (T0, 2 * HOUR, [3600, 7200]),
        (T0 + timedelta(minutes=17), 2 * HOUR, [3600, 10800]),
        (T0 + timedelta(minutes=17, seconds=30), 2 * HOUR, [3600]),
    ],
)
def test_rolled_up_periods_answer_as_the_minutes_did(
    epoch: datetime, fives: int, periods: list[int]
) -> None:
    small, full = tiered(epoch, 60, fives, DAY), unbounded(epoch)
    fill([small, full], 10 * HOUR)
    assert small.slots() < full.slots() / 2  # rolled up, or this test proves nothing
    # from the wall-clock hour the epoch falls in (before any datapoint) to past the end
    start = T0.replace(minute=0, second=0)
    end = epoch + timedelta(hours=11)
    for period in periods:
        for stat in STATS:
            expected = answer(full, stat, period, start, end)
            assert len(expected[0]) >= 10 * 3600 // period - 1
            assert answer(small, stat, period, start, end) == expected, (period, stat)


def test_periods_the_coarse_data_cannot_divide_are_gaps() -> None:
    small, full = tiered(T0, 60, DAY, DAY), unbounded(T0)
    fill([small, full], 10 * HOUR)
    end = T0 + timedelta(hours=10)
    for period in (60, 120, 420):
        got = dict(zip(*answer(small, "Sum", period, T0, end), strict=True))
        want = dict(zip(*answer(full, "Sum", period, T0, end), strict=True))
        # what remains is right, and is exactly what the 1-minute data still covers
        assert all(want[t] == v for t, v in got.items())
        assert min(got) >= end - timedelta(hours=2)
        assert {t for t in want if t >= min(got)} == set(got)
    # five-minute periods not on a wall-clock multiple of five minutes: gaps where rolled
    shifted = answer(small, "Sum", 300, T0 + timedelta(minutes=2), end)[0]
    assert min(shifted) >= end - timedelta(hours=2)


def test_one_minute_periods_older_than_the_minute_retention_are_gaps() -> None:
    store = MetricStore(T0, timedelta(0))  # the defaults: 3 h of 1-minute data
    for minute in range(6 * HOUR):
        store.record(KEY, minute, 1.0)
    end = T0 + timedelta(hours=6)
    # trimmed once the columns held 4 h (3 h + an hour's slack), in whole hours
    assert answer(store, "Sum", 60, T0, end)[0] == minutes(*range(2 * HOUR, 6 * HOUR))
    stamps, values = answer(store, "Sum", 300, T0, end)
    assert stamps == minutes(*range(0, 6 * HOUR, 5))
    assert values == [5.0] * 72
    assert answer(store, "SampleCount", 3600, T0, end)[1] == [60.0] * 6


def test_the_consoles_windows_stay_full_after_a_month() -> None:
    store, full = (
        MetricStore(T0),
        MetricStore(T0, minute_retention=HUGE, five_minute_retention=HUGE, hour_retention=HUGE),
    )
    for minute in range(30 * DAY):
        store.record(KEY, minute, float(minute % 97), 60.0)
        full.record(KEY, minute, float(minute % 97), 60.0)
    now = T0 + timedelta(days=30, seconds=150)
    for span, period in [(1, 60), (3, 60), (24, 300), (7 * 24, 3600)]:
        # as the detail screen asks: the start on a period boundary in UTC
        begin = now - timedelta(hours=span)
        begin -= timedelta(seconds=begin.timestamp() % period)
        (got,) = store.query([q("Average", period)], begin, now, now)
        (want,) = full.query([q("Average", period)], begin, now, now)
        assert got == want
        # every period there, up to the newest published one
        published = (now - timedelta(minutes=2) - begin).total_seconds()
        assert got.timestamps == tuple(
            begin + timedelta(seconds=k * period) for k in range(int(published) // period)
        )


def test_memory_is_bounded_by_the_retentions() -> None:
    store = tiered(T0, HOUR, 3 * HOUR, DAY)
    keys = [metric_key("NS", f"M{i}", [("A", "1")]) for i in range(3)]
    sizes = []
    for day in range(30):
        for minute in range(day * DAY, (day + 1) * DAY):
            for key in keys:
                store.record(key, minute, 1.0)
        sizes.append(store.slots())
    slack = 60
    per_series = (HOUR + slack + 1) + (3 * HOUR + 2 * slack) // 5 + (DAY + 2 * slack) // 60 + 3
    assert max(sizes) <= 3 * per_series
    assert sizes[-1] == sizes[5]  # steady after the first day: nothing grows any more
    # the defaults: 3 h of minutes, 24 h of 5-minute periods, 8 days of hours
    default = MetricStore(T0)
    for minute in range(30 * DAY):
        default.record(KEY, minute, 1.0)
    assert (
        default.slots()
        <= (180 + slack + 1) + (DAY + 2 * slack) // 5 + (8 * DAY + 2 * slack) // 60 + 3
    )
    assert default.slots() < 30 * DAY / 50


def test_roll_ups_follow_wall_clock_hours_when_the_epoch_is_not_on_one() -> None:
    epoch = T0 + timedelta(minutes=17)  # 10:17
    store = tiered(epoch, 60, 60, DAY)  # beyond the newest hour or two: hourly data only
    for minute in range(10 * HOUR):
        store.record(KEY, minute, 2.0)
    hour = timedelta(hours=1)
    stamps, values = answer(store, "Sum", 3600, T0, epoch + 10 * hour)
    # 10:00–11:00 holds 10:17…10:59; then whole hours; 19:00–20:00 is not over at 20:17
    assert stamps == [T0 + n * hour for n in range(10)]
    assert values == [43 * 2.0] + [120.0] * 9
    # hours counted from the epoch (10:17–11:17, …) are not held where only hours are left
    from_epoch = answer(store, "Sum", 3600, epoch, epoch + 10 * hour)[0]
    assert from_epoch == [epoch + 9 * hour]  # the newest, wholly in the 1-minute data
    # the 1-minute data is trimmed in whole wall-clock hours too
    assert answer(store, "Sum", 60, epoch, epoch + 10 * hour)[0][0] == T0 + 9 * hour


def test_periods_older_than_the_hourly_retention_are_gaps() -> None:
    store, full = tiered(T0, 60, 60, 3 * HOUR), unbounded(T0)
    fill([store, full], 10 * HOUR)
    end = T0 + timedelta(hours=10)
    hour = timedelta(hours=1)
    stamps = answer(store, "Sum", 3600, T0, end)[0]
    assert stamps == answer(full, "Sum", 3600, stamps[0], end)[0]
    assert end - 5 * hour <= stamps[0] <= end - 3 * hour
    # a two-hour period half before the oldest hour kept is a gap, not half a sum
    assert answer(store, "Sum", 7200, stamps[0] - hour, end)[0][0] == stamps[0] + hour
    assert answer(full, "Sum", 7200, stamps[0] - hour, end)[0][0] == stamps[0] - hour


def test_a_series_silent_for_days_rolls_up_at_its_next_datapoint() -> None:
    store = MetricStore(T0, timedelta(0))
    for minute in range(90):
        store.record(KEY, minute, 1.0)
    later = 3 * DAY + 30
    store.record(KEY, later, 5.0)
    end = T0 + timedelta(minutes=later + 5)
    assert answer(store, "Sum", 3600, T0, end) == ([T0, T0 + timedelta(hours=1)], [60.0, 30.0])
    assert answer(store, "Sum", 60, T0, end) == (minutes(later), [5.0])
    assert answer(store, "Sum", 300, T0, end) == (minutes(later - later % 5), [5.0])
    assert store.slots() <= 2 + 180 + 60 + 1
    # a week later the first two hours are beyond the hourly retention (8 days): dropped
    store.record(KEY, 10 * DAY, 1.0)
    assert answer(store, "Sum", 3600, T0, T0 + timedelta(days=10, hours=1)) == (
        [T0 + timedelta(days=3), T0 + timedelta(days=10)],
        [5.0, 1.0],
    )


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"minute_retention": timedelta(0)}, "minute_retention must be a positive whole"),
        ({"minute_retention": timedelta(minutes=-5)}, "minute_retention must be"),
        ({"five_minute_retention": timedelta(seconds=90)}, "five_minute_retention must be"),
        ({"hour_retention": 3600}, "hour_retention must be .* not 3600"),
        ({"minute_retention": timedelta(days=2)}, "minute_retention 2 days, 0:00:00 ≤"),
        ({"hour_retention": timedelta(hours=1)}, "≤ hour_retention 1:00:00 is required"),
    ],
)
def test_retentions_are_checked(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MetricStore(T0, **settings)
