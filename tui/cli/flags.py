"""Flags shared by several commands, registered in one place.

Session flags are accepted before or after the command (``capcon --sim ls`` and ``capcon ls
--sim``): before it they have a default, after it none (``argparse.SUPPRESS``), so a flag
given before the command is never overwritten by an absent one after it.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path

from capcon.core.schema import shown_value

#: Ceiling for capacity and throughput flags: far above any AWS quota (the planner refuses
#: what AWS would), low enough that every figure derived from it stays exact.
MAX_UNITS = 10**12


def whole(low: int, high: int, what: str = "") -> Callable[[str], int]:
    """An argparse ``type``: a whole number from ``low`` to ``high`` (a message naming the
    value and the range otherwise, never an overflow later)."""
    allowed = f"a whole number from {low:,} to {high:,}{f' ({what})' if what else ''}"

    def parse(given: str) -> int:
        try:
            value = int(given.strip().replace("_", "")) if len(given) <= 40 else None
        except ValueError:
            value = None
        if value is None:
            problem = f"{shown_value(given)} is not a whole number"
        elif value < low:
            problem = f"{value} is negative" if value < 0 else f"{value} is too small"
        elif value > high:
            problem = f"{value:,} is too large"
        else:
            return value
        raise argparse.ArgumentTypeError(f"{problem}: expected {allowed}")

    return parse


def number(low: float, high: float, what: str = "") -> Callable[[str], float]:
    """An argparse ``type``: a finite number from ``low`` to ``high`` (NaN, infinity and
    numbers outside the range are refused with the range)."""
    allowed = f"a finite number from {low:g} to {high:g}{f' ({what})' if what else ''}"

    def parse(given: str) -> float:
        try:
            value = float(given) if len(given) <= 40 else math.nan
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and low <= value <= high):
            raise argparse.ArgumentTypeError(f"{shown_value(given)}: expected {allowed}")
        return value

    return parse


def text(what: str) -> Callable[[str], str]:
    """An argparse ``type``: a non-blank string without control characters, at most 1,024
    characters (a name, a pattern, a policy)."""

    def parse(value: str) -> str:
        try:
            value.encode("utf-8")  # argv bytes that are not UTF-8 arrive as lone surrogates
            valid = True
        except UnicodeEncodeError:
            valid = False
        if (
            not valid
            or not value.strip()
            or len(value) > 1024
            or any(ord(c) < 32 or 127 <= ord(c) < 160 for c in value)
        ):
            raise argparse.ArgumentTypeError(
                f"{shown_value(value)}: expected {what} (not blank, UTF-8 without control"
                " characters, at most 1,024 characters)"
            )
        return value

    return parse


def session_flags(p: argparse.ArgumentParser, *, top: bool) -> None:
    """The flags that make the session, accepted before or after the command (``capcon
    --sim ls`` and ``capcon ls --sim``): no default after the command, so one given before
    it is not overwritten by an absent one."""
    default = None if top else argparse.SUPPRESS
    p.add_argument(
        "--profile",
        type=text("an AWS profile name"),
        default=default,
        help="AWS profile (boto3 chain otherwise)",
    )
    p.add_argument(
        "--region",
        type=text("an AWS region name such as us-east-1"),
        default=default,
        help="AWS region; prices too (default: the profile's; plan --describe: from the ARN, "
        "else us-east-1)",
    )
    p.add_argument(
        "--endpoint-url",
        type=text("an http:// or https:// URL"),
        default=default,
        metavar="URL",
        help="e.g. a moto server",
    )
    p.add_argument(
        "--sim",
        type=text("a scenario: demo, fleet:N,M or empty"),
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


def units_pair(what: str, *, partial: bool) -> Callable[[str], tuple[int | None, int | None]]:
    """An argparse ``type``: ``R/W`` read and write units (1 to :data:`MAX_UNITS`); with
    ``partial`` one side may be left empty (``R/`` or ``/W``: that side is kept as it is)."""
    sides = "R/W, R/ or /W" if partial else "R/W"
    allowed = f"{sides} with whole numbers from 1 to {MAX_UNITS:,} ({what})"
    side = whole(1, MAX_UNITS)

    def parse(given: str) -> tuple[int | None, int | None]:
        read, slash, write = given.strip().partition("/")
        problem = None
        if not slash or len(given) > 90:
            problem = f"{shown_value(given)} is not R/W"
        elif not read.strip() and not write.strip():
            problem = "both sides are empty"
        elif not partial and not (read.strip() and write.strip()):
            problem = f"{shown_value(given)} leaves a side empty"
        if problem is None:
            try:
                return (
                    side(read) if read.strip() else None,
                    side(write) if write.strip() else None,
                )
            except argparse.ArgumentTypeError as error:
                problem = str(error).partition(":")[0]
        raise argparse.ArgumentTypeError(f"{problem}: expected {allowed}")

    return parse


def index_capacity(given: str) -> tuple[str, int, int]:
    """An argparse ``type``: ``NAME=R/W``, a GSI's name and its read and write capacity."""
    name, equals, pair = given.rpartition("=")
    if not equals or not name.strip():
        raise argparse.ArgumentTypeError(
            f"{shown_value(given)}: expected NAME=R/W (a GSI's name, its RCU and WCU)"
        )
    text("an index name")(name)
    read, write = units_pair("RCU/WCU", partial=False)(pair)
    assert read is not None and write is not None
    return name, read, write


def limit(given: str) -> int:
    """An argparse ``type``: an on-demand maximum, 1 to :data:`MAX_UNITS` request units a
    second, or ``none`` (0) to remove it."""
    if given.strip().lower() == "none":
        return 0
    try:
        return whole(1, MAX_UNITS)(given)
    except argparse.ArgumentTypeError as error:
        problem = str(error).partition(":")[0]
        raise argparse.ArgumentTypeError(
            f"{problem}: expected a whole number of request units a second from 1 to "
            f"{MAX_UNITS:,}, or none (no maximum)"
        ) from None
