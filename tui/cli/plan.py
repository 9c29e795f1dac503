"""``capcon plan``: preview a capacity change (live, or on a described resource); also the
change flags ``scale`` shares."""

from __future__ import annotations

import argparse
import dataclasses
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
from capcon.core.config.settings import Config
from capcon.core.jsonable import to_jsonable
from capcon.core.model import (
    BillingMode,
    Stream,
    StreamMode,
    Table,
    TableClass,
    Throughput,
    WarmThroughput,
)
from capcon.core.planning.planner import (
    DEFAULT_TARGET_UTILISATION,
    PlanContext,
    Proposal,
    Refusal,
    ScalePlan,
    ShardProposal,
    StreamTraffic,
    Usage,
    plan,
    propose,
    propose_shards,
)
from capcon.core.planning.requests import Change, ShardChange
from capcon.core.ports import TableChange
from capcon.core.rules import AccountShards, RuleSettings
from capcon.core.services.inspect import find_resource, live_context
from capcon.tui.bootstrap import Session, load_books, open_session, user_config
from capcon.tui.cli.output import EXIT_OK, EXIT_REFUSED, emit_plan, print_json
from capcon.tui.errors import UsageError
from capcon.tui.text import printable


def run(args: argparse.Namespace) -> int:
    traffic_flags = (args.incoming_bytes, args.incoming_records, args.outgoing_bytes)
    if args.describe is None:
        if not args.name:
            raise UsageError("plan needs a NAME (live) or --describe FILE")
        if any(value is not None for value in traffic_flags):
            raise UsageError(
                "--incoming-bytes, --incoming-records and --outgoing-bytes describe a stream "
                "read from --describe FILE; a live stream's traffic comes from CloudWatch"
            )
        resource, result, context, rules = _live(args, open_session(args))
        return _emit(result, _proposal(args, resource, context, rules, live=True), args.json)
    if args.name:
        raise UsageError("give either NAME (live) or --describe FILE, not both")
    resource = load_resource(args.describe)
    change = change_from_args(args, resource)
    region = _region_of(resource, getattr(args, "region", None))
    config = user_config()
    books = load_books(args, region, config)
    context = context_from_args(args)
    if isinstance(resource, Stream):
        context = stream_context_from_args(args, resource, region)
    if isinstance(resource, Table):
        context = with_replica_prices(context, resource, args, config)
    result = plan(
        resource,
        change,
        args.now if args.now is not None else datetime.now(UTC),
        rules=books.rules,
        prices=books.prices,
        context=context,
    )
    return _emit(result, _proposal(args, resource, context, books.rules), args.json)


def live_plan(
    args: argparse.Namespace, session: Session
) -> tuple[Table | Stream, ScalePlan | Refusal]:
    """The plan (or refusal) for the change the flags ask of the live resource ``args.name``."""
    resource, result, _, _ = _live(args, session)
    return resource, result


def _live(
    args: argparse.Namespace, session: Session
) -> tuple[Table | Stream, ScalePlan | Refusal, PlanContext, RuleSettings]:
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
    context = dataclasses.replace(context, target_utilisation=_target(args))
    if isinstance(resource, Table):
        context = with_replica_prices(context, resource, args, session.config)
    result = plan(
        resource,
        change,
        session.backend.now(),
        rules=books.rules,
        prices=books.prices,
        context=context,
    )
    return resource, result, context, books.rules


def _target(args: argparse.Namespace) -> float:
    """``--target`` (percent) as a utilisation, 0.7 without it."""
    target = getattr(args, "target", None)
    return DEFAULT_TARGET_UTILISATION if target is None else float(target) / 100


def _proposal(
    args: argparse.Namespace,
    resource: Table | Stream,
    context: PlanContext,
    rules: RuleSettings,
    *,
    live: bool = False,
) -> Proposal | ShardProposal | None:
    """The capacity that serves the part's demand at ``--target`` (the scale dialog's
    proposal), when the part's use is known."""
    if isinstance(resource, Stream):
        return propose_shards(resource, context, rules)
    proposal = propose(resource, args.index or None, context, rules)
    if live or proposal is None or proposal.current is None:
        return proposal  # live use is measured for both dimensions
    # a dimension whose use was not given keeps its capacity (no flag is not "no traffic")
    unknown = tuple(
        dimension
        for dimension, given in (
            ("read", (args.consumed_rcu, getattr(args, "throttled_rcu", None))),
            ("write", (args.consumed_wcu, getattr(args, "throttled_wcu", None))),
        )
        if all(value is None for value in given)
    )
    if not unknown:
        return proposal
    current, capacity = proposal.current, proposal.capacity
    kept = Throughput(
        current.read if "read" in unknown else capacity.read,
        current.write if "write" in unknown else capacity.write,
    )
    return dataclasses.replace(proposal, capacity=kept, unknown=unknown)


