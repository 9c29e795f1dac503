"""The ``capcon`` command line.

``capcon [--profile P] [--region R] [--endpoint-url URL] [--sim [SCENARIO]] [--read-only]
COMMAND``, with the commands ``ls``, ``show NAME``, ``plan NAME …`` (or ``plan --describe
FILE …`` on the JSON AWS prints), ``scale NAME …``, ``audit`` and ``demo``.

Exit codes: 0 done (a plan changes nothing), 1 the change was refused or failed (the reasons
are printed), 2 bad input (a flag, a file: the message names what was wrong and what is
allowed), 3 the backend failed (AWS unreachable, no credentials, access denied, …).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from capcon.core.backends.aws.describe import DescribeError, parse_time, resource_from_document
from capcon.core.config.prices import load_price_book
from capcon.core.config.rules import load_rule_settings
from capcon.core.config.schema import SettingsError
from capcon.core.config.settings import config_dir
from capcon.core.errors import CapconError
from capcon.core.jsonable import to_jsonable
from capcon.core.model import BillingMode, Stream, Table, Throughput
from capcon.core.planning.planner import (
    Change,
    PlanContext,
    Refusal,
    ScalePlan,
    ShardChange,
    Usage,
    plan,
)
from capcon.core.ports import TableChange
from capcon.core.pricing import PriceBook
from capcon.core.rules import RuleSettings
from capcon.tui.cli.live import (
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    SORT_KEYS,
    UsageError,
    backend_error_exit,
    cmd_audit,
    live_plan,
    open_session,
    run_aas,
    run_autoscale,
    run_scale,
)
from capcon.tui.cli.live import cmd_ls as live_ls
from capcon.tui.cli.live import cmd_show as live_show

COMMANDS = (
    "ls",
    "show",
    "plan",
    "scale",
    "aas",
    "audit",
    "demo",
    "tour",
    "sim",
    "autoscale",
    "lab",
)
SAMPLES = Path(__file__).resolve().parent / "samples"


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative: a number ≥ 0 is needed")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} is not a finite number ≥ 0")
    return value


def _timestamp(text: str) -> datetime:
    try:
        moment = parse_time(text, "--now")
    except DescribeError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    assert moment is not None
    return moment


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"capcon: error: {message}\n")


def _backend_flags(p: argparse.ArgumentParser, *, top: bool) -> None:
    """AWS/simulation flags: accepted before or after the command (``capcon --sim ls`` and
    ``capcon ls --sim``)."""
    default = None if top else argparse.SUPPRESS
    p.add_argument("--profile", default=default, help="AWS profile (boto3 chain otherwise)")
    p.add_argument("--endpoint-url", default=default, metavar="URL", help="e.g. a moto server")
    p.add_argument(
        "--sim",
        nargs="?",
        const="demo",
        default=default,
        metavar="SCENARIO",
        help="use the simulated account (demo, fleet:N,M, empty; default demo)",
    )
    p.add_argument(
        "--read-only",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="never change anything; scale is not offered",
    )
    if top:
        p.add_argument("--region", default=None, help="AWS region (and price region)")


def _change_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rcu", type=_non_negative_int, help="new read capacity units")
    p.add_argument("--wcu", type=_non_negative_int, help="new write capacity units")
    p.add_argument("--index", metavar="NAME", help="apply --rcu/--wcu to this GSI")
    p.add_argument(
        "--mode",
        choices=["provisioned", "on-demand"],
        help="switch the table's capacity mode",
    )
    p.add_argument("--shards", type=_non_negative_int, help="new open shard count (stream)")
    p.add_argument(
        "--strategy",
        choices=["uniform", "targeted"],
        default="uniform",
        help="stream: UpdateShardCount (uniform, default) or split/merge (targeted)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="capcon",
        description="Capacity console for DynamoDB tables and Kinesis streams.",
        epilog="Without --sim, capcon reads AWS through the standard boto3 chain.",
    )
    _backend_flags(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = False  # no command: open the console

    p = sub.add_parser(
        "plan",
        help="preview a capacity change (changes nothing)",
        description=(
            "Preview a capacity change on a live table, GSI (TABLE/INDEX) or stream, or on one "
            "described by a JSON file: cost, partitions, quotas, shards, warnings, or the "
            "reasons AWS would refuse it. Nothing is changed."
        ),
    )
    p.add_argument("name", nargs="?", help="table, TABLE/INDEX or stream (live)")
    p.add_argument(
        "--describe",
        type=Path,
        metavar="FILE",
        help="instead of NAME: output of `aws dynamodb describe-table`, or "
        '{"summary": <describe-stream-summary>, "shards": <list-shards>}',
    )
    _change_flags(p)
    p.add_argument(
        "--consumed-rcu", type=_non_negative_float, metavar="N", help="current reads, units/s"
    )
    p.add_argument(
        "--consumed-wcu", type=_non_negative_float, metavar="N", help="current writes, units/s"
    )
    p.add_argument(
        "--previous-partitions",
        type=_non_negative_int,
        metavar="N",
        help="the highest partition estimate seen before for this table or index",
    )
    p.add_argument("--auto-scaled", action="store_true", help="the part is managed by AAS")
    _common(p)
    _backend_flags(p, top=False)

    sc = sub.add_parser(
        "scale",
        help="preview, confirm and apply a capacity change",
        description="Plan a change on live state, ask for confirmation, apply it through the "
        "core scaler, follow it until ACTIVE and record it in the audit log.",
    )
    sc.add_argument("name", help="table, TABLE/INDEX or stream")
    _change_flags(sc)
    sc.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    sc.add_argument(
        "--confirm-factor",
        type=_non_negative_float,
        default=4.0,
        metavar="X",
        help="changes of X× or more need the resource name typed (default 4)",
    )
    _common(sc)
    _backend_flags(sc, top=False)

    ls = sub.add_parser("ls", help="every table, GSI and stream with capacity, use and cost")
    ls.add_argument("--sort", choices=sorted(SORT_KEYS), default="name")
    ls.add_argument("--filter", metavar="TEXT", help="only names containing TEXT")
    _common(ls)
    _backend_flags(ls, top=False)

    sh = sub.add_parser("show", help="one table, TABLE/INDEX or stream in depth")
    sh.add_argument("name")
    _common(sh)
    _backend_flags(sh, top=False)

    aa = sub.add_parser(
        "aas",
        help="preview (and with --apply, make) an Application Auto Scaling change",
        description="Set up, edit or switch off DynamoDB auto scaling for a table or GSI "
        "dimension, with a preview (capacity now and at current traffic, cost between min "
        "and max, partitions at max), confirmation and an audit record.",
    )
    aa.add_argument("name", help="table or TABLE/INDEX")
    which = aa.add_mutually_exclusive_group(required=True)
    which.add_argument("--reads", action="store_true", help="read capacity")
    which.add_argument("--writes", action="store_true", help="write capacity")
    aa.add_argument("--min", type=_non_negative_int, metavar="N")
    aa.add_argument("--max", type=_non_negative_int, metavar="N")
    aa.add_argument("--target", type=_non_negative_float, metavar="PERCENT", help="20–90")
    aa.add_argument("--off", action="store_true", help="switch auto scaling off")
    aa.add_argument("--no-scale-in", action="store_true", help="never scale in")
    aa.add_argument("--apply", action="store_true", help="apply after the preview")
    aa.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    _common(aa)
    _backend_flags(aa, top=False)

    from capcon.tui.cli import sim as sim_cli

    sim_cli.add_parser(sub)

    eng = sub.add_parser(
        "autoscale",
        help="run an auto-scaling policy (dry run by default), explaining every decision",
        description="Run a policy on real or simulated tables every minute and log each "
        "decision with its reason; with --apply, changes go through the core scaler and the "
        "audit log.  Without --table: every provisioned table not managed by AAS.",
    )
    eng.add_argument("--policy", default="capcon", help="aas, aas-legacy, h1, h2, capcon")
    eng.add_argument("--target", type=_non_negative_float, default=70.0, help="20–90 (percent)")
    eng.add_argument("--table", action="append", metavar="NAME", help="repeatable")
    eng.add_argument("--min", type=_non_negative_int, default=1, metavar="N")
    eng.add_argument("--max", type=_non_negative_int, default=40_000, metavar="N")
    eng.add_argument("--minutes", type=_non_negative_int, default=60, help="rounds to run")
    eng.add_argument("--apply", action="store_true", help="apply decisions (default: dry run)")
    eng.add_argument("--dry-run", action="store_true", help="the default; says so explicitly")
    eng.add_argument("--verbose", action="store_true", help="also print holds")
    _common(eng)
    _backend_flags(eng, top=False)

    lab = sub.add_parser(
        "lab",
        help="trainer lab: auto-scaling policies side by side on simulated tables",
        description="Run 2–4 policies side by side on identical simulated tables (field note "
        "B's experiment) with play/pause/step/speed, charts, decision logs and results.",
    )
    lab.add_argument("--pattern", default="bell", help="traffic pattern (bell, top-heavy, …)")
    lab.add_argument("--target", type=_non_negative_float, default=70.0, help="target %%, 20–90")
    lab.add_argument(
        "--policies",
        default="aas-legacy,aas,h2,capcon",
        help="2–4 of aas, aas-legacy, h1, h2, capcon, oracle (comma-separated)",
    )
    lab.add_argument("--speed", type=_non_negative_float, default=60.0, help="1…3600")

    au = sub.add_parser("audit", help="the audit log of changes made through capcon")
    au.add_argument("--limit", type=_non_negative_int, default=50, metavar="N")
    au.add_argument("--json", action="store_true", help="print JSON")

    demo = sub.add_parser(
        "demo",
        help="open the console on the simulated account (no AWS needed)",
        description="Open the console on a simulated account full of lively resources.",
    )
    demo.add_argument("--scenario", default="demo", help="demo (default), fleet:N,M or empty")
    demo.add_argument(
        "--speed",
        type=_non_negative_float,
        default=60.0,
        help="simulated seconds per real second, 1…3600 (default 60: a minute per second)",
    )
    demo.add_argument("--read-only", action="store_true", help="no scale action is offered")
    demo.add_argument("--prices", type=Path, metavar="FILE", help="price overrides (TOML)")
    demo.add_argument("--rules", type=Path, metavar="FILE", help="rule-book overrides (TOML)")

    d = sub.add_parser(
        "tour",
        help="print the planner's answers for sample resources",
        description="Show what capcon's planner says about sample tables and streams.",
    )
    _common(d)
    return parser


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--now", type=_timestamp, help="plan as of this UTC time (ISO 8601)")
    p.add_argument(
        "--region",
        default=argparse.SUPPRESS,
        help="AWS region; prices too (default: from the ARN, else us-east-1)",
    )
    p.add_argument("--prices", type=Path, metavar="FILE", help="price overrides (TOML; see README)")
    p.add_argument(
        "--rules", type=Path, metavar="FILE", help="rule-book overrides (TOML; see README)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")


# --------------------------------------------------------------------------------------------


def _load_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except OSError as error:
        raise UsageError(f"{path}: cannot be read ({error.strerror})") from None
    except UnicodeDecodeError as error:
        raise UsageError(f"{path}: not UTF-8 text ({error.reason})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(f"{path}: not valid JSON ({error})") from None


def load_resource(path: Path) -> Table | Stream:
    document = _load_json(path)
    if not isinstance(document, dict):
        raise UsageError(f"{path}: expected a JSON object at the top")
    try:
        return resource_from_document(document)
    except DescribeError as error:
        raise UsageError(f"{path}: {error}") from None


def _region_of(resource: Table | Stream, explicit: str | None) -> str:
    if explicit:
        return explicit
    arn = resource.arn or ""
    fields = arn.split(":")
    return fields[3] if len(fields) > 3 and fields[3] else "us-east-1"


@dataclass(frozen=True)
class Books:
    rules: RuleSettings
    prices: PriceBook


def load_books(args: argparse.Namespace, region: str) -> Books:
    """Rule settings and prices: defaults, then the XDG config files, then the flags."""
    rules_file = getattr(args, "rules", None) or _existing(config_dir() / "rules.toml")
    prices_file = getattr(args, "prices", None) or _existing(config_dir() / "prices.toml")
    try:
        return Books(load_rule_settings(rules_file), load_price_book(region, prices_file))
    except SettingsError as error:
        raise UsageError(str(error)) from None


def _existing(path: Path) -> Path | None:
    return path if path.is_file() else None


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


def _now(args: argparse.Namespace) -> datetime:
    return args.now if args.now is not None else datetime.now(UTC)


def _emit(result: ScalePlan | Refusal, as_json: bool) -> int:
    refused = isinstance(result, Refusal)
    if as_json:
        document = {"outcome": "refused" if refused else "plan", **to_jsonable(result)}
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        from rich.console import Console

        from capcon.tui.render import render_plan, render_refusal

        console = Console()
        console.print(
            render_refusal(result) if isinstance(result, Refusal) else render_plan(result)
        )
    return EXIT_REFUSED if refused else EXIT_OK


def cmd_plan(args: argparse.Namespace) -> int:
    if args.describe is None:
        if not args.name:
            raise UsageError("plan needs a NAME (live) or --describe FILE")
        session = open_session(args)
        books = load_books(args, session.region)
        _, result = live_plan(args, session, books, change_from_args)
        return _emit(result, args.json)
    if args.name:
        raise UsageError("give either NAME (live) or --describe FILE, not both")
    resource = load_resource(args.describe)
    change = change_from_args(args, resource)
    books = load_books(args, _region_of(resource, args.region))
    result = plan(
        resource,
        change,
        _now(args),
        rules=books.rules,
        prices=books.prices,
        context=context_from_args(args),
    )
    return _emit(result, args.json)


def cmd_tour(args: argparse.Namespace) -> int:
    from capcon.tui.cli.tour import run_demo

    return run_demo(args)


def cmd_demo(args: argparse.Namespace) -> int:
    from capcon.tui.bootstrap import run_console

    args.sim = args.scenario
    return run_console(args)


def cmd_console(args: argparse.Namespace) -> int:
    from capcon.tui.bootstrap import run_console

    return run_console(args)


def cmd_scale(args: argparse.Namespace) -> int:
    session = open_session(args)
    return run_scale(args, session, load_books(args, session.region), change_from_args, _emit)


def cmd_aas(args: argparse.Namespace) -> int:
    session = open_session(args)
    return run_aas(args, session, load_books(args, session.region), _emit)


def cmd_sim(args: argparse.Namespace) -> int:
    from capcon.tui.cli import sim as sim_cli

    return sim_cli.run(args)


def cmd_autoscale(args: argparse.Namespace) -> int:
    if args.apply and args.dry_run:
        raise UsageError("choose --apply or --dry-run, not both")
    session = open_session(args)
    return run_autoscale(args, session, load_books(args, session.region))


def cmd_lab(args: argparse.Namespace) -> int:
    from capcon.tui.lab.app import run_lab

    return run_lab(args)


def cmd_ls(args: argparse.Namespace) -> int:
    session = open_session(args)
    return live_ls(args, session, load_books(args, session.region))


def cmd_show(args: argparse.Namespace) -> int:
    session = open_session(args)
    return live_show(args, session, load_books(args, session.region))


def normalise_argv(argv: Sequence[str]) -> list[str]:
    """``--sim`` takes an optional scenario; keep it from swallowing a command name."""
    out = list(argv)
    for i, token in enumerate(out):
        if token == "--sim" and (
            i + 1 == len(out) or out[i + 1] in COMMANDS or out[i + 1].startswith("-")
        ):
            out[i] = "--sim=demo"
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(normalise_argv(sys.argv[1:] if argv is None else argv))
    handlers = {
        None: cmd_console,
        "plan": cmd_plan,
        "tour": cmd_tour,
        "demo": cmd_demo,
        "scale": cmd_scale,
        "aas": cmd_aas,
        "sim": cmd_sim,
        "lab": cmd_lab,
        "autoscale": cmd_autoscale,
        "ls": cmd_ls,
        "show": cmd_show,
        "audit": cmd_audit,
    }
    try:
        return handlers[args.command](args)
    except UsageError as error:
        print(f"capcon: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except CapconError as error:
        return backend_error_exit(error)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `capcon … | head`: the reader left, nothing is wrong
        sys.stderr.close()
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
