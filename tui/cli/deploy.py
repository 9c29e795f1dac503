"""``capcon deploy``: the auto-scaling engine on AWS itself.

``template`` prints the CloudFormation template of a stack (changes nothing), ``apply``
packages the code, uploads it and creates the stack through a change set it shows first,
``status``, ``live``/``pause`` and ``delete`` manage a stack, and ``invoke`` runs the handler
in-process on one event exactly as Lambda would.  Each subcommand's work lives in its own
module (``deploy_template``, ``deploy_stack``, ``deploy_invoke``), imported when it runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from capcon.tui.cli.flags import number, session_flags, text, whole
from capcon.tui.errors import UsageError

SUBCOMMANDS = ("template", "apply", "status", "live", "pause", "delete", "invoke")


def names(value: str) -> list[str]:
    """``A,B`` as a list of names (blank parts dropped)."""
    return [part.strip() for part in value.split(",") if part.strip()]


def _stack(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--stack",
        type=text("a stack name"),
        required=True,
        metavar="NAME",
        help="the CloudFormation stack (a letter, then letters, digits, hyphens)",
    )


def spec_flags(p: argparse.ArgumentParser) -> None:
    """What a stack runs: ``template`` and ``apply`` take the same flags."""
    _stack(p)
    p.add_argument(
        "--policy",
        type=text("a policy name"),
        required=True,
        help="the tables' policy: aas (AAS target tracking), h1, h2 or capcon; streams run kinesis",
    )
    p.add_argument("--target", type=number(20, 90, "percent"), default=70.0, help="20–90 (percent)")
    p.add_argument(
        "--tables", type=names, default=[], metavar="A,B", help="tables (their GSIs too)"
    )
    p.add_argument("--streams", type=names, default=[], metavar="C,D", help="Kinesis streams")
    p.add_argument(
        "--native-aas",
        type=names,
        default=[],
        metavar="A,B",
        help="tables given AAS target tracking instead of the Lambda",
    )
    p.add_argument("--min", type=whole(1, 40_000), default=1, metavar="N", help="least capacity")
    p.add_argument(
        "--max", type=whole(1, 40_000), default=40_000, metavar="N", help="most capacity"
    )
    p.add_argument("--min-shards", type=whole(1, 100_000), default=1, metavar="N")
    p.add_argument("--max-shards", type=whole(1, 100_000), default=10_000, metavar="N")
    p.add_argument(
        "--tick-minutes",
        type=whole(1, 1440),
        default=None,
        metavar="N",
        help="how often the scheduled tick re-evaluates every dimension (default: the policy's)",
    )


def add_parser(sub: Any) -> None:
    """``deploy`` and its subcommands on the command parser ``sub``."""
    d = sub.add_parser(
        "deploy",
        help="run the auto-scaling engine on AWS itself (CloudFormation, Lambda, alarms)",
        description="Generate, check, deploy and manage a stack that runs a capcon policy in "
        "a Lambda woken by CloudWatch alarms and schedules.  A new stack is a dry run until "
        "`deploy live`.",
    )
    dsub = d.add_subparsers(dest="deploy_command", metavar="SUBCOMMAND", required=True)

    t = dsub.add_parser("template", help="print the stack's CloudFormation template (JSON)")
    spec_flags(t)
    t.add_argument("--out", type=Path, metavar="FILE", help="write it here instead of stdout")
    session_flags(t, top=False)

    a = dsub.add_parser("apply", help="package, upload, show the change set, confirm, execute")
    spec_flags(a)
    a.add_argument(
        "--bucket",
        type=text("an S3 bucket name"),
        required=True,
        metavar="NAME",
        help="S3 bucket for the code package",
    )
    a.add_argument("--yes", action="store_true", help="execute without asking")
    session_flags(a, top=False)

    for name, helptext in (
        ("status", "the stack, its alarms, its schedules and its last decisions"),
        ("live", "let the engine change capacity (DryRun=false, alarm actions on)"),
        ("pause", "stop the engine acting (DryRun=true, alarm actions off)"),
        ("delete", "delete the stack (tables and streams stay as they are)"),
    ):
        s = dsub.add_parser(name, help=helptext)
        _stack(s)
        if name == "delete":
            s.add_argument("--yes", action="store_true", help="delete without asking")
        if name == "status":
            s.add_argument("--json", action="store_true", help="print JSON")
            s.add_argument(
                "--limit",
                type=whole(0, 10_000, "audit items"),
                default=10,
                metavar="N",
                help="newest audit items to show (default 10)",
            )
        session_flags(s, top=False)

    i = dsub.add_parser("invoke", help="run the handler here on one event, as Lambda would")
    i.add_argument(
        "--template", type=Path, required=True, metavar="FILE", help="the stack's template"
    )
    i.add_argument(
        "--event", type=Path, required=True, metavar="FILE", help="a Lambda event (JSON)"
    )
    i.add_argument("--apply", action="store_true", help="act (the template's DryRun otherwise)")
    i.add_argument(
        "--state", type=Path, metavar="FILE", help="local state file (default: beside the audit)"
    )
    i.add_argument("--json", action="store_true", help="the decisions as one JSON document")
    session_flags(i, top=False)


def run(args: argparse.Namespace) -> int:
    command = args.deploy_command
    if command == "template":
        from capcon.tui.cli import deploy_template

        return deploy_template.run(args)
    if command in ("apply", "status", "live", "pause", "delete"):
        from capcon.tui.cli import deploy_stack

        return deploy_stack.run(args)
    if command == "invoke":
        from capcon.tui.cli import deploy_invoke

        return deploy_invoke.run(args)
    raise UsageError(f"deploy {command}: choose one of {', '.join(SUBCOMMANDS)}")
