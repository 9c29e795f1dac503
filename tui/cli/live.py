"""Commands on a live backend (AWS or the simulated account): ls, show, plan, scale, audit.

Every command reads through the ports, so ``capcon --sim ls`` and ``capcon --profile prod ls``
run the same code.  Errors from the backend become one clear line and exit code 3; nothing
here ever prints a traceback for an AWS error.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from capcon.core.backends.sim.account import SimAccount
from capcon.core.errors import CapconError
from capcon.core.jsonable import to_jsonable
from capcon.core.model import Stream, Table
from capcon.core.planning.partitions import estimate_partitions
from capcon.core.planning.planner import PlanContext, Refusal, ScalePlan, StreamTraffic, Usage, plan
from capcon.core.ports import Backend, MetricQuery, SimulationControls, resource_id
from capcon.core.rules import AccountCapacity, AccountShards, decrease_budget, fmt_time
from capcon.core.services.audit import AuditLog, Origin
from capcon.core.services.overview import (
    AutoScalingState,
    Row,
    auto_scaled_parts,
    auto_scaling_by_resource,
    collect_rows,
    orphaned,
    stream_queries,
    table_queries,
    with_traps,
)
from capcon.core.services.scaler import Progress, Scaler

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_BACKEND = 0, 1, 2, 3


class UsageError(Exception):
    """Bad input from the user: ``capcon: error: ...`` and exit code 2."""


@dataclass
class Session:
    """An open backend with what the commands need around it."""

    backend: Backend
    origin: Origin
    wait: Callable[[float], None]
    region: str
    audit: AuditLog
    controls: SimulationControls | None = None
    """The simulated account's clock and exact knowledge; ``None`` on AWS."""


def open_session(args: argparse.Namespace) -> Session:
    """The simulated account (``--sim``) or AWS through the standard boto3 chain."""
    audit = AuditLog()
    if getattr(args, "sim", None):
        from capcon.core.backends.sim.scenarios import ScenarioError, build_scenario

        now = datetime.now(UTC).replace(second=0, microsecond=0)
        try:
            account = build_scenario(args.sim, now)
        except ScenarioError as error:
            raise UsageError(str(error)) from None
        origin = Origin("simulated", f"sim:{args.sim}", region=account.region)

        def advance(seconds: float) -> None:
            account.advance(max(1, round(seconds)))

        return Session(account, origin, advance, account.region, audit, account.controls)
    from capcon.core.backends.aws.adapter import AwsAdapter
    from capcon.core.backends.aws.session import AwsSession

    session = AwsSession(profile=args.profile, region=args.region, endpoint_url=args.endpoint_url)
    adapter = AwsAdapter(session)
    origin = Origin(
        session.identity(),
        adapter.label,
        profile=args.profile,
        region=session.region,
        endpoint=args.endpoint_url,
    )
    return Session(adapter, origin, time.sleep, session.region, audit)


# --------------------------------------------------------------------------------------------
# ls
# --------------------------------------------------------------------------------------------

SORT_KEYS: dict[str, Callable[[Row], Any]] = {
    "name": lambda r: r.name,
    "cost": lambda r: -(r.cost_per_hour or 0.0),
    "util": lambda r: -(r.utilisation or 0.0),
    "throttles": lambda r: -r.throttled_per_second,
}


def _capacity_text(row: Row) -> str:
    if row.kind == "stream":
        return f"{row.shards} shards"
    if row.capacity is None:
        return "on-demand"
    return f"{row.capacity.read:,} / {row.capacity.write:,}"


def _use_text(row: Row) -> str:
    if row.kind == "stream" and row.stream_traffic is not None:
        t = row.stream_traffic
        return f"{t.bytes_in_per_second / 1e6:.2f} MB/s, {t.records_in_per_second:,.0f} rec/s"
    if row.usage is None:
        return ""
    return f"{row.usage.read:,.0f} / {row.usage.write:,.0f}"


