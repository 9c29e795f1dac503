"""CloudWatch ``GetMetricData``, batched, paged, aligned, counted and refreshed incrementally.

- at most 500 queries per call (``ceil(N / 500)`` calls for N series), ``NextToken`` pages
  merged per query;
- ``StartTime`` / ``EndTime`` aligned down to the whole minute (CloudWatch, and moto, anchor
  periods at ``StartTime``), datapoints sorted by time (CloudWatch returns newest first), gaps
  kept as gaps;
- query ids rewritten to ids CloudWatch accepts (``^[a-z][a-zA-Z0-9_]*$``) and back;
- every call and every metric requested counted in :class:`MetricsUsage`, with the estimated
  cost (GetMetricData is billed per 1,000 metrics requested);
- :class:`IncrementalCache` fetches only the minutes not held yet (plus a margin of late
  minutes, which CloudWatch may still change).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from capcon.core.backends.aws.errors import call
from capcon.core.errors import AccessDenied, BackendError
from capcon.core.ports import MetricQuery, MetricSeries
from capcon.core.pricing import PriceBook, cloudwatch_cost

#: CloudWatch's limit of ``MetricDataQueries`` per ``GetMetricData`` call.
MAX_QUERIES_PER_CALL = 500
#: Recent minutes CloudWatch may still fill in or change: always fetched again.
LATE_MARGIN = timedelta(minutes=3)
#: Safety stop for a service that keeps answering with a ``NextToken``.
MAX_PAGES = 1000

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def align_down(moment: datetime, seconds: int = 60) -> datetime:
    """``moment`` in UTC, rounded down to a multiple of ``seconds`` since the epoch."""
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    offset = (moment - EPOCH) // timedelta(seconds=seconds)
    return EPOCH + timedelta(seconds=offset * seconds)


@dataclass
class MetricsUsage:
    """GetMetricData calls made and metrics requested (each query in each call, pages
    included), and what they cost at ``book``'s price."""

    book: PriceBook
    calls: int = 0
    metrics_requested: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def record(self, metrics: int) -> None:
        with self._lock:
            self.calls += 1
            self.metrics_requested += metrics

    @property
    def estimated_cost(self) -> float:
        """In ``book.currency``: ``metrics_requested`` × the price per 1,000 metrics / 1,000."""
        return cloudwatch_cost(self.metrics_requested, self.book)

    @property
    def price_per_1000_metrics(self) -> float:
        return self.book.get_metric_data_per_1000_metrics


def _query_json(safe_id: str, query: MetricQuery) -> dict[str, Any]:
    return {
        "Id": safe_id,
        "MetricStat": {
            "Metric": {
                "Namespace": query.namespace,
                "MetricName": query.metric,
                "Dimensions": [{"Name": n, "Value": v} for n, v in query.dimensions],
            },
            "Period": query.period,
            "Stat": query.stat,
        },
        "ReturnData": True,
    }


def _utc(value: object) -> datetime:
    if not isinstance(value, datetime):
        raise BackendError(
            f"cloudwatch:GetMetricData returned a timestamp that is not one: {value!r}"
        )
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class MetricFetcher:
    """Batched ``GetMetricData`` over one CloudWatch client."""

    def __init__(self, client: Any, usage: MetricsUsage) -> None:
        self.client = client
        self.usage = usage

    def fetch(
        self, queries: Sequence[MetricQuery], start: datetime, end: datetime
    ) -> list[MetricSeries]:
        """One series per query, in the order given, over ``[start, end)`` aligned down to
        the minute.  ``ceil(len(queries) / 500)`` calls, plus one per extra ``NextToken``
        page."""
        start, end = align_down(start), align_down(end)
        points: list[dict[datetime, float]] = [{} for _ in queries]
        if start < end:
            for first in range(0, len(queries), MAX_QUERIES_PER_CALL):
                batch = queries[first : first + MAX_QUERIES_PER_CALL]
                self._fetch_batch(batch, first, start, end, points)
        return [
            MetricSeries(
                q.id,
                tuple(sorted(held)),
                tuple(held[t] for t in sorted(held)),
            )
            for q, held in zip(queries, points, strict=True)
        ]

    def _fetch_batch(
        self,
        batch: Sequence[MetricQuery],
        first: int,
        start: datetime,
        end: datetime,
        points: list[dict[datetime, float]],
    ) -> None:
        # Ids CloudWatch accepts whatever capcon's ids look like: q<position in the batch>.
        request = [_query_json(f"q{i}", q) for i, q in enumerate(batch)]
        params: dict[str, Any] = {
            "MetricDataQueries": request,
            "StartTime": start,
            "EndTime": end,
        }
        seen_tokens: set[str] = set()
        for _ in range(MAX_PAGES):
            self.usage.record(len(request))
            answer = call(self.client, "get_metric_data", **params)
            for result in answer.get("MetricDataResults", []):
                self._merge(result, first, len(batch), points)
            token = answer.get("NextToken")
            if not token or token in seen_tokens:
                return
            seen_tokens.add(token)
            params["NextToken"] = token
        raise BackendError(
            f"cloudwatch:GetMetricData kept returning NextToken after {MAX_PAGES} pages"
        )

    @staticmethod
    def _merge(
        result: dict[str, Any], first: int, size: int, points: list[dict[datetime, float]]
    ) -> None:
        safe_id = str(result.get("Id", ""))
        if not safe_id.startswith("q") or not safe_id[1:].isdigit():
            return  # not one of ours
        position = int(safe_id[1:])
        if position >= size:
            return
        status = result.get("StatusCode")
        if status == "Forbidden":
            raise AccessDenied(
                "access denied: your identity needs the IAM permission cloudwatch:GetMetricData "
                "for these metrics (StatusCode Forbidden)"
            )
        if status == "InternalError":
            raise BackendError("cloudwatch:GetMetricData failed (StatusCode InternalError)")
        held = points[first + position]
        for stamp, value in zip(
            result.get("Timestamps", []), result.get("Values", []), strict=False
        ):
            held[_utc(stamp)] = float(value)


