"""CloudWatch ``GetMetricData``: one request, as the :class:`capcon.core.ports.Metrics` port asks.

Batching, caching and counting are the metrics service's
(:mod:`capcon.core.services.metrics`); this module only speaks the API:

- ``StartTime`` / ``EndTime`` aligned down to the whole minute (CloudWatch, and moto, anchor
  periods at ``StartTime``), datapoints sorted by time (CloudWatch returns newest first), gaps
  kept as gaps;
- query ids rewritten to ids CloudWatch accepts (``^[a-z][a-zA-Z0-9_]*$``) and back;
- ``NextToken`` pages followed and merged per query, each page reported to ``sent`` (a page
  is a request, billed again);
- a query's ``StatusCode`` ``Forbidden`` or ``InternalError`` raised as capcon's errors; every
  other failure mapped by :func:`capcon.core.backends.aws.errors.calling`;
- every answer checked: no ``MetricDataResults``, a timestamp that is not one, a value that is
  not a finite number, timestamps and values of different lengths are a
  :class:`~capcon.core.backends.aws.errors.MalformedAnswer` naming ``GetMetricData`` (a gap
  shown as a zero, or a series silently dropped, would mislead a plan).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from capcon.core.backends.aws import answers
from capcon.core.backends.aws.describe import DescribeError
from capcon.core.backends.aws.errors import calling
from capcon.core.errors import AccessDenied, BackendError
from capcon.core.ports import MetricQuery, MetricSeries, RequestCounter, align_down

if TYPE_CHECKING:  # the stubs are for the type checker: nothing here is needed at run time
    from types_boto3_cloudwatch.client import CloudWatchClient
    from types_boto3_cloudwatch.type_defs import GetMetricDataInputTypeDef, MetricDataQueryTypeDef

#: Safety stop for a service that keeps answering with a ``NextToken``.
MAX_PAGES = 1000


def _query_json(safe_id: str, query: MetricQuery) -> MetricDataQueryTypeDef:
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


def _utc(value: object, path: str) -> datetime:
    if not isinstance(value, datetime):
        raise DescribeError(f"{path}: expected a timestamp, got {value!r}"[:160])
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _value(value: object, path: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(float(value))
    ):
        raise DescribeError(f"{path}: expected a finite number, got {value!r}"[:160])
    return float(value)


def get_metric_data(
    client: CloudWatchClient,
    queries: Sequence[MetricQuery],
    start: datetime,
    end: datetime,
    *,
    sent: RequestCounter | None = None,
) -> list[MetricSeries]:
    """One series per query, in the order given, over ``[start, end)`` aligned down to the
    minute: one ``GetMetricData`` request (plus one per ``NextToken`` page)."""
    start, end = align_down(start), align_down(end)
    points: list[dict[datetime, float]] = [{} for _ in queries]
    if start < end and queries:
        # Ids CloudWatch accepts whatever capcon's ids look like: q<position>.
        request = [_query_json(f"q{i}", q) for i, q in enumerate(queries)]
        params: GetMetricDataInputTypeDef = {
            "MetricDataQueries": request,
            "StartTime": start,
            "EndTime": end,
        }
        _pages(client, params, points, sent)
    return [
        MetricSeries(q.id, tuple(sorted(held)), tuple(held[t] for t in sorted(held)))
        for q, held in zip(queries, points, strict=True)
    ]


def _pages(
    client: CloudWatchClient,
    params: GetMetricDataInputTypeDef,
    points: list[dict[datetime, float]],
    sent: RequestCounter | None,
) -> None:
    # By hand, not boto3's paginator: ``sent`` is told of each request before it is sent
    # (one that then fails was still sent), which a paginator, handing over pages once they
    # have arrived, cannot do.
    seen_tokens: set[str] = set()
    for _ in range(MAX_PAGES):
        if sent is not None:
            sent(len(params["MetricDataQueries"]))
        with calling("cloudwatch:GetMetricData"):
            answer = client.get_metric_data(**params)
            results = answers.items(answer, "MetricDataResults")
            for i, result in enumerate(results):
                _merge(answers.mapping(result, f"MetricDataResults[{i}]"), points, i)
            token = answer.get("NextToken")
            if token is not None and not isinstance(token, str):
                raise DescribeError(f"NextToken: expected a string, got {token!r}"[:160])
        if not token or token in seen_tokens:
            return
        seen_tokens.add(token)
        params["NextToken"] = token
    raise BackendError(f"cloudwatch:GetMetricData kept returning NextToken after {MAX_PAGES} pages")


def _merge(result: Mapping[str, Any], points: list[dict[datetime, float]], at: int) -> None:
    path = f"MetricDataResults[{at}]"
    safe_id = answers.text(result, "Id", path)
    if not safe_id.startswith("q") or not safe_id[1:].isdigit():
        return  # not one of ours
    position = int(safe_id[1:])
    if position >= len(points):
        return
    status = result.get("StatusCode")
    if status == "Forbidden":
        raise AccessDenied(
            "access denied: your identity needs the IAM permission cloudwatch:GetMetricData "
            "for these metrics (StatusCode Forbidden)"
        )
    if status == "InternalError":
        raise BackendError("cloudwatch:GetMetricData failed (StatusCode InternalError)")
    held = points[position]
    stamps = answers.items(result, "Timestamps", required=False)
    values = answers.items(result, "Values", required=False)
    if len(stamps) != len(values):
        raise DescribeError(
            f"{path}: {len(stamps)} timestamps but {len(values)} values (one each is required)"
        )
    for i, (stamp, value) in enumerate(zip(stamps, values, strict=True)):
        held[_utc(stamp, f"{path}.Timestamps[{i}]")] = _value(value, f"{path}.Values[{i}]")