def cmd_ls(args: argparse.Namespace, session: Session, books: Any) -> int:
    backend = session.backend
    tables = backend.describe_tables(backend.list_tables())
    aas = auto_scaling_by_resource(backend)
    rows = collect_rows(
        backend,
        books.rules,
        books.prices,
        tables=tables,
        streams=backend.describe_streams(backend.list_streams()),
        auto_scaling=aas,
    )
    if args.filter:
        rows = [r for r in rows if args.filter.lower() in r.name.lower()]
    rows.sort(key=SORT_KEYS[args.sort])
    if args.json:
        print(json.dumps([_row_json(r) for r in rows], indent=2, ensure_ascii=False))
        return EXIT_OK
    from rich.console import Console
    from rich.table import Table as RichTable

    grid = RichTable(
        title=f"{session.origin.backend} · {session.backend.now():%Y-%m-%d %H:%M} UTC",
        title_justify="left",
    )
    for header, justify in (
        ("name", "left"),
        ("kind", "left"),
        ("mode", "left"),
        ("status", "left"),
        ("capacity R/W", "right"),
        ("consumed R/W /s", "right"),
        ("util", "right"),
        ("throttled /s", "right"),
        ("partitions (est.)", "right"),
        ("$/h", "right"),
        ("AAS", "left"),
    ):
        grid.add_column(header, justify=justify)  # type: ignore[arg-type]
    for row in rows:
        style = "bold red" if row.throttling else ""
        grid.add_row(
            row.name,
            row.kind,
            row.mode,
            row.status if row.status == "ACTIVE" else f"[yellow]{row.status}[/]",
            _capacity_text(row),
            _use_text(row),
            "" if row.utilisation is None else f"{row.utilisation:.0%}",
            f"{row.throttled_per_second:,.1f}" if row.throttling else "0",
            f"~{row.partitions.count}" if row.partitions else "",
            f"{row.cost_per_hour:.3f}" if row.cost_per_hour is not None else "",
            row.auto_scaling.marker,
            style=style,
        )
    console = Console()
    if not console.is_terminal:
        console.width = max(console.width, 150)
    console.print(grid)
    total = sum(r.cost_per_hour or 0.0 for r in rows)
    throttling = [r.name for r in rows if r.throttling]
    console.print(
        f"{len(rows)} resources · ${total:,.2f}/h · "
        + (f"[bold red]throttling: {', '.join(throttling)}[/]" if throttling else "no throttling")
    )
    traps = [f"{r.name}: {trap}" for r in rows for trap in r.auto_scaling.traps]
    traps += [
        f"{rid}: auto scaling is left on a table or index that no longer exists: deregister it"
        for rid in orphaned(aas, tables)
    ]
    for trap in traps:
        console.print(f"[yellow]⚠ {trap}[/]")
    console.print(
        "[dim]consumed and throttles: mean of the last 5 published minutes; partitions are "
        "estimates[/]"
    )
    return EXIT_OK


def _row_json(row: Row) -> dict[str, Any]:
    data: dict[str, Any] = to_jsonable(row)
    data["auto_scaling"]["traps"] = list(row.auto_scaling.traps)
    data["throttling"] = row.throttling
    return data


# --------------------------------------------------------------------------------------------
# show
# --------------------------------------------------------------------------------------------


def _split_name(name: str) -> tuple[str, str | None]:
    if "/" in name:
        table, index = name.split("/", 1)
        return table, index
    return name, None


def find_resource(backend: Backend, name: str) -> tuple[Table | Stream, str | None]:
    """The table (with the GSI named after a ``/``) or stream called ``name``."""
    table_name, index = _split_name(name)
    if table_name in backend.list_tables():
        table = backend.describe_table(table_name)
        if index is not None:
            try:
                table.index(index)
            except KeyError as error:
                raise UsageError(str(error.args[0])) from None
        return table, index
    if index is None and name in backend.list_streams():
        return backend.describe_stream(name), None
    tables = ", ".join(backend.list_tables()[:20])
    streams = ", ".join(backend.list_streams()[:20])
    raise UsageError(
        f"no table or stream called {name!r} (tables: {tables or 'none'}; streams: "
        f"{streams or 'none'}; a GSI is TABLE/INDEX)"
    )


