"""Refresh cost on a big account: capcon's Feed through the boto3 adapter vs the naive way.

Run: ``.venv/bin/python bench/bench_refresh.py [--runs N] [--tables N] [--streams M] [--quick]``
(``--quick``: one run, 400 tables + 50 streams)
— prints a table and writes ``bench/results/refresh.json``.

A moto server (``ThreadedMotoServer`` in a child process, logging nothing) gets N tables
(every 10th with a GSI, every 10th on-demand), M streams, Application Auto Scaling on a few
tables and a few minutes of datapoints (``PutMetricData``) for some of the series, so the
account has ``4 × (tables + GSIs) + 3 × streams`` metric series.  Then:

- **capcon**: :class:`capcon.core.services.feed.Feed` over
  :class:`capcon.core.backends.aws.AwsAdapter` (metric window kept to 5 minutes: moto's
  ``GetMetricData`` is O(queries × periods × datapoints)), on fresh Feeds: the console's first
  poll (first screen only), a full refresh from an empty cache, full refreshes with the first 50
  rows visible, and polls of the visible rows only, describing only the visible resources (when
  ``Feed.refresh`` takes ``hidden``; the console's polling policy, ``ConsoleOptions().polling``,
  is read from the code).  Per refresh: ``GetMetricData`` calls counted by a botocore hook
  (``before-call.monitoring.GetMetricData``), metrics requested (``MetricDataQueries`` per
  call), what the metrics service's counters say, every other AWS call by operation,
  wall time split by phase, and the client's CPU time (all threads). - **naive**: one
  ``GetMetricStatistics`` call per metric per resource, the way peers poll. A sample of the
  metrics is timed (all of them with ``--naive-all``) and extrapolated. - **per hour** of an
  open console, in use and idle ($ per 1,000 metrics requested from the price book): capcon's
  polling policy applied to the measured full and visible-only polls (metrics, cost, client
  CPU), against polling everything every minute, and visibility-aware polling without back-off
  (50 visible rows every minute, the rest every 5, 15 or 60 min). - **sparse** (no moto): calls
  per refresh of a default Feed (the console's window) over ``fleet:1000,200`` whose throttle
  series are sparse, as CloudWatch's are."""

from __future__ import annotations

import argparse
import dataclasses
import math
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    MotoServer,
    fake_aws_environment,
    load_average,
    print_table,
    spread,
    summary,
    write_result,
)

VISIBLE = 50
WINDOW = timedelta(minutes=5)
LESS_VISIBLE_EVERY = (5, 15, 60)


# --- the account -----------------------------------------------------------------------------


def _client(url: str, service: str) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(max_pool_connections=32, retries={"mode": "standard", "max_attempts": 5})
    return boto3.client(  # type: ignore[call-overload]
        service, endpoint_url=url, region_name="us-east-1", config=config
    )


def table_name(i: int) -> str:
    return f"table-{i:04d}"


def stream_name(i: int) -> str:
    return f"stream-{i:04d}"


