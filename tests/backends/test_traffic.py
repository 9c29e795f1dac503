"""Tests for the simulated account's traffic patterns, hot keys and pattern specs."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capcon.core.backends.sim.traffic import (
    PATTERN_NAMES,
    Bell,
    Clamped,
    DailySine,
    DaytimeReads,
    KeyDistribution,
    NightlyLoad,
    Pattern,
    RandomWalk,
    Replay,
    Scaled,
    Shifted,
    Spike,
    Steady,
    StreamLoad,
    Sum,
    TopHeavy,
    TrafficError,
    parse_pattern,
)
from capcon.core.backends.sim.traffic import patterns as traffic_patterns
from capcon.core.model import HASH_KEY_MAX, HASH_KEY_SPACE, HashRange
from capcon.core.planning.reshard import uniform_ranges

HOUR = 3600.0

# --------------------------------------------------------------------------- strategies

rates_st = st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False)
durations_st = st.floats(min_value=0, max_value=1e4, allow_nan=False, allow_infinity=False)
hours_st = st.floats(min_value=0, max_value=23.99, allow_nan=False)
day_offset_st = st.floats(min_value=0, max_value=86399, allow_nan=False)


@st.composite
def nightly_st(draw: st.DrawFn) -> NightlyLoad:
    hours = draw(st.floats(min_value=0.1, max_value=24))
    ramp = draw(st.floats(min_value=0, max_value=hours * HOUR / 2))
    return NightlyLoad(
        draw(rates_st), draw(rates_st), draw(hours_st), hours, ramp, draw(day_offset_st)
    )


@st.composite
def daytime_st(draw: st.DrawFn) -> DaytimeReads:
    open_hour = draw(st.integers(0, 23))
    close_hour = draw(st.integers(0, 24).filter(lambda h: h % 24 != open_hour))
    width = ((close_hour - open_hour) % 24) * HOUR
    ramp = draw(st.floats(min_value=0, max_value=width / 2))
    return DaytimeReads(
        draw(rates_st), draw(rates_st), open_hour, close_hour, ramp, draw(day_offset_st)
    )


@st.composite
def walk_st(draw: st.DrawFn) -> RandomWalk:
    start = draw(st.floats(min_value=0.1, max_value=1e5))
    return RandomWalk(
        start,
        step=draw(st.floats(min_value=0, max_value=0.5)),
        minimum=draw(st.floats(min_value=0, max_value=start)),
        maximum=draw(st.one_of(st.just(math.inf), st.floats(min_value=start, max_value=1e7))),
        seed=draw(st.integers(-(2**40), 2**40)),
        interval_s=draw(st.floats(min_value=10, max_value=600)),
    )


@st.composite
def replay_st(draw: st.DrawFn) -> Replay:
    times = sorted(
        draw(
            st.sets(st.floats(min_value=0, max_value=1e5, allow_nan=False), min_size=1, max_size=30)
        )
    )
    values = draw(st.lists(rates_st, min_size=len(times), max_size=len(times)))
    return Replay(
        tuple(zip(times, values, strict=True)), step=draw(st.booleans()), loop=draw(st.booleans())
    )


@st.composite
def top_heavy_st(draw: st.DrawFn) -> TopHeavy:
    base = draw(rates_st)
    peak = draw(st.floats(min_value=base, max_value=2e6))
    return TopHeavy(base, peak, draw(durations_st), draw(durations_st), draw(rates_st))


primitives_st: st.SearchStrategy[Pattern] = st.one_of(
    st.builds(Steady, rates_st),
    st.builds(Bell, rates_st, rates_st, durations_st, durations_st, durations_st),
    top_heavy_st(),
    st.builds(Spike, rates_st, rates_st, durations_st, durations_st, durations_st),
    st.builds(DailySine, rates_st, rates_st, hours_st, day_offset_st),
    nightly_st(),
    daytime_st(),
    walk_st(),
    replay_st(),
)

factors_st = st.floats(min_value=0, max_value=100, allow_nan=False)


def _compose(children: st.SearchStrategy[Pattern]) -> st.SearchStrategy[Pattern]:
    return st.one_of(
        st.builds(lambda a, b: a + b, children, children),
        st.builds(lambda p, k: p * k, children, factors_st),
        st.builds(
            Shifted,
            children,
            st.floats(min_value=-1e4, max_value=1e4),
            st.one_of(st.none(), rates_st),
        ),
        st.builds(
            lambda p, lo, extra: p.clamp(lo, lo + extra),
            children,
            rates_st,
            st.one_of(st.just(math.inf), rates_st),
        ),
    )


patterns_st = st.recursive(primitives_st, _compose, max_leaves=4)
times_st = st.floats(min_value=0, max_value=2e5, allow_nan=False, allow_infinity=False)


# --------------------------------------------------------------------------- field note B shapes
# (docs/field-notes.md#bell-and-top-heavy-shapes)


def test_bell_matches_field_note_b_at_key_times() -> None:
    bell = Bell()
    expected = {
        0: 25.0,
        899: 25.0,
        900: 25.0,
        900 + 1350: 162.5,  # halfway up the 45-minute rise
        3600: 300.0,  # the top
        3600 + 450: 162.5,  # halfway down the 15-minute fall
        4500: 25.0,
        4501: 25.0,
        86_400: 25.0,
    }
    assert {t: bell.rate(t) for t in expected} == expected
    # strictly rising during the rise, strictly falling during the fall
    up = bell.rates(900, 2701)
    assert all(a < b for a, b in pairwise(up))
    down = bell.rates(3600, 901)
    assert all(a > b for a, b in pairwise(down))
    assert max(bell.rates(0, 10_000)) == 300.0


def test_bell_with_other_parameters() -> None:
    bell = Bell(base=10, peak=110, steady_s=100, rise_s=100, fall_s=50)
    assert [bell.rate(t) for t in (99, 100, 150, 200, 225, 250, 1e6)] == [
        10.0,
        10.0,
        60.0,
        110.0,
        60.0,
        10.0,
        10.0,
    ]
    dip = Bell(base=100, peak=0)
    assert dip.rate(3600) == 0.0
    assert dip.rate(0) == 100.0


def test_top_heavy_matches_field_note_b() -> None:
    th = TopHeavy()
    assert th.rate(0) == 25.0
    assert th.rate(899) == 25.0
    assert th.rate(900) == 25.0
    assert th.rate(1050) == 162.5  # halfway through the 5-minute jump
    assert th.rate(1200) == 300.0
    assert th.rate(1259) == 300.0
    assert th.rate(1260) == 297.0
    assert th.rate(1200 + 60 * 10) == 270.0
    # decreasing by 3/s each whole minute until back at base: 300 − 3 × 91 = 27, then 25
    for m in range(92):
        assert th.rate(1200 + 60 * m) == 300.0 - 3 * m
        assert th.rate(1200 + 60 * m + 59.5) == 300.0 - 3 * m
    assert th.rate(1200 + 60 * 91) == 27.0
    assert th.rate(1200 + 60 * 92) == 25.0
    assert th.back_at_base_s == 1200 + 60 * 92
    assert th.rate(1e7) == 25.0
    assert min(th.rates(0, 20_000)) == 25.0


def test_top_heavy_rejects_a_peak_below_base() -> None:
    with pytest.raises(TrafficError, match="peak"):
        TopHeavy(base=100, peak=50)
    assert TopHeavy(decay_per_minute=0).back_at_base_s == math.inf
    assert TopHeavy(decay_per_minute=0).rate(1e6) == 300.0


# --------------------------------------------------------------------------- the other shapes


def test_spike_shape() -> None:
    sp = Spike(base=10, peak=500, at_s=3600, duration_s=600, ramp_s=60)
    assert sp.rate(0) == 10.0
    assert sp.rate(3599) == 10.0
    assert sp.rate(3600) == 10.0
    assert sp.rate(3630) == 255.0  # halfway up the ramp
    assert sp.rate(3660) == 500.0
    assert sp.rate(3660 + 599) == 500.0
    assert sp.rate(4260) == 500.0  # falling starts here
    assert sp.rate(4290) == 255.0
    assert sp.rate(4320) == 10.0
    square = Spike(0, 100, 10, 5, ramp_s=0)
    assert [square.rate(t) for t in (9.9, 10, 14.9, 15)] == [0.0, 100.0, 100.0, 0.0]


def test_daily_sine_peaks_at_peak_hour_and_is_periodic() -> None:
    sine = DailySine(mean=100, amplitude=50, peak_hour=14)
    assert sine.rate(14 * HOUR) == pytest.approx(150.0)
    assert sine.rate(2 * HOUR) == pytest.approx(50.0)
    assert sine.rate(8 * HOUR) == pytest.approx(100.0)
    assert sine.rate(14 * HOUR + 86_400 * 3) == pytest.approx(150.0)
    assert max(sine.rates(0, 1440, 60)) == pytest.approx(150.0)
    # the simulation starts at 12:00 UTC: the peak comes two hours in
    noon = DailySine(100, 50, peak_hour=14, start_of_day_s=12 * HOUR)
    assert noon.rate(2 * HOUR) == pytest.approx(150.0)
    # amplitude above the mean floors at 0, never negative
    deep = DailySine(mean=10, amplitude=50, peak_hour=0)
    assert deep.rate(12 * HOUR) == 0.0
    assert min(deep.rates(0, 1440, 60)) == 0.0


def test_nightly_load_window_and_ramps() -> None:
    n = NightlyLoad(base=5, load=805, start_hour=1, hours=3, ramp_s=600)
    assert n.rate(0) == 5.0
    assert n.rate(HOUR) == 5.0  # rising starts at 01:00
    assert n.rate(HOUR + 300) == 405.0
    assert n.rate(HOUR + 600) == 805.0
    assert n.rate(3 * HOUR) == 805.0
    assert n.rate(4 * HOUR - 600) == 805.0
    assert n.rate(4 * HOUR - 300) == 405.0
    assert n.rate(4 * HOUR) == 5.0
    assert n.rate(12 * HOUR) == 5.0
    assert n.rate(86_400 + 2 * HOUR) == 805.0  # every night
    # the window can cross midnight, and t=0 can be any time of day
    late = NightlyLoad(base=0, load=100, start_hour=23, hours=2, ramp_s=0, start_of_day_s=22 * HOUR)
    assert [late.rate(h * HOUR) for h in (0, 0.99, 1, 2, 2.99, 3)] == [0, 0, 100, 100, 100, 0]


def test_daytime_reads_window() -> None:
    d = DaytimeReads(night=5, day=205, open_hour=7, close_hour=22, ramp_s=3600)
    assert d.rate(3 * HOUR) == 5.0
    assert d.rate(7 * HOUR) == 5.0
    assert d.rate(7.5 * HOUR) == 105.0
    assert d.rate(8 * HOUR) == 205.0
    assert d.rate(21 * HOUR) == 205.0
    assert d.rate(21.5 * HOUR) == 105.0
    assert d.rate(22 * HOUR) == 5.0
    assert d.width_s == 15 * HOUR
    night_shift = DaytimeReads(night=0, day=10, open_hour=22, close_hour=6, ramp_s=0)
    assert [night_shift.rate(h * HOUR) for h in (21, 22, 1, 5.9, 6)] == [0, 10, 10, 10, 0]


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Steady(-1), "rate must be ≥ 0"),
        (lambda: Steady(math.nan), "finite"),
        (lambda: Bell(rise_s=-5), "rise_s"),
        (lambda: Spike(0, 10, -1, 5), "at_s"),
        (lambda: DailySine(10, 5, peak_hour=24), "peak_hour"),
        (lambda: DailySine(10, 5, start_of_day_s=86_400), "start_of_day_s"),
        (lambda: NightlyLoad(0, 10, hours=0), "hours"),
        (lambda: NightlyLoad(0, 10, hours=0.1, ramp_s=600), "ramp_s"),
        (lambda: DaytimeReads(0, 10, open_hour=7, close_hour=7), "differ"),
        (lambda: RandomWalk(0), "start must be > 0"),
        (lambda: RandomWalk(10, minimum=20), "minimum"),
        (lambda: RandomWalk(10, interval_s=0), "interval_s"),
        (lambda: Replay(()), "at least one"),
        (lambda: Replay(((0, 1), (0, 2))), "increase strictly"),
        (lambda: Replay(((0, -1),)), "negative"),
        (lambda: Steady(1) * -2, "factor"),
        (lambda: Steady(1).clamp(5, 1), "hi"),
        (lambda: KeyDistribution(hot_share=1.5), "hot_share"),
        (lambda: KeyDistribution(hot_key=HASH_KEY_SPACE), "hot_key"),
        (lambda: StreamLoad(Steady(1), record_bytes=0), "record_bytes"),
    ],
)
def test_invalid_parameters_raise_traffic_error(make: Callable[[], object], match: str) -> None:
    with pytest.raises(TrafficError, match=match) as info:
        make()
    assert isinstance(info.value, ValueError)


# --------------------------------------------------------------------------- every pattern


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    patterns_st,
    times_st,
    st.integers(0, 90),
    st.floats(min_value=0.01, max_value=600, allow_nan=False),
)
def test_rates_equals_rate_at_each_time_and_is_never_negative(
    p: Pattern, t0: float, n: int, dt: float
) -> None:
    got = p.rates(t0, n, dt)
    assert got == [p.rate(t0 + i * dt) for i in range(n)]
    assert all(v >= 0 and not math.isnan(v) for v in got)
    assert p.sample([t0 + i * dt for i in reversed(range(n))]) == got[::-1]
    assert isinstance(p.describe(), str)
    assert p.describe()


@settings(max_examples=200, deadline=None)
@given(patterns_st, st.floats(min_value=-1e6, max_value=1e7, allow_nan=False))
def test_rate_is_finite_and_non_negative_anywhere(p: Pattern, t: float) -> None:
    v = p.rate(t)
    assert math.isfinite(v)
    assert v >= 0


def test_rates_rejects_negative_counts_and_handles_zero() -> None:
    assert Bell().rates(0, 0) == []
    assert Steady(3).rates(5, 4, 0.5) == [3.0] * 4
    with pytest.raises(TrafficError):
        Bell().rates(0, -1)


# --------------------------------------------------------------------------- composition


def test_composition_arithmetic() -> None:
    bell, spike = Bell(), Spike(0, 100, 600, 300)
    total = bell + spike + Steady(5)
    assert isinstance(total, Sum)
    assert len(total.parts) == 3  # flat, not nested
    for t in (0, 650, 1000, 3600, 5000):
        assert total.rate(t) == bell.rate(t) + spike.rate(t) + 5.0
    assert sum([bell, spike]) == bell + spike
    doubled = bell * 2
    assert isinstance(doubled, Scaled)
    assert doubled.rate(3600) == 600.0
    assert (3 * bell).rate(2250) == 3 * 162.5
    assert (bell * 2 * 0.5) == Scaled(bell, 1.0)  # folded, not nested
    assert ((bell + spike) * 2).rate(660) == 2 * (bell.rate(660) + spike.rate(660))
    with pytest.raises(TypeError):
        bell * bell  # type: ignore[operator]
    with pytest.raises(TypeError):
        bell + 3  # type: ignore[operator]


def test_shift_holds_the_start_value_or_before() -> None:
    bell = Bell()
    late = bell.shift(3600)
    assert isinstance(late, Shifted)
    assert late.rate(0) == 25.0  # the bell's starting value
    assert late.rate(3600 + 2250) == 162.5
    assert late.rate(7200) == 300.0
    silent = Spike(50, 100, 0, 60).shift(600, before=0)
    assert silent.rate(599) == 0.0
    assert silent.rate(600) == 50.0
    assert silent.rate(660) == 100.0
    ahead = bell.shift(-900)
    assert ahead.rate(0) == 25.0
    assert ahead.rate(1350) == 162.5


def test_clamp_limits_both_ways() -> None:
    c = Bell().clamp(50, 200)
    assert isinstance(c, Clamped)
    assert c.rate(0) == 50.0
    assert c.rate(3600) == 200.0
    assert c.rate(2250) == 162.5
    assert Bell().clamp().rate(3600) == 300.0


# --------------------------------------------------------------------------- random walk


def test_random_walk_is_a_pure_function_of_t_and_seed() -> None:
    times = [i * 37.5 for i in range(2000)]
    forward = RandomWalk(100, seed=7).sample(times)
    fresh = RandomWalk(100, seed=7)
    shuffled = times[:]
    random.Random(1).shuffle(shuffled)
    by_time = dict(zip(shuffled, fresh.sample(shuffled), strict=True))
    assert [by_time[t] for t in times] == forward
    backwards = RandomWalk(100, seed=7)
    assert [backwards.rate(t) for t in reversed(times)] == forward[::-1]
    other = RandomWalk(100, seed=8).sample(times)
    assert other != forward
    assert forward[0] == 100.0
    assert len(set(forward)) > 1000  # it does move


def test_random_walk_keeps_few_blocks_and_rebuilds_the_same_points(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Memory stays bounded on long runs: old blocks are dropped and rebuilt identically."""
    times = [i * 45.0 for i in range(20_000)]  # 15,000 points: 59 blocks
    whole = RandomWalk(100, seed=5).sample(times)
    monkeypatch.setattr(traffic_patterns, "_WALK_CACHE", 2)
    walk = RandomWalk(100, seed=5)
    assert walk.sample(times) == whole
    assert len(walk._blocks) <= 2
    assert len(walk._ends) >= 58
    shuffled = times[:]
    random.Random(3).shuffle(shuffled)
    by_time = dict(zip(shuffled, walk.sample(shuffled), strict=True))
    assert [by_time[t] for t in times] == whole
    assert len(walk._blocks) <= 2