def _series_stats(backend: Backend, queries: list[MetricQuery], hours: int) -> dict[str, Any]:
    now = backend.now()
    out: dict[str, Any] = {}
    for series in backend.get_metric_data(queries, now - timedelta(hours=hours), now):
        per_second = [v / 60 for v in series.values]
        out[series.id] = {
            "mean_per_second": sum(per_second) / len(per_second) if per_second else None,
            "max_per_second": max(per_second) if per_second else None,
            "datapoints": len(per_second),
            "newest": series.timestamps[-1].isoformat() if series.timestamps else None,
        }
    return out


def show_document(session: Session, name: str, books: Any) -> dict[str, Any]:
    backend = session.backend
    resource, index = find_resource(backend, name)
    now = backend.now()
    doc: dict[str, Any] = {"name": name, "at": now.isoformat(), "backend": session.origin.backend}
    if isinstance(resource, Table):
        aas = auto_scaling_by_resource(backend)
        doc["kind"] = "table" if index is None else "index"
        doc["resource"] = to_jsonable(resource)
        parts: list[dict[str, Any]] = []
        for part in (None, *(i.name for i in resource.indexes)):
            if index is not None and part != index:
                continue
            if part is None:
                capacity, size, warm, history = (
                    resource.provisioned, resource.size_bytes, resource.warm, resource.history,
                )  # fmt: skip
            else:
                ix = resource.index(part)
                capacity, size, warm, history = ix.provisioned, ix.size_bytes, ix.warm, ix.history
            budget = decrease_budget(history, now, books.rules)
            state = with_traps(resource, part, aas.get(resource_id(resource.name, part)))
            parts.append(
                {
                    "part": part or "table",
                    "capacity": to_jsonable(capacity),
                    "partitions_estimate": to_jsonable(
                        estimate_partitions(capacity, size, books.rules, warm=warm)
                    ),
                    "decrease_budget": to_jsonable(budget),
                    "next_decrease": fmt_time(budget.next_allowed_at, now),
                    "auto_scaling": {
                        "targets": to_jsonable(state.targets),
                        "policies": to_jsonable(state.policies),
                        "traps": list(state.traps),
                        "activities": to_jsonable(
                            backend.describe_scaling_activities(resource_id(resource.name, part))[
                                :10
                            ]
                        ),
                    },
                    "metrics_last_hour": _series_stats(
                        backend, table_queries(resource.name, part, "m"), 1
                    ),
                }
            )
        doc["parts"] = parts
    else:
        doc["kind"] = "stream"
        doc["resource"] = to_jsonable(resource)
        doc["metrics_last_hour"] = _series_stats(backend, stream_queries(resource.name, "m"), 1)
        loads = shard_loads(backend, resource, books)
        doc["open_shards"] = [
            {
                "shard_id": s.shard_id,
                "key_space_share": s.hash_range.share,
                "write_utilisation": loads.get(s.shard_id),
            }
            for s in resource.open_shards
        ]
    return doc


def shard_loads(backend: Backend, stream: Stream, books: Any) -> dict[str, float]:
    """Each open shard's write utilisation over the last 5 published minutes (shard metrics)."""
    now = backend.now()
    queries: list[MetricQuery] = []
    for i, shard in enumerate(stream.open_shards):
        dims = (("ShardId", shard.shard_id), ("StreamName", stream.name))
        queries.append(MetricQuery(f"b{i}", "AWS/Kinesis", "IncomingBytes", dims))
        queries.append(MetricQuery(f"r{i}", "AWS/Kinesis", "IncomingRecords", dims))
        queries.append(
            MetricQuery(f"t{i}", "AWS/Kinesis", "WriteProvisionedThroughputExceeded", dims)
        )
    if not queries:
        return {}
    got = {s.id: s for s in backend.get_metric_data(queries, now - timedelta(minutes=15), now)}
    loads: dict[str, float] = {}
    for i, shard in enumerate(stream.open_shards):
        b, r, t = got.get(f"b{i}"), got.get(f"r{i}"), got.get(f"t{i}")
        if not b or not b.values or not r:
            continue
        bytes_s = sum(b.values[-5:]) / (60 * len(b.values[-5:]))
        recs = r.values[-5:]
        rejected = t.values[-5:] if t else ()
        recs_s = (sum(recs) + sum(rejected)) / (60 * max(1, len(recs)))
        loads[shard.shard_id] = max(
            bytes_s / books.rules.shard_write_bytes_per_second,
            recs_s / books.rules.shard_write_records_per_second,
        )
    return loads


