"""The deployed engine's AWS cost per managed table-month, against a process polling every
table every minute; and its code package's size and import time where only boto3 is.

Run: ``.venv/bin/python bench/deploy_cost.py [--tables N] [--runs R] [--wakeups-per-day W]``
— prints a table per policy and writes ``bench/results/deploy_cost.json``.

What is counted, and where each figure comes from:

- **Alarms, schedules, memory**: read from the stack's real template
  (``capcon.core.deploy.template.build_template`` on the simulated account's tables): every
  ``AWS::CloudWatch::Alarm`` and the metrics it reads (a metric-math alarm reads each of its
  ``MetricStat`` queries and is billed per metric: unconfirmed, so the higher figure), the
  tick and stream-check rules' rates, the Lambda's ``MemorySize`` and architecture.
- **Invocations** (ticks, alarm wake-ups, a stream check): the handler loop itself,
  ``--hours`` of the simulated ``fleet`` account with the stack's alarms put as the template
  writes them, the account evaluating them each minute and delivering SNS events, each
  handed to the handler's ``run_event`` (a wake-up), a tick every ``tick_minutes``; every AWS
  call counted through wrappers of the ports: metrics requested through ``GetMetricData``
  (the Metrics port), CloudWatch alarm requests (the Alarms port), state-table request units
  (item sizes as DynamoDB counts them: reads per 4 KB, strongly consistent; writes per 1 KB),
  audit items.  Billed duration is modelled, not measured on AWS: the package's import
  (measured, in a venv with only boto3; a cold start on every invocation, as a function
  woken every 30 minutes is likely to be) + the CPU time measured here, stretched to the
  memory's share of a vCPU, + an assumed in-region latency per AWS call (``--call-ms``).
- **Alarm wake-ups**: the rate measured on the loop, priced beside assumed rates
  (``--wakeups-per-day`` and a few others: the count depends on traffic), with the rate at
  which a policy would reach the target.
- Free tiers (per account: Lambda's million requests and 400,000 GB-s, CloudWatch's 10
  alarms and million requests, SNS's million publishes) are **not** subtracted; EventBridge
  scheduled rules on the default bus cost nothing; the engine's log lines (a few hundred bytes
  an invocation) are left out.

Prices: the default price book (us-east-1); docs/aws-rules.md, "The deployed engine: what it
costs".
"""

from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from capcon.core.config.prices import load_price_book  # noqa: E402
from capcon.core.errors import StateConflict  # noqa: E402
from capcon.core.ports import VersionedState  # noqa: E402
from capcon.core.pricing import HOURS_PER_MONTH, EngineUsage, PriceBook, engine_cost  # noqa: E402

#: The issue's target for the engine's own AWS cost.
TARGET_PER_TABLE_MONTH = 0.50
#: The process the engine replaces reads 4 metrics of each table every minute (consumed and
#: throttled, reads and writes).
POLLER_METRICS_PER_MINUTE = 4
#: Lambda's default memory when a template gives none.
DEFAULT_MEMORY_MB = 128
MINUTES_PER_MONTH = HOURS_PER_MONTH * 60
_RATE = re.compile(r"rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)\Z")
_UNIT_MINUTES = {"minute": 1, "hour": 60, "day": 1440}
#: DynamoDB's request-unit sizes: a strongly consistent read per 4 KB, a write per 1 KB.
READ_UNIT_BYTES = 4096
WRITE_UNIT_BYTES = 1024


# --------------------------------------------------------------------------------------------
# The arithmetic (checked by hand in tests/unit/test_engine_cost.py)
# --------------------------------------------------------------------------------------------


def rate_minutes(expression: str) -> int:
    """Minutes between runs of an EventBridge ``rate(…)`` expression; ``ValueError`` for a
    ``cron(…)`` or anything else (the template writes rates)."""
    found = _RATE.fullmatch(expression.strip())
    if found is None:
        raise ValueError(f"schedule {expression!r}: only rate(N minutes|hours|days) is read")
    return int(found[1]) * _UNIT_MINUTES[found[2].rstrip("s")]


