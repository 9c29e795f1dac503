"""Flags shared by several commands, registered in one place.

Session flags are accepted before or after the command (``capcon --sim ls`` and ``capcon ls
--sim``): before it they have a default, after it none (``argparse.SUPPRESS``), so a flag
given before the command is never overwritten by an absent one after it.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def session_flags(p: argparse.ArgumentParser, *, top: bool) -> None:
    """The flags that make the session, accepted before or after the command (``capcon
    --sim ls`` and ``capcon ls --sim``): no default after the command, so one given before
    it is not overwritten by an absent one."""
    default = None if top else argparse.SUPPRESS
    p.add_argument("--profile", default=default, help="AWS profile (boto3 chain otherwise)")
    p.add_argument(
        "--region",
        default=default,
        help="AWS region; prices too (default: the profile's; plan --describe: from the ARN, "
        "else us-east-1)",
    )
    p.add_argument("--endpoint-url", default=default, metavar="URL", help="e.g. a moto server")
    p.add_argument(
        "--sim",
        nargs="?",
        const="demo",
        default=default,
        metavar="SCENARIO",
        help="use the simulated account (demo, fleet:N,M, empty; default demo)",
    )
    read_only_flag(p, top=top)
    book_flags(p, top=top)


def read_only_flag(p: argparse.ArgumentParser, *, top: bool) -> None:
    p.add_argument(
        "--read-only",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="change nothing: no change is offered and the scaler refuses every one (also "
        "read_only = true in config.toml)",
    )


def book_flags(p: argparse.ArgumentParser, *, top: bool) -> None:
    default = None if top else argparse.SUPPRESS
    p.add_argument(
        "--prices", type=Path, default=default, metavar="FILE", help="price overrides (TOML)"
    )
    p.add_argument(
        "--rules", type=Path, default=default, metavar="FILE", help="rule-book overrides (TOML)"
    )
