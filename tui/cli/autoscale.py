"""``capcon autoscale``: run an auto-scaling policy (a dry run unless ``--apply``), explaining
every decision; applied decisions go through the session's scaler and the audit log.

A table policy (``aas``, ``aas-legacy``, ``h1``, ``h2``, ``capcon``, ``oracle``) runs on
tables and their provisioned GSIs (``--table``, or every provisioned table not managed by
Application Auto Scaling); ``kinesis`` runs on provisioned streams (``--stream``, or every
one).  ``--state FILE`` keeps each policy's memory (cooldowns, the 36-hour scale-down
schedule) in a JSON file, so the next run continues where this one stopped; the stream
schedules of planned events kept in that file (``capcon event apply`` on a stream) are run
too, their due steps sent before the policies decide.
"""

from __future__ import annotations

import argparse
import sys

from capcon.core.policies import POLICIES, STREAM_POLICIES, TABLE_POLICIES
from capcon.core.ports import Scalable, StateStore, resource_id
from capcon.core.services.audit import AuditLogError
from capcon.core.services.interrupts import interruptible
from capcon.core.services.overview import auto_scaling_by_resource
from capcon.tui.bootstrap import Session
from capcon.tui.cli.event import default_state_path
from capcon.tui.cli.output import (
    EXIT_OK,
    EXIT_REFUSED,
    print_json,
    refuse_if_read_only,
    show_notices,
)
from capcon.tui.errors import UsageError
from capcon.tui.text import printable

#: The most shards a stream may have (UpdateShardCount: docs/aws-rules.md).
MAX_SHARDS = 10_000


def _names(values: list[str]) -> str:
    return ", ".join(printable(v) for v in values)


def check_args(args: argparse.Namespace) -> None:
    """Flags that contradict each other, before any backend is opened."""
    if args.apply and args.dry_run:
        raise UsageError("choose --apply or --dry-run, not both")
    policy = args.policy
    if policy not in POLICIES:
        raise UsageError(
            f"unknown policy {printable(policy)!r} (tables: {', '.join(TABLE_POLICIES)}; "
            f"streams: {', '.join(STREAM_POLICIES)})"
        )
    if policy in STREAM_POLICIES and args.table:
        raise UsageError(
            f"--policy {policy} is for streams (give --stream NAME, or none for every "
            f"provisioned stream); tables take {', '.join(TABLE_POLICIES)}"
        )
    if policy not in STREAM_POLICIES and args.stream:
        raise UsageError(
            f"--stream needs a stream policy ({', '.join(STREAM_POLICIES)}); --policy {policy} "
            f"is for tables (allowed there: {', '.join(TABLE_POLICIES)})"
        )


def _table_dimensions(args: argparse.Namespace, session: Session) -> tuple[list[Scalable], int]:
    """The dimensions of the tables asked for (or of every provisioned table AAS does not
    manage) and of their provisioned GSIs (those AAS manages left out), and the tables."""
    backend = session.backend
    names = list(dict.fromkeys(args.table or []))
    known = set(backend.list_tables())
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UsageError(f"no table {_names(unknown)} (tables: {_names(sorted(known))})")
    managed = auto_scaling_by_resource(backend)
    tables = backend.describe_tables(names or sorted(known))
    if not names:
        tables = [t for t in tables if resource_id(t.name) not in managed]
    dims: list[Scalable] = []
    count = 0
    for table in tables:
        if table.provisioned is None:
            continue
        count += 1
        dims += [Scalable(table.name, "read"), Scalable(table.name, "write")]
        for index in table.indexes:
            if index.provisioned is None or resource_id(table.name, index.name) in managed:
                continue
            dims += [Scalable(table.name, "read", index.name)]
            dims += [Scalable(table.name, "write", index.name)]
    return dims, count


def _stream_dimensions(args: argparse.Namespace, session: Session) -> list[Scalable]:
    backend = session.backend
    names = list(dict.fromkeys(args.stream or []))
    known = set(backend.list_streams())
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UsageError(f"no stream {_names(unknown)} (streams: {_names(sorted(known))})")
    out: list[Scalable] = []
    for name in names or sorted(known):
        stream = backend.describe_stream(name)
        if stream.is_on_demand:
            if names:
                raise UsageError(
                    f"stream {printable(name)} is on-demand: there are no shards to scale "
                    "(only provisioned streams take --policy kinesis)"
                )
            continue
        out.append(Scalable(name, "shards"))
    return out