@dataclass(frozen=True, slots=True)
class TemplateFacts:
    """What a stack's template says of its running costs."""

    alarms: int
    alarm_metrics: int  # metrics its alarms read (a metric-math alarm: each MetricStat)
    ticks_per_month: float
    stream_checks_per_month: float
    memory_gb: float
    arm64: bool


def _alarm_metrics(properties: Mapping[str, Any]) -> int:
    queries = properties.get("Metrics")
    if queries is None:
        return 1
    return sum(1 for q in queries if isinstance(q, Mapping) and "MetricStat" in q)


def template_facts(template: Mapping[str, Any]) -> TemplateFacts:
    """The alarms, schedules and Lambda memory of a capcon stack's template (logical ids
    ``TickRule``, ``StreamCheckRule``; the one ``AWS::Lambda::Function``)."""
    resources: Mapping[str, Any] = template.get("Resources", {})
    alarms = [r for r in resources.values() if r.get("Type") == "AWS::CloudWatch::Alarm"]
    functions = [r for r in resources.values() if r.get("Type") == "AWS::Lambda::Function"]
    if len(functions) != 1:
        raise ValueError(f"expected one Lambda function in the template, found {len(functions)}")
    function = functions[0].get("Properties", {})

    def per_month(logical_id: str) -> float:
        rule = resources.get(logical_id)
        if rule is None:
            return 0.0
        return MINUTES_PER_MONTH / rate_minutes(rule["Properties"]["ScheduleExpression"])

    return TemplateFacts(
        alarms=len(alarms),
        alarm_metrics=sum(_alarm_metrics(a.get("Properties", {})) for a in alarms),
        ticks_per_month=per_month("TickRule"),
        stream_checks_per_month=per_month("StreamCheckRule"),
        memory_gb=int(function.get("MemorySize", DEFAULT_MEMORY_MB)) / 1024,
        arm64=function.get("Architectures", ["x86_64"]) == ["arm64"],
    )


@dataclass(frozen=True, slots=True)
class Invocation:
    """What one invocation of the handler uses: metrics requested, CloudWatch alarm requests,
    state-table request units, and its billed seconds."""

    metrics: float
    cloudwatch_requests: float
    read_units: float
    write_units: float
    seconds: float


def monthly_usage(
    facts: TemplateFacts,
    *,
    tick: Invocation,
    wakeup: Invocation,
    wakeups_per_month: float,
    stream_check: Invocation | None,
) -> EngineUsage:
    """A month of a stack: its ticks, ``wakeups_per_month`` alarm wake-ups (each an SNS
    notification) and, with streams, its stream checks."""
    runs: list[tuple[float, Invocation]] = [
        (facts.ticks_per_month, tick),
        (wakeups_per_month, wakeup),
    ]
    if stream_check is not None:
        runs.append((facts.stream_checks_per_month, stream_check))
    return EngineUsage(
        alarm_metrics=facts.alarm_metrics,
        invocations=sum(n for n, _ in runs),
        gb_seconds=sum(n * i.seconds for n, i in runs) * facts.memory_gb,
        metrics_requested=sum(n * i.metrics for n, i in runs),
        cloudwatch_requests=sum(n * i.cloudwatch_requests for n, i in runs),
        read_units=sum(n * i.read_units for n, i in runs),
        write_units=sum(n * i.write_units for n, i in runs),
        notifications=wakeups_per_month,
        arm64=facts.arm64,
    )


def poller_month(metrics_per_minute: int, book: PriceBook) -> float:
    """A month of a process reading ``metrics_per_minute`` metrics of a table every minute."""
    return metrics_per_minute * MINUTES_PER_MONTH * book.get_metric_data_per_1000_metrics / 1000


