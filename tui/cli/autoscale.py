"""``capcon autoscale``: run an auto-scaling policy (a dry run unless ``--apply``), explaining
every decision; applied decisions go through the session's scaler and the audit log."""

from __future__ import annotations

import argparse
import sys

from capcon.core.jsonable import to_jsonable
from capcon.core.ports import resource_id
from capcon.core.services.audit import AuditLogError
from capcon.core.services.interrupts import interruptible
from capcon.core.services.overview import auto_scaling_by_resource
from capcon.tui.bootstrap import Session
from capcon.tui.cli.output import (
    EXIT_OK,
    EXIT_REFUSED,
    print_json,
    refuse_if_read_only,
    show_notices,
)
from capcon.tui.errors import UsageError


def check_args(args: argparse.Namespace) -> None:
    """Flags that contradict each other, before any backend is opened."""
    if args.apply and args.dry_run:
        raise UsageError("choose --apply or --dry-run, not both")


def run(args: argparse.Namespace, session: Session) -> int:
    from capcon.core.services.engine import (
        DEFAULT_METRIC_DELAY,
        AutoscaleEngine,
        EngineDecision,
        run_rounds,
    )

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
    delay = session.metric_delay_seconds
    try:
        engine = AutoscaleEngine(
            backend,
            args.policy,
            args.target,
            session.books.rules,
            session.books.prices,
            names,
            (args.min, args.max),
            session.scaler() if args.apply else None,
            metric_delay_seconds=DEFAULT_METRIC_DELAY if delay is None else delay,
            update_seconds=session.update_seconds,
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
            print_json(to_jsonable(decision), indent=None)
        elif decision.decision.capacity is not None or args.verbose:
            print(decision.line, flush=True)

    # SIGTERM/SIGHUP end the loop as Ctrl-C does; a change under way records "interrupted"
    with interruptible():
        run_rounds(engine, args.minutes, session.wait, report)
    show_notices(session.audit.take_notices())
    return EXIT_OK