def cmd_show(args: argparse.Namespace, session: Session, books: Any) -> int:
    doc = show_document(session, args.name, books)
    if args.json:
        print(json.dumps(doc, indent=2, ensure_ascii=False))
        return EXIT_OK
    from rich.console import Console
    from rich.pretty import Pretty

    console = Console()
    console.print(f"[b]{doc['kind']} {args.name}[/b] · {doc['backend']} · {doc['at']}")
    if doc["kind"] == "stream":
        resource = doc["resource"]
        console.print(
            f"mode {resource['mode']} · status {resource['status']} · retention "
            f"{resource['retention_hours']} h · {len(doc['open_shards'])} open shards"
        )
        for shard in doc["open_shards"]:
            load = shard["write_utilisation"]
            hot = " [bold red]HOT[/]" if load is not None and load >= 0.8 else ""
            console.print(
                f"  {shard['shard_id']}  {shard['key_space_share']:6.1%} of keys  "
                + ("load ?" if load is None else f"load {load:5.0%}")
                + hot
            )
        console.print(Pretty(doc["metrics_last_hour"]))
        return EXIT_OK
    for part in doc["parts"]:
        est = part["partitions_estimate"]
        budget = part["decrease_budget"]
        console.print(
            f"\n[b]{part['part']}[/b]: capacity {part['capacity'] or 'on-demand'} · partitions "
            f"~{est['count']} (estimate, from {est['basis']}) · decreases left today "
            f"{budget['left_today']} · next decrease {part['next_decrease']}"
        )
        aas = part["auto_scaling"]
        if aas["targets"]:
            for target in aas["targets"]:
                console.print(
                    f"  AAS {target['dimension']}: min {target['min_capacity']} max "
                    f"{target['max_capacity']}" + (" (suspended)" if target["suspended"] else "")
                )
            for policy in aas["policies"]:
                console.print(
                    f"  policy {policy['name']}: {policy['policy_type']} target "
                    f"{policy['target_value']}%"
                )
            for trap in aas["traps"]:
                console.print(f"  [yellow]⚠ {trap}[/]")
            for activity in aas["activities"][:5]:
                console.print(
                    f"  {activity['start'][11:16]} {activity['status']}: "
                    f"{activity['description']} — {activity['cause']}"
                )
        console.print(Pretty(part["metrics_last_hour"]))
    return EXIT_OK


# --------------------------------------------------------------------------------------------
# plan / scale on live state
# --------------------------------------------------------------------------------------------


