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
  other failure mapped by :func:`capcon.core.backends.aws.errors.calling`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

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


def _utc(value: object) -> datetime:
    if not isinstance(value, datetime):
        raise BackendError(
            f"cloudwatch:GetMetricData returned a timestamp that is not one: {value!r}"
        )
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


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
        for result in answer.get("MetricDataResults", []):
            _merge(result, points)
        token = answer.get("NextToken")
        if not token or token in seen_tokens:
            return
        seen_tokens.add(token)
        params["NextToken"] = token
    raise BackendError(f"cloudwatch:GetMetricData kept returning NextToken after {MAX_PAGES} pages")


def _merge(result: Mapping[str, Any], points: list[dict[datetime, float]]) -> None:
    safe_id = str(result.get("Id", ""))
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
    for stamp, value in zip(result.get("Timestamps", []), result.get("Values", []), strict=False):
        held[_utc(stamp)] = float(value)