def _emit(
    result: ScalePlan | Refusal, proposal: Proposal | ShardProposal | None, as_json: bool
) -> int:
    """The plan (or refusal) as :func:`emit_plan` prints it, with the proposal: a line after
    the panel, or ``"proposal"`` in the JSON document (``null`` when use is not known)."""
    if as_json:
        refused = isinstance(result, Refusal)
        print_json(
            {
                "outcome": "refused" if refused else "plan",
                **to_jsonable(result),
                "proposal": to_jsonable(proposal),
            }
        )
        return EXIT_REFUSED if refused else EXIT_OK
    code = emit_plan(result, as_json)
    if proposal is not None:
        print(printable(f"proposal: {proposal.line}"))
    return code


def with_replica_prices(
    context: PlanContext, table: Table, args: argparse.Namespace, config: Config
) -> PlanContext:
    """``context`` with the price book of each replica region of a global table (the same
    price files as the session's own book; a region without prices borrows us-east-1's, and
    the plan says so)."""
    if not table.is_global:
        return context
    books = {r.region: load_books(args, r.region, config).prices for r in table.replicas}
    return dataclasses.replace(context, replica_prices=books)


# --------------------------------------------------------------------------------------------
# The change the flags ask for
# --------------------------------------------------------------------------------------------


def change_from_args(args: argparse.Namespace, resource: Table | Stream) -> Change:
    capacity_flags = args.rcu is not None or args.wcu is not None
    index_caps: list[tuple[str, int, int]] = getattr(args, "index_capacity", None) or []
    warm: tuple[int | None, int | None] | None = getattr(args, "warm", None)
    max_read: int | None = getattr(args, "max_read", None)
    max_write: int | None = getattr(args, "max_write", None)
    limit_flags = max_read is not None or max_write is not None
    extra_flags = warm is not None or limit_flags or bool(index_caps)
    table_class = getattr(args, "table_class", None)
    if isinstance(resource, Stream):
        if capacity_flags or args.index or args.mode or extra_flags or table_class:
            raise UsageError(
                f"{resource.name} is a stream: use --shards N (--rcu, --wcu, --index, "
                "--index-capacity, --warm, --max-read, --max-write, --mode and --class are for "
                "tables)"
            )
        if args.shards is None and resource.mode is StreamMode.ON_DEMAND:
            raise UsageError(
                f"{resource.name} is an on-demand stream: AWS manages its shards, so there is no"
                " capacity to plan (--shards N is for provisioned streams)"
            )
        if args.shards is None:
            raise UsageError(f"{resource.name} is a stream: give --shards N")
        return ShardChange(args.shards, args.strategy)
    if args.shards is not None:
        raise UsageError(f"{resource.name} is a table: --shards is for streams; use --rcu/--wcu")
    if table_class is not None:
        if capacity_flags or args.mode is not None or args.index or extra_flags:
            raise UsageError(
                "--class switches the table class on its own: leave out --rcu, --wcu, --index, "
                "--index-capacity, --warm, --max-read, --max-write and --mode (AWS's class "
                "switch is planned and applied as one request)"
            )
        return TableChange(
            table_class=TableClass.STANDARD_INFREQUENT_ACCESS
            if table_class == "standard-ia"
            else TableClass.STANDARD
        )
    if not capacity_flags and args.mode is None and not extra_flags:
        raise UsageError(
            f"{resource.name}: give --wcu and/or --rcu, --index-capacity, --warm, --max-read/"
            "--max-write, --mode, or --class"
        )
    mode = None
    if args.mode is not None:
        mode = BillingMode.PAY_PER_REQUEST if args.mode == "on-demand" else BillingMode.PROVISIONED
    if args.index:
        if index_caps:
            raise UsageError(
                "give either --index NAME with --rcu/--wcu, or --index-capacity NAME=R/W "
                "(repeatable), not both"
            )
        try:
            index = resource.index(args.index)
        except KeyError as error:
            raise UsageError(printable(str(error.args[0]))) from None
        if not capacity_flags and warm is None and not limit_flags:
            raise UsageError("--index needs --rcu and/or --wcu, --warm or --max-read/--max-write")
        caps = ((args.index, _merge(index.provisioned, args)),) if capacity_flags else ()
        warms = ((args.index, _warm(index.warm, warm)),) if warm is not None else ()
        limits = (
            ((args.index, _limit(index.on_demand_max, max_read, max_write)),) if limit_flags else ()
        )
        return TableChange(
            indexes=caps, billing_mode=mode, index_warm=warms, index_on_demand_max=limits
        )
    indexes: dict[str, Throughput] = {}
    for name, read, write in index_caps:
        try:
            resource.index(name)
        except KeyError as error:
            raise UsageError(printable(str(error.args[0]))) from None
        if name in indexes:
            raise UsageError(f"--index-capacity gives {printable(name)} twice")
        indexes[name] = Throughput(read, write)
    if mode is BillingMode.PROVISIONED and resource.is_on_demand:
        lacking = [i.name for i in resource.indexes if i.name not in indexes]
        missing = [] if capacity_flags else [f"table {resource.name} (--rcu R --wcu W)"]
        missing += [f"GSI {name} (--index-capacity {name}=R/W)" for name in lacking]
        if missing:
            raise UsageError(
                printable(
                    f"{resource.name}: a switch to provisioned sets every part's capacity in one "
                    "request; still lacking: " + ", ".join(missing)
                )
            )
    return TableChange(
        table=_merge(resource.provisioned, args) if capacity_flags else None,
        indexes=tuple(indexes.items()),
        billing_mode=mode,
        warm=_warm(resource.warm, warm) if warm is not None else None,
        on_demand_max=_limit(resource.on_demand_max, max_read, max_write) if limit_flags else None,
    )