def live_context(session: Session, resource: Table | Stream, books: Any) -> PlanContext:
    """What the planner should know beyond describe: traffic, AAS, history, account usage."""
    backend = session.backend
    if isinstance(resource, Table):
        rows = collect_rows(backend, books.rules, books.prices, tables=[resource], streams=[])
        usage = {r.index: r.usage or Usage(0.0, 0.0) for r in rows}
        account = None
        if session.controls is not None:
            # The simulated account can total its capacity cheaply; against AWS it would take
            # a DescribeTable per table, so the account quota is left to AWS to enforce.
            used = session.controls.provisioned_in_use()
            account = AccountCapacity(used.read, used.write)
        return PlanContext(
            usage=usage,
            auto_scaled=auto_scaled_parts(auto_scaling_by_resource(backend), resource.name),
            account_capacity=account,
        )
    rows = collect_rows(backend, books.rules, books.prices, tables=[], streams=[resource])
    traffic = rows[0].stream_traffic or StreamTraffic()
    traffic = StreamTraffic(
        traffic.bytes_in_per_second,
        traffic.records_in_per_second,
        traffic.bytes_out_per_second,
        shard_loads(backend, resource, books),
    )
    limits = backend.account_limits()
    history: tuple[datetime, ...]
    complete = False
    if session.controls is not None:
        history = session.controls.reshard_history(resource.name)
        complete = True
    else:
        history = known_reshards(session.audit, resource.name, backend.now())
    return PlanContext(
        stream_traffic=traffic,
        account_shards=AccountShards(limits.open_shard_count, limits.shard_limit),
        reshard_history=history,
        reshard_history_complete=complete,
    )


def known_reshards(audit: AuditLog, stream: str, now: datetime) -> tuple[datetime, ...]:
    """UpdateShardCount calls capcon itself made on ``stream`` in the last 24 h (audit log)."""
    found: list[datetime] = []
    for record in audit.read():
        if (
            record.get("phase") == "outcome"
            and record.get("outcome") == "applied"
            and record.get("kind") == "stream"
            and record.get("resource") == stream
        ):
            try:
                at = datetime.fromisoformat(str(record.get("at")))
            except ValueError:
                continue
            if now - timedelta(hours=24) < at <= now:
                found.append(at)
    return tuple(found)


def live_plan(
    args: argparse.Namespace,
    session: Session,
    books: Any,
    change_from_args: Callable[[argparse.Namespace, Table | Stream], Any],
) -> tuple[Table | Stream, ScalePlan | Refusal]:
    resource, index = find_resource(session.backend, args.name)
    if index is not None:
        if args.index and args.index != index:
            raise UsageError(f"{args.name} names index {index}, but --index says {args.index}")
        args.index = index
    change = change_from_args(args, resource)
    context = live_context(session, resource, books)
    result = plan(
        resource,
        change,
        session.backend.now(),
        rules=books.rules,
        prices=books.prices,
        context=context,
    )
    return resource, result


def confirm(plan_: ScalePlan, args: argparse.Namespace, threshold: float) -> bool:
    """Ask before applying: a typed resource name for big changes, else y/N."""
    if args.yes:
        return True
    if not sys.stdin.isatty():
        raise UsageError("confirmation needed: run in a terminal, or add --yes")
    big = any(w.code == "big-increase" for w in plan_.warnings) or plan_.change_factor >= threshold
    if big:
        answer = input(f"Big change. Type the resource name ({plan_.resource}) to apply: ")
        return answer.strip() == plan_.resource
    return input("Apply this change? [y/N] ").strip().lower() in {"y", "yes"}


def run_scale(
    args: argparse.Namespace,
    session: Session,
    books: Any,
    change_from_args: Callable[[argparse.Namespace, Table | Stream], Any],
    emit: Callable[[ScalePlan | Refusal, bool], int],
) -> int:
    if args.read_only:
        raise UsageError("--read-only: scale is not available in a read-only session")
    if args.json and not args.yes:
        raise UsageError("--json needs --yes (there is no prompt in JSON mode)")
    resource, result = live_plan(args, session, books, change_from_args)
    if not args.json:
        emit(result, False)
    if isinstance(result, Refusal):
        if args.json:
            return emit(result, True)
        return EXIT_REFUSED
    if not confirm(result, args, args.confirm_factor):
        print("not applied: nothing was changed")
        return EXIT_REFUSED
    scaler = Scaler(
        session.backend,
        session.audit,
        session.origin,
        wait=session.wait,
        poll_seconds=5.0,
    )

    def report(progress: Progress) -> None:
        if not args.json:
            print(f"  [{progress.fraction:4.0%}] {progress.message}", flush=True)

    outcome = scaler.apply(result, progress=report, previous=resource)
    if args.json:
        print(
            json.dumps(
                {
                    "outcome": outcome.outcome,
                    "change_id": outcome.change_id,
                    "error": outcome.error,
                    "before": to_jsonable(outcome.before),
                    "after": to_jsonable(outcome.after),
                    "plan": to_jsonable(result),
                },
                indent=2,
                ensure_ascii=False,
            )
        )
    else:
        word = {"applied": "applied", "refused": "refused", "failed": "FAILED"}[outcome.outcome]
        print(
            f"{word}: {result.summary}"
            + (f" — {outcome.error}" if outcome.error else "")
            + f" (audit id {outcome.change_id}, log {session.audit.path})"
        )
    return EXIT_OK if outcome.outcome == "applied" else EXIT_REFUSED