def create_account(url: str, tables: int, streams: int) -> dict[str, Any]:
    """Tables, streams, AAS and some datapoints with plain boto3; what was made and how long
    it took."""
    started = time.perf_counter()
    ddb = _client(url, "dynamodb")
    kinesis = _client(url, "kinesis")
    cloudwatch = _client(url, "cloudwatch")
    aas = _client(url, "application-autoscaling")

    def make_table(i: int) -> None:
        on_demand = i % 10 == 5
        params: dict[str, Any] = {
            "TableName": table_name(i),
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        }
        if on_demand:
            params["BillingMode"] = "PAY_PER_REQUEST"
        else:
            params["BillingMode"] = "PROVISIONED"
            params["ProvisionedThroughput"] = {
                "ReadCapacityUnits": 5 + (i * 37) % 2000,
                "WriteCapacityUnits": 5 + (i * 53) % 800,
            }
        if i % 10 == 0:
            params["AttributeDefinitions"].append({"AttributeName": "g", "AttributeType": "S"})
            params["GlobalSecondaryIndexes"] = [
                {
                    "IndexName": "by-g",
                    "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                    "ProvisionedThroughput": {"ReadCapacityUnits": 50, "WriteCapacityUnits": 50},
                }
            ]
        ddb.create_table(**params)

    def make_stream(i: int) -> None:
        kinesis.create_stream(StreamName=stream_name(i), ShardCount=1 + i % 4)

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(make_table, range(tables)))
        list(pool.map(make_stream, range(streams)))

    # Auto scaling on 20 tables (moto's describe_scalable_targets paging breaks past 50).
    aas_tables = [i for i in range(min(tables, 40)) if i % 10 not in (0, 5)][:20]
    for n, i in enumerate(aas_tables):
        rid = f"table/{table_name(i)}"
        for dim, metric in (
            ("dynamodb:table:ReadCapacityUnits", "DynamoDBReadCapacityUtilization"),
            ("dynamodb:table:WriteCapacityUnits", "DynamoDBWriteCapacityUtilization"),
        ):
            aas.register_scalable_target(
                ServiceNamespace="dynamodb",
                ResourceId=rid,
                ScalableDimension=dim,
                MinCapacity=5,
                MaxCapacity=4000,
            )
            if n % 2 == 0:
                aas.put_scaling_policy(
                    PolicyName=f"{table_name(i)}-{dim.rsplit(':', 1)[1]}",
                    ServiceNamespace="dynamodb",
                    ResourceId=rid,
                    ScalableDimension=dim,
                    PolicyType="TargetTrackingScaling",
                    TargetTrackingScalingPolicyConfiguration={
                        "TargetValue": 70.0,
                        "PredefinedMetricSpecification": {"PredefinedMetricType": metric},
                    },
                )

    # Datapoints: the last 5 minutes of consumed capacity for 50 tables, bytes and records
    # for 20 streams (a few hundred datapoints: moto scans them all for every query).
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    data: list[dict[str, Any]] = []
    for i in range(min(tables, 50)):
        for metric in ("ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits"):
            for m in range(1, 6):
                data.append(
                    {
                        "MetricName": metric,
                        "Dimensions": [{"Name": "TableName", "Value": table_name(i)}],
                        "Timestamp": now - timedelta(minutes=m),
                        "Value": float(60 * (10 + i)),
                        "Unit": "Count",
                    }
                )
    for i in range(min(streams, 20)):
        for metric, value in (("IncomingBytes", 6e6), ("IncomingRecords", 6e3)):
            for m in range(1, 6):
                data.append(
                    {
                        "MetricName": metric,
                        "Dimensions": [{"Name": "StreamName", "Value": stream_name(i)}],
                        "Timestamp": now - timedelta(minutes=m),
                        "Value": value,
                        "Unit": "Count",
                    }
                )
    namespaces = {"Consumed": "AWS/DynamoDB", "Incoming": "AWS/Kinesis"}
    for prefix, namespace in namespaces.items():
        chosen = [d for d in data if d["MetricName"].startswith(prefix)]
        for first in range(0, len(chosen), 500):
            cloudwatch.put_metric_data(Namespace=namespace, MetricData=chosen[first : first + 500])
    gsis = len(range(0, tables, 10))
    return {
        "tables": tables,
        "gsis": gsis,
        "streams": streams,
        "aas_tables": len(aas_tables),
        "datapoints": len(data),
        "series": 4 * (tables + gsis) + 3 * streams,
        "series_with_data": 2 * min(tables, 50) + 2 * min(streams, 20),
        "setup_seconds": time.perf_counter() - started,
    }


# --- counting ------------------------------------------------------------------------------


class Counters:
    """Every AWS call by operation, and ``GetMetricData``'s calls and metrics, from botocore
    events on the clients given."""

    def __init__(self) -> None:
        self.operations: Counter[str] = Counter()
        self.gmd_calls = 0
        self.gmd_metrics = 0
        self.gms_calls = 0

    def attach(self, client: Any) -> None:
        events = client.meta.events
        if client.meta.service_model.endpoint_prefix == "monitoring":
            events.register("before-call.monitoring.GetMetricData", self._gmd_call)
            events.register("before-parameter-build.monitoring.GetMetricData", self._gmd_params)
            events.register("before-call.monitoring.GetMetricStatistics", self._gms_call)
        events.register("before-call", self._any)

    def _gmd_call(self, **_: Any) -> None:
        self.gmd_calls += 1

    def _gms_call(self, **_: Any) -> None:
        self.gms_calls += 1

    def _gmd_params(self, params: dict[str, Any], **_: Any) -> None:
        self.gmd_metrics += len(params.get("MetricDataQueries", []))

    def _any(self, event_name: str, **_: Any) -> None:
        service, operation = event_name.split(".", 2)[1:]
        self.operations[f"{service}:{operation}"] += 1

    def snapshot(self) -> tuple[int, int, Counter[str]]:
        return self.gmd_calls, self.gmd_metrics, Counter(self.operations)