#: Lambda gives a function one vCPU at 1,769 MB, and CPU in proportion to memory below it
#: (Lambda developer guide, "Configure Lambda function memory").
ONE_VCPU_MB = 1769


def billed_seconds(
    *, cpu_s: float, import_s: float, calls: float, call_ms: float, memory_gb: float
) -> float:
    """An invocation's billed duration: a cold start's imports and the handler's CPU time
    (measured here on a full core), stretched by the share of a vCPU ``memory_gb`` gets, plus
    ``calls`` AWS calls of ``call_ms`` each (waiting, not computing)."""
    stretch = max(1.0, ONE_VCPU_MB / (memory_gb * 1024))
    return (import_s + cpu_s) * stretch + calls * call_ms / 1000


# --------------------------------------------------------------------------------------------
# Counting what an invocation does, at the ports
# --------------------------------------------------------------------------------------------


@dataclass
class Counts:
    metrics: float = 0
    metric_calls: float = 0
    cloudwatch_requests: float = 0
    read_units: float = 0.0
    write_units: float = 0.0
    operations: dict[str, float] = field(default_factory=dict)

    def add(self, operation: str) -> None:
        self.operations[operation] = self.operations.get(operation, 0) + 1


def item_bytes(key: str, data: object) -> int:
    """An item's size as DynamoDB counts it, approximately: attribute names and values (the
    state as its JSON text, its key, version and expiry)."""
    text = json.dumps(data, separators=(",", ":"), sort_keys=True)
    return len("pk") + len("state") + len("sk") + len(key) + len("data") + len(text) + 40


class CountingBackend:
    """A backend whose ``GetMetricData`` (the Metrics port) is counted in metrics, and whose
    other AWS calls (describe, update …) are counted by name; the rest passes through."""

    NOT_CALLS = frozenset({"now"})

    def __init__(self, inner: Any, counts: Counts) -> None:
        self._inner = inner
        self.counts = counts

    def get_metric_data(self, queries: Sequence[Any], start: Any, end: Any, **kw: Any) -> Any:
        self.counts.metrics += len(queries)
        self.counts.metric_calls += 1
        self.counts.add("GetMetricData")
        return self._inner.get_metric_data(queries, start, end, **kw)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if name in self.NOT_CALLS or name.startswith("_") or not callable(attribute):
            return attribute

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.counts.add(name)
            return attribute(*args, **kwargs)

        return counted


class CountingState:
    """The StateStore port in memory (version-conditional, as the DynamoDB one), each load a
    strongly consistent ``GetItem`` and each save a conditional ``PutItem``, counted in
    request units."""

    def __init__(self, counts: Counts) -> None:
        self.items: dict[str, VersionedState] = {}
        self.counts = counts

    def load(self, key: str) -> VersionedState | None:
        got = self.items.get(key)
        size = item_bytes(key, got.data if got is not None else {})
        self.counts.read_units += math.ceil(size / READ_UNIT_BYTES)
        self.counts.add("GetItem")
        return got

    def save(self, key: str, data: dict[str, object], expected_version: int | None) -> int:
        self.counts.write_units += math.ceil(item_bytes(key, data) / WRITE_UNIT_BYTES)
        self.counts.add("PutItem")
        held = self.items.get(key)
        if (held.version if held is not None else None) != expected_version:
            raise StateConflict(f"{key}: stored version moved on")
        version = 1 if held is None else held.version + 1
        self.items[key] = VersionedState(version, json.loads(json.dumps(data)))
        return version


class CountingAudit:
    """The AuditStore port in memory, each record a ``PutItem`` counted in write units."""

    def __init__(self, counts: Counts) -> None:
        self.records: list[dict[str, object]] = []
        self.counts = counts

    def append(self, record: dict[str, object]) -> None:
        self.counts.write_units += math.ceil(item_bytes("audit", record) / WRITE_UNIT_BYTES)
        self.counts.add("PutItem(audit)")
        self.records.append(record)

    def read(self, limit: int | None = None) -> list[dict[str, object]]:
        self.counts.read_units += max(1, math.ceil(len(json.dumps(self.records)) / 4096))
        self.counts.add("Query(audit)")
        return self.records[-limit:] if limit else list(self.records)