def _state_store(args: argparse.Namespace) -> StateStore | None:
    if args.state is None:
        return None
    from capcon.core.services.state import FileStateStore, StateFileError

    store = FileStateStore(args.state)
    try:
        store.check()
    except StateFileError as error:
        raise UsageError(str(error)) from None
    return store


def _default_schedules(session: Session) -> StateStore | None:
    """Without ``--state``: the file ``capcon event apply`` keeps stream events in by default,
    when it exists (so ``capcon autoscale --policy kinesis`` runs them without a flag)."""
    from capcon.core.services.state import FileStateStore, StateFileError

    path = default_state_path(session)
    if not path.exists():
        return None
    store = FileStateStore(path)
    try:
        store.check()
    except StateFileError as error:
        raise UsageError(str(error)) from None
    return store


def run(args: argparse.Namespace, session: Session) -> int:
    from capcon.core.services.engine import (
        DEFAULT_METRIC_DELAY,
        AutoscaleEngine,
        EngineDecision,
        run_rounds,
    )

    check_args(args)
    backend = session.backend
    if args.apply:
        refuse_if_read_only(session.read_only, "the engine can only run as a dry run")
        try:  # the scaler would refuse every decision: say it once, before anything runs
            session.audit.check_writable()
        except AuditLogError as error:
            from capcon.core.services.scaler import audit_refusal

            print(f"capcon: autoscale --apply refused: {audit_refusal(error)}", file=sys.stderr)
            return EXIT_REFUSED
        show_notices(session.audit.take_notices())
    if args.target is None:
        args.target = 80.0 if args.policy == "kinesis" else 70.0
    if not 20 <= args.target <= 90:
        raise UsageError(f"--target {args.target:g} is outside 20–90 (percent)")
    if args.min < 1 or args.max < args.min:
        raise UsageError(f"--min {args.min} and --max {args.max}: need 1 ≤ min ≤ max")
    streams = args.policy in STREAM_POLICIES
    if streams:
        if args.min > MAX_SHARDS:
            raise UsageError(f"--min {args.min}: a stream has at most {MAX_SHARDS:,} shards")
        managed = _stream_dimensions(args, session)
        what = f"{len(managed)} streams"
    else:
        managed, tables = _table_dimensions(args, session)
        what = f"{tables} tables ({len(managed)} dimensions with their GSIs)"
    state = _state_store(args)
    schedules = state if state is not None else _default_schedules(session)
    delay = session.metric_delay_seconds
    controls = session.controls
    try:
        engine = AutoscaleEngine(
            backend,
            args.policy,
            args.target,
            session.books.rules,
            session.books.prices,
            managed,
            (args.min, args.max),
            session.scaler() if args.apply else None,
            shard_bounds=(args.min, min(args.max, MAX_SHARDS)),
            metric_delay_seconds=DEFAULT_METRIC_DELAY if delay is None else delay,
            update_seconds=session.update_seconds,
            state=state,
            schedules=schedules,
            reshard_history=controls.reshard_history if controls is not None else None,
        )
    except ValueError as error:
        raise UsageError(str(error)) from None
    mode = "applying through the scaler (audited)" if args.apply else "dry run: nothing is changed"
    if not args.json:
        kept = f" · state in {printable(str(args.state))}" if args.state is not None else ""
        if schedules is not None and state is None:
            kept += f" · planned events from {printable(str(default_state_path(session)))}"
        print(
            f"capcon autoscale · policy {args.policy} at {args.target:g}% · {what} · {mode}{kept}"
        )

    def report(decision: EngineDecision) -> None:
        if args.json:
            print_json(decision.to_json(), indent=None)
        elif (
            decision.decision.capacity is not None
            or args.verbose
            or decision.notes
            or decision.outcome.startswith("failed")
        ):
            print(printable(decision.line), flush=True)

    # SIGTERM/SIGHUP end the loop as Ctrl-C does; a change under way records "interrupted"
    with interruptible():
        run_rounds(engine, args.minutes, session.wait, report)
    show_notices(session.audit.take_notices())
    return EXIT_OK