def test_random_walk_interpolates_linearly_and_respects_bounds() -> None:
    w = RandomWalk(100, step=0.3, minimum=50, maximum=150, seed=2, interval_s=60)
    points = [w.point(k) for k in range(3000)]
    assert all(50 <= v <= 150 for v in points)
    assert min(points) == 50.0
    assert max(points) == 150.0
    for k in (0, 5, 255, 256, 300, 2998):
        assert w.rate(k * 60) == points[k]
        assert w.rate(k * 60 + 30) == pytest.approx((points[k] + points[k + 1]) / 2)
    flat = RandomWalk(42, step=0)
    assert set(flat.rates(0, 500, 97)) == {42.0}
    assert w.rate(-10) == 100.0
    assert RandomWalk(100, seed=2) == RandomWalk(100, seed=2)  # the cache is not compared


# --------------------------------------------------------------------------- replay


def write(tmp_path: Path, text: str | bytes, name: str = "traffic.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_replay_seconds_with_header_linear(tmp_path: Path) -> None:
    path = write(tmp_path, "seconds,rate\n0,10\n60,70\n\n120,10\n")
    r = Replay.from_csv(path)
    assert r.points == ((0.0, 10.0), (60.0, 70.0), (120.0, 10.0))
    assert [r.rate(t) for t in (0, 30, 60, 90, 120, 500)] == [10, 40, 70, 40, 10, 10]
    assert r.source == str(path)
    assert "3 points" in r.describe()


def test_replay_step_and_loop(tmp_path: Path) -> None:
    path = write(tmp_path, "0,10\n60,70\n120,40\n")
    stepped = Replay.from_csv(path, step=True)
    assert [stepped.rate(t) for t in (0, 59.9, 60, 119, 120, 1e6)] == [10, 10, 70, 70, 40, 40]
    looped = Replay.from_csv(path, loop=True)
    assert looped.period_s == 180.0  # 0 … 120 plus the last 60-second gap
    assert looped.rate(150) == 25.0  # back towards the first value across the wrap
    assert looped.rate(180) == 10.0
    assert looped.rate(180 + 60) == 70.0
    assert looped.rate(180 * 1000 + 30) == 40.0
    loop_step = Replay.from_csv(path, loop=True, step=True)
    assert [loop_step.rate(t) for t in (150, 180, 245, 300)] == [40, 10, 70, 40]


def test_replay_timestamps_are_relative_to_the_first_row(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "timestamp,rate\n"
        "2025-03-01T12:00:00Z,100\n"
        "2025-03-01T12:01:00+00:00,200\n"
        "2025-03-01T13:01:00+01:00,300\n"  # 12:01 UTC again: not after line 3
        "2025-03-01T12:10:00,0\n",  # naive = UTC
    )
    with pytest.raises(TrafficError, match="line 4"):
        Replay.from_csv(path)
    good = write(
        tmp_path,
        "2025-03-01T12:00:00Z,100\n2025-03-01T14:01:00+02:00,200\n2025-03-01T12:10:00,0\n",
        "good.csv",
    )
    r = Replay.from_csv(good)
    assert r.points == ((0.0, 100.0), (60.0, 200.0), (600.0, 0.0))
    assert r.rate(30) == 150.0


def test_replay_starting_late_holds_its_first_value(tmp_path: Path) -> None:
    r = Replay.from_csv(write(tmp_path, "100,7\n200,9\n"))
    assert r.rate(0) == 7.0
    assert r.rate(150) == 8.0


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("", "no data rows"),
        ("seconds,rate\n", "no data rows"),
        ("\n\n", "no data rows"),
        ("0,10\n60,abc\n", "line 2: rate 'abc' is not a number"),
        ("seconds,rate\n0,10\n60,-5\n", "line 3: rate '-5' must be a finite number ≥ 0"),
        ("0,10\n60,nan\n", "line 2"),
        ("0,10\n60,20\n60,30\n", "line 3: time '60' is not after line 2's"),
        ("0,10\n60,20\n30,30\n", "line 3.*strictly increasing"),
        ("0,10,5\n", "line 1: expected 2 columns.*got 3"),
        ("0,10\nfoo,20\n", "line 2: time 'foo' is not a number of seconds"),
        ("0,10\n2025-03-01T12:00:00Z,20\n", "line 2.*mixes formats"),
        ('{"not": "csv"}\n', "line 1: expected 2 columns"),
        ("a,b\nc,d\n", "line 2: time 'c'"),
        ("0,10\n\n\n5,1\n3,1\n", "line 5"),
    ],
)
def test_bad_csv_files_name_the_line(tmp_path: Path, content: str, match: str) -> None:
    path = write(tmp_path, content)
    with pytest.raises(TrafficError, match=match) as info:
        Replay.from_csv(path)
    assert str(path) in str(info.value)


