"""``capcon deploy apply | status | live | pause | delete`` (see :mod:`capcon.tui.cli.deploy`).

- ``apply`` builds the spec and the template as ``deploy template`` does, runs capcon's checks
  of it, packages the code, uploads it to ``--bucket`` under its digest, creates a change set,
  shows it, asks (``--yes``: does not), executes it and follows the stack to the end.  A new
  stack is a dry run (``DryRun=true``); an update keeps the stack's ``DryRun`` as it is.  A
  change set not executed (refused, no terminal to ask on, an error) is deleted: nothing
  changes.
- ``status`` shows the stack, its ``DryRun``, its alarms, its schedules and its newest audit
  items (``--json``: one document).
- ``live`` sets ``DryRun=false`` and enables the stack's alarm actions; ``pause`` disables
  them and sets ``DryRun=true``; each says what it did and what was already so.
- ``delete`` deletes the stack (asks first, ``--yes``: does not); its state table stays when
  the template retains it, and tables and streams are never touched.

Everything AWS says (names, reasons, outputs, audit items) is escaped before it is printed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from capcon.core.backends.aws.stacks import (
    STATE_TABLE_ID,
    ChangeSet,
    Followed,
    StackError,
    StackInfo,
    Stacks,
    refuse_owned_capacity,
    retained,
)
from capcon.core.deploy.spec import STACK_NAME, DeployError, alarm_prefix, scalable_of_alarm
from capcon.core.errors import BackendError, CapconError
from capcon.tui.bootstrap import Session, open_session, read_only, scenario, user_config
from capcon.tui.cli.output import (
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_REFUSED,
    EXIT_UNKNOWN,
    ask,
    console,
    print_json,
    refuse_if_read_only,
)
from capcon.tui.errors import UsageError
from capcon.tui.text import printable

if TYPE_CHECKING:
    from capcon.core.ports import AlarmStatus

DRY_RUN = "DryRun"
CODE_BUCKET = "CodeBucket"
CODE_KEY = "CodeKey"
#: The state table's output in capcon's template.
STATE_OUTPUT = "StateTable"
_CHANGES = {
    "apply": "deploy apply creates or updates a stack",
    "live": "deploy live lets the engine change capacity",
    "pause": "deploy pause changes the stack's parameters and alarms",
    "delete": "deploy delete deletes a stack",
}


def out(text: str) -> None:
    """One line on stdout, escaped (it may quote AWS)."""
    print(printable(text), flush=True)


def note(text: str) -> None:
    print(printable(f"capcon: {text}"), file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    command: str = args.deploy_command
    stack: str = args.stack
    if not STACK_NAME.fullmatch(stack):
        raise UsageError(
            f"--stack {printable(repr(stack))}: a letter, then letters, digits or hyphens "
            "(at most 128)"
        )
    config = user_config()
    if command in _CHANGES:
        refuse_if_read_only(read_only(args, config), _CHANGES[command])
    if scenario(args):
        raise UsageError(
            f"deploy {command} manages a CloudFormation stack on AWS (or --endpoint-url): the "
            "simulated account has none; `capcon deploy invoke --sim` runs the handler on it"
        )
    session = open_session(args, config)
    stacks = stacks_of(session)
    if command == "apply":
        return apply(args, session, stacks)
    if command == "status":
        return status(args, session, stacks)
    if command == "live":
        return switch(stacks, stack, live=True)
    if command == "pause":
        return switch(stacks, stack, live=False)
    if command == "delete":
        return delete(args, stacks)
    raise UsageError(f"deploy {command}: not a stack command")


def stacks_of(session: Session) -> Stacks:
    """The session's AWS account as :class:`Stacks` (the session's wait between polls)."""
    from capcon.core.backends.aws.adapter import AwsAdapter

    backend = session.backend
    if not isinstance(backend, AwsAdapter):  # pragma: no cover - run() refused --sim first
        raise UsageError("capcon deploy needs AWS (or --endpoint-url)")
    return Stacks(backend.session, wait=session.wait)


# --------------------------------------------------------------------------------------------
# apply
# --------------------------------------------------------------------------------------------


def build_template(args: argparse.Namespace, session: Session) -> dict[str, Any]:
    """The stack's template, built and checked by ``deploy template``'s own code path
    (:class:`DeployError` when capcon's checks refuse it)."""
    from capcon.tui.cli.deploy_template import template_for

    return dict(template_for(args, session))


def package() -> bytes:
    """The engine's code package (deterministic: the same code is the same bytes)."""
    from capcon.core.deploy.package import build_package

    return build_package()


def apply(args: argparse.Namespace, session: Session, stacks: Stacks) -> int:
    stack: str = args.stack
    try:
        template = build_template(args, session)
        refuse_owned_capacity(template)  # before the package goes anywhere
    except (DeployError, StackError) as error:
        note(f"refused: {error}")
        out(f"not applied: nothing was sent for stack {stack}")
        return EXIT_REFUSED
    code = package()
    existing = stacks.find(stack)
    upload = stacks.upload_package(args.bucket, stack, code)
    where = f"s3://{upload.bucket}/{upload.key}"
    if upload.uploaded:
        out(f"code package: {where} ({upload.size / 1024:.0f} KiB) uploaded")
    else:
        out(f"code package: {where} already there (same code, not uploaded again)")
    parameters: dict[str, str | None] = {
        CODE_BUCKET: upload.bucket,
        CODE_KEY: upload.key,
        # a new stack is a dry run; an update keeps whatever live/pause made it
        DRY_RUN: "true" if existing is None or existing.status == "REVIEW_IN_PROGRESS" else None,
    }
    change_set = stacks.create_change_set(
        stack, template, parameters, bucket=args.bucket, now=datetime.now(UTC)
    )
    executed = False
    try:
        if change_set.empty:
            out(f"no changes: stack {stack} is up to date (same template, same code)")
            return EXIT_OK
        if not change_set.ready:
            out(
                f"not applied: CloudFormation could not make the change set ({change_set.status}"
                f"{': ' + change_set.reason if change_set.reason else ''}); nothing changed"
            )
            return EXIT_REFUSED
        show_change_set(change_set, existing, upload.key)
        if not confirmed(args, f"Execute this change set on stack {stack}? [y/N] "):
            out(f"not executed: the change set was deleted; stack {stack} is as it was")
            return EXIT_REFUSED
        try:
            after = stacks.start_change_set(change_set)
        except BackendError as error:
            # an answer lost after the request was sent: it may be executing, keep it
            executed = error.maybe_sent
            raise
        executed = True
    finally:
        if not executed:
            discard(stacks, change_set)
    return report_applied(stack, stacks.follow(change_set.stack_id, after=after))


def discard(stacks: Stacks, change_set: ChangeSet) -> None:
    """Delete a change set not executed (and a new stack's empty shell); a failure to do so
    is said, not raised over what ended the apply."""
    try:
        stacks.delete_change_set(change_set)
    except CapconError as error:
        note(
            f"the change set {change_set.arn} could not be deleted ({error}); it was not "
            "executed: delete it in the CloudFormation console"
        )


def confirmed(args: argparse.Namespace, question: str) -> bool:
    """``--yes``, or ``y`` on the terminal; with neither a usage error (the caller cleans up)."""
    if args.yes:
        return True
    if not sys.stdin.isatty():
        raise UsageError(
            "confirmation needed: run in a terminal, or add --yes (nothing was changed)"
        )
    return ask(question)


def show_change_set(change_set: ChangeSet, existing: StackInfo | None, key: str) -> None:
    from rich.table import Table as RichTable
    from rich.text import Text

    kind = "create" if change_set.kind == "CREATE" else "update"
    out(f"change set ({kind}): {change_set.arn}")
    grid = RichTable()
    for header in ("action", "logical id", "type", "replacement"):
        grid.add_column(header)
    for change in change_set.changes:
        grid.add_row(
            *(
                Text(printable(cell))
                for cell in (
                    change.action,
                    change.logical_id,
                    change.resource_type,
                    change.replacement or "",
                )
            )
        )
    console(wide=True).print(grid)
    before = existing.parameters.get(CODE_KEY) if existing else None
    if existing is None or existing.status == "REVIEW_IN_PROGRESS":
        out("code: first package")
    elif before == key:
        out("code: unchanged")
    else:
        out(f"code: new package ({before or 'none'} → {key})")
    if not change_set.changes:
        out("(CloudFormation lists no resource change: parameters only)")


def report_applied(stack: str, followed: Followed) -> int:
    if not followed.ok:
        out(f"FAILED: stack {stack} ended {followed.status}: {followed.failure}")
        if followed.status.endswith("ROLLBACK_COMPLETE"):
            out("CloudFormation rolled the stack back: nothing it changed is left")
            return EXIT_REFUSED
        out("the stack may be partly changed: `capcon deploy status --stack` shows it")
        return EXIT_UNKNOWN
    out(f"applied: stack {stack} is {followed.status}")
    info = followed.stack
    if info is not None:
        for key, value in sorted(info.outputs.items()):
            out(f"  {key}: {value}")
        if info.parameters.get(DRY_RUN) == "false":
            out(
                f"the engine is LIVE (DryRun=false): `capcon deploy pause --stack {stack}` "
                "stops it acting"
            )
            return EXIT_OK
    out(f"the engine is a DRY RUN until `capcon deploy live --stack {stack}`")
    return EXIT_OK


# --------------------------------------------------------------------------------------------
# status
# --------------------------------------------------------------------------------------------


def owned_by(stack: str) -> Callable[[str], bool]:
    """Whether an alarm description carries ``stack``'s mark (a stack ``prod-eu`` has alarms
    starting with ``prod-`` too)."""

    def owned(description: str) -> bool:
        mark = scalable_of_alarm(description)
        return mark is not None and mark[0] == stack

    return owned


def stack_alarms(stacks: Stacks, stack: str) -> list[AlarmStatus]:
    return stacks.alarms(alarm_prefix(stack), owned=owned_by(stack))


def state_table(stacks: Stacks, info: StackInfo) -> str | None:
    return stacks.physical_id(info, STATE_TABLE_ID, output=STATE_OUTPUT)


def require_state_table(stacks: Stacks, info: StackInfo) -> str:
    table = state_table(stacks, info)
    if table is None:
        raise StackError(
            f"stack {info.name} has no {STATE_OUTPUT} output or resource (is it a capcon stack?)"
        )
    return table


def audit_items(stacks: Stacks, table: str, limit: int | None) -> list[dict[str, object]]:
    """The newest audit items of the state table ``table`` (oldest first)."""
    from capcon.core.backends.aws.statestore import DynamoAuditStore

    records: list[dict[str, object]] = DynamoAuditStore(stacks.session.dynamodb(), table).read(
        limit
    )
    return records


def status(args: argparse.Namespace, session: Session, stacks: Stacks) -> int:
    stack: str = args.stack
    info = stacks.describe(stack)
    notices: list[str] = []

    def attempt(what: str, read: Callable[[], Any], default: Any) -> Any:
        try:
            return read()
        except CapconError as error:
            notices.append(f"{what} not read: {error}")
            return default

    alarms: list[AlarmStatus] = attempt("alarms", lambda: stack_alarms(stacks, stack), [])
    schedules = attempt("schedules", lambda: stacks.schedules(info.stack_id), [])
    audit = attempt(
        "audit items",
        lambda: audit_items(stacks, require_state_table(stacks, info), args.limit),
        [],
    )
    events = attempt("events", lambda: stacks.events(info.stack_id, limit=5), [])
    dry_run = info.parameters.get(DRY_RUN)
    if args.json:
        print_json(
            {
                "stack": info.name,
                "stack_id": info.stack_id,
                "status": info.status,
                "reason": info.reason,
                "dry_run": None if dry_run is None else dry_run != "false",
                "parameters": info.parameters,
                "outputs": info.outputs,
                "alarms": [
                    {
                        "name": a.name,
                        "state": a.state,
                        "actions_enabled": a.actions_enabled,
                        "threshold": a.threshold,
                    }
                    for a in alarms
                ],
                "schedules": [
                    {
                        "logical_id": s.logical_id,
                        "name": s.name,
                        "expression": s.expression,
                        "state": s.state,
                    }
                    for s in schedules
                ],
                "events": [
                    {
                        "at": e.at.isoformat() if e.at else None,
                        "logical_id": e.logical_id,
                        "status": e.status,
                        "reason": e.reason,
                    }
                    for e in events
                ],
                "audit": audit,
                "notices": notices,
            }
        )
    else:
        show_status(info, alarms, schedules, audit, events)
    for notice in notices:
        note(notice)
    return EXIT_PARTIAL if notices else EXIT_OK


def show_status(
    info: StackInfo,
    alarms: list[AlarmStatus],
    schedules: list[Any],
    audit: list[dict[str, object]],
    events: list[Any],
) -> None:
    from rich.table import Table as RichTable
    from rich.text import Text

    from capcon.tui.text import AUDIT_COLUMNS, audit_cells

    dry_run = info.parameters.get(DRY_RUN)
    mode = (
        "unknown (no DryRun parameter)"
        if dry_run is None
        else "LIVE (DryRun=false)"
        if dry_run == "false"
        else "DRY RUN (DryRun=true)"
    )
    out(f"stack {info.name}: {info.status}" + (f" ({info.reason})" if info.reason else ""))
    out(f"engine: {mode}")
    for key, value in sorted(info.outputs.items()):
        out(f"  {key}: {value}")
    show = console(wide=True)

    def table(title: str, headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
        grid = RichTable(title=Text(printable(title)), title_justify="left")
        for header in headers:
            grid.add_column(header)
        for row in rows:
            grid.add_row(*(Text(printable(cell)) for cell in row))
        show.print(grid)

    table(
        f"alarms ({len(alarms)})",
        ("name", "state", "actions"),
        [(a.name, a.state, "enabled" if a.actions_enabled else "disabled") for a in alarms],
    )
    table(
        f"schedules ({len(schedules)})",
        ("logical id", "name", "schedule", "state"),
        [(s.logical_id, s.name, s.expression, s.state) for s in schedules],
    )
    table(
        "last events",
        ("at", "resource", "status", "reason"),
        [(e.at.isoformat()[:19] if e.at else "", e.logical_id, e.status, e.reason) for e in events],
    )
    table(f"audit ({len(audit)} newest)", AUDIT_COLUMNS, [audit_cells(r) for r in audit])
    if not audit:
        out("no decisions recorded yet")


# --------------------------------------------------------------------------------------------
# live / pause
# --------------------------------------------------------------------------------------------


def switch(stacks: Stacks, stack: str, *, live: bool) -> int:
    info = stacks.describe(stack)
    if info.in_progress:
        raise StackError(f"stack {stack} is {info.status}: wait until it ends and retry")
    word = "false" if live else "true"
    code = EXIT_OK
    if not live:  # stop the wake-ups first, then the engine's changes
        code = max(code, alarm_actions(stacks, stack, enabled=False))
    followed = stacks.set_parameters(info, {DRY_RUN: word})
    if followed is None:
        out(f"DryRun was already {word}")
    elif followed.ok:
        out(f"DryRun set to {word} (stack {followed.status})")
    else:
        out(f"FAILED: setting DryRun={word} ended {followed.status}: {followed.failure}")
        return EXIT_REFUSED if followed.status.endswith("ROLLBACK_COMPLETE") else EXIT_UNKNOWN
    if live:
        code = max(code, alarm_actions(stacks, stack, enabled=True))
        out(
            f"the engine of {stack} is LIVE: it changes capacity; `capcon deploy pause "
            f"--stack {stack}` stops it"
        )
    else:
        out(
            f"the engine of {stack} is PAUSED: a dry run with its alarms silent; "
            f"`capcon deploy live --stack {stack}` resumes it"
        )
    return code


def alarm_actions(stacks: Stacks, stack: str, *, enabled: bool) -> int:
    alarms = stack_alarms(stacks, stack)
    to_change = [a.name for a in alarms if a.actions_enabled != enabled]
    word = "enabled" if enabled else "disabled"
    stacks.set_alarm_actions(to_change, enabled)
    already = len(alarms) - len(to_change)
    out(
        f"alarm actions {word} on {len(to_change)} alarm(s)"
        + (f" ({already} already {word})" if already else "")
    )
    if not alarms:
        note(f"no alarm of stack {stack} found (names starting {alarm_prefix(stack)!r})")
    return EXIT_OK


# --------------------------------------------------------------------------------------------
# delete
# --------------------------------------------------------------------------------------------


def delete(args: argparse.Namespace, stacks: Stacks) -> int:
    stack: str = args.stack
    info = stacks.describe(stack)
    if info.in_progress:
        raise StackError(f"stack {stack} is {info.status}: wait until it ends and retry")
    keeps = retained(stacks.template(info.stack_id), STATE_TABLE_ID)
    table = state_table(stacks, info) if keeps else None
    if not confirmed(args, f"Delete stack {stack} ({info.status})? [y/N] "):
        out(f"not deleted: stack {stack} is as it was")
        return EXIT_REFUSED
    followed = stacks.delete(info)
    if not followed.ok:
        out(f"FAILED: deleting {stack} ended {followed.status}: {followed.failure}")
        return EXIT_UNKNOWN
    out(f"deleted: stack {stack}")
    if keeps:
        out(
            f"the state table {table or STATE_TABLE_ID} is retained (its audit items stay); "
            "delete it yourself when you no longer need them"
        )
    out("tables and streams are untouched: their capacity stays as it is now")
    return EXIT_OK
