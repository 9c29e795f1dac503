"""``capcon scale NAME``: preview, confirm and apply a capacity change through the scaler."""

from __future__ import annotations

import argparse

from capcon.core.config.settings import is_production
from capcon.core.jsonable import to_jsonable
from capcon.core.planning.planner import Refusal, ScalePlan
from capcon.core.services.interrupts import interruptible
from capcon.core.services.scaler import Progress
from capcon.tui.bootstrap import Session
from capcon.tui.cli.output import (
    EXIT_REFUSED,
    ask,
    emit_plan,
    outcome_exit,
    print_json,
    refuse_if_read_only,
    report_outcome,
    require_terminal,
    show_notices,
)
from capcon.tui.cli.plan import live_plan
from capcon.tui.errors import UsageError
from capcon.tui.text import printable


def confirm(
    plan_: ScalePlan, args: argparse.Namespace, threshold: float, *, production: bool = False
) -> bool:
    """Ask before applying: a typed resource name for big changes and on a production
    profile (as the console asks), else y/N."""
    if args.yes:
        return True
    # pre-warming can never be undone: confirmed like a big change
    big = (
        any(w.code in ("big-increase", "prewarm-irreversible") for w in plan_.warnings)
        or plan_.change_factor >= threshold
    )
    if not big and not production:
        return ask("Apply this change? [y/N] ")
    require_terminal()
    why = "Production profile" if production and not big else "Big change"
    if any(w.code == "prewarm-irreversible" for w in plan_.warnings):
        why = "Irreversible change (pre-warming)"
    answer = input(f"{why}. Type the resource name ({plan_.resource}) to apply: ")
    return answer.strip() == plan_.resource


def run(args: argparse.Namespace, session: Session) -> int:
    refuse_if_read_only(
        session.read_only, "scale is not available; `capcon plan` previews a change"
    )
    if args.json and not args.yes:
        raise UsageError("--json needs --yes (there is no prompt in JSON mode)")
    resource, result = live_plan(args, session)
    if not args.json:
        emit_plan(result, False)
    if isinstance(result, Refusal):
        if args.json:
            return emit_plan(result, True)
        return EXIT_REFUSED
    factor = args.confirm_factor
    if factor is None:  # not given: config.toml's confirm_factor (default 4)
        factor = session.config.confirm_factor
    production = is_production(session.config, session.profile)
    if not confirm(result, args, factor, production=production):
        print("not applied: nothing was changed")
        return EXIT_REFUSED

    def report(progress: Progress) -> None:
        if not args.json:
            print(printable(f"  [{progress.fraction:4.0%}] {progress.message}"), flush=True)

    with interruptible():  # SIGINT/SIGTERM/SIGHUP: recorded "interrupted", then exit
        outcome = session.scaler(poll_seconds=5.0).apply(result, progress=report, previous=resource)
    show_notices(session.audit.take_notices())
    if args.json:
        print_json(
            {
                "outcome": outcome.outcome,
                "change_id": outcome.change_id,
                "error": outcome.error,
                "notes": list(outcome.notes),
                "before": to_jsonable(outcome.before),
                "after": to_jsonable(outcome.after),
                "plan": to_jsonable(result),
            }
        )
    else:
        report_outcome(outcome, result.summary, session.audit.path)
    return outcome_exit(outcome.outcome)