def test_unreadable_csv_files(tmp_path: Path) -> None:
    with pytest.raises(TrafficError, match="no such file"):
        Replay.from_csv(tmp_path / "missing.csv")
    with pytest.raises(TrafficError, match="directory"):
        Replay.from_csv(tmp_path)
    binary = write(tmp_path, b"\x89PNG\r\n\x1a\n\xff\xfe\x00\x00", "image.csv")
    with pytest.raises(TrafficError, match="not a text CSV file"):
        Replay.from_csv(binary)


# --------------------------------------------------------------------------- hot keys


def test_uniform_keys_follow_range_widths() -> None:
    ranges = uniform_ranges(4)
    assert KeyDistribution.uniform().shard_shares(ranges) == pytest.approx([0.25] * 4)
    uneven = (HashRange(0, HASH_KEY_SPACE // 2 - 1), HashRange(HASH_KEY_SPACE // 2, HASH_KEY_MAX))
    assert KeyDistribution().shard_shares(uneven) == pytest.approx([0.5, 0.5])
    assert KeyDistribution().partition_hot_share == 0.0


def test_hot_shard_gets_hot_share_plus_its_uniform_part() -> None:
    ranges = uniform_ranges(4)
    keys = KeyDistribution(hot_share=0.4, hot_key=HASH_KEY_SPACE // 3)  # in the 2nd quarter
    shares = keys.shard_shares(ranges)
    assert shares == pytest.approx([0.15, 0.15 + 0.4, 0.15, 0.15])
    assert sum(shares) == pytest.approx(1.0)
    assert keys.partition_hot_share == 0.4
    assert keys.hot_partition(4) == 1
    assert keys.partition_shares(4) == pytest.approx([0.15, 0.55, 0.15, 0.15])
    assert keys.hottest_partition_share(4) == pytest.approx(0.55)
    # all traffic on one key: that shard takes everything
    assert KeyDistribution(1.0, 0).shard_shares(ranges) == [1.0, 0.0, 0.0, 0.0]
    # keys no range covers are lost
    assert sum(keys.shard_shares(ranges[2:])) == pytest.approx(0.3)


@given(
    st.lists(st.integers(1, HASH_KEY_MAX), max_size=20, unique=True),
    st.floats(min_value=0, max_value=1),
    st.integers(0, HASH_KEY_MAX),
)
def test_shard_shares_sum_to_one(cuts: list[int], hot_share: float, hot_key: int) -> None:
    starts = [0, *sorted(cuts)]
    ends = [s - 1 for s in starts[1:]] + [HASH_KEY_MAX]
    ranges = [HashRange(s, e) for s, e in zip(starts, ends, strict=True)]
    keys = KeyDistribution(hot_share, hot_key)
    shares = keys.shard_shares(ranges)
    assert sum(shares) == pytest.approx(1.0, abs=1e-9)
    (hot,) = [i for i, r in enumerate(ranges) if r.start <= hot_key <= r.end]
    assert shares[hot] == pytest.approx((1 - hot_share) * ranges[hot].share + hot_share)
    assert all(s >= 0 for s in shares)
    parts = keys.partition_shares(len(ranges))
    assert sum(parts) == pytest.approx(1.0)
    assert max(parts) == pytest.approx(keys.hottest_partition_share(len(ranges)))


def test_stream_load_bytes() -> None:
    load = StreamLoad(Bell(), record_bytes=2048, keys=KeyDistribution(0.5))
    assert load.bytes_rate(3600) == 300 * 2048
    assert load.records_rate(2250) == 162.5
    assert load.bytes_rates(3600, 3) == [Bell().rate(3600 + i) * 2048 for i in range(3)]
    assert load.shard_shares(uniform_ranges(2)) == pytest.approx([0.75, 0.25])
    assert StreamLoad(Steady(1)).keys == KeyDistribution.uniform()
    assert StreamLoad(Steady(1)).bytes_rate(0) == 1024.0


# --------------------------------------------------------------------------- parse_pattern


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("steady:100", Steady(100)),
        ("100", Steady(100)),
        ("bell", Bell()),
        ("bell:base=25,peak=300", Bell()),
        ("bell:peak=400,rise=30m", Bell(peak=400, rise_s=1800)),
        ("top-heavy", TopHeavy()),
        ("TopHeavy:decay=5", TopHeavy(decay_per_minute=5)),
        ("spike:base=10,peak=500,at=3600,duration=600", Spike(10, 500, 3600, 600)),
        ("spike:peak=500,at=1h,duration=10m,ramp=0", Spike(0, 500, 3600, 600, 0)),
        ("sine:mean=100,amplitude=50,peak_hour=14", DailySine(100, 50, 14)),
        ("nightly:base=5,load=800", NightlyLoad(5, 800)),
        ("nightly:base=5,load=800,start-hour=2,hours=1.5", NightlyLoad(5, 800, 2, 1.5)),
        ("daytime:night=5,day=200", DaytimeReads(5, 200)),
        ("walk:start=100,seed=3", RandomWalk(100, seed=3)),
        ("walk:start=100,max=inf,min=10,interval=5m", RandomWalk(100, minimum=10, interval_s=300)),
        (
            "steady:10+spike:peak=200,at=600,duration=300",
            Steady(10) + Spike(0, 200, 600, 300),
        ),
        ("bell*2", Bell() * 2),
        ("2*bell", Bell() * 2),
        ("bell*2*1.5", Bell() * 3),
        ("steady:1e+3", Steady(1000)),
        (" bell + top-heavy*0.5 + 5 ", Bell() + TopHeavy() * 0.5 + Steady(5)),
    ],
)
def test_parse_pattern_examples(spec: str, expected: Pattern) -> None:
    got = parse_pattern(spec)
    assert got == expected
    assert parse_pattern(got.spec()) == got


def test_parse_csv_pattern(tmp_path: Path) -> None:
    path = write(tmp_path, "0,1\n60,2\n")
    r = parse_pattern(f"csv:{path}")
    assert r == Replay(((0, 1), (60, 2)), source=str(path))
    assert parse_pattern(r.spec()) == r
    looped = parse_pattern(f"csv:path={path},loop=true,step=yes*2")
    assert looped == Replay(((0, 1), (60, 2)), step=True, loop=True, source=str(path)) * 2
    assert parse_pattern(looped.spec()) == looped
    with pytest.raises(TrafficError, match="no such file"):
        parse_pattern(f"csv:{tmp_path / 'nope.csv'}")


@settings(max_examples=200, deadline=None)
@given(primitives_st.filter(lambda p: not isinstance(p, Replay)), factors_st)
def test_spec_round_trips(p: Pattern, k: float) -> None:
    assert parse_pattern(p.spec()) == p
    assert parse_pattern((p * k).spec()) == p * k
    assert parse_pattern((p + p * k).spec()) == p + p * k


def test_patterns_without_a_spec_form_say_so() -> None:
    for p in (Bell().shift(10), Bell().clamp(1, 2), (Bell() + Steady(1)) * 2, Replay(((0, 1),))):
        with pytest.raises(TrafficError, match="no spec form"):
            p.spec()


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ("", "empty traffic pattern"),
        ("   ", "empty traffic pattern"),
        ("wave:1", "unknown traffic pattern 'wave'; patterns: steady, bell, top-heavy"),
        ("bell:height=3", "bell has no 'height'; it takes base\\?, peak\\?, steady\\?"),
        ("bell:peak=lots", "peak='lots' must be a finite number"),
        ("bell:peak=inf", "must be a finite number"),
        ("bell:rise=soon", "rise='soon' must be a duration"),
        ("bell:peak=-3", "peak must be ≥ 0"),
        ("bell:peak=3,peak=4", "given twice"),
        ("bell:300", "'300' is not key=value"),
        ("spike:peak=10", "spike needs at=, duration="),
        ("sine", "sine needs mean=, amplitude="),
        ("walk:start=10,seed=1.5", "whole number"),
        ("csv:path=x.csv,loop=maybe", "true or false"),
        ("bell*x", "scale factor 'x' is not a number"),
        ("bell*-2", "must be ≥ 0"),
        ("bell++steady:1", "empty term"),
        ("nightly:base=1,load=2,hours=30", "hours"),
    ],
)
def test_parse_pattern_errors(spec: str, match: str) -> None:
    with pytest.raises(TrafficError, match=match):
        parse_pattern(spec)


