"""``capcon deploy template``: the CloudFormation template of a stack, as JSON on stdout or in
``--out FILE``.  Changes nothing.

The tables and streams are read through the session (``--sim``, ``--endpoint-url`` or AWS):
their capacity now gives the alarms' first thresholds and their GSIs the dimensions.  Names
that do not exist are refused with the names that do; an on-demand table or stream is noted
on stderr (nothing to scale).  The template passes capcon's own checks
(:func:`capcon.core.deploy.checks.check_template`) or is not printed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from capcon.core.deploy.checks import check_template
from capcon.core.deploy.spec import DeployError, DeploySpec
from capcon.core.deploy.template import build_template, managed_dimensions
from capcon.core.model import Stream, Table
from capcon.core.ports import Backend, Scalable, resource_id
from capcon.tui.bootstrap import Session, open_session
from capcon.tui.cli.output import EXIT_OK, EXIT_REFUSED, error_line, print_json
from capcon.tui.errors import UsageError
from capcon.tui.text import printable


def _unknown(kind: str, asked: Sequence[str], known: Sequence[str]) -> None:
    missing = [n for n in asked if n not in set(known)]
    if missing:
        raise UsageError(
            f"no {kind} named {', '.join(missing)} (the account has: "
            f"{', '.join(sorted(known)) or 'none'})"
        )


def read_resources(
    backend: Backend, tables: Sequence[str], streams: Sequence[str]
) -> tuple[list[Table], list[Stream]]:
    """The named tables and streams as they are now; :class:`UsageError` listing what exists
    for a name that does not."""
    if tables:
        _unknown("table", tables, backend.list_tables())
    if streams:
        _unknown("stream", streams, backend.list_streams())
    found_tables = backend.describe_tables(list(dict.fromkeys(tables))) if tables else []
    found_streams = backend.describe_streams(list(dict.fromkeys(streams))) if streams else []
    return found_tables, found_streams


def build_spec(
    args: argparse.Namespace, tables: Sequence[Table], streams: Sequence[Stream]
) -> DeploySpec:
    """The stack's spec from the flags and what was read (notes for what is left alone)."""
    native_given = list(dict.fromkeys(args.native_aas))
    outside = [n for n in native_given if n not in {t.name for t in tables}]
    if outside:
        raise UsageError(
            f"--native-aas {', '.join(outside)}: also give them in --tables "
            "(the native AAS tables are among the stack's tables)"
        )
    native = [t.name for t in tables] if args.policy == "aas" else native_given
    managed, notes = managed_dimensions(tables, streams, native)
    on_demand = {t.name for t in tables if t.is_on_demand}
    kwargs: dict[str, object] = {}
    if args.tick_minutes is not None:
        kwargs["tick_minutes"] = args.tick_minutes
    return DeploySpec(
        stack=args.stack,
        policy=args.policy,
        target=args.target,
        managed=managed,
        native_aas=tuple(n for n in native if n not in on_demand),
        bounds=(args.min, args.max),
        shard_bounds=(args.min_shards, args.max_shards),
        notes=notes,
        **kwargs,  # type: ignore[arg-type]
    )


def refuse_aas_conflicts(backend: Backend, spec: DeploySpec) -> None:
    """:class:`UsageError` when a dimension the Lambda would scale already has an Application
    Auto Scaling policy: each would undo the other's changes at its next alarm (AAS user
    guide).  The way out is named: give the table as ``--native-aas`` or remove its policy."""
    if not any(s.kind != "stream" for s in spec.managed):
        return
    from capcon.core.services.overview import auto_scaling_by_resource

    aas = auto_scaling_by_resource(backend)
    clashes: list[Scalable] = []
    for scalable in spec.managed:
        state = aas.get(resource_id(scalable.name, scalable.index))
        if scalable.kind == "stream" or state is None:
            continue
        word = "ReadCapacityUnits" if scalable.dimension == "read" else "WriteCapacityUnits"
        if any(p.dimension.endswith(word) for p in state.policies):
            clashes.append(scalable)
    if clashes:
        tables = sorted({s.name for s in clashes})
        raise UsageError(
            f"{', '.join(s.key for s in clashes)} already scaled by an Application Auto "
            "Scaling policy: the engine and AAS would undo each other's changes. Give "
            f"--native-aas {','.join(tables)} to keep AAS on them, or remove their policies "
            "first (capcon aas TABLE --off)"
        )


def template_for(args: argparse.Namespace, session: Session) -> dict[str, object]:
    """The checked template for the flags; :class:`UsageError` for bad flags or names,
    :class:`DeployError` for a template capcon refuses."""
    if not args.tables and not args.streams:
        raise UsageError("nothing to deploy: give --tables and/or --streams")
    tables, streams = read_resources(session.backend, args.tables, args.streams)
    spec = build_spec(args, tables, streams)
    refuse_aas_conflicts(session.backend, spec)
    for note in spec.notes:
        print(f"capcon: note: {printable(note)}", file=sys.stderr)
    problems = spec.problems()
    if problems:
        raise UsageError("; ".join(problems))
    template = build_template(spec, tables=tables, streams=streams)
    failed = check_template(template)
    if failed:
        raise DeployError("the template fails capcon's checks: " + "; ".join(failed))
    return template


def run(args: argparse.Namespace) -> int:
    if args.min > args.max:
        raise UsageError(f"--min {args.min} is above --max {args.max}")
    if args.min_shards > args.max_shards:
        raise UsageError(f"--min-shards {args.min_shards} is above --max-shards {args.max_shards}")
    session = open_session(args)
    try:
        template = template_for(args, session)
    except DeployError as error:
        error_line(f"refused: {error}")
        return EXIT_REFUSED
    if args.out is None:
        print_json(template)
        return EXIT_OK
    try:
        args.out.write_text(json.dumps(template, indent=2) + "\n", encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot write {args.out}: {error.strerror or error}") from None
    print(
        f"capcon: wrote the template of stack {printable(args.stack)} to "
        f"{printable(str(args.out))}",
        file=sys.stderr,
    )
    return EXIT_OK