class CountingAlarms:
    """The Alarms port, each call one CloudWatch request."""

    def __init__(self, inner: Any, counts: Counts) -> None:
        self._inner = inner
        self.counts = counts

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if name.startswith("_") or not callable(attribute):
            return attribute

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.counts.cloudwatch_requests += 1
            self.counts.add(name)
            return attribute(*args, **kwargs)

        return counted


# --------------------------------------------------------------------------------------------
# The code package
# --------------------------------------------------------------------------------------------


def measure_package(runs: int) -> dict[str, Any]:
    """The package's size (zip bytes, files) and the import time of the handler's closure in a
    venv with only boto3 (median of ``runs`` fresh processes, no byte-code cache: Lambda's
    ``/var/task`` is read-only)."""
    import io
    import zipfile

    from capcon.core.deploy.package import HANDLER_MODULE, build_package, core_root
    from tests.support import lambda_venv

    roots: tuple[str, ...] = (HANDLER_MODULE,)
    if not (core_root() / "deploy" / "handler.py").is_file():
        roots = ("capcon.core.services.engine", "capcon.core.backends.aws.adapter",
                 "capcon.core.deploy.alarms", "capcon.core.config.prices")  # fmt: skip
    package = build_package(roots)
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        infos = archive.infolist()
    code = (
        "import time; t0 = time.perf_counter(); import boto3; t1 = time.perf_counter()\n"
        f"import importlib; [importlib.import_module(m) for m in {roots!r}]\n"
        "t2 = time.perf_counter(); print(t1 - t0, t2 - t1)"
    )
    boto3_s: list[float] = []
    closure_s: list[float] = []
    with tempfile.TemporaryDirectory(prefix="capcon-bench-lambda-") as where:
        python = lambda_venv.make_runtime(Path(where))
        task = lambda_venv.extract(package, Path(where))
        for _ in range(runs):
            started = time.perf_counter()
            done = lambda_venv.run(python, task, code)
            wall = time.perf_counter() - started
            if done.returncode != 0:
                raise RuntimeError(f"the package did not import: {done.stderr[-2000:]}")
            first, second = (float(x) for x in done.stdout.split())
            boto3_s.append(first)
            closure_s.append(second)
            del wall
    return {
        "roots": list(roots),
        "zip_bytes": len(package),
        "files": len(infos),
        "source_bytes": sum(i.file_size for i in infos),
        "import_boto3_s": statistics.median(boto3_s),
        "import_capcon_s": statistics.median(closure_s),
        "import_capcon_s_all": closure_s,
        "runs": runs,
    }


# --------------------------------------------------------------------------------------------
# The handler loop on the simulated account
# --------------------------------------------------------------------------------------------

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
#: The stack's target utilisation (%), for every policy.
TARGET = 70.0


@dataclass(frozen=True, slots=True)
class Measured:
    """One invocation as counted at the ports, with what it did."""

    counts: Counts
    cpu_s: float
    decisions: list[str]


TOPIC = "arn:aws:sns:us-east-1:123456789012:bench-alarms"