def _timed(phases: dict[str, float], name: str, call: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return call(*args, **kwargs)
        finally:
            phases[name] = phases.get(name, 0.0) + time.perf_counter() - started

    return wrapper


# --- capcon ------------------------------------------------------------------------------------


def polling_policy() -> tuple[bool, Any]:
    """(whether ``Feed.refresh`` can leave off-screen rows out, the console's
    :class:`~capcon.core.polling.PollPolicy`, or ``None`` before there was one) — read from
    the code, so the figures follow the console."""
    import inspect

    from capcon.core.services.feed import Feed
    from capcon.tui.console.app import ConsoleOptions

    supports = "hidden" in inspect.signature(Feed.refresh).parameters
    return supports, getattr(ConsoleOptions(), "polling", None) if supports else None


def per_hour(policy: Any, idle: bool, full: float, part: float) -> tuple[float, float, float]:
    """(polls, full polls, amount) per hour under ``policy``: ``full`` per poll that fetches
    every row (and describes the whole inventory), ``part`` per poll of the visible rows."""
    polls, full_polls = policy.polls_per_hour(idle=idle)
    return polls, full_polls, full_polls * full + (polls - full_polls) * part


class Probe:
    """A fresh adapter and Feed on the moto server, every call counted and timed."""

    def __init__(self, url: str) -> None:
        from capcon.core.backends.aws.adapter import AwsAdapter
        from capcon.core.backends.aws.session import AwsSession
        from capcon.core.config.prices import load_price_book
        from capcon.core.rules import RuleSettings
        from capcon.core.services.feed import Feed

        session = AwsSession(endpoint_url=url, region="us-east-1")
        self.adapter = adapter = AwsAdapter(session)
        self.counters = Counters()
        for client in (
            session.cloudwatch(),
            session.dynamodb(),
            session.kinesis(),
            session.autoscaling(),
        ):
            self.counters.attach(client)
        self.phases: dict[str, float] = {}
        for name in (
            "list_tables",
            "describe_tables",
            "list_streams",
            "describe_streams",
            "get_metric_data",
            "describe_scalable_targets",
            "describe_scaling_policies",
        ):
            setattr(adapter, name, _timed(self.phases, name, getattr(adapter, name)))
        self.feed = Feed(adapter, RuleSettings(), load_price_book("us-east-1"), keep=WINDOW)

    def refresh(
        self, label: str, visible: list[str], hidden: bool | None, inventory: bool = True
    ) -> dict[str, Any]:
        """One ``Feed.refresh`` (``hidden`` None: the Feed has no such parameter), with the
        whole inventory described or (``inventory`` False) only the visible resources, as
        the console does on its visible-only polls."""
        feed, counters = self.feed, self.counters
        self.phases.clear()
        calls0, metrics0, ops0 = counters.snapshot()
        usage = feed.metrics.usage  # the one GetMetricData caller's count of what it sent
        usage_calls0, usage_metrics0 = usage.calls, usage.metrics_requested
        started, cpu = time.perf_counter(), time.process_time()
        kwargs = {} if hidden is None else {"hidden": hidden, "inventory": inventory}
        snapshot = feed.refresh(visible, **kwargs)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        calls1, metrics1, ops1 = counters.snapshot()
        rows = snapshot.rows
        ops = ops1 - ops0
        self.last_rows = rows
        return {
            "refresh": label,
            "hidden_rows_fetched": hidden is not False,
            "visible_rows": len(visible),
            "rows": len(rows),
            "series": sum(3 if r.kind == "stream" else 4 for r in rows),
            "wall_seconds": wall,
            "client_cpu_seconds": cpu,
            "gmd_calls": calls1 - calls0,
            "gmd_metrics": metrics1 - metrics0,
            "service_usage_calls": usage.calls - usage_calls0,
            "service_usage_metrics": usage.metrics_requested - usage_metrics0,
            "api_calls": dict(sorted(ops.items())),
            "api_calls_total": sum(ops.values()),
            "phase_seconds": {k: round(v, 4) for k, v in self.phases.items()},
            "rows_with_data": sum(1 for r in rows if r.data_until is not None),
        }


def capcon_run(url: str, warm: int) -> dict[str, list[dict[str, Any]]]:
    """The console's polls on fresh Feeds:

    - ``first_screen``: its first poll (nothing visible yet; with visibility-aware polling,
      only the first screen's rows get metrics);
    - ``cold``: a full refresh (every row's metrics) from an empty cache;
    - ``warm``: ``warm`` full refreshes with the first :data:`VISIBLE` rows visible;
    - ``visible``: ``warm`` refreshes of the visible rows only (when the Feed can).
    """
    from capcon.tui.console.app import group_rows

    supports, _ = polling_policy()
    out: dict[str, list[dict[str, Any]]] = {"first_screen": [], "cold": [], "warm": []}
    if supports:
        out["first_screen"].append(Probe(url).refresh("first_screen", [], False))
    probe = Probe(url)
    full = True if supports else None
    out["cold"].append(probe.refresh("cold", [], full))
    shown = group_rows(probe.last_rows, "name", "")[:VISIBLE]
    visible = [r.name for r in shown]
    visible_series = sum(3 if r.kind == "stream" else 4 for r in shown)
    for _ in range(warm):
        out["warm"].append(probe.refresh("warm", visible, full))
    if supports:
        out["visible"] = [
            probe.refresh("visible", visible, False, inventory=False) for _ in range(warm)
        ]
    for entries in out.values():
        for entry in entries:
            entry["visible_series"] = visible_series if entry["visible_rows"] else 0
    return out


# --- naive ---------------------------------------------------------------------------------


def metric_list(account: dict[str, Any]) -> list[tuple[str, str, list[dict[str, str]]]]:
    """Every (namespace, metric, dimensions) the console shows."""
    out: list[tuple[str, str, list[dict[str, str]]]] = []
    table_metrics = (
        "ConsumedReadCapacityUnits",
        "ConsumedWriteCapacityUnits",
        "ReadThrottleEvents",
        "WriteThrottleEvents",
    )
    for i in range(account["tables"]):
        dims = [{"Name": "TableName", "Value": table_name(i)}]
        out += [("AWS/DynamoDB", m, dims) for m in table_metrics]
        if i % 10 == 0:
            gsi = [*dims, {"Name": "GlobalSecondaryIndexName", "Value": "by-g"}]
            out += [("AWS/DynamoDB", m, gsi) for m in table_metrics]
    for i in range(account["streams"]):
        dims = [{"Name": "StreamName", "Value": stream_name(i)}]
        out += [
            ("AWS/Kinesis", m, dims)
            for m in ("IncomingBytes", "IncomingRecords", "WriteProvisionedThroughputExceeded")
        ]
    return out


def naive_run(
    url: str, metrics: list[tuple[str, str, list[dict[str, str]]]], sample: int
) -> dict[str, Any]:
    """``GetMetricStatistics`` once per metric, one after the other, over the same window."""
    client = _client(url, "cloudwatch")
    counters = Counters()
    counters.attach(client)
    step = max(1, len(metrics) // sample) if sample else 1
    chosen = metrics[::step][:sample] if sample else metrics
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    start = end - WINDOW
    points = 0
    started = time.perf_counter()
    for namespace, metric, dims in chosen:
        answer = client.get_metric_statistics(
            Namespace=namespace,
            MetricName=metric,
            Dimensions=dims,
            StartTime=start,
            EndTime=end,
            Period=60,
            Statistics=["Sum"],
        )
        points += len(answer.get("Datapoints", []))
    wall = time.perf_counter() - started
    per_call = wall / len(chosen)
    return {
        "metrics_total": len(metrics),
        "calls_timed": counters.gms_calls,
        "sampled": len(chosen) < len(metrics),
        "datapoints_returned": points,
        "wall_seconds_timed": wall,
        "seconds_per_call": per_call,
        "calls_per_refresh": len(metrics),
        "wall_seconds_per_refresh": per_call * len(metrics),
    }


# --- sparse series, default window, no moto ---------------------------------------------------


def sparse_run(refreshes: int) -> list[dict[str, Any]]:
    """GetMetricData calls per refresh of a default :class:`Feed` (the console's window) over
    ``fleet:1000,200`` whose throttle series are sparse, as CloudWatch's are (a throttle
    metric has datapoints only for minutes with throttles): half of them have one datapoint
    somewhere in the last 3 h, half none; consumed capacity, bytes and records have every
    minute.  The metric answers are made up (no moto: its GetMetricData is far too slow over
    3 h); the calls are counted at the backend."""
    import zlib

    from capcon.core.backends.sim.scenarios import build_scenario
    from capcon.core.config.prices import load_price_book
    from capcon.core.ports import MetricQuery, MetricSeries, RequestCounter
    from capcon.core.rules import RuleSettings
    from capcon.core.services.feed import Feed
    from capcon.tui.console.app import group_rows

    now = datetime.now(UTC).replace(second=0, microsecond=0)
    account = build_scenario("fleet:1000,200", now)

    class Sparse:
        def __init__(self) -> None:
            self.calls = 0
            self.metrics = 0

        def __getattr__(self, name: str) -> Any:
            return getattr(account, name)

        def get_metric_data(
            self,
            queries: list[MetricQuery],
            start: datetime,
            end: datetime,
            *,
            sent: RequestCounter | None = None,
        ) -> list[MetricSeries]:
            self.calls += 1
            self.metrics += len(queries)
            if sent is not None:
                sent(len(queries))
            out = []
            for q in queries:
                if "Throttle" in q.metric or "Exceeded" in q.metric:
                    h = zlib.crc32(repr((q.metric, q.dimensions)).encode())
                    minutes = [] if h % 2 else [1 + h % 180]
                else:
                    minutes = list(range(1, 181))
                stamps = sorted(now - timedelta(minutes=m) for m in minutes)
                stamps = [t for t in stamps if start <= t < end]
                out.append(MetricSeries(q.id, tuple(stamps), tuple(1.0 for _ in stamps)))
            return out

    backend = Sparse()
    feed = Feed(backend, RuleSettings(), load_price_book("us-east-1"))  # type: ignore[arg-type]
    visible: list[str] = []
    out: list[dict[str, Any]] = []
    for n in range(refreshes):
        calls, metrics = backend.calls, backend.metrics
        snapshot = feed.refresh(visible)
        series = sum(3 if r.kind == "stream" else 4 for r in snapshot.rows)
        out.append(
            {
                "refresh": "cold" if n == 0 else "warm",
                "visible_rows": len(visible),
                "series": series,
                "call_limit": math.ceil(series / 500),
                "gmd_calls": backend.calls - calls,
                "gmd_metrics": backend.metrics - metrics,
            }
        )
        visible = [r.name for r in group_rows(snapshot.rows, "name", "")][:VISIBLE]
    return out


# --- cost ----------------------------------------------------------------------------------


def cost_per_hour(metrics_per_minute: float, price_per_1000: float) -> float:
    return metrics_per_minute * 60 * price_per_1000 / 1000


def costs(
    series: int, visible_series: int, policy_hours: dict[str, Any], price: float
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "price_per_1000_metrics": price,
        "everything_every_minute_per_hour": cost_per_hour(series, price),
        "visible_series": visible_series,
    }
    for state, figures in policy_hours.items():
        out[f"capcon_{state}_per_hour"] = figures["metrics_per_hour"] * price / 1000
    for every in LESS_VISIBLE_EVERY:
        per_minute = visible_series + (series - visible_series) / every
        out[f"visible_every_minute_rest_every_{every}_min_per_hour"] = cost_per_hour(
            per_minute, price
        )
    out["visible_only_per_hour"] = cost_per_hour(visible_series, price)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="fresh Feeds (each: cold + warm)")
    parser.add_argument("--warm", type=int, default=2, help="warm refreshes per run")
    parser.add_argument("--tables", type=int, default=1000)
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--naive-sample", type=int, default=250)
    parser.add_argument("--naive-all", action="store_true", help="time every naive call")
    parser.add_argument(
        "--quick", action="store_true", help="1 run, 1 warm refresh, 400 tables + 50 streams"
    )
    args = parser.parse_args()
    if args.quick:
        args.runs, args.warm, args.naive_sample = 1, 1, 100
        args.tables, args.streams = min(args.tables, 400), min(args.streams, 50)
    fake_aws_environment()
    from capcon.core.config.prices import load_price_book

    price = load_price_book("us-east-1").get_metric_data_per_1000_metrics
    load_before = load_average()
    server = MotoServer()
    try:
        account = create_account(server.url, args.tables, args.streams)
        runs = [capcon_run(server.url, args.warm) for _ in range(args.runs)]
        metrics = metric_list(account)
        naive = [
            naive_run(server.url, metrics, 0 if args.naive_all else args.naive_sample)
            for _ in range(max(1, min(args.runs, 3)))
        ]
    finally:
        server.close()
    sparse = sparse_run(3)
    supports, policy = polling_policy()

    def pooled(kind: str) -> list[dict[str, Any]]:
        return [entry for run in runs for entry in run.get(kind, [])]

    cold, warm, visible_only, first_screen = (
        pooled("cold"),
        pooled("warm"),
        pooled("visible"),
        pooled("first_screen"),
    )

    def stat(items: list[dict[str, Any]], key: str) -> dict[str, Any]:
        return summary([float(i[key]) for i in items])

    def figures(items: list[dict[str, Any]]) -> dict[str, Any]:
        if not items:
            return {}
        return {
            "wall_seconds": stat(items, "wall_seconds"),
            "client_cpu_seconds": stat(items, "client_cpu_seconds"),
            "gmd_calls": stat(items, "gmd_calls"),
            "gmd_metrics": stat(items, "gmd_metrics"),
            "detail": items,
        }

    series = account["series"]
    limit = math.ceil(series / 500)
    visible_series = warm[0]["visible_series"] if warm else 0
    full_metrics = statistics.median(w["gmd_metrics"] for w in warm)
    full_cpu = statistics.median(w["client_cpu_seconds"] for w in warm)
    if visible_only:
        part_metrics = statistics.median(v["gmd_metrics"] for v in visible_only)
        part_cpu = statistics.median(v["client_cpu_seconds"] for v in visible_only)
    else:
        part_metrics, part_cpu = full_metrics, full_cpu
    policy_hours: dict[str, Any] = {}
    for state, idle in (("in_use", False), ("idle", True)):
        if policy is None:  # every row every minute
            polls, full_polls, metrics_h = 60.0, 60.0, 60 * full_metrics
            cpu_h = 60 * full_cpu
        else:
            polls, full_polls, metrics_h = per_hour(policy, idle, full_metrics, part_metrics)
            cpu_h = per_hour(policy, idle, full_cpu, part_cpu)[2]
        policy_hours[state] = {
            "polls_per_hour": polls,
            "full_polls_per_hour": full_polls,
            "metrics_per_hour": metrics_h,
            "client_cpu_seconds_per_hour": cpu_h,
            "cpu_percent_of_one_core": 100 * cpu_h / 3600,
        }
    result = {
        "account": account,
        "load_average_before": load_before,
        "window_minutes": WINDOW.total_seconds() / 60,
        "call_limit_ceil_n_over_500": limit,
        "polling_policy": {
            "feed_can_skip_hidden_rows": supports,
            "policy": None if policy is None else dataclasses.asdict(policy),
        },
        "capcon": {
            "first_screen": figures(first_screen),
            "cold": figures(cold),
            "warm": figures(warm),
            "visible_only": figures(visible_only),
            "per_poll": {
                "full": {"metrics": full_metrics, "client_cpu_seconds": full_cpu},
                "visible_only": {"metrics": part_metrics, "client_cpu_seconds": part_cpu},
            },
            "per_hour_under_policy": policy_hours,
        },
        "naive": {
            "calls_per_refresh": series,
            "seconds_per_call": stat(naive, "seconds_per_call"),
            "wall_seconds_per_refresh": stat(naive, "wall_seconds_per_refresh"),
            "extrapolated_from_sample": naive[0]["sampled"],
            "calls_timed_per_run": naive[0]["calls_timed"],
            "detail": naive,
        },
        "sparse_default_window": sparse,
        "cost_per_hour": costs(series, visible_series, policy_hours, price),
    }
    write_result("refresh.json", result)
    cost = result["cost_per_hour"]
    said = (
        "every row every minute"
        if policy is None
        else (
            f"visible rows every {policy.visible_seconds:g} s, off-screen every"
            f" {policy.hidden_seconds:g} s; idle after {policy.idle_after_seconds:g} s:"
            f" {policy.idle_visible_seconds:g} s / {policy.idle_hidden_seconds:g} s"
        )
    )
    print(
        f"Refresh: {account['tables']} tables ({account['gsis']} GSIs) + {account['streams']} "
        f"streams = {series:,} series on moto; window {WINDOW.total_seconds() / 60:g} min; "
        f"setup {account['setup_seconds']:.1f} s; console policy: {said}"
    )
    sampled = (
        f"(timed {naive[0]['calls_timed']} calls, extrapolated)"
        if naive[0]["sampled"]
        else "(every call timed)"
    )
    rows: list[tuple[str, str]] = [(f"call limit ceil({series:,}/500)", f"{limit}")]
    labels = {
        "first_screen": "first poll (first screen only)",
        "cold": "full refresh, empty cache",
        "warm": f"full refresh, {VISIBLE} rows visible",
        "visible_only": f"{VISIBLE} visible rows only",
    }
    for kind, label in labels.items():
        f = result["capcon"][kind]
        if not f:
            continue
        rows += [
            (f"capcon {label}: GetMetricData calls", spread(f["gmd_calls"], "{:.0f}")),
            ("  metrics requested", spread(f["gmd_metrics"], "{:,.0f}")),
            ("  wall s", spread(f["wall_seconds"])),
            ("  client CPU s (all threads)", spread(f["client_cpu_seconds"])),
        ]
    if warm:
        counter = f"{warm[0]['service_usage_calls']} / {warm[0]['service_usage_metrics']:,}"
        label = "capcon full refresh: the metrics service's counter (calls / metrics)"
        rows.append((label, counter))
    phases = ", ".join(f"{k} {v:.2f}" for k, v in cold[0]["phase_seconds"].items())
    ops = cold[0]["api_calls"]
    others = ", ".join(f"{k} {v}" for k, v in ops.items() if "GetMetricData" not in k)
    hours = result["capcon"]["per_hour_under_policy"]
    nv = result["naive"]
    rows += [
        ("capcon full refresh: phases s", phases),
        ("capcon every refresh: other AWS calls", others),
        *[
            (
                f"capcon per hour, {state.replace('_', ' ')}: polls (full) / metrics / CPU %",
                f"{h['polls_per_hour']:g} ({h['full_polls_per_hour']:g}) /"
                f" {h['metrics_per_hour']:,.0f} / {h['cpu_percent_of_one_core']:.2f} %",
            )
            for state, h in hours.items()
        ],
        (f"naive: GetMetricStatistics calls {sampled}", f"{series:,}"),
        ("naive: s per call", spread(nv["seconds_per_call"], "{:.4f}")),
        (
            "naive: wall s per refresh",
            spread(result["naive"]["wall_seconds_per_refresh"], "{:.1f}"),
        ),
    ]
    for sp in sparse:
        rows.append(
            (
                f"sparse throttle series, default window, no moto: {sp['refresh']} refresh calls",
                f"{sp['gmd_calls']} (limit {sp['call_limit']}), {sp['gmd_metrics']:,} metrics",
            )
        )
    print_table("per refresh", rows)

    def paces(idle: bool) -> str:
        if policy is None:
            return "every row every minute"
        visible = policy.idle_visible_seconds if idle else policy.visible_seconds
        hidden = policy.idle_hidden_seconds if idle else policy.hidden_seconds
        return f"visible rows every {visible / 60:g} min, the rest every {hidden / 60:g} min"

    money = [
        (
            f"capcon, {state.replace('_', ' ')} ({paces(state == 'idle')})",
            cost[f"capcon_{state}_per_hour"],
        )
        for state in hours
    ]
    money.append(("everything every minute", cost["everything_every_minute_per_hour"]))
    for e in LESS_VISIBLE_EVERY:
        money.append(
            (
                f"{VISIBLE} visible rows every minute, rest every {e} min",
                cost[f"visible_every_minute_rest_every_{e}_min_per_hour"],
            )
        )
    money.append((f"{VISIBLE} visible rows only", cost["visible_only_per_hour"]))
    print_table(
        f"CloudWatch $/hour of an open console (${price}/1,000 metrics)",
        [(label, f"${value:.3f}") for label, value in money],
    )


if __name__ == "__main__":
    main()
