"""``capcon event plan | apply | ls | cancel``: a known spike scaled ahead and brought back
down safely.

``event plan NAME --start WHEN --end WHEN [--rcu N] [--wcu N] [--index NAME] [--shards N]
[--warm R/W]`` previews the whole event (:func:`~capcon.core.planning.events.plan_event`):
the timeline, the costs, the partitions, whether the return is allowed, the interplay with
auto scaling; nothing changes.  ``event apply`` shows the same preview, asks as ``capcon
scale`` does (``--yes`` skips the question) and schedules the event through the core
scaler (:meth:`~capcon.core.services.scaler.Scaler.apply_event`, audited): Application Auto
Scaling scheduled actions for a table (with a scheduled-only target registered where the
table has no auto scaling), pre-warming for an on-demand table, capcon's own schedule for a
stream, kept in the deployed stack's state table (``--stack``) or in the local state file
``capcon autoscale --state`` reads (the output says which).  ``event ls`` lists the upcoming
and recent events (capcon's and any other scheduled action of the account); ``event cancel
ID`` removes one (audited too).

WHEN is ISO 8601 (UTC unless it says otherwise) or relative to now: ``+90m``, ``+2h``,
``+1d``.  Every text from AWS, a file or the user is printed escaped
(:func:`~capcon.tui.text.printable`); ``--json`` prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from capcon.core.config.settings import is_production
from capcon.core.jsonable import to_jsonable
from capcon.core.model import Stream, Table, WarmThroughput
from capcon.core.planning.events import (
    EventPlan,
    EventRequest,
    ReactiveEstimate,
    parse_when,
    plan_event,
)
from capcon.core.planning.planner import DEFAULT_TARGET_UTILISATION, Refusal
from capcon.core.planning.requests import dimension_word
from capcon.core.planning.schedules import EventRecord, StreamSchedule, is_event_id, list_events
from capcon.core.ports import ScalableTarget, ScalingPolicy, StateStore
from capcon.core.services.inspect import find_resource, live_context
from capcon.core.services.interrupts import interruptible
from capcon.core.services.scaler import (
    ApplyResult,
    EventState,
    Progress,
    event_summary,
    read_event_state,
)
from capcon.tui.cli.flags import MAX_UNITS, number, session_flags, text, units_pair, whole
from capcon.tui.cli.output import (
    EXIT_OK,
    EXIT_REFUSED,
    ask,
    outcome_exit,
    print_json,
    refuse_if_read_only,
    report_outcome,
    require_terminal,
    show_notices,
)
from capcon.tui.errors import UsageError
from capcon.tui.text import printable

if TYPE_CHECKING:
    from capcon.tui.bootstrap import Session

SUBCOMMANDS = ("plan", "apply", "ls", "cancel")

#: The reactive policy an event is compared with when the part has no AAS policy: what
#: ``capcon autoscale`` runs by default.
DEFAULT_POLICY, DEFAULT_TARGET = "capcon", 70.0

#: How the line saying what the rehearsal of reactive scaling assumed begins.
REHEARSED = "reactive:"


# --------------------------------------------------------------------------------------------
# The parser
# --------------------------------------------------------------------------------------------


def _store_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--state",
        type=Path,
        metavar="FILE",
        help="streams: the local state file `capcon autoscale --state FILE` reads (default: "
        "autoscale-state.json beside the audit log)",
    )
    p.add_argument(
        "--stack",
        type=text("a stack name"),
        metavar="NAME",
        help="streams: keep the schedule in this deployed stack's state table (its engine "
        "executes it) instead of the local state file",
    )


def _event_flags(p: argparse.ArgumentParser) -> None:
    units = whole(0, MAX_UNITS, "capacity units")
    p.add_argument("name", type=text("a table, TABLE/INDEX or stream name"))
    p.add_argument(
        "--start",
        type=text("a time"),
        required=True,
        metavar="WHEN",
        help="when the peak must be in place: ISO 8601 (UTC unless given) or +90m, +2h, +1d",
    )
    p.add_argument(
        "--end",
        type=text("a time"),
        required=True,
        metavar="WHEN",
        help="when the event ends and the return is sent (same forms as --start)",
    )
    p.add_argument("--rcu", type=units, metavar="N", help="read capacity units at the peak")
    p.add_argument("--wcu", type=units, metavar="N", help="write capacity units at the peak")
    p.add_argument(
        "--index", type=text("an index name"), metavar="NAME", help="the GSI the peak is for"
    )
    p.add_argument(
        "--shards", type=whole(1, 100_000, "open shards"), metavar="N", help="stream: shards"
    )
    p.add_argument(
        "--warm",
        type=units_pair("warm read/write units a second", partial=True),
        metavar="R/W",
        help="on-demand table: pre-warm to R reads and W writes a second (irreversible, "
        "charged; R/ or /W keeps the other side)",
    )
    p.add_argument(
        "--policy",
        type=text("a policy name"),
        metavar="NAME",
        help="the reactive policy the event is compared with (default: the part's AAS policy, "
        "else capcon)",
    )
    p.add_argument(
        "--target",
        type=number(20, 90, "percent"),
        metavar="PERCENT",
        help="that policy's target, 20–90 (default: the AAS policy's, else 70)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON document")
    _store_flags(p)


def add_parser(sub: Any) -> None:
    """``event`` and its subcommands on the command parser ``sub``."""
    e = sub.add_parser(
        "event",
        help="plan, schedule, list and cancel planned events (scale ahead of a known spike)",
        description="Scale a table, GSI or stream ahead of a known spike and back down after "
        "it: a preview of the whole event (timeline, costs, partitions, the return's budget), "
        "then Application Auto Scaling scheduled actions, pre-warming or capcon's own stream "
        "schedule, audited.",
    )
    esub = e.add_subparsers(dest="event_command", metavar="SUBCOMMAND", required=True)

    p = esub.add_parser("plan", help="preview an event (changes nothing)")
    _event_flags(p)
    session_flags(p, top=False)

    a = esub.add_parser("apply", help="preview, confirm and schedule an event")
    _event_flags(a)
    a.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    a.add_argument(
        "--confirm-factor",
        type=number(0, 1_000_000, "a factor"),
        default=None,
        metavar="X",
        help="peaks of X× today's capacity or more need the resource name typed (default: "
        "confirm_factor in config.toml, else 4)",
    )
    session_flags(a, top=False)

    ls = esub.add_parser("ls", help="upcoming and recent events")
    ls.add_argument("--json", action="store_true", help="print one JSON document")
    _store_flags(ls)
    session_flags(ls, top=False)

    c = esub.add_parser("cancel", help="cancel an event (its scheduled actions or schedule)")
    c.add_argument("event_id", type=text("an event id"), metavar="ID")
    c.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    c.add_argument("--json", action="store_true", help="print one JSON document")
    _store_flags(c)
    session_flags(c, top=False)


def run(args: argparse.Namespace, session: Session) -> int:
    command = args.event_command
    if command in ("plan", "apply"):
        return run_plan(args, session, apply=command == "apply")
    if command == "ls":
        return run_ls(args, session)
    if command == "cancel":
        return run_cancel(args, session)
    raise UsageError(f"event {command}: choose one of {', '.join(SUBCOMMANDS)}")


# --------------------------------------------------------------------------------------------
# Where a stream's schedule lives
# --------------------------------------------------------------------------------------------


def default_state_path(session: Session) -> Path:
    """The local state file of stream schedules when ``--state`` is not given: beside the
    audit log, where ``capcon autoscale`` looks for it."""
    return session.audit.path.parent / "autoscale-state.json"


def schedule_store(
    args: argparse.Namespace, session: Session, stream: str | None = None
) -> tuple[StateStore, str]:
    """The state store of stream schedules and the words saying where it is: the deployed
    stack's state table with ``--stack`` (refused if the stack does not exist or its template
    does not name ``stream``), else the local file (``--state``, or the default)."""
    if args.stack is not None:
        if args.state is not None:
            raise UsageError("give --stack NAME or --state FILE, not both")
        return _stack_store(args.stack, session, stream)
    from capcon.core.services.state import FileStateStore, StateFileError

    path: Path = args.state if args.state is not None else default_state_path(session)
    store = FileStateStore(path)
    try:
        store.check()
    except StateFileError as error:
        raise UsageError(str(error)) from None
    return (
        store,
        f"the local state file {path} (`capcon autoscale --policy kinesis --state {path} "
        "--apply` executes it)",
    )


def _stack_store(stack: str, session: Session, stream: str | None) -> tuple[StateStore, str]:
    aws = getattr(session.backend, "session", None)
    if aws is None:
        raise UsageError(
            "--stack needs an AWS session (a deployed stack's state table): the simulated "
            "account keeps schedules in a local state file (--state FILE)"
        )
    from capcon.core.backends.aws.stacks import Stacks
    from capcon.core.backends.aws.statestore import DynamoStateStore
    from capcon.tui.cli.deploy_stack import state_table

    stacks = Stacks(aws, wait=session.wait)
    info = stacks.find(stack)
    if info is None:
        raise UsageError(f"no stack {printable(stack)} in this account and region")
    table = state_table(stacks, info)
    if table is None:
        raise UsageError(f"the stack {printable(stack)} has no state table (not a capcon stack?)")
    if stream is not None and stream not in json.dumps(stacks.template(stack)):
        raise UsageError(
            f"the stack {printable(stack)} does not manage stream {printable(stream)} (its "
            "template does not name it): its engine would not execute the schedule"
        )
    return DynamoStateStore(aws.dynamodb(), table), f"the stack {stack}'s state table {table}"


# --------------------------------------------------------------------------------------------
# plan and apply
# --------------------------------------------------------------------------------------------


def _when(flag: str, given: str, now: datetime) -> datetime:
    try:
        return parse_when(given, now)
    except ValueError as error:
        raise UsageError(f"{flag} {printable(given)!r}: {printable(str(error))}") from None


def _request(args: argparse.Namespace, resource: Table | Stream, now: datetime) -> EventRequest:
    """The event the flags ask for; a flag that does not fit the resource is a usage error."""
    start, end = _when("--start", args.start, now), _when("--end", args.end, now)
    if isinstance(resource, Stream):
        if args.rcu is not None or args.wcu is not None or args.index or args.warm is not None:
            raise UsageError(
                f"{printable(resource.name)} is a stream: give --shards N (--rcu, --wcu, "
                "--index and --warm are for tables)"
            )
        if args.shards is None:
            raise UsageError(f"{printable(resource.name)} is a stream: give --shards N")
        return EventRequest(resource.name, start, end, shards=args.shards)
    if args.shards is not None:
        raise UsageError(
            f"{printable(resource.name)} is a table: --shards is for streams; give --rcu/--wcu "
            "(provisioned) or --warm R/W (on-demand)"
        )
    if args.rcu is None and args.wcu is None and args.warm is None:
        raise UsageError(
            f"{printable(resource.name)}: give the peak: --rcu N and/or --wcu N (provisioned), "
            "or --warm R/W (on-demand)"
        )
    warm = None
    if args.warm is not None:
        current = resource.index(args.index).warm if args.index else resource.warm
        read, write = args.warm
        if (read is None or write is None) and current is None:
            raise UsageError(
                "the warm throughput of this table or index is not known: give both sides "
                "(--warm R/W)"
            )
        warm = WarmThroughput(
            read if read is not None else current.read_units_per_second if current else 0,
            write if write is not None else current.write_units_per_second if current else 0,
        )
    return EventRequest(
        resource.name, start, end, index=args.index, read=args.rcu, write=args.wcu, warm=warm
    )


def _reactive_policy(
    args: argparse.Namespace, state: EventState, dimension: str
) -> tuple[str, float]:
    """The policy and target reactive scaling is rehearsed with: ``--policy``/``--target``,
    else the part's AAS target-tracking policy on ``dimension``, else capcon's default."""
    policy = next((p for p in state.policies if dimension_word(p.dimension) == dimension), None)
    name = args.policy or ("aas" if policy is not None else DEFAULT_POLICY)
    target = args.target
    if target is None:
        target = policy.target_value if policy is not None else DEFAULT_TARGET
    from capcon.core.policies import TABLE_POLICIES

    if name not in TABLE_POLICIES:
        raise UsageError(
            f"--policy {printable(name)}: not a table policy (allowed: {', '.join(TABLE_POLICIES)})"
        )
    return name, float(target)


def _reactive(
    args: argparse.Namespace,
    session: Session,
    state: EventState,
    request: EventRequest,
    demand: dict[str, float],
) -> tuple[ReactiveEstimate | None, str]:
    """Reactive scaling rehearsed on the simulated account on the event's shape (the base
    demand now, a jump to the peak at the start, back at the end), and a line saying what it
    assumed; ``None`` where there is nothing to rehearse (a stream, an on-demand table)."""
    table = state.resource
    if not isinstance(table, Table):
        return None, "reactive scaling is not rehearsed for streams"
    dimension: Literal["read", "write"] = "write" if request.write is not None else "read"
    policy, target = _reactive_policy(args, state, dimension)
    base = demand.get(dimension, 0.0)
    peak = ((request.write if dimension == "write" else request.read) or 0) * (
        DEFAULT_TARGET_UTILISATION
    )
    from capcon.core.backends.sim.rehearsal import rehearse_event

    try:
        estimate = rehearse_event(
            table,
            request,
            policy=policy,
            target=target,
            targets=state.targets,
            base_demand=base,
            prices=session.books.prices,
            rules=session.books.rules,
        )
    except (ValueError, KeyError) as error:
        text = str(error)
        if not text.startswith(("reactive scaling", "no capacity peak")):
            text = f"reactive scaling could not be rehearsed: {text}"
        return None, text
    words = (
        f"{REHEARSED} {policy} at {target:g}% rehearsed on the simulated account, {dimension}s "
        f"{base:,.0f}/s now → {peak:,.0f}/s during the event (the peak asked at "
        f"{DEFAULT_TARGET_UTILISATION:.0%} use)"
    )
    return estimate, words


def make_plan(
    args: argparse.Namespace, session: Session
) -> tuple[EventPlan | Refusal, EventState, str]:
    """The event plan (or refusal) the flags ask for, on the state read now, and the line
    saying how reactive scaling was estimated."""
    resource, index = find_resource(session.backend, args.name)
    if index is not None:
        if args.index and args.index != index:
            raise UsageError(
                f"{printable(args.name)} names index {printable(index)}, but --index says "
                f"{printable(args.index)}"
            )
        args.index = index
    if args.index and isinstance(resource, Table):
        try:
            resource.index(args.index)
        except KeyError as error:
            raise UsageError(printable(str(error.args[0]))) from None
    now = session.backend.now()
    request = _request(args, resource, now)
    kind: Literal["table", "stream"] = "stream" if isinstance(resource, Stream) else "table"
    state = read_event_state(session.backend, resource.name, request.index, kind)
    books = session.books
    context = live_context(
        session.backend, state.resource, books.rules, books.prices, session.audit, session.controls
    )
    usage = context.usage.get(request.index) if kind == "table" else None
    demand = (
        {"read": usage.read + usage.throttled_read, "write": usage.write + usage.throttled_write}
        if usage is not None
        else {}
    )
    reactive, reactive_words = _reactive(args, session, state, request, demand)
    result = plan_event(
        state.resource,
        request,
        now,
        rules=books.rules,
        prices=books.prices,
        targets=state.targets,
        policies=state.policies,
        scheduled=state.scheduled,
        reshard_history=context.reshard_history,
        reactive=reactive,
        usage=usage,
        update_seconds=session.update_seconds or 60,
        engine_tick=timedelta(minutes=1),
    )
    return result, state, reactive_words


def _at(moment: datetime | None) -> str:
    return "—" if moment is None else f"{moment:%Y-%m-%d %H:%M} UTC"


def _usd(value: float | None) -> str:
    return "unknown" if value is None else f"${value:,.2f}"


def plan_lines(plan: EventPlan, reactive_words: str) -> list[str]:
    """The preview of an event in words (plain text; the caller escapes it)."""
    lines = [
        f"event {plan.event_id} · {plan.label}",
        f"how: {plan.how} · price book: {plan.price_book}",
    ]
    for key in sorted(set(plan.before) | set(plan.peak) | set(plan.after)):
        lines.append(
            f"  {key}: {plan.before.get(key, '?'):,} now → {plan.peak.get(key, '?'):,} at the "
            f"peak → {plan.after.get(key, '?'):,} after the return"
            if all(isinstance(d.get(key), int) for d in (plan.before, plan.peak, plan.after))
            else f"  {key}: {plan.before.get(key)} → {plan.peak.get(key)} → {plan.after.get(key)}"
        )
    lines.append("timeline:")
    for step in plan.timeline:
        lines.append(f"  {step.at:%Y-%m-%d %H:%M} UTC  {step.kind:<8} {step.what}")
    lines.append("costs over the event:")
    for cost in plan.costs:
        served = f" · {cost.served:.1%} served" if cost.served is not None else ""
        note = f" — {cost.note}" if cost.note else ""
        lines.append(f"  {cost.label}: {_usd(cost.usd)}{served}{note}")
    if reactive_words.startswith(REHEARSED):  # why none was rehearsed: the cost's own note
        lines.append(f"  ({reactive_words})")
    lines.append(
        f"partitions: {plan.partitions_before:,} → {plan.partitions_after:,}"
        + (
            " (permanent: partitions never merge)"
            if plan.partitions_after > plan.partitions_before
            else ""
        )
    )
    if plan.per_partition_after_return is not None:
        read, write = plan.per_partition_after_return
        lines.append(
            f"  after the return each partition carries {read:,.0f} reads and {write:,.0f} "
            "writes a second"
        )
    lines.append(
        f"return: {'allowed' if plan.return_allowed else 'NOT ALLOWED'} — {plan.return_note}"
    )
    for target in plan.registers:
        lines.append(
            f"registers a scheduled-only target {target.resource_id} "
            f"{dimension_word(target.dimension)}: min {target.min_capacity:,}, max "
            f"{target.max_capacity:,}"
        )
    for action in plan.actions:
        bounds = ", ".join(
            f"{word} {value:,}"
            for word, value in (("min", action.min_capacity), ("max", action.max_capacity))
            if value is not None
        )
        lines.append(f"scheduled action {action.name}: {action.schedule} → {bounds}")
    if plan.warm is not None:
        lines.append(
            f"pre-warms to {plan.warm.read_units_per_second:,} reads and "
            f"{plan.warm.write_units_per_second:,} writes a second at apply (irreversible, "
            "charged)"
        )
    for reshard in plan.reshards:
        lines.append(f"reshard at {_at(reshard.at)}: {reshard.shards:,} shards ({reshard.phase})")
    for warning in plan.warnings:
        lines.append(f"warning: {warning.message}")
    for alternative in plan.alternatives:
        lines.append(f"alternative: {alternative}")
    for assumption in plan.assumptions:
        lines.append(f"assumes: {assumption}")
    return lines


def _print_lines(lines: list[str]) -> None:
    for line in lines:
        print(printable(line))


def _emit_refusal(refusal: Refusal, as_json: bool) -> int:
    if as_json:
        print_json({"outcome": "refused", **to_jsonable(refusal)})
    else:
        from capcon.tui.cli.output import console
        from capcon.tui.render import render_refusal

        console().print(render_refusal(refusal))
    return EXIT_REFUSED


def confirm(
    plan: EventPlan, args: argparse.Namespace, threshold: float, *, production: bool
) -> bool:
    """Ask before scheduling, as ``capcon scale`` does: the resource name typed for a big
    peak (``threshold``× today's capacity or more), for pre-warming (irreversible) and on a
    production profile, else y/N."""
    if args.yes:
        return True
    factors = [
        plan.peak[key] / max(1, plan.before[key])
        for key in plan.peak
        if isinstance(plan.before.get(key), int)
    ]
    big = any(f >= threshold for f in factors) or any(
        w.code in ("big-increase", "prewarm-irreversible") for w in plan.warnings
    )
    irreversible = plan.warm is not None
    if not (big or irreversible or production):
        return ask("Schedule this event? [y/N] ")
    require_terminal()
    why = "Production profile"
    if big:
        why = "Big change"
    if irreversible:
        why = "Irreversible change (pre-warming)"
    resource = plan.request.resource
    answer = input(printable(f"{why}. Type the resource name ({resource}) to schedule: "))
    return answer.strip() == resource


def run_plan(args: argparse.Namespace, session: Session, *, apply: bool) -> int:
    if apply:
        refuse_if_read_only(
            session.read_only, "events cannot be scheduled; `capcon event plan` previews one"
        )
        if args.json and not args.yes:
            raise UsageError("--json needs --yes (there is no prompt in JSON mode)")
    result, _state, reactive_words = make_plan(args, session)
    if isinstance(result, Refusal):
        return _emit_refusal(result, args.json)
    plan = result
    store: StateStore | None = None
    where = ""
    if plan.kind == "stream" and plan.reshards:
        store, where = schedule_store(args, session, plan.request.resource)
    if not apply:
        if args.json:
            print_json({"outcome": "plan", **to_jsonable(plan), "reactive": reactive_words,
                        "schedule_store": where or None})  # fmt: skip
        else:
            _print_lines(plan_lines(plan, reactive_words))
            if where:
                print(printable(f"the stream schedule would be kept in {where}"))
            print("preview only: `capcon event apply` with the same flags schedules it")
        return EXIT_OK
    if not args.json:
        _print_lines(plan_lines(plan, reactive_words))
        if where:
            print(printable(f"the stream schedule will be kept in {where}"))
    factor = args.confirm_factor
    if factor is None:
        factor = session.config.confirm_factor
    production = is_production(session.config, session.profile)
    if not confirm(plan, args, factor, production=production):
        print("not scheduled: nothing was changed")
        return EXIT_REFUSED

    def report(progress: Progress) -> None:
        if not args.json:
            print(printable(f"  [{progress.fraction:4.0%}] {progress.message}"), flush=True)

    with interruptible():  # SIGINT/SIGTERM/SIGHUP: recorded "interrupted", then exit
        outcome = session.scaler().apply_event(plan, progress=report, schedules=store)
    show_notices(session.audit.take_notices())
    return _emit_outcome(args, session, outcome, event_summary(plan), plan.event_id, where,
                         to_jsonable(plan))  # fmt: skip


def _emit_outcome(
    args: argparse.Namespace,
    session: Session,
    outcome: ApplyResult,
    summary: str,
    event_id: str,
    where: str,
    plan: Any,
) -> int:
    if args.json:
        print_json(
            {
                "outcome": outcome.outcome,
                "change_id": outcome.change_id,
                "event_id": event_id,
                "error": outcome.error,
                "notes": list(outcome.notes),
                "schedule_store": where or None,
                "plan": plan,
            }
        )
    else:
        report_outcome(outcome, summary, session.audit.path)
        if where and outcome.outcome == "applied":
            print(printable(f"the stream schedule is kept in {where}"))
    return outcome_exit(outcome.outcome)


# --------------------------------------------------------------------------------------------
# ls and cancel
# --------------------------------------------------------------------------------------------


def _schedules(
    args: argparse.Namespace, session: Session
) -> tuple[tuple[StreamSchedule, ...], StateStore | None, str]:
    """The stream schedules kept where ``--stack``/``--state`` (or the default file) say;
    a default file that does not exist holds none."""
    from capcon.core.services.schedules import read_schedules

    if args.stack is None and args.state is None and not default_state_path(session).exists():
        return (), None, ""
    store, where = schedule_store(args, session)
    read = read_schedules(store)  # an entry that cannot be read is named, the rest listed
    show_notices([f"{where}: {problem}" for problem in read.problems])
    return tuple(s.schedule for s in read.schedules), store, where


def collect_events(
    args: argparse.Namespace, session: Session
) -> tuple[
    list[EventRecord], tuple[ScalableTarget, ...], tuple[ScalingPolicy, ...], StateStore | None, str
]:
    backend = session.backend
    actions = tuple(backend.describe_scheduled_actions())
    schedules, store, where = _schedules(args, session)
    records = list_events(actions, schedules, backend.now())
    targets = tuple(backend.describe_scalable_targets())
    policies = tuple(backend.describe_scaling_policies())
    return records, targets, policies, store, where


def auto_scaling_words(
    record: EventRecord, targets: tuple[ScalableTarget, ...], policies: tuple[ScalingPolicy, ...]
) -> str:
    """How an event plays with auto scaling: a capcon event on a target with a policy raises
    and restores its min/max; on a target without one it is a *scheduled-only* target of the
    event (not the "registered but no policy" trap)."""
    if record.kind == "stream":
        return "capcon's stream schedule"
    keys = {(a.resource_id, a.dimension) for a in record.actions}
    if not keys:
        return ""
    with_policy = {(p.resource_id, p.dimension) for p in policies}
    registered = {(t.resource_id, t.dimension) for t in targets}
    if record.source == "capcon" and all(k in registered and k not in with_policy for k in keys):
        return f"scheduled-only (event {record.event_id})"
    if all(k in with_policy for k in keys):
        return "auto scaling min/max raised and restored"
    if any(k not in registered for k in keys):
        return "target not registered"
    return "partly scheduled-only"


def _peak_words(peak: dict[str, int]) -> str:
    return ", ".join(f"{key} {value:,}" for key, value in sorted(peak.items())) or "—"


def run_ls(args: argparse.Namespace, session: Session) -> int:
    records, targets, policies, _store, where = collect_events(args, session)
    if args.json:
        print_json(
            {
                "events": [
                    {**r.to_json(), "auto_scaling": auto_scaling_words(r, targets, policies)}
                    for r in records
                ],
                "schedule_store": where or None,
            }
        )
        return EXIT_OK
    if not records:
        print("no planned events (no scheduled action, no stream schedule)")
        if where:
            print(printable(f"stream schedules read from {where}"))
        return EXIT_OK
    from rich.table import Table as RichTable
    from rich.text import Text

    from capcon.tui.cli.output import console

    table = RichTable(box=None, pad_edge=False)
    for header in ("ID", "RESOURCE", "SOURCE", "START", "END", "STATUS", "PEAK", "AUTO SCALING"):
        table.add_column(header, no_wrap=True, overflow="ellipsis")
    for record in records:
        name = f"{record.resource}/{record.index}" if record.index else record.resource
        cells = (
            record.event_id, name, record.source, _at(record.start), _at(record.end),
            record.status, _peak_words(record.peak), auto_scaling_words(record, targets, policies),
        )  # fmt: skip
        table.add_row(*(Text(printable(cell)) for cell in cells))
    console(wide=True).print(table)
    print()
    for record in records:  # the words in full, one event a paragraph
        print(printable(f"{record.event_id}: {record.summary}"))
        for note in record.notes:
            print(printable(f"  note: {note}"))
    if where:
        print(printable(f"stream schedules read from {where}"))
    return EXIT_OK


def run_cancel(args: argparse.Namespace, session: Session) -> int:
    refuse_if_read_only(
        session.read_only, "events cannot be cancelled; `capcon event ls` lists them"
    )
    if args.json and not args.yes:
        raise UsageError("--json needs --yes (there is no prompt in JSON mode)")
    wanted = args.event_id.strip()
    if not is_event_id(wanted):
        raise UsageError(
            f"{printable(args.event_id)!r} is not an event id: expected one as `capcon event "
            "ls` shows it (letters, digits, _ . -; capcon's are 8 hexadecimal digits)"
        )
    records, _targets, _policies, store, where = collect_events(args, session)
    record = next((r for r in records if r.source == "capcon" and r.event_id == wanted), None)
    if record is None:
        known = sorted({r.event_id for r in records if r.source == "capcon"})
        raise UsageError(
            f"no capcon event {wanted} (events: {', '.join(known) or 'none'}"
            + (f"; stream schedules read from {printable(where)}" if where else "")
            + ")"
        )
    if record.kind == "stream" and store is None:
        store, where = schedule_store(args, session)
    if not args.json:
        print(
            printable(
                f"event {record.event_id} · {record.resource} · {record.status} · {record.summary}"
            )
        )
        for action in record.actions:
            print(printable(f"  scheduled action {action.name}: {action.schedule}"))
        if record.status == "running":
            print("  it is running: cancelling ends it now (the restore is brought forward)")
    if not args.yes and not ask(f"Cancel event {record.event_id}? [y/N] "):
        print("not cancelled: nothing was changed")
        return EXIT_REFUSED

    def report(progress: Progress) -> None:
        if not args.json:
            print(printable(f"  [{progress.fraction:4.0%}] {progress.message}"), flush=True)

    with interruptible():
        outcome = session.scaler().cancel_event(record, progress=report, schedules=store)
    show_notices(session.audit.take_notices())
    summary = f"cancel event {record.event_id} on {record.resource}"
    return _emit_outcome(args, session, outcome, summary, record.event_id, where,
                         to_jsonable(record))  # fmt: skip


__all__ = ["add_parser", "auto_scaling_words", "make_plan", "plan_lines", "run"]