# --------------------------------------------------------------------------------------------
# audit
# --------------------------------------------------------------------------------------------


def cmd_audit(args: argparse.Namespace) -> int:
    log = AuditLog()
    records = log.read(args.limit)
    if args.json:
        print(json.dumps(records, indent=2, ensure_ascii=False))
        return EXIT_OK
    from rich.console import Console
    from rich.table import Table as RichTable

    grid = RichTable(title=f"audit log · {log.path}", title_justify="left")
    for header in ("at", "id", "phase", "who", "backend", "resource", "change", "outcome"):
        grid.add_column(header)
    for record in records:
        origin = record.get("origin") or {}
        outcome = record.get("outcome") or ""
        if record.get("error"):
            outcome += f": {record['error']}"
        grid.add_row(
            str(record.get("at", ""))[:19],
            str(record.get("change_id", "")),
            str(record.get("phase", "")),
            str(origin.get("who", "")),
            str(origin.get("backend", "")),
            str(record.get("resource", "")),
            str(record.get("summary", "")),
            outcome,
        )
    console = Console()
    if not console.is_terminal:
        console.width = max(console.width, 150)
    console.print(grid)
    if not records:
        print("no changes recorded yet")
    return EXIT_OK


def backend_error_exit(error: CapconError) -> int:
    print(f"capcon: {type(error).__name__}: {error}", file=sys.stderr)
    return EXIT_BACKEND


# --------------------------------------------------------------------------------------------
# aas: edit Application Auto Scaling with the same preview / confirm / audit flow
# --------------------------------------------------------------------------------------------


def run_aas(
    args: argparse.Namespace,
    session: Session,
    books: Any,
    emit_refusal: Callable[[Refusal, bool], int],
) -> int:
    from capcon.core.planning.autoscaling import (
        AutoScalingChange,
        AutoScalingPlan,
        plan_autoscaling,
    )
    from capcon.tui.render import render_autoscaling_plan

    resource, index = find_resource(session.backend, args.name)
    if not isinstance(resource, Table):
        raise UsageError(f"{args.name} is a stream: auto scaling here is for tables and GSIs")
    dimension = "read" if args.reads else "write"
    aas = auto_scaling_by_resource(session.backend).get(
        resource_id(resource.name, index), AutoScalingState()
    )
    existing = next(
        (t for t in aas.targets if ("Read" in t.dimension) == (dimension == "read")), None
    )
    policy = next(
        (p for p in aas.policies if ("Read" in p.dimension) == (dimension == "read")), None
    )
    change = AutoScalingChange(
        resource.name,
        index,
        dimension,  # type: ignore[arg-type]
        min_capacity=args.min
        if args.min is not None
        else (existing.min_capacity if existing else 1),
        max_capacity=args.max
        if args.max is not None
        else (existing.max_capacity if existing else 1),
        target=args.target
        if args.target is not None
        else (policy.target_value if policy else 70.0),
        enabled=not args.off,
        scale_in=not args.no_scale_in,
    )
    if change.enabled and existing is None and (args.min is None or args.max is None):
        raise UsageError("setting up auto scaling needs --min and --max")
    rows = collect_rows(session.backend, books.rules, books.prices, tables=[resource], streams=[])
    usage = next((r.usage for r in rows if r.index == index), None)
    result = plan_autoscaling(
        resource,
        change,
        aas.targets,
        aas.policies,
        session.backend.now(),
        rules=books.rules,
        prices=books.prices,
        usage=usage,
    )
    if isinstance(result, Refusal):
        return emit_refusal(result, args.json)
    assert isinstance(result, AutoScalingPlan)
    if not args.apply:
        if args.json:
            print(json.dumps({"outcome": "plan", **to_jsonable(result)}, indent=2))
        else:
            from rich.console import Console

            Console().print(render_autoscaling_plan(result))
            print("preview only: add --apply to change auto scaling")
        return EXIT_OK
    if args.read_only:
        raise UsageError("--read-only: auto scaling cannot be changed in a read-only session")
    if not args.json:
        from rich.console import Console

        Console().print(render_autoscaling_plan(result))
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError("confirmation needed: run in a terminal, or add --yes")
        if input("Apply this auto-scaling change? [y/N] ").strip().lower() not in {"y", "yes"}:
            print("not applied: nothing was changed")
            return EXIT_REFUSED
    scaler = Scaler(session.backend, session.audit, session.origin, wait=session.wait)
    outcome = scaler.apply_autoscaling(result)
    if args.json:
        print(
            json.dumps(
                {
                    "outcome": outcome.outcome,
                    "change_id": outcome.change_id,
                    "error": outcome.error,
                },
                indent=2,
            )
        )
    else:
        print(
            f"{outcome.outcome}: {result.summary}"
            + (f" — {outcome.error}" if outcome.error else "")
            + f" (audit id {outcome.change_id})"
        )
    return EXIT_OK if outcome.outcome == "applied" else EXIT_REFUSED