def simulate_day(policy: str, tables: int, streams: int, hours: int) -> dict[str, Any]:
    """``hours`` of the handler loop on the simulated account, Lambda's way: the stack's
    alarms put as the template writes them, the account evaluating them each minute and
    delivering SNS events, each one handed to ``run_event`` (a wake-up), a tick every
    ``tick_minutes``, every AWS call counted at the ports.  Traffic: ``fleet`` (seeded daily
    sines and random walks at varied headroom).  Ends with one stream check when there are
    streams."""
    from capcon.core.backends.sim.scenarios import fleet
    from capcon.core.deploy.alarms import alarms_for, capacity_of
    from capcon.core.deploy.handler import run_event
    from capcon.core.deploy.spec import DeploySpec, EngineSettings
    from capcon.core.deploy.template import build_template, managed_dimensions

    account = fleet(NOW, tables, streams, seed=1, history=timedelta(hours=1))
    described = [account.describe_table(n) for n in account.list_tables()]
    streamed = [account.describe_stream(n) for n in account.list_streams()]
    managed, _ = managed_dimensions(described, streamed)
    spec = DeploySpec(stack="bench", policy=policy, target=TARGET, managed=managed)
    facts = template_facts(build_template(spec, tables=described, streams=streamed))
    settings = EngineSettings(spec, dry_run=False, state_table="bench-state", topic_arn=TOPIC)
    for scalable in managed:
        capacity = capacity_of(scalable, described, streamed) or 1
        for alarm in alarms_for(spec, scalable, capacity, actions=(TOPIC,)):
            account.alarms.put_metric_alarm(alarm)
    runs: dict[str, list[Measured]] = {"tick": [], "wakeup": [], "stream-check": []}
    first = Counts()
    backend = CountingBackend(account, first)
    state = CountingState(first)
    audit = CountingAudit(first)
    alarms = CountingAlarms(account.alarms, first)
    errors: list[str] = []

    def invoke(kind: str, event: object) -> None:
        counts = Counts()
        backend.counts = state.counts = audit.counts = alarms.counts = counts
        started = time.process_time()
        result = run_event(event, settings, backend, state=state, audit=audit, alarms=alarms)
        cpu = time.process_time() - started
        errors.extend(result.errors)
        lines = [f"{d.get('scalable')} {d.get('action')} {d.get('outcome')}" for d in result.lines]
        runs[kind].append(Measured(counts, cpu, lines))

    for minute in range(hours * 60):
        account.advance(60)
        for event in account.alarms.take_notifications():
            invoke("wakeup", event)
        if minute % spec.tick_minutes == 0:
            invoke("tick", {"capcon": "tick"})
    if spec.streams:
        invoke("stream-check", {"capcon": "stream-check"})
    return {
        "policy": policy,
        "managed_tables": len(spec.tables),
        "managed_streams": len(spec.streams),
        "dimensions": len(managed),
        "template": asdict(facts),
        "hours": hours,
        "invocations_run": {kind: len(found) for kind, found in runs.items()},
        "errors": errors[:10],
        **{kind: mean_of(found) for kind, found in runs.items() if found},
    }


def mean_of(found: Sequence[Measured]) -> Measured:
    """The average invocation of ``found`` (counts and CPU per invocation), with the first
    few changes it made."""
    n = len(found)
    mean = Counts()
    for m in found:
        mean.metrics += m.counts.metrics / n
        mean.metric_calls += m.counts.metric_calls / n
        mean.cloudwatch_requests += m.counts.cloudwatch_requests / n
        mean.read_units += m.counts.read_units / n
        mean.write_units += m.counts.write_units / n
        for name, k in m.counts.operations.items():
            mean.operations[name] = mean.operations.get(name, 0) + k / n
    acted = [line for m in found for line in m.decisions if line.endswith(("accepted", "applied"))]
    return Measured(mean, sum(m.cpu_s for m in found) / n, acted[:5])


def invocation(
    measured: Measured, facts: TemplateFacts, import_s: float, call_ms: float
) -> Invocation:
    c = measured.counts
    return Invocation(
        metrics=c.metrics,
        cloudwatch_requests=c.cloudwatch_requests,
        read_units=c.read_units,
        write_units=c.write_units,
        seconds=billed_seconds(
            cpu_s=measured.cpu_s,
            import_s=import_s,
            calls=sum(c.operations.values()),
            call_ms=call_ms,
            memory_gb=facts.memory_gb,
        ),
    )