def _key(query: MetricQuery) -> tuple[object, ...]:
    return (
        query.namespace,
        query.metric,
        tuple(sorted(query.dimensions)),
        query.stat,
        query.period,
    )


@dataclass
class _Held:
    anchor: datetime  # StartTime of the full fetch: periods are counted from here
    start: datetime  # first moment held
    end: datetime  # everything before this was asked for (not necessarily published)
    points: dict[datetime, float]


class IncrementalCache:
    """GetMetricData that fetches only what it does not hold yet.

    Per metric (namespace, name, dimensions, statistic, period) it remembers the datapoints
    and up to when it asked.  A later request over a window it already covers fetches only
    from the end of what it held minus ``margin`` (late minutes CloudWatch may still change),
    replaces those minutes and returns the merged series.  A window starting before what is
    held is fetched whole.  Queries with the same fetch window share calls.
    """

    def __init__(self, fetcher: MetricFetcher, margin: timedelta = LATE_MARGIN) -> None:
        self.fetcher = fetcher
        self.margin = margin
        self._held: dict[tuple[object, ...], _Held] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._held.clear()

    def get(
        self, queries: Sequence[MetricQuery], start: datetime, end: datetime
    ) -> list[MetricSeries]:
        start, end = align_down(start), align_down(end)
        with self._lock:
            return self._get(queries, start, end)

    def _fetch_from(self, query: MetricQuery, start: datetime) -> tuple[datetime, bool]:
        """Where to start fetching ``query``, and whether that is an incremental fetch."""
        held = self._held.get(_key(query))
        if held is None or held.start > start or held.end <= start:
            return start, False
        period = timedelta(seconds=max(query.period, 60))
        wanted = max(start, held.end - self.margin)
        steps = (wanted - held.anchor) // period
        return held.anchor + steps * period, True

    def _get(
        self, queries: Sequence[MetricQuery], start: datetime, end: datetime
    ) -> list[MetricSeries]:
        groups: dict[tuple[datetime, bool], list[int]] = {}
        for i, query in enumerate(queries):
            groups.setdefault(self._fetch_from(query, start), []).append(i)
        for (fetch_from, incremental), members in groups.items():
            if fetch_from >= end:
                continue
            subset = [queries[i] for i in members]
            answers = self.fetcher.fetch(subset, fetch_from, end)
            for query, series in zip(subset, answers, strict=True):
                fresh = dict(zip(series.timestamps, series.values, strict=True))
                key = _key(query)
                held = self._held.get(key)
                if not incremental or held is None:
                    self._held[key] = _Held(fetch_from, fetch_from, end, fresh)
                    continue
                kept = {t: v for t, v in held.points.items() if not fetch_from <= t < end}
                kept.update(fresh)
                held.points = kept
                held.end = max(held.end, end)
        result: list[MetricSeries] = []
        for query in queries:
            held = self._held.get(_key(query))
            if held is None:
                result.append(MetricSeries(query.id))
                continue
            # Forget what slid out of the window: the cache stays the size of the window.
            if held.start < start:
                held.points = {t: v for t, v in held.points.items() if t >= start}
                held.start = start
            stamps = sorted(t for t in held.points if start <= t < end)
            result.append(
                MetricSeries(query.id, tuple(stamps), tuple(held.points[t] for t in stamps))
            )
        return result


def calls_needed(series: int) -> int:
    """GetMetricData calls for ``series`` queries without extra pages: ``ceil(N / 500)``."""
    return math.ceil(series / MAX_QUERIES_PER_CALL)