def test_pattern_names_are_all_parseable() -> None:
    assert PATTERN_NAMES == (
        "steady",
        "bell",
        "top-heavy",
        "spike",
        "sine",
        "nightly",
        "daytime",
        "walk",
        "csv",
    )
    with pytest.raises(TrafficError) as info:
        parse_pattern("nope")
    for name in PATTERN_NAMES:
        assert name in str(info.value)


def test_describe_is_human() -> None:
    assert Bell().describe() == "bell 25→300/s"
    assert Steady(1200).describe() == "steady 1,200/s"
    assert TopHeavy().describe() == "top-heavy 25→300/s, −3/s per min"
    assert Spike(10, 500, 3600, 600).describe() == "spike 10→500/s at 1 h for 10 min"
    assert NightlyLoad(5, 800).describe() == "nightly load 5→800/s 01:00–04:00 UTC"
    assert DaytimeReads(5, 200).describe() == "daytime reads 5→200/s 07:00–22:00 UTC"
    assert (Bell() * 2 + Steady(5)).describe() == "2 × (bell 25→300/s) + steady 5/s"


def test_a_walk_with_no_maximum_stays_finite_for_ever() -> None:
    """Found by hypothesis: a steep walk without a maximum overflowed to inf, and
    interpolating inf − inf gave NaN."""
    walk = RandomWalk(start=3.0, step=0.3391714827386309, seed=730048, interval_s=10.0)
    values = walk.sample([8_651_635.0, 8_651_635.5, 1e12])
    assert all(math.isfinite(v) and v >= 0 for v in values), values