def report(
    measured: Mapping[str, Any], facts: TemplateFacts, per: Mapping[str, Invocation],
    wakeups_per_day: float, book: PriceBook,
) -> dict[str, Any]:  # fmt: skip
    """The stack's cost per managed resource-month (tables; streams for a streams-only
    stack) at ``wakeups_per_day`` alarm wake-ups per resource, its parts, what dominates, and
    whether it meets the target."""
    resources = measured["managed_tables"] or measured["managed_streams"]
    usage = monthly_usage(
        facts,
        tick=per["tick"],
        wakeup=per["wakeup"],
        wakeups_per_month=wakeups_per_day * resources * HOURS_PER_MONTH / 24,
        stream_check=per.get("stream-check"),
    )
    cost = engine_cost(usage, book)
    parts = {label: amount * HOURS_PER_MONTH / resources for label, amount in cost.breakdown}
    per_resource = cost.per_month / resources
    return {
        "wakeups_per_day": wakeups_per_day,
        "per_resource_month": per_resource,
        "parts_per_resource_month": parts,
        "dominant": max(parts, key=lambda k: parts[k]) if parts else None,
        "meets_target": per_resource <= TARGET_PER_TABLE_MONTH,
        "usage_per_month": asdict(usage),
    }


def wakeups_to_target(
    measured: Mapping[str, Any], facts: TemplateFacts, per: Mapping[str, Invocation],
    book: PriceBook,
) -> float | None:  # fmt: skip
    """Alarm wake-ups per resource per day at which the stack reaches the target (``None``:
    over it even with none; ``inf``: never reached)."""
    base = report(measured, facts, per, 0.0, book)["per_resource_month"]
    if base > TARGET_PER_TABLE_MONTH:
        return None
    one = report(measured, facts, per, 1.0, book)["per_resource_month"] - base
    return math.inf if one <= 0 else (TARGET_PER_TABLE_MONTH - base) / one


