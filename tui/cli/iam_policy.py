"""``capcon iam-policy``: the least-privilege IAM policy for a role, as JSON on stdout."""

from __future__ import annotations

import argparse
from typing import Any

from capcon.core.backends.aws.iam import ROLES, PolicyError, policy
from capcon.tui.cli.output import EXIT_OK, print_json
from capcon.tui.errors import UsageError
from capcon.tui.text import printable


def names(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def add_parser(sub: Any) -> None:
    """``iam-policy`` on the command parser ``sub``."""
    p = sub.add_parser(
        "iam-policy",
        help="print a least-privilege IAM policy (JSON) for a role",
        description="Print the IAM policy a role needs, derived from the AWS calls capcon "
        "makes: viewer (read-only console and CLI), operator (also scales tables and "
        "streams and sets up auto scaling) or engine (the Lambda of a `capcon deploy` stack: "
        "needs --stack). Scoped to --tables and --streams when given.",
    )
    p.add_argument("--role", choices=ROLES, required=True)
    p.add_argument("--tables", type=names, default=[], metavar="A,B", help="table names")
    p.add_argument("--streams", type=names, default=[], metavar="C,D", help="stream names")
    p.add_argument("--account", default="*", help="12-digit account id (default: any)")
    p.add_argument(
        "--policy-region", default="*", help="region in the ARNs (default: any)", metavar="R"
    )
    p.add_argument("--partition", default="aws", help="aws, aws-cn or aws-us-gov")
    p.add_argument(
        "--stack",
        default=None,
        metavar="NAME",
        help="the engine's stack (role engine: its alarms STACK-*, state table, log group)",
    )


def run(args: argparse.Namespace) -> int:
    if args.stack is not None and args.role != "engine":
        raise UsageError(f"--stack is for --role engine only (not {args.role})")
    try:
        document = policy(
            args.role,
            tables=args.tables,
            streams=args.streams,
            region=args.policy_region,
            account=args.account,
            partition=args.partition,
            stack=args.stack,
        )
    except PolicyError as error:
        raise UsageError(printable(str(error))) from None
    print_json(document)
    return EXIT_OK
