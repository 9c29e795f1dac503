"""CloudWatch for the simulated account: 1-minute datapoints, published late.

Each series keeps, per minute, the sum, sample count, maximum and minimum of what was
recorded, in compact ``array('d')`` columns (1,000 resources × 3 h of six metrics is a few
tens of MB).  A minute becomes visible ``delay`` after it ends, as AWS's metrics typically
arrive 1–3 minutes late; queries aggregate minutes into the requested period and leave
minutes with no data out (a gap, never a zero).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from capcon.core.ports import MetricQuery, MetricSeries

Key = tuple[str, str, tuple[tuple[str, str], ...]]  # namespace, metric, sorted dimensions


def metric_key(namespace: str, metric: str, dimensions: Sequence[tuple[str, str]]) -> Key:
    return namespace, metric, tuple(sorted(dimensions))


@dataclass(slots=True)
class _Series:
    first_minute: int
    sums: array[float] = field(default_factory=lambda: array("d"))
    counts: array[float] = field(default_factory=lambda: array("d"))
    maxs: array[float] = field(default_factory=lambda: array("d"))
    mins: array[float] = field(default_factory=lambda: array("d"))

    def slot(self, minute: int) -> int:
        """Index of ``minute``, growing the columns with empty minutes as needed."""
        index = minute - self.first_minute
        if index < 0:
            raise ValueError("metrics are recorded in time order")
        missing = index + 1 - len(self.sums)
        if missing > 0:
            self.sums.extend([0.0] * missing)
            self.counts.extend([0.0] * missing)
            self.maxs.extend([-math.inf] * missing)
            self.mins.extend([math.inf] * missing)
        return index


class MetricStore:
    """Per-minute datapoints of every simulated metric, keyed like CloudWatch."""

    def __init__(self, epoch: datetime, delay: timedelta = timedelta(minutes=2)) -> None:
        self.epoch = epoch  # minute 0 starts here
        self.delay = delay
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
        """Add ``count`` samples summing to ``total`` to ``minute`` (minutes since epoch)."""
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = _Series(first_minute=minute)
        i = series.slot(minute)
        series.sums[i] += total
        series.counts[i] += count
        high = total if maximum is None else maximum
        low = total if minimum is None else minimum
        if high > series.maxs[i]:
            series.maxs[i] = high
        if low < series.mins[i]:
            series.mins[i] = low

    def published_until(self, now: datetime) -> datetime:
        """Minutes ending at or before this moment are visible at ``now``."""
        return now - self.delay

    def _value(self, series: _Series, lo: int, hi: int, stat: str) -> float | None:
        """The statistic over minutes ``[lo, hi)`` (indexes into the columns), or ``None``."""
        lo = max(lo, 0)
        hi = min(hi, len(series.sums))
        if lo >= hi:
            return None
        count = sum(series.counts[lo:hi])
        if count <= 0:
            return None
        if stat == "Sum":
            return float(sum(series.sums[lo:hi]))
        if stat == "SampleCount":
            return float(count)
        if stat == "Average":
            return float(sum(series.sums[lo:hi]) / count)
        if stat == "Maximum":
            return float(max(series.maxs[lo:hi]))
        if stat == "Minimum":
            return float(min(series.mins[lo:hi]))
        raise ValueError(
            f"statistic {stat!r} is not supported (Sum, Average, Maximum, Minimum, SampleCount)"
        )

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
                    lo = m - series.first_minute
                    value = self._value(series, lo, lo + step, q.stat)
                    if value is not None:
                        stamps.append(self.epoch + timedelta(minutes=m))
                        values.append(value)
                    m += step
            out.append(MetricSeries(q.id, tuple(stamps), tuple(values)))
        return out

    def series_count(self) -> int:
        return len(self._series)