# --------------------------------------------------------------------------------------------
# autoscale: the engine
# --------------------------------------------------------------------------------------------


def run_autoscale(args: argparse.Namespace, session: Session, books: Any) -> int:
    from capcon.core.services.engine import AutoscaleEngine, EngineDecision, run_rounds

    backend = session.backend
    if args.apply and args.read_only:
        raise UsageError("--read-only: the engine can only run as a dry run")
    names = list(args.table or [])
    known = set(backend.list_tables())
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UsageError(f"no table {', '.join(unknown)} (tables: {', '.join(sorted(known))})")
    if not names:
        managed = auto_scaling_by_resource(backend)
        names = [
            t.name
            for t in backend.describe_tables(sorted(known))
            if t.provisioned is not None and resource_id(t.name) not in managed
        ]
    if not 20 <= args.target <= 90:
        raise UsageError(f"--target {args.target:g} is outside 20–90 (percent)")
    if args.min < 1 or args.max < args.min:
        raise UsageError(f"--min {args.min} and --max {args.max}: need 1 ≤ min ≤ max")
    scaler = None
    if args.apply:
        scaler = Scaler(backend, session.audit, session.origin, wait=session.wait)
    update_seconds = None
    metric_delay = 120
    if isinstance(backend, SimAccount):
        update_seconds = backend.settings.update_seconds
        metric_delay = backend.settings.metric_delay_seconds
    try:
        engine = AutoscaleEngine(
            backend,
            args.policy,
            args.target,
            books.rules,
            books.prices,
            names,
            (args.min, args.max),
            scaler,
            metric_delay_seconds=metric_delay,
            update_seconds=update_seconds,
        )
    except ValueError as error:
        raise UsageError(str(error)) from None
    mode = "applying through the scaler (audited)" if args.apply else "dry run: nothing is changed"
    if not args.json:
        print(
            f"capcon autoscale · policy {args.policy} at {args.target:g}% · "
            f"{len(names)} tables · {mode}"
        )

    def report(decision: EngineDecision) -> None:
        if args.json:
            print(json.dumps(to_jsonable(decision), ensure_ascii=False), flush=True)
        elif decision.decision.capacity is not None or args.verbose:
            print(decision.line, flush=True)

    run_rounds(engine, args.minutes, session.wait, report)
    return EXIT_OK
