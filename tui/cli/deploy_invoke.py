"""``capcon deploy invoke --template FILE --event FILE [--apply] [--state FILE] [--json]``: run
the scaler Lambda's :func:`~capcon.core.deploy.handler.run_event` here, on one event, with the
template's settings, against the session's backend (``--sim``, ``--endpoint-url`` or AWS).

The settings are the ``ScalerFunction``'s ``Environment.Variables`` in the template, with
``Ref DryRun`` resolved to the parameter's default (``false`` with ``--apply``), ``Ref
StateTable`` to the stack's own state table when the stack exists in the session's account
(the invocation continues where the deployed engine is, and claims the event there), else to
a local state file (``--state``, by default beside the audit log: the policies' state and the
events handled, as the stack's table keeps them) and ``Ref AlarmTopic`` to the
topic's ARN when the template names it (otherwise alarms are re-tuned without actions here:
``deploy invoke --apply`` is for trying decisions, the deployed stack re-tunes its own).
Audit records go to the session's audit log.  A template or event that cannot be used is a
message naming the file and what is wrong (exit 2), before anything runs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from capcon.core.deploy.events import parse_event
from capcon.core.deploy.spec import (
    ENV_DRY_RUN,
    ENV_STATE_TABLE,
    ENV_TOPIC_ARN,
    DeployError,
    EngineSettings,
    settings_from_environment,
)
from capcon.core.errors import CapconError
from capcon.core.ports import AuditStore, StateStore
from capcon.core.services.audit import AuditSink
from capcon.tui.cli.output import EXIT_BACKEND, EXIT_OK, print_json, show_notices
from capcon.tui.errors import UsageError
from capcon.tui.text import printable

#: The most a template or event file may weigh (CloudFormation's template limit is 1 MB;
#: a Lambda event 256 KB asynchronously).
MAX_FILE_BYTES = 1_048_576
FUNCTION = "ScalerFunction"


def _read_json(path: Path, what: str) -> Any:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise UsageError(
                f"{printable(str(path))}: {size:,} bytes is too large for a {what} "
                f"(at most {MAX_FILE_BYTES:,})"
            )
        raw = path.read_bytes()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise UsageError(f"{printable(str(path))}: cannot read the {what} ({reason})") from None
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise UsageError(f"{printable(str(path))}: the {what} is not UTF-8 text") from None
    except (ValueError, RecursionError) as error:
        raise UsageError(
            f"{printable(str(path))}: the {what} is not JSON ({printable(str(error))[:120]})"
        ) from None


def template_environment(template: object, path: Path, *, apply: bool) -> dict[str, str]:
    """The scaler function's environment with the template's ``Ref``\\ s resolved (see the
    module docstring); :class:`UsageError` naming what is missing or not understood."""
    where = printable(str(path))
    if not isinstance(template, dict):
        raise UsageError(f"{where}: a CloudFormation template is a JSON object")
    resources = template.get("Resources")
    function = resources.get(FUNCTION) if isinstance(resources, dict) else None
    props = function.get("Properties") if isinstance(function, dict) else None
    env = props.get("Environment") if isinstance(props, dict) else None
    variables = env.get("Variables") if isinstance(env, dict) else None
    if not isinstance(variables, dict):
        raise UsageError(
            f"{where}: no Resources.{FUNCTION}.Properties.Environment.Variables "
            "(a template from capcon deploy template has them)"
        )
    parameters = template.get("Parameters")
    parameters = parameters if isinstance(parameters, dict) else {}
    out: dict[str, str] = {}
    for name, value in variables.items():
        if not isinstance(name, str):
            continue
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            out[name] = str(value)
            continue
        ref = value.get("Ref") if isinstance(value, dict) and len(value) == 1 else None
        if not isinstance(ref, str):
            raise UsageError(
                f"{where}: {FUNCTION} variable {printable(name)!r} is neither a string nor a "
                "Ref (capcon resolves only Ref to a parameter or to the state table or topic)"
            )
        if ref in parameters:
            param = parameters[ref]
            default = param.get("Default") if isinstance(param, dict) else None
            if default is None:
                raise UsageError(f"{where}: parameter {printable(ref)!r} has no Default")
            else:
                out[name] = str(default)
        elif name in (ENV_STATE_TABLE, ENV_TOPIC_ARN):
            target = resources.get(ref) if isinstance(resources, dict) else None
            props = target.get("Properties") if isinstance(target, dict) else None
            key = "TableName" if name == ENV_STATE_TABLE else "TopicName"
            literal = props.get(key) if isinstance(props, dict) else None
            if name == ENV_TOPIC_ARN and isinstance(literal, str):
                out[name] = literal  # only a name: resolved to an ARN by the caller
            elif name == ENV_STATE_TABLE and isinstance(literal, str):
                out[name] = literal
        else:
            raise UsageError(
                f"{where}: {FUNCTION} variable {printable(name)!r} refers to "
                f"{printable(ref)!r}, which is neither a parameter nor the state table or topic"
            )
    if apply:
        out[ENV_DRY_RUN] = "false"
    return out


def _line(item: dict[str, Any]) -> str:
    if item.get("outcome") in ("ignored", "already handled") or "scalable" not in item:
        what = f"{item.get('wakeup', '?')}: {item.get('outcome', '?')}"
        extra = item.get("reason") or item.get("error") or ""
        return printable(f"{what} — {extra}" if extra else what)
    action = item.get("action", "hold")
    capacity = item.get("capacity")
    shown = f"{action} → {capacity:,}" if isinstance(capacity, int) else "hold"
    outcome = item.get("outcome", "")
    tail = "" if outcome in ("held",) else f" [{outcome}]"
    return printable(f"{item.get('scalable')}: {shown} — {item.get('reason', '')}{tail}")


def run(args: argparse.Namespace) -> int:
    from capcon.tui.bootstrap import open_session

    template = _read_json(args.template, "template")
    event = _read_json(args.event, "event")
    env = template_environment(template, args.template, apply=args.apply)
    try:
        settings = settings_from_environment(env)
    except DeployError as error:
        raise UsageError(f"{printable(str(args.template))}: {error}") from None
    try:
        parse_event(event, settings.spec)
    except DeployError as error:
        raise UsageError(f"{printable(str(args.event))}: {printable(str(error))}") from None

    session = open_session(args)
    if args.apply and session.read_only:
        raise UsageError("deploy invoke --apply in a read-only session: drop --read-only")
    backend = session.backend
    alarms = getattr(backend, "alarms", None)
    from capcon.core.ports import Alarms

    if not isinstance(alarms, Alarms):
        from capcon.core.backends.aws.alarms import AwsAlarms

        aws = getattr(backend, "session", None)
        if aws is None:
            raise UsageError("this backend has no CloudWatch alarms to work with")
        alarms = AwsAlarms(aws.cloudwatch())
    topic = settings.topic_arn
    if topic and not topic.startswith("arn:"):
        topic = f"arn:aws:sns:{session.region}:{_account(session)}:{topic}"
    from capcon.core.deploy.handler import run_event

    state, audit, where = _stores(args, session, settings.spec.stack)
    settings = EngineSettings(settings.spec, settings.dry_run, None, topic)
    result = run_event(
        event,
        settings,
        backend,
        state=state,
        audit=audit,
        alarms=alarms,
        rules=session.books.rules,
        prices=session.books.prices,
        who=session.origin.who,
        metric_delay_seconds=session.metric_delay_seconds,
        update_seconds=session.update_seconds,
    )
    if args.json:
        print_json(result.to_json())
    else:
        mode = "dry run: nothing is changed" if settings.dry_run else "applying (audited)"
        print(printable(f"capcon deploy invoke · stack {settings.spec.stack} · {mode}"))
        print(printable(f"state: {where}"))
        for item in result.lines:
            print(_line(item))
        for problem in result.errors:
            print(printable(f"error: {problem}"))
    return EXIT_OK if result.ok else EXIT_BACKEND


def _stores(
    args: argparse.Namespace, session: Any, stack: str
) -> tuple[StateStore, AuditStore | AuditSink, str]:
    """Where the policies' state, the handled events and the audit go: ``--state FILE`` when
    given, with the session's audit log; else the stack's own state table (state and audit)
    when the stack exists in the session's account, so the invocation continues exactly where
    the deployed engine is and `capcon audit --stack` shows what it did; else a local file
    beside the session's audit log."""
    from capcon.core.services.state import FileStateStore

    if args.state is None:
        aws = getattr(session.backend, "session", None)
        if aws is not None:
            from capcon.core.backends.aws.stacks import Stacks
            from capcon.core.backends.aws.statestore import DynamoAuditStore, DynamoStateStore
            from capcon.tui.cli.deploy_stack import state_table

            stacks = Stacks(aws, wait=session.wait)
            try:
                info = stacks.find(stack)
                table = state_table(stacks, info) if info is not None else None
            except CapconError as error:
                show_notices([f"the stack {stack} could not be read ({error}): local state"])
                table = None
            if table is not None:
                client = aws.dynamodb()
                return (
                    DynamoStateStore(client, table),
                    DynamoAuditStore(client, table),
                    f"the stack's table {table} (state and audit)",
                )
    path: Path = args.state or session.audit.path.parent / f"deploy-state-{stack}.json"
    return FileStateStore(path), session.audit, f"local file {path}, audit {session.audit.path}"


def _account(session: Any) -> str:
    account = getattr(session.backend, "account_id", None)
    if isinstance(account, str):
        return account
    who = str(session.origin.who)
    parts = who.split(":")
    return parts[4] if len(parts) > 4 and parts[4].isdigit() else "000000000000"
