"""The ``capcon`` command line: the parser and the dispatch to one module per command.

``capcon [SESSION FLAGS] COMMAND [FLAGS]``, with the commands ``ls``, ``show NAME``, ``plan
NAME …`` (or ``plan --describe FILE …`` on the JSON AWS prints), ``scale NAME …``, ``aas``,
``autoscale``, ``audit``, ``demo``, ``tour``, ``sim``, ``lab``, ``prices update``,
``iam-policy``, ``deploy`` and ``event``; no command opens the console.

The session flags (``--profile``, ``--region``, ``--endpoint-url``, ``--sim [SCENARIO]``,
``--read-only``, ``--prices``, ``--rules``) may come before or after the command: each is
registered on both parsers, with no default after the command (``argparse.SUPPRESS``), so a
flag given in either position wins over an absent one (after the command wins if given
twice).  ``--read-only`` given anywhere, or ``read_only = true`` in ``config.toml``, makes the
session read-only (:mod:`capcon.tui.bootstrap` builds the session).

Exit codes (:mod:`capcon.tui.cli.output`): 0 done (a plan changes nothing), 1 the change was
refused or failed (the reasons are printed), 2 bad input (a flag, a file: the message names
what was wrong and what is allowed), 3 the backend failed (AWS unreachable, no credentials,
access denied, …).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import NoReturn

from capcon.core.backends.aws.describe import DescribeError, parse_time
from capcon.core.errors import CapconError
from capcon.core.services.inspect import NoSuchResource
from capcon.core.services.interrupts import Interrupted, exit_status, signal_name
from capcon.tui.cli.flags import book_flags, read_only_flag, session_flags
from capcon.tui.cli.output import EXIT_OK, EXIT_USAGE, backend_error_exit, error_line
from capcon.tui.errors import UsageError

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
    "prices",
    "iam-policy",
    "deploy",
    "event",
)


def _timestamp(text: str) -> datetime:
    try:
        moment = parse_time(text, "--now")
    except DescribeError as error:
        raise argparse.ArgumentTypeError(str(error).removeprefix("--now: ")) from None
    assert moment is not None
    return moment


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"capcon: error: {message}\n")


def _change_flags(p: argparse.ArgumentParser) -> None:
    from capcon.tui.cli.flags import MAX_UNITS, index_capacity, limit, text, units_pair, whole

    units = whole(0, MAX_UNITS, "capacity units")
    p.add_argument("--rcu", type=units, help="new read capacity units")
    p.add_argument("--wcu", type=units, help="new write capacity units")
    p.add_argument(
        "--index", type=text("an index name"), metavar="NAME", help="apply --rcu/--wcu to this GSI"
    )
    p.add_argument(
        "--mode",
        choices=["provisioned", "on-demand"],
        help="switch the table's capacity mode",
    )
    p.add_argument(
        "--index-capacity",
        type=index_capacity,
        action="append",
        metavar="NAME=R/W",
        help="RCU/WCU for this GSI in the same request (repeat for each GSI; a switch to "
        "provisioned needs every GSI's)",
    )
    p.add_argument(
        "--warm",
        type=units_pair("warm read/write units a second", partial=True),
        metavar="R/W",
        help="pre-warm the table (or --index) to R read and W write units a second; R/ or /W "
        "keeps the other side; irreversible and charged",
    )
    p.add_argument(
        "--max-read",
        type=limit,
        metavar="N|none",
        help="on-demand maximum read request units a second of the table (or --index)",
    )
    p.add_argument(
        "--max-write",
        type=limit,
        metavar="N|none",
        help="on-demand maximum write request units a second of the table (or --index)",
    )
    p.add_argument(
        "--class",
        dest="table_class",
        choices=["standard", "standard-ia"],
        help="switch the table's class (Standard or Standard-Infrequent-Access), on its own",
    )
    p.add_argument(
        "--shards", type=whole(0, 100_000, "open shards"), help="new open shard count (stream)"
    )
    p.add_argument(
        "--strategy",
        choices=["uniform", "targeted"],
        default="uniform",
        help="stream: UpdateShardCount (uniform, default) or split/merge (targeted)",
    )


def build_parser() -> argparse.ArgumentParser:
    from capcon.tui.cli.flags import MAX_UNITS, number, text, whole
    from capcon.tui.cli.ls import SORT_KEYS

    # What each numeric flag allows: capacity up to far above any quota (the planner refuses
    # what AWS would, with the reason); the rest their own documented ranges.
    units = whole(0, MAX_UNITS, "capacity units")
    percent = number(0, 100, "percent; policies take 20–90")
    speed = number(0, 1_000_000, "simulated seconds per real second, 1…3600")
    name = text("a table, TABLE/INDEX or stream name")

    parser = _Parser(
        prog="capcon",
        description="Capacity console for DynamoDB tables and Kinesis streams.",
        epilog="Without --sim, capcon reads AWS through the standard boto3 chain.",
    )
    session_flags(parser, top=True)
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
    p.add_argument("name", type=name, nargs="?", help="table, TABLE/INDEX or stream (live)")
    p.add_argument(
        "--describe",
        type=Path,
        metavar="FILE",
        help="instead of NAME: output of `aws dynamodb describe-table`, or "
        '{"summary": <describe-stream-summary>, "shards": <list-shards>}',
    )
    _change_flags(p)
    p.add_argument(
        "--consumed-rcu",
        type=number(0, MAX_UNITS, "units a second"),
        metavar="N",
        help="current reads, units/s",
    )
    p.add_argument(
        "--consumed-wcu",
        type=number(0, MAX_UNITS, "units a second"),
        metavar="N",
        help="current writes, units/s",
    )
    p.add_argument(
        "--throttled-rcu",
        type=number(0, MAX_UNITS, "throttle events a second"),
        metavar="N",
        help="current read throttle events/s (demand = consumed + throttled)",
    )
    p.add_argument(
        "--throttled-wcu",
        type=number(0, MAX_UNITS, "throttle events a second"),
        metavar="N",
        help="current write throttle events/s (demand = consumed + throttled)",
    )
    p.add_argument(
        "--target",
        type=number(1, 100, "percent"),
        default=70.0,
        metavar="PERCENT",
        help="utilisation the proposal sizes capacity for (default 70)",
    )
    p.add_argument(
        "--previous-partitions",
        type=whole(0, 10**9, "partitions"),
        metavar="N",
        help="the highest partition estimate seen before for this table or index",
    )
    p.add_argument("--auto-scaled", action="store_true", help="the part is managed by AAS")
    for flag, unit, words in (
        ("--incoming-bytes", "bytes a second", "a stream's IncomingBytes, bytes/s"),
        ("--incoming-records", "records a second", "a stream's IncomingRecords, records/s"),
        ("--outgoing-bytes", "bytes a second", "a stream's GetRecords.Bytes, bytes/s"),
    ):
        p.add_argument(
            flag, type=number(0, 10**12, unit), metavar="N", help=f"{words} (--describe)"
        )
    _common(p)
    session_flags(p, top=False)

    sc = sub.add_parser(
        "scale",
        help="preview, confirm and apply a capacity change",
        description="Plan a change on live state, ask for confirmation, apply it through the "
        "core scaler, follow it until ACTIVE and record it in the audit log.",
    )
    sc.add_argument("name", type=name, help="table, TABLE/INDEX or stream")
    _change_flags(sc)
    sc.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    sc.add_argument(
        "--confirm-factor",
        type=number(0, 1_000_000, "a factor"),
        default=None,
        metavar="X",
        help="changes of X× or more need the resource name typed (default: confirm_factor in "
        "config.toml, else 4)",
    )
    _common(sc)
    session_flags(sc, top=False)

    ls = sub.add_parser("ls", help="every table, GSI and stream with capacity, use and cost")
    ls.add_argument("--sort", choices=sorted(SORT_KEYS), default="name")
    ls.add_argument(
        "--filter", type=text("part of a name"), metavar="TEXT", help="only names containing TEXT"
    )
    _common(ls)
    session_flags(ls, top=False)

    sh = sub.add_parser("show", help="one table, TABLE/INDEX or stream in depth")
    sh.add_argument("name", type=name)
    _common(sh)
    session_flags(sh, top=False)

    aa = sub.add_parser(
        "aas",
        help="preview (and with --apply, make) an Application Auto Scaling change",
        description="Set up, edit or switch off DynamoDB auto scaling for a table or GSI "
        "dimension, with a preview (capacity now and at current traffic, cost between min "
        "and max, partitions at max), confirmation and an audit record.",
    )
    aa.add_argument("name", type=name, help="table or TABLE/INDEX")
    which = aa.add_mutually_exclusive_group(required=True)
    which.add_argument("--reads", action="store_true", help="read capacity")
    which.add_argument("--writes", action="store_true", help="write capacity")
    aa.add_argument("--min", type=units, metavar="N")
    aa.add_argument("--max", type=units, metavar="N")
    aa.add_argument("--target", type=percent, metavar="PERCENT", help="20–90")
    aa.add_argument("--off", action="store_true", help="switch auto scaling off")
    aa.add_argument("--no-scale-in", action="store_true", help="never scale in")
    aa.add_argument("--apply", action="store_true", help="apply after the preview")
    aa.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    _common(aa)
    session_flags(aa, top=False)

    from capcon.tui.cli import sim as sim_cli

    sim_cli.add_parser(sub)

    from capcon.tui.cli import prices as prices_cli

    prices_cli.add_parser(sub)

    from capcon.tui.cli import iam_policy as iam_cli

    iam_cli.add_parser(sub)

    from capcon.tui.cli import deploy as deploy_cli

    deploy_cli.add_parser(sub)

    from capcon.tui.cli import event as event_cli

    event_cli.add_parser(sub)

    eng = sub.add_parser(
        "autoscale",
        help="run an auto-scaling policy (dry run by default), explaining every decision",
        description="Run a policy on real or simulated tables (with their GSIs) or streams "
        "every minute and log each decision with its reason; with --apply, changes go through "
        "the core scaler and the audit log.  Without --table: every provisioned table not "
        "managed by AAS; --policy kinesis acts on streams (without --stream: every "
        "provisioned stream).",
    )
    eng.add_argument(
        "--policy",
        type=text("a policy name"),
        default="capcon",
        help="tables: aas, aas-legacy, h1, h2, capcon; streams: kinesis",
    )
    eng.add_argument(
        "--target",
        type=percent,
        default=None,
        help="20–90 (percent; default 70, 80 for kinesis as field note C's alarms)",
    )
    eng.add_argument(
        "--table",
        type=text("a table name"),
        action="append",
        metavar="NAME",
        help="repeatable; its provisioned GSIs are managed with it",
    )
    eng.add_argument(
        "--stream",
        type=text("a stream name"),
        action="append",
        metavar="NAME",
        help="repeatable; with --policy kinesis",
    )
    eng.add_argument(
        "--state",
        type=Path,
        metavar="FILE",
        help="keep each policy's state in this JSON file between runs (created mode 0600)",
    )
    eng.add_argument("--min", type=units, default=1, metavar="N")
    eng.add_argument("--max", type=units, default=40_000, metavar="N")
    eng.add_argument(
        "--minutes",
        type=whole(0, 10_080, "rounds of a minute: at most a week"),
        default=60,
        help="rounds to run",
    )
    eng.add_argument("--apply", action="store_true", help="apply decisions (default: dry run)")
    eng.add_argument("--dry-run", action="store_true", help="the default; says so explicitly")
    eng.add_argument("--verbose", action="store_true", help="also print holds")
    _common(eng)
    session_flags(eng, top=False)

    lab = sub.add_parser(
        "lab",
        help="trainer lab: auto-scaling policies side by side on simulated tables",
        description="Run 2–4 policies side by side on identical simulated tables (field note "
        "B's experiment) with play/pause/step/speed, charts, decision logs and results.",
    )
    lab.add_argument(
        "--pattern",
        type=text("a traffic pattern"),
        default="bell",
        help="traffic pattern (bell, top-heavy, …)",
    )
    lab.add_argument("--target", type=percent, default=70.0, help="target %%, 20–90")
    lab.add_argument(
        "--policies",
        type=text("policy names, comma-separated"),
        default="aas-legacy,aas,h2,capcon",
        help="2–4 of aas, aas-legacy, h1, h2, capcon, oracle, scheduled (a known event scaled "
        "ahead: top-heavy or spike patterns), kinesis (a stream under field note C's Kinesis "
        "policy) (comma-separated)",
    )
    lab.add_argument("--speed", type=speed, default=60.0, help="1…3600")
    book_flags(lab, top=False)
    serve_flags(lab, "the lab")

    au = sub.add_parser("audit", help="the audit log of changes made through capcon")
    au.add_argument("--limit", type=whole(0, 10**9, "records"), default=50, metavar="N")
    au.add_argument("--json", action="store_true", help="print JSON")
    au.add_argument(
        "--stack",
        type=text("a stack name"),
        metavar="NAME",
        help="the audit items of a deployed engine (its state table) instead of the local log",
    )
    session_flags(au, top=False)

    demo = sub.add_parser(
        "demo",
        help="open the console on the simulated account (no AWS needed)",
        description="Open the console on a simulated account full of lively resources.",
    )
    demo.add_argument(
        "--scenario",
        type=text("a scenario"),
        help="demo (default, or --sim's scenario), fleet:N,M or empty",
    )
    demo.add_argument(
        "--speed",
        type=speed,
        default=60.0,
        help="simulated seconds per real second, 1…3600 (default 60: a minute per second)",
    )
    read_only_flag(demo, top=False)
    book_flags(demo, top=False)
    serve_flags(demo, "the demo")

    d = sub.add_parser(
        "tour",
        help="print the planner's answers for sample resources",
        description="Show what capcon's planner says about sample tables and streams.",
    )
    _common(d)
    d.add_argument(
        "--region",
        type=text("a region name"),
        default=argparse.SUPPRESS,
        help="price region (default us-east-1)",
    )
    book_flags(d, top=False)
    return parser


def serve_flags(p: argparse.ArgumentParser, what: str) -> None:
    """``--serve``, ``--port``, ``--host``: ``what`` in browsers (tui/serve.py)."""
    from capcon.tui.cli.flags import text, whole
    from capcon.tui.serve import DEFAULT_HOST, DEFAULT_PORT

    p.add_argument(
        "--serve",
        action="store_true",
        help=f"serve {what} to web browsers (each gets its own copy) instead of this terminal",
    )
    p.add_argument(
        "--port",
        type=whole(1, 65535, "a TCP port"),
        default=DEFAULT_PORT,
        help=f"with --serve: the port (default {DEFAULT_PORT})",
    )
    p.add_argument(
        "--host",
        type=text("a host name or address"),
        default=DEFAULT_HOST,
        help=f"with --serve: the address to listen on (default {DEFAULT_HOST}, this machine "
        "only; 0.0.0.0 for a classroom network)",
    )


def _served(args: argparse.Namespace, title: str) -> int:
    """Serve this command line (less the serving flags) to browsers."""
    from capcon.tui.serve import serve

    argv = getattr(args, "argv", None)
    return serve(sys.argv[1:] if argv is None else argv, args.host, args.port, title)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--now", type=_timestamp, help="plan as of this UTC time (ISO 8601)")
    p.add_argument("--json", action="store_true", help="print one JSON object")


# --------------------------------------------------------------------------------------------
# Dispatch: each command's module is imported when it runs
# --------------------------------------------------------------------------------------------


def cmd_console(args: argparse.Namespace) -> int:
    """No command, or ``demo``: the console (``demo`` on the simulated account)."""
    from capcon.tui.bootstrap import console_from_args, run_console

    if getattr(args, "serve", False):
        console_from_args(args)  # bad flags are refused here, once, not in each browser
        return _served(args, "capcon demo")
    return run_console(args)


def cmd_plan(args: argparse.Namespace) -> int:
    from capcon.tui.cli import plan

    return plan.run(args)


def cmd_scale(args: argparse.Namespace) -> int:
    from capcon.tui.bootstrap import open_session
    from capcon.tui.cli import scale

    return scale.run(args, open_session(args))


def cmd_aas(args: argparse.Namespace) -> int:
    from capcon.tui.bootstrap import open_session
    from capcon.tui.cli import aas

    return aas.run(args, open_session(args))


def cmd_autoscale(args: argparse.Namespace) -> int:
    from capcon.tui.bootstrap import open_session
    from capcon.tui.cli import autoscale

    autoscale.check_args(args)
    return autoscale.run(args, open_session(args))


def cmd_ls(args: argparse.Namespace) -> int:
    from capcon.tui.bootstrap import open_session
    from capcon.tui.cli import ls

    return ls.run(args, open_session(args))


def cmd_show(args: argparse.Namespace) -> int:
    from capcon.tui.bootstrap import open_session
    from capcon.tui.cli import show

    return show.run(args, open_session(args))


def cmd_audit(args: argparse.Namespace) -> int:
    from capcon.tui.cli import audit

    return audit.run(args)


def cmd_tour(args: argparse.Namespace) -> int:
    from capcon.tui.cli.tour import run_demo

    return run_demo(args)


def cmd_sim(args: argparse.Namespace) -> int:
    from capcon.tui.cli import sim as sim_cli

    return sim_cli.run(args)


def cmd_prices(args: argparse.Namespace) -> int:
    from capcon.tui.cli import prices

    return prices.run(args)


def cmd_iam_policy(args: argparse.Namespace) -> int:
    from capcon.tui.cli import iam_policy

    return iam_policy.run(args)


def cmd_deploy(args: argparse.Namespace) -> int:
    from capcon.tui.cli import deploy

    return deploy.run(args)


def cmd_event(args: argparse.Namespace) -> int:
    from capcon.tui.bootstrap import open_session
    from capcon.tui.cli import event

    return event.run(args, open_session(args))


def cmd_lab(args: argparse.Namespace) -> int:
    if args.serve:
        return _served(args, "capcon lab")
    from capcon.tui.lab.app import run_lab

    return run_lab(args)


HANDLERS: dict[str | None, Callable[[argparse.Namespace], int]] = {
    None: cmd_console,
    "demo": cmd_console,
    "plan": cmd_plan,
    "scale": cmd_scale,
    "aas": cmd_aas,
    "autoscale": cmd_autoscale,
    "ls": cmd_ls,
    "show": cmd_show,
    "audit": cmd_audit,
    "tour": cmd_tour,
    "sim": cmd_sim,
    "lab": cmd_lab,
    "prices": cmd_prices,
    "iam-policy": cmd_iam_policy,
    "deploy": cmd_deploy,
    "event": cmd_event,
}


def normalise_argv(argv: Sequence[str]) -> list[str]:
    """``--sim`` takes an optional scenario; keep it from swallowing a command name."""
    out = list(argv)
    for i, token in enumerate(out):
        if token == "--sim" and (
            i + 1 == len(out) or out[i + 1] in COMMANDS or out[i + 1].startswith("-")
        ):
            out[i] = "--sim=demo"
    return out


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The parsed command line (argparse exits with code 2 on bad input)."""
    return build_parser().parse_args(normalise_argv(argv))


def main(argv: Sequence[str] | None = None) -> int:
    raw = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(raw)
    args.argv = raw  # as typed: what --serve runs for each browser
    try:
        return HANDLERS[args.command](args)
    except (UsageError, NoSuchResource) as error:
        error_line(f"error: {error}")
        return EXIT_USAGE
    except CapconError as error:
        return backend_error_exit(error)
    except (KeyboardInterrupt, Interrupted) as interrupt:
        # an apply under way has recorded "interrupted" in the audit log already
        print(f"capcon: interrupted ({signal_name(interrupt)})", file=sys.stderr)
        return exit_status(interrupt)
    except BrokenPipeError:  # `capcon … | head`: the reader left, nothing is wrong
        sys.stderr.close()
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