def _warm(current: WarmThroughput | None, asked: tuple[int | None, int | None]) -> WarmThroughput:
    """The requested warm throughput: a side left empty (``R/``, ``/W``) keeps today's value."""
    read, write = asked
    if (read is None or write is None) and current is None:
        raise UsageError(
            "the warm throughput of this table or index is not known: give both sides (--warm R/W)"
        )
    return WarmThroughput(
        read if read is not None else current.read_units_per_second if current else 0,
        write if write is not None else current.write_units_per_second if current else 0,
    )


def _limit(current: Throughput | None, read: int | None, write: int | None) -> Throughput:
    """The requested on-demand maximum: a flag not given keeps today's value (0: none)."""
    now = current or Throughput(0, 0)
    return Throughput(
        read if read is not None else now.read, write if write is not None else now.write
    )


def _merge(current: Throughput | None, args: argparse.Namespace) -> Throughput:
    """The requested capacity: flags given, the rest kept from ``current``."""
    if current is None and (args.rcu is None or args.wcu is None):
        raise UsageError(
            "this table or index is on-demand: to switch it to provisioned give --mode "
            "provisioned with both --rcu and --wcu (and --index-capacity NAME=R/W for each GSI)"
        )
    read = args.rcu if args.rcu is not None else current.read if current else 0
    write = args.wcu if args.wcu is not None else current.write if current else 0
    return Throughput(read, write)


def stream_context_from_args(args: argparse.Namespace, stream: Stream, region: str) -> PlanContext:
    """A described stream's context: its traffic from the flags (none given: no traffic), and
    the account shard quota of ``region`` counting this stream's shards only."""
    given = (args.incoming_bytes, args.incoming_records, args.outgoing_bytes)
    traffic = None
    if any(value is not None for value in given):
        bytes_in, records_in, bytes_out = (float(value or 0.0) for value in given)
        traffic = StreamTraffic(bytes_in, records_in, bytes_out)
    return PlanContext(
        stream_traffic=traffic,
        account_shards=AccountShards(stream.open_shard_count, region=region, complete=False),
    )


def context_from_args(args: argparse.Namespace) -> PlanContext:
    part = args.index if args.index else None
    usage = {}
    throttled_r = getattr(args, "throttled_rcu", None)
    throttled_w = getattr(args, "throttled_wcu", None)
    given = (args.consumed_rcu, args.consumed_wcu, throttled_r, throttled_w)
    if any(value is not None for value in given):
        usage[part] = Usage(
            args.consumed_rcu or 0.0,
            args.consumed_wcu or 0.0,
            throttled_read=throttled_r or 0.0,
            throttled_write=throttled_w or 0.0,
        )
    previous = {} if args.previous_partitions is None else {part: args.previous_partitions}
    return PlanContext(
        usage=usage,
        previous_partitions=previous,
        auto_scaled=frozenset({part}) if args.auto_scaled else frozenset(),
        target_utilisation=_target(args),
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
