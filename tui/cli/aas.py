"""``capcon aas NAME``: preview (and with ``--apply``, make) an Application Auto Scaling change
with the same preview / confirm / audit flow as ``scale``."""

from __future__ import annotations

import argparse

from capcon.core.jsonable import to_jsonable
from capcon.core.model import Table
from capcon.core.planning.autoscaling import AutoScalingPlan, plan_autoscaling
from capcon.core.planning.planner import Refusal
from capcon.core.planning.requests import AutoScalingChange
from capcon.core.ports import resource_id
from capcon.core.services.inspect import find_resource
from capcon.core.services.interrupts import interruptible
from capcon.core.services.overview import AutoScalingState, auto_scaling_by_resource, collect_rows
from capcon.tui.bootstrap import Session
from capcon.tui.cli.output import (
    EXIT_OK,
    EXIT_REFUSED,
    ask,
    console,
    emit_plan,
    outcome_exit,
    print_json,
    refuse_if_read_only,
    report_outcome,
    show_notices,
)
from capcon.tui.errors import UsageError


def run(args: argparse.Namespace, session: Session) -> int:
    from capcon.tui.render import render_autoscaling_plan

    if args.apply:
        refuse_if_read_only(
            session.read_only, "auto scaling cannot be changed; without --apply, aas previews"
        )
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
    books = session.books
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
        return emit_plan(result, args.json)
    assert isinstance(result, AutoScalingPlan)
    if not args.apply:
        if args.json:
            print_json({"outcome": "plan", **to_jsonable(result)})
        else:
            console().print(render_autoscaling_plan(result))
            print("preview only: add --apply to change auto scaling")
        return EXIT_OK
    if not args.json:
        console().print(render_autoscaling_plan(result))
    if not args.yes and not ask("Apply this auto-scaling change? [y/N] "):
        print("not applied: nothing was changed")
        return EXIT_REFUSED
    with interruptible():  # SIGINT/SIGTERM/SIGHUP: recorded "interrupted", then exit
        outcome = session.scaler().apply_autoscaling(result)
    show_notices(session.audit.take_notices())
    if args.json:
        print_json(
            {
                "outcome": outcome.outcome,
                "change_id": outcome.change_id,
                "error": outcome.error,
                "notes": list(outcome.notes),
            }
        )
    else:
        report_outcome(outcome, result.summary, session.audit.path)
    return outcome_exit(outcome.outcome)