POLICIES = ("h1", "h2", "capcon")
WAKEUP_RATES = (0.0, 24.0, 96.0, 288.0)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tables", type=int, default=10, help="managed tables (default 10)")
    parser.add_argument("--streams", type=int, default=2, help="managed streams (default 2)")
    parser.add_argument("--runs", type=int, default=5, help="import-time runs (default 5)")
    parser.add_argument("--wakeups-per-day", type=float, default=24.0,
                        help="alarm wake-ups per resource per day (assumed; 24)")  # fmt: skip
    parser.add_argument("--call-ms", type=float, default=25.0,
                        help="assumed latency of an AWS call from Lambda (ms; 25)")  # fmt: skip
    parser.add_argument("--hours", type=int, default=24,
                        help="simulated hours of the handler loop (default 24)")  # fmt: skip
    args = parser.parse_args(argv)
    if min(args.tables, args.streams, args.runs, args.hours) < 1:
        parser.error("--tables, --streams, --runs and --hours must be at least 1")
    book = load_price_book("us-east-1")
    package = measure_package(args.runs)
    import_s = package["import_boto3_s"] + package["import_capcon_s"]
    print(
        f"package: {package['zip_bytes'] / 1024:.1f} KB zipped, {package['files']} files "
        f"({package['source_bytes'] / 1024:.0f} KB of source); import in a boto3-only venv "
        f"(median of {package['runs']}, no byte-code): boto3 {package['import_boto3_s']:.3f} s, "
        f"capcon {package['import_capcon_s']:.3f} s"
    )
    poller = poller_month(POLLER_METRICS_PER_MINUTE, book)
    print(
        f"a process polling each table every minute ({POLLER_METRICS_PER_MINUTE} metrics): "
        f"${poller:.3f} per table-month; target for the engine: "
        f"${TARGET_PER_TABLE_MONTH:.2f}"
    )
    stacks = [(p, args.tables, 0) for p in POLICIES] + [("capcon", 0, args.streams)]
    results: list[dict[str, Any]] = []
    print(
        f"invocations: the handler's run_event on the simulated account, {args.hours} h of "
        "its alarms and ticks"
    )
    for policy, tables, streams in stacks:
        measured = simulate_day(policy, tables, streams, args.hours)
        facts = TemplateFacts(**measured["template"])
        per: dict[str, Invocation] = {
            what: invocation(measured[what], facts, import_s, args.call_ms)
            for what in ("tick", "wakeup", "stream-check")
            if what in measured
        }
        count = measured["managed_streams"] if streams else measured["managed_tables"]
        name = f"kinesis ({count} streams)" if streams else f"{policy} ({count} tables)"
        unit = "stream" if streams else "table"
        chosen = report(measured, facts, per, args.wakeups_per_day, book)
        to_target = wakeups_to_target(measured, facts, per, book)
        print(f"\n{name}: {facts.alarms} alarms reading {facts.alarm_metrics} metrics, "
              f"tick every {MINUTES_PER_MONTH / facts.ticks_per_month:g} min, "
              f"{facts.memory_gb * 1024:g} MB {'arm64' if facts.arm64 else 'x86_64'}")  # fmt: skip
        for what, inv in per.items():
            c = measured[what].counts
            print(f"  one {what}: {c.metrics:.3g} metrics in {c.metric_calls:.3g} GetMetricData "
                  f"call(s), {c.cloudwatch_requests:.3g} alarm requests, {c.read_units:.3g} RRU, "
                  f"{c.write_units:.3g} WRU, ≈{inv.seconds:.2f} s billed "
                  f"(CPU here {measured[what].cpu_s * 1000:.0f} ms)")  # fmt: skip
        rates = {*WAKEUP_RATES, args.wakeups_per_day}
        seen: float | None = None
        if "invocations_run" in measured:
            resources = measured["managed_tables"] or measured["managed_streams"]
            woken = measured["invocations_run"]["wakeup"]
            seen = woken / resources / (measured["hours"] / 24)
            rates.add(seen)
            print(f"  measured: {woken} wake-ups in {measured['hours']} h = {seen:.1f} per "
                  f"{unit} per day; errors: {measured['errors'] or 'none'}")  # fmt: skip
        for rate in sorted(rates):
            r = report(measured, facts, per, rate, book)
            parts = ", ".join(
                f"{k} {v:.4f}" for k, v in sorted(r["parts_per_resource_month"].items(),
                                                 key=lambda kv: -kv[1])
            )  # fmt: skip
            verdict = "meets" if r["meets_target"] else "MISSES"
            if rate == seen:
                verdict = "measured; " + verdict
            print(f"  {rate:>5g} wake-ups/{unit}/day: ${r['per_resource_month']:.3f} per "
                  f"{unit}-month ({verdict} ${TARGET_PER_TABLE_MONTH:.2f}; "
                  f"dominant: {r['dominant']}) — {parts}")  # fmt: skip
        if to_target is None:
            print("  over the target even with no wake-up")
        else:
            print(f"  within the target up to {to_target:.0f} wake-ups/{unit}/day")
        results.append({
            "stack": name,
            "measured": {
                k: (asdict(v.counts) | {"cpu_s": v.cpu_s, "decisions": v.decisions})
                if isinstance(v, Measured) else v
                for k, v in measured.items()
            },
            "invocations": {k: asdict(v) for k, v in per.items()},
            "chosen": chosen,
            "wakeups_to_target": to_target,
        })  # fmt: skip
    path = write_result(
        {"package": package, "poller_per_table_month": poller, "stacks": results,
         "assumptions": {"wakeups_per_day": args.wakeups_per_day, "call_ms": args.call_ms}}
    )  # fmt: skip
    print(f"\nwritten: {path}")
    return 0


def write_result(data: object) -> Path:
    results = BENCH / "results"
    results.mkdir(exist_ok=True)
    path = results / "deploy_cost.json"
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    return path


if __name__ == "__main__":
    raise SystemExit(main())
