"""``capcon plan``: preview a capacity change (live, or on a described resource); also the
change flags ``scale`` shares."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from capcon.core.backends.aws.describe import (
    MAX_DOCUMENT_BYTES,
    DescribeError,
    document_from_json,
    resource_from_document,
)
from capcon.core.model import BillingMode, Stream, Table, Throughput
from capcon.core.planning.planner import PlanContext, Refusal, ScalePlan, Usage, plan
from capcon.core.planning.requests import Change, ShardChange
from capcon.core.ports import TableChange
from capcon.core.services.inspect import find_resource, live_context
from capcon.tui.bootstrap import Session, load_books, open_session, user_config
from capcon.tui.cli.output import emit_plan
from capcon.tui.errors import UsageError
from capcon.tui.text import printable


def run(args: argparse.Namespace) -> int:
    if args.describe is None:
        if not args.name:
            raise UsageError("plan needs a NAME (live) or --describe FILE")
        _, result = live_plan(args, open_session(args))
        return emit_plan(result, args.json)
    if args.name:
        raise UsageError("give either NAME (live) or --describe FILE, not both")
    resource = load_resource(args.describe)
    change = change_from_args(args, resource)
    books = load_books(args, _region_of(resource, getattr(args, "region", None)), user_config())
    result = plan(
        resource,
        change,
        args.now if args.now is not None else datetime.now(UTC),
        rules=books.rules,
        prices=books.prices,
        context=context_from_args(args),
    )
    return emit_plan(result, args.json)


def live_plan(
    args: argparse.Namespace, session: Session
) -> tuple[Table | Stream, ScalePlan | Refusal]:
    """The plan (or refusal) for the change the flags ask of the live resource ``args.name``."""
    resource, index = find_resource(session.backend, args.name)
    if index is not None:
        if args.index and args.index != index:
            raise UsageError(f"{args.name} names index {index}, but --index says {args.index}")
        args.index = index
    change = change_from_args(args, resource)
    books = session.books
    context = live_context(
        session.backend, resource, books.rules, books.prices, session.audit, session.controls
    )
    result = plan(
        resource,
        change,
        session.backend.now(),
        rules=books.rules,
        prices=books.prices,
        context=context,
    )
    return resource, result


# --------------------------------------------------------------------------------------------
# The change the flags ask for
# --------------------------------------------------------------------------------------------


def change_from_args(args: argparse.Namespace, resource: Table | Stream) -> Change:
    capacity_flags = args.rcu is not None or args.wcu is not None
    if isinstance(resource, Stream):
        if capacity_flags or args.index or args.mode:
            raise UsageError(
                f"{resource.name} is a stream: use --shards N (--rcu, --wcu, --index and "
                "--mode are for tables)"
            )
        if args.shards is None:
            raise UsageError(f"{resource.name} is a stream: give --shards N")
        return ShardChange(args.shards, args.strategy)
    if args.shards is not None:
        raise UsageError(f"{resource.name} is a table: --shards is for streams; use --rcu/--wcu")
    if not capacity_flags and args.mode is None:
        raise UsageError(f"{resource.name}: give --wcu and/or --rcu, or --mode")
    mode = None
    if args.mode is not None:
        mode = BillingMode.PAY_PER_REQUEST if args.mode == "on-demand" else BillingMode.PROVISIONED
    if args.index:
        try:
            current = resource.index(args.index).provisioned
        except KeyError as error:
            raise UsageError(str(error.args[0])) from None
        if not capacity_flags:
            raise UsageError("--index needs --rcu and/or --wcu")
        return TableChange(indexes=((args.index, _merge(current, args)),), billing_mode=mode)
    if not capacity_flags:
        return TableChange(billing_mode=mode)
    return TableChange(table=_merge(resource.provisioned, args), billing_mode=mode)


def _merge(current: Throughput | None, args: argparse.Namespace) -> Throughput:
    """The requested capacity: flags given, the rest kept from ``current``."""
    if current is None and (args.rcu is None or args.wcu is None):
        raise UsageError(
            "this table or index is on-demand: give both --rcu and --wcu to switch it to "
            "provisioned"
        )
    read = args.rcu if args.rcu is not None else current.read if current else 0
    write = args.wcu if args.wcu is not None else current.write if current else 0
    return Throughput(read, write)


def context_from_args(args: argparse.Namespace) -> PlanContext:
    part = args.index if args.index else None
    usage = {}
    if args.consumed_rcu is not None or args.consumed_wcu is not None:
        usage[part] = Usage(args.consumed_rcu or 0.0, args.consumed_wcu or 0.0)
    previous = {} if args.previous_partitions is None else {part: args.previous_partitions}
    return PlanContext(
        usage=usage,
        previous_partitions=previous,
        auto_scaled=frozenset({part}) if args.auto_scaled else frozenset(),
    )


# --------------------------------------------------------------------------------------------
# A resource described in a file
# --------------------------------------------------------------------------------------------


def _load_json(path: Path | Traversable) -> Any:
    """The JSON in the describe file ``path``: UTF-8, at most a few levels deep
    (:func:`~capcon.core.backends.aws.describe.document_from_json`), or a usage error."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_DOCUMENT_BYTES + 1)
    except FileNotFoundError:
        raise UsageError(f"{_shown(path)}: no such file") from None
    except OSError as error:
        raise UsageError(f"{_shown(path)}: cannot be read ({error.strerror})") from None
    except ValueError as error:  # an embedded NUL in the name
        raise UsageError(f"{_shown(path)}: cannot be read ({error})") from None
    try:
        return document_from_json(data)
    except DescribeError as error:
        raise UsageError(f"{_shown(path)}: {error}") from None


def _shown(path: Path | Traversable) -> str:
    return printable(str(path))


def load_resource(path: Path | Traversable) -> Table | Stream:
    document = _load_json(path)
    if not isinstance(document, dict):
        raise UsageError(f"{_shown(path)}: expected a JSON object at the top")
    try:
        return resource_from_document(document)
    except DescribeError as error:
        raise UsageError(f"{_shown(path)}: {error}") from None


def _region_of(resource: Table | Stream, explicit: str | None) -> str:
    if explicit:
        return explicit
    arn = resource.arn or ""
    fields = arn.split(":")
    return fields[3] if len(fields) > 3 and fields[3] else "us-east-1"
