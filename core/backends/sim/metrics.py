"""CloudWatch for the simulated account: 1-minute datapoints, published late, rolled up.

Each series keeps, per period, the sum, sample count, maximum and minimum of what was
recorded, in compact ``array('d')`` columns.  A minute becomes visible ``delay`` after it
ends, as AWS's metrics typically arrive 1–3 minutes late; queries aggregate the stored
periods into the requested period and leave periods with no data out (a gap, never a zero).

Retention.  CloudWatch keeps 1-minute datapoints for 15 days, 5-minute ones for 63 days and
hourly ones for 455 days.  The simulated account keeps much less, so that its memory stays
bounded however long it runs (a 60× console simulates a day in 24 minutes): per series,

* 1-minute data for the newest ``minute_retention`` (default 3 h),
* 5-minute aggregates for the newest ``five_minute_retention`` (default 24 h),
* hourly aggregates for the newest ``hour_retention`` (default 8 days),

each counted back from the newest minute recorded for that series (a series no longer
recorded keeps what it has).  The tiers are disjoint in time: when the 1-minute columns
hold an hour more than their retention, their oldest whole hours are rolled up (sum of
sums, sum of counts, maximum of maxima, minimum of minima) into 5-minute periods and
deleted; likewise 5-minute periods into hourly ones, and hourly periods older than their
retention are dropped.  Each resolution so reaches back at least its retention and at most
about two hours more; trimming happens about once an hour per series, never per record.
Roll-up boundaries are whole wall-clock hours (UTC, counted from the Unix epoch), not hours
from the store's ``epoch``.  Rolled-up sums are added in another order than the minutes'
were, so they can differ from them in the last bit.

Throttle metrics are published as AWS publishes them: a datapoint only in a minute with
throttling (:data:`SPARSE_METRICS`; a zero recorded for them is not stored), so the console
reads the simulated account the way it must read CloudWatch: a missing throttle minute is a
zero once the minute is complete (docs/aws-rules.md#cloudwatch-data-as-aws-writes-it).

A query answers each of its periods from the finest data that covers it exactly: every part
of the period must lie in a tier whose step divides that part (1-minute data answers any
period; 5-minute data periods that start and end on wall-clock multiples of 5 minutes;
hourly data periods on whole hours).  A period that no tier can answer at that resolution —
a 60-second period older than the 1-minute retention, say, or any period older than the
hourly retention — is a gap, as CloudWatch omits periods it no longer has at the requested
resolution.

Minute ``m`` of the store is ``[epoch + m min, epoch + (m + 1) min)``.  When ``epoch`` is
not on a whole minute (10:17:30, say), minute ``m`` straddles two wall-clock minutes; it is
filed under the wall-clock minute that *starts inside it* (minute 42, 10:59:30–11:00:30, is
11:00), which is the minute a query starting at 11:00:00 reads first.  Roll-ups then line
up with queries that start on whole wall-clock minutes, as the console's do.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeAlias

from capcon.core.ports import SPARSE_METRICS, MetricQuery, MetricSeries

Key = tuple[str, str, tuple[tuple[str, str], ...]]  # namespace, metric, sorted dimensions
#: sums, counts, maxima, minima and the ``[lo, hi)`` entries of them a period reads
_Part: TypeAlias = "tuple[array[float], array[float], array[float], array[float], int, int]"

#: minutes a tier may hold beyond its retention before it is trimmed (so trimming happens
#: once an hour per series, never per record)
SLACK_MINUTES = 60
#: "no boundary yet": nothing has been rolled up or dropped at this tier
_NEVER = -(2**62)
_UNIX = datetime(1970, 1, 1, tzinfo=UTC)
_STATS = "Sum, Average, Maximum, Minimum, SampleCount"


def metric_key(namespace: str, metric: str, dimensions: Sequence[tuple[str, str]]) -> Key:
    return namespace, metric, tuple(sorted(dimensions))


class _Columns:
    """Per-period sum, sample count, maximum and minimum."""

    __slots__ = ("counts", "maxs", "mins", "sums")

    def __init__(self) -> None:
        self.sums: array[float] = array("d")
        self.counts: array[float] = array("d")
        self.maxs: array[float] = array("d")
        self.mins: array[float] = array("d")

    def grow(self, missing: int) -> None:
        """Append ``missing`` empty periods."""
        self.sums.extend([0.0] * missing)
        self.counts.extend([0.0] * missing)
        self.maxs.extend([-math.inf] * missing)
        self.mins.extend([math.inf] * missing)

    def drop(self, n: int) -> None:
        """Delete the oldest ``n`` periods."""
        del self.sums[:n]
        del self.counts[:n]
        del self.maxs[:n]
        del self.mins[:n]


class _Tier(_Columns):
    """Rolled-up periods of ``step`` minutes; ``first`` is the wall-clock period number
    (minutes since the Unix epoch ÷ ``step``) of the oldest column entry."""

    __slots__ = ("first", "step")

    def __init__(self, step: int) -> None:
        super().__init__()
        self.step = step
        self.first = 0

    def add(self, period: int, total: float, count: float, high: float, low: float) -> None:
        if not self.sums:
            self.first = period
        i = period - self.first
        if i < 0:
            raise RuntimeError("roll-ups go forward in time")
        missing = i + 1 - len(self.sums)
        if missing > 0:
            self.grow(missing)
        self.sums[i] += total
        self.counts[i] += count
        if high > self.maxs[i]:
            self.maxs[i] = high
        if low < self.mins[i]:
            self.mins[i] = low

    def drop_before(self, period: int) -> None:
        """Forget every period before ``period`` (which becomes ``first``)."""
        self.drop(min(max(period - self.first, 0), len(self.sums)))
        self.first = max(self.first, period) if self.sums else period

    def roll_into(self, coarser: _Tier, until: int) -> None:
        """Move the periods before wall-clock minute ``until`` into ``coarser``."""
        stop = until // self.step
        n = min(max(stop - self.first, 0), len(self.sums))
        _roll(self, n, self.first, self.step, coarser)
        self.drop_before(stop)


def _roll(cols: _Columns | _Series, n: int, first: int, step: int, coarser: _Tier) -> None:
    """Aggregate the oldest ``n`` entries of ``cols`` (``step`` minutes each, the oldest
    being wall-clock period ``first``) into the periods of ``coarser``; empty periods
    (no samples) are left out."""
    ratio = coarser.step // step
    sums, counts, maxs, mins = cols.sums, cols.counts, cols.maxs, cols.mins
    i = 0
    while i < n:
        j = min(n, i + ratio - (first + i) % ratio)
        count = sum(counts[i:j])
        if count > 0:
            coarser.add((first + i) // ratio, sum(sums[i:j]), count, max(maxs[i:j]), min(mins[i:j]))
        i = j


@dataclass(slots=True)
class _Series:
    """One metric: 1-minute columns (``first_minute`` in store minutes, the hot path) and
    the rolled-up tiers, made when first needed.

    The tiers cover disjoint spans of wall-clock minutes: the 1-minute data from
    ``minute_cut`` on, the 5-minute data ``[five_cut, minute_cut)``, the hourly data
    ``[hour_cut, five_cut)``; before ``hour_cut`` nothing is kept.  A cut of ``_NEVER``
    means nothing has been moved out of the newer tier yet, so it covers all the past (the
    periods before the series' first datapoint are known to be empty)."""

    first_minute: int
    sums: array[float] = field(default_factory=lambda: array("d"))
    counts: array[float] = field(default_factory=lambda: array("d"))
    maxs: array[float] = field(default_factory=lambda: array("d"))
    mins: array[float] = field(default_factory=lambda: array("d"))
    five: _Tier | None = None
    hour: _Tier | None = None
    minute_cut: int = _NEVER
    five_cut: int = _NEVER
    hour_cut: int = _NEVER


def _whole_minutes(name: str, value: object) -> int:
    if not isinstance(value, timedelta) or value <= timedelta(0) or value % timedelta(minutes=1):
        raise ValueError(f"{name} must be a positive whole number of minutes, not {value!r}")
    return value // timedelta(minutes=1)


def _floor_hour(minute: int) -> int:
    return minute - minute % 60


class MetricStore:
    """Datapoints of every simulated metric, keyed like CloudWatch, in bounded tiers."""

    def __init__(
        self,
        epoch: datetime,
        delay: timedelta = timedelta(minutes=2),
        *,
        minute_retention: timedelta = timedelta(hours=3),
        five_minute_retention: timedelta = timedelta(hours=24),
        hour_retention: timedelta = timedelta(days=8),
    ) -> None:
        """Raises ``ValueError`` unless each retention is a positive whole number of minutes
        and ``minute_retention`` ≤ ``five_minute_retention`` ≤ ``hour_retention``."""
        minutes = _whole_minutes("minute_retention", minute_retention)
        fives = _whole_minutes("five_minute_retention", five_minute_retention)
        hours = _whole_minutes("hour_retention", hour_retention)
        if not minutes <= fives <= hours:
            raise ValueError(
                "retentions must not shrink as the step grows: minute_retention "
                f"{minute_retention} ≤ five_minute_retention {five_minute_retention} ≤ "
                f"hour_retention {hour_retention} is required"
            )
        self.epoch = epoch  # minute 0 starts here
        self.delay = delay
        self.minute_retention = minute_retention
        self.five_minute_retention = five_minute_retention
        self.hour_retention = hour_retention
        self._keep = (minutes, fives, hours)
        self._trim_after = minutes + SLACK_MINUTES
        # wall-clock minute (since the Unix epoch) of store minute 0: the first one starting
        # at or after ``epoch`` (see the module docstring)
        unix = _UNIX if epoch.tzinfo is not None else _UNIX.replace(tzinfo=None)
        micros = (epoch - unix) // timedelta(microseconds=1)
        self._offset = -(-micros // 60_000_000)
        self._series: dict[Key, _Series] = {}

    def record(
        self,
        key: Key,
        minute: int,
        total: float,
        count: float = 1.0,
        maximum: float | None = None,
        minimum: float | None = None,
    ) -> None:
        """Add ``count`` samples summing to ``total`` to ``minute`` (minutes since epoch);
        a zero of a :data:`SPARSE_METRICS` metric is not published."""
        if not total and key[1] in SPARSE_METRICS:
            return
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = _Series(first_minute=minute)
        i = minute - series.first_minute
        high = total if maximum is None else maximum
        low = total if minimum is None else minimum
        sums = series.sums
        if i == len(sums) and i <= self._trim_after:
            # the minute after the newest one (the simulator's usual case): a new entry,
            # as if added to an empty minute (so -0.0 and NaN extremes come out the same)
            sums.append(0.0 + total)
            series.counts.append(0.0 + count)
            series.maxs.append(high if high > -math.inf else -math.inf)
            series.mins.append(low if low < math.inf else math.inf)
            return
        if not 0 <= i < len(sums):
            i = self._slot(series, minute)
        sums[i] += total
        series.counts[i] += count
        if high > series.maxs[i]:
            series.maxs[i] = high
        if low < series.mins[i]:
            series.mins[i] = low

    def _slot(self, series: _Series, minute: int) -> int:
        """Index of ``minute``, growing the columns with empty minutes (and rolling the
        oldest up first when they hold too many)."""
        if minute < series.first_minute:
            raise ValueError(
                f"metrics are recorded in time order: minute {minute} is before minute "
                f"{series.first_minute}, the oldest one kept"
            )
        if minute - series.first_minute > self._trim_after:
            self._trim(series, minute + self._offset)
        index = minute - series.first_minute
        missing = index + 1 - len(series.sums)
        if missing > 0:
            series.sums.extend([0.0] * missing)
            series.counts.extend([0.0] * missing)
            series.maxs.extend([-math.inf] * missing)
            series.mins.extend([math.inf] * missing)
        return index

    def _trim(self, series: _Series, newest: int) -> None:
        """Roll up and drop what is older than the retentions, ``newest`` being the
        wall-clock minute about to be recorded."""
        keep_minutes, keep_fives, keep_hours = self._keep
        # 1-minute → 5-minute, in whole wall-clock hours
        start = series.first_minute + self._offset
        cut = _floor_hour(newest - keep_minutes)
        if cut > start:
            five = series.five
            if five is None:
                five = series.five = _Tier(5)
            n = min(cut - start, len(series.sums))
            _roll(series, n, start, 1, five)
            del series.sums[:n]
            del series.counts[:n]
            del series.maxs[:n]
            del series.mins[:n]
            series.first_minute = cut - self._offset
            series.minute_cut = cut
        # 5-minute → hourly, in whole hours
        five = series.five
        if five is None:
            return
        oldest = series.five_cut
        if oldest == _NEVER:
            oldest = five.first * 5 if five.sums else series.minute_cut
        if newest - oldest > keep_fives + SLACK_MINUTES:
            hour = series.hour
            if hour is None:
                hour = series.hour = _Tier(60)
            series.five_cut = min(_floor_hour(newest - keep_fives), series.minute_cut)
            five.roll_into(hour, series.five_cut)
        # hourly: dropped beyond its retention
        hour = series.hour
        if hour is None:
            return
        oldest = series.hour_cut
        if oldest == _NEVER:
            oldest = hour.first * 60 if hour.sums else series.five_cut
        if newest - oldest > keep_hours + SLACK_MINUTES:
            series.hour_cut = min(_floor_hour(newest - keep_hours), series.five_cut)
            hour.drop_before(series.hour_cut // 60)

    def published_until(self, now: datetime) -> datetime:
        """Minutes ending at or before this moment are visible at ``now``."""
        return now - self.delay

    def query(
        self, queries: Sequence[MetricQuery], start: datetime, end: datetime, now: datetime
    ) -> list[MetricSeries]:
        """``GetMetricData`` at ``now``: periods aligned to whole minutes from ``start``."""
        visible_end = min(end, self.published_until(now))
        first = math.floor((start - self.epoch).total_seconds() / 60)
        last = math.floor((visible_end - self.epoch).total_seconds() / 60)  # exclusive
        out: list[MetricSeries] = []
        for q in queries:
            if q.period % 60 or q.period <= 0:
                raise ValueError(f"period {q.period} must be a positive multiple of 60 s")
            step = q.period // 60
            series = self._series.get(metric_key(q.namespace, q.metric, q.dimensions))
            stamps: list[datetime] = []
            values: list[float] = []
            if series is not None:
                m = first
                while m + step <= last:
                    value = self._bucket(series, m, step, q.stat)
                    if value is not None:
                        stamps.append(self.epoch + timedelta(minutes=m))
                        values.append(value)
                    m += step
            out.append(MetricSeries(q.id, tuple(stamps), tuple(values)))
        return out

    def _bucket(self, series: _Series, m: int, step: int, stat: str) -> float | None:
        """The statistic over store minutes ``[m, m + step)``, or ``None`` for a gap."""
        lo = m - series.first_minute
        a = m + self._offset  # wall-clock minutes
        e = a + step
        if a >= series.minute_cut:  # all in the 1-minute data (the usual case)
            return _value(
                [(series.sums, series.counts, series.maxs, series.mins, lo, lo + step)], stat
            )
        if a < series.hour_cut:
            return None  # (partly) older than anything kept
        parts: list[_Part] = []
        if e > series.minute_cut:
            parts.append(
                (series.sums, series.counts, series.maxs, series.mins, 0, e - series.minute_cut)
            )
        for tier, lower, upper in (
            (series.five, series.five_cut, series.minute_cut),
            (series.hour, series.hour_cut, series.five_cut),
        ):
            lo_t, hi_t = max(a, lower), min(e, upper)
            if lo_t >= hi_t:
                continue
            if tier is None or lo_t % tier.step or hi_t % tier.step:
                return None  # this part is not held at a step that divides it
            parts.append(
                (
                    tier.sums,
                    tier.counts,
                    tier.maxs,
                    tier.mins,
                    lo_t // tier.step - tier.first,
                    hi_t // tier.step - tier.first,
                )
            )
        return _value(parts, stat)

    def series_count(self) -> int:
        return len(self._series)

    def slots(self) -> int:
        """Stored periods over every series and tier (each is four doubles, 32 bytes)."""
        total = 0
        for series in self._series.values():
            total += len(series.sums)
            if series.five is not None:
                total += len(series.five.sums)
            if series.hour is not None:
                total += len(series.hour.sums)
        return total


def _value(parts: Sequence[_Part], stat: str) -> float | None:
    """The statistic over ``columns[lo:hi]`` of each part, or ``None`` with no samples."""
    spans = []
    count = 0.0
    for sums, counts, maxs, mins, lo, hi in parts:
        lo = max(lo, 0)
        hi = min(hi, len(sums))
        if lo < hi:
            spans.append((sums, maxs, mins, lo, hi))
            count += sum(counts[lo:hi])
    if count <= 0:
        return None
    if stat == "Sum":
        return float(sum(sum(s[lo:hi]) for s, _, _, lo, hi in spans))
    if stat == "SampleCount":
        return float(count)
    if stat == "Average":
        return float(sum(sum(s[lo:hi]) for s, _, _, lo, hi in spans) / count)
    if stat == "Maximum":
        return float(max(max(x[lo:hi]) for _, x, _, lo, hi in spans))
    if stat == "Minimum":
        return float(min(min(n[lo:hi]) for _, _, n, lo, hi in spans))
    raise ValueError(f"statistic {stat!r} is not supported ({_STATS})")
