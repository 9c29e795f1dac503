"""``capcon sim``: field note B's auto-scaling experiment from the command line
(docs/field-notes.md#b-auto-scaling-too-slow).

``capcon sim --pattern PATTERN --target PERCENT --policy NAME [--hours H] [--json]`` runs one
experiment on a fresh simulated table (50 WCU at the start) and prints its results as a table,
or exactly one JSON object with ``--json``.  ``capcon sim --grid [--json | --markdown]`` runs
the whole grid (bell and top heavy × targets 30–80 % × every table policy) with a progress
bar on stderr (only when stderr is a terminal) and prints one row per pattern and target,
one column per policy (success rate and capacity-unit-hours), or a JSON list of the results.
``--policy kinesis`` runs field note C's stream policy on a fresh simulated stream instead
(the pattern × 10 records/s of 1 KiB, from ``--shards`` open shards) through the engine and
the scaler, and prints its results and every reshard with the 36-hour scale-down countdown.

Bad flags raise :class:`~capcon.tui.errors.UsageError` (exit code 2) naming what is wrong and
what is allowed.  :func:`add_parser` adds the subcommand to a parser's subcommands,
:func:`run` runs it.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from typing import Any

from capcon.core.backends.sim.experiment import (
    GRID_PATTERNS,
    GRID_TARGETS,
    TARGET_RANGE,
    ExperimentResult,
    check_inputs,
    run_experiment,
    run_grid,
)
from capcon.core.backends.sim.traffic import PATTERN_NAMES, parse_pattern
from capcon.core.backends.sim.traffic.replay import recordings_end
from capcon.core.policies import STREAM_POLICIES, TABLE_POLICIES
from capcon.core.pricing import PriceBook
from capcon.core.rules.timefmt import fmt_duration
from capcon.tui.cli.flags import book_flags
from capcon.tui.cli.output import EXIT_OK, print_json
from capcon.tui.errors import UsageError
from capcon.tui.text import printable

#: The keys of one experiment's JSON object, in order.
RESULT_KEYS = (
    "policy",
    "pattern",
    "target",
    "success_rate",
    "throttled_units",
    "capacity_unit_hours",
    "cost_usd",
    "scale_ups",
    "scale_downs",
    "decreases_used",
    "partitions_end",
)


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add ``sim`` to ``sub`` (what ``ArgumentParser.add_subparsers`` returned)."""
    p: argparse.ArgumentParser = sub.add_parser(
        "sim",
        help="run field note B's auto-scaling experiment on a simulated table",
        description=(
            "Run an auto-scaling policy on a fresh simulated table (50 WCU at the start, "
            "traffic PATTERN on its writes, target tracking at PERCENT) and report success "
            "rate (consumed / requested), throttled units, capacity-unit-hours, cost, "
            "scaling actions, decreases used and partitions left. --grid runs bell and "
            "top-heavy × targets 30–80% × every table policy."
        ),
    )
    p.add_argument(
        "--pattern",
        metavar="PATTERN",
        help=f"traffic on the writes: {', '.join(PATTERN_NAMES)} (e.g. bell, top-heavy, "
        "'spike:base=20,peak=400,at=1h,duration=10m')",
    )
    p.add_argument("--target", metavar="PERCENT", help="target utilisation, 20–90")
    p.add_argument(
        "--policy",
        metavar="NAME",
        help=f"one of {', '.join(TABLE_POLICIES)} (a table), or {', '.join(STREAM_POLICIES)} "
        "(a Kinesis stream: the pattern × 10 records/s of 1 KiB)",
    )
    p.add_argument(
        "--shards",
        metavar="N",
        default=None,
        help="with a stream policy: open shards at the start (default 1)",
    )
    p.add_argument(
        "--hours",
        metavar="H",
        default=None,
        help="simulated hours (default 3; a replayed recording: its length)",
    )
    p.add_argument(
        "--grid",
        action="store_true",
        help="run the whole grid: bell, top-heavy × 30–80%% × every table policy",
    )
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print JSON")
    out.add_argument("--markdown", action="store_true", help="with --grid: print a Markdown table")
    book_flags(p, top=False)
    return p


# --------------------------------------------------------------------------------------------


def _number(flag: str, text: object, allowed: str) -> float:
    if isinstance(text, int | float) and not isinstance(text, bool):
        value = float(text)
    else:
        try:
            value = float(str(text).strip().rstrip("%"))
        except ValueError:
            raise UsageError(f"{flag} {text!r} is not a number; allowed: {allowed}") from None
    if not math.isfinite(value):
        raise UsageError(f"{flag} {text!r} is not a finite number; allowed: {allowed}")
    return value


def _target(text: object) -> float:
    low, high = TARGET_RANGE
    allowed = f"{low:g}–{high:g} (percent)"
    value = _number("--target", text, allowed)
    if not low <= value <= high:
        raise UsageError(
            f"--target {value:g}% is outside what DynamoDB allows for target tracking; "
            f"allowed: {allowed}"
        )
    return value


#: The longest experiment: a week of simulated time (a few seconds to run); more would run
#: for hours, or overflow the simulated clock.
MAX_HOURS = 168


def _hours(text: object) -> float:
    allowed = f"a number of hours > 0 and at most {MAX_HOURS}"
    value = _number("--hours", text, allowed)
    if not 0 < value <= MAX_HOURS:
        raise UsageError(f"--hours {value:g}: the experiment needs {allowed}")
    return value


def _policy(name: object) -> str:
    if not isinstance(name, str) or name not in (*TABLE_POLICIES, *STREAM_POLICIES):
        raise UsageError(
            f"--policy: unknown policy {name!r}; allowed: {', '.join(TABLE_POLICIES)} (a table) "
            f"or {', '.join(STREAM_POLICIES)} (a Kinesis stream)"
        )
    return name


def _check(pattern: str, target: float, policy: str, hours: float) -> None:
    try:
        check_inputs(pattern, target, policy, hours)
    except ValueError as error:
        raise UsageError(f"--pattern: {error}") from None


def run(args: argparse.Namespace) -> int:
    """Run ``capcon sim`` as parsed by the parser :func:`add_parser` added."""
    given_hours = getattr(args, "hours", None)
    hours = _hours(3.0 if given_hours is None else given_hours)
    as_json = bool(getattr(args, "json", False))
    markdown = bool(getattr(args, "markdown", False))
    if as_json and markdown:
        raise UsageError("give --json or --markdown, not both")
    if getattr(args, "grid", False):
        given = [
            f"--{flag}" for flag in ("pattern", "target", "policy") if getattr(args, flag, None)
        ]
        if given:
            raise UsageError(
                f"--grid runs field note B's whole grid ({', '.join(GRID_PATTERNS)} × "
                f"{', '.join(f'{t:g}' for t in GRID_TARGETS)}% × every table policy): "
                f"drop {', '.join(given)}, or drop --grid to run one experiment"
            )
        return _run_grid(hours, as_json, markdown, _prices(args))
    missing = [
        f"--{flag}" for flag in ("pattern", "target", "policy") if getattr(args, flag, None) is None
    ]
    if missing:
        raise UsageError(
            f"sim needs {', '.join(missing)} (e.g. capcon sim --pattern bell --target 70 "
            "--policy capcon), or --grid for the whole grid"
        )
    if markdown:
        raise UsageError("--markdown is for --grid; one experiment prints a table or --json")
    target = _target(args.target)
    policy = _policy(args.policy)
    pattern = str(args.pattern)
    if policy in STREAM_POLICIES:
        return _run_stream(args, pattern, target, hours, explicit=given_hours is not None)
    if getattr(args, "shards", None) is not None:
        raise UsageError(f"--shards is for a stream policy ({', '.join(STREAM_POLICIES)})")
    _check(pattern, target, policy, hours)
    hours, notes = _replay_hours(pattern, hours, explicit=given_hours is not None)
    result = run_experiment(pattern, target, policy, hours=hours, prices=_prices(args))
    if as_json:
        print_json(_document(result))
    else:
        _print_one(result, hours)
    for note in notes:  # stderr in both forms: --json stays one object of the result's keys
        print(f"capcon: note: {printable(note)}", file=sys.stderr)
    return EXIT_OK


# --------------------------------------------------------------------------------------------
# The stream experiment (field note C's Kinesis policy)


def _shards(text: object) -> int:
    allowed = "a whole number of shards, 1 to 10,000"
    value = _number("--shards", 1 if text is None else text, allowed)
    if value != int(value) or not 1 <= value <= 10_000:
        raise UsageError(f"--shards {text}: the stream needs {allowed}")
    return int(value)


def _run_stream(
    args: argparse.Namespace, pattern: str, target: float, hours: float, *, explicit: bool
) -> int:
    """``capcon sim --policy kinesis``: the ``kinesis`` policy on a fresh simulated stream,
    its decisions (each with the 36-hour scale-down countdown) and its results."""
    from capcon.core.backends.sim.stream_lab import STREAM, stream_experiment_account
    from capcon.core.rules import RuleSettings
    from capcon.core.services.stream_experiment import run_stream_experiment

    shards = _shards(getattr(args, "shards", None))
    try:
        shape = parse_pattern(pattern)
    except ValueError as error:
        raise UsageError(f"--pattern: {error}") from None
    hours, notes = _replay_hours(pattern, hours, explicit=explicit)
    prices = _prices(args)
    account = stream_experiment_account(shape, shards=shards, hours=hours)
    result = run_stream_experiment(
        account,
        account.controls,
        STREAM,
        target=target,
        minutes=max(1, round(hours * 60)),
        rules=RuleSettings(),
        prices=prices,
        metric_delay_seconds=account.settings.metric_delay_seconds,
        update_seconds=account.settings.update_seconds,
    )
    if args.json:
        print_json({"pattern": pattern, **result.to_dict()})
    else:
        _print_stream(result, pattern, hours)
    for note in notes:
        print(f"capcon: note: {printable(note)}", file=sys.stderr)
    return EXIT_OK


def _print_stream(result: Any, pattern: str, hours: float) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    out = Console()
    table = Table(
        title=f"kinesis on a stream carrying {printable(pattern)} × 10 records/s at "
        f"{result.target:g}% for {hours:g} h",
        show_header=False,
    )
    table.add_column("measure", style="bold")
    table.add_column("value", justify="right")
    due = result.next_scale_down_check
    rows = (
        ("success rate (accepted / requested records)", f"{result.success_rate * 100:.3f}%"),
        ("throttled records", f"{result.throttled_records:,.0f}"),
        ("shard-hours", f"{result.shard_hours:,.1f}"),
        ("cost (shard-hours)", f"${result.cost_usd:,.4f}"),
        ("scale-ups", f"{result.scale_ups}"),
        ("scale-downs", f"{result.scale_downs}"),
        ("open shards at the start → end", f"{result.shards_start} → {result.shards_end}"),
        ("next scale-down check", "—" if due is None else f"{due:%Y-%m-%d %H:%M} UTC"),
    )
    for name, value in rows:
        table.add_row(name, value)
    out.print(table)
    acted = result.actions
    out.print(Text(f"Reshards ({len(acted)})", style="bold"))
    for decision in acted:
        out.print(Text(printable(decision.line)), soft_wrap=True)
    if result.decisions:
        out.print(Text("Last decision", style="bold"))
        out.print(Text(printable(result.decisions[-1].line)), soft_wrap=True)


def _replay_hours(pattern: str, hours: float, *, explicit: bool) -> tuple[float, list[str]]:
    """The hours to run and what to say about a replayed recording: without ``--hours`` a
    run lasts as long as the recording (at least a minute, at most a week); with it, a
    shorter run says what it cut and a longer one that it held the last value."""
    end = recordings_end(parse_pattern(pattern))
    if end is None:
        return hours, []
    length = fmt_duration(end)
    if not explicit:
        span = min(max(end, 60.0), MAX_HOURS * 3600.0)
        note = f"ran for the recording's length, {fmt_duration(span)} (--hours to change it)"
        if span < end:
            note = (
                f"the recording lasts {length}: ran the first {fmt_duration(span)}, the most "
                "a run allows"
            )
        return span / 3600, [note]
    run_s = hours * 3600
    if run_s < end:
        return hours, [
            f"--hours {hours:g} cut the recording: it lasts {length}, the last "
            f"{fmt_duration(end - run_s)} were not replayed"
        ]
    if run_s > end:
        return hours, [
            f"the recording ends at {length}: its last value was held for the last "
            f"{fmt_duration(run_s - end)} of the {hours:g} h run"
        ]
    return hours, []


def _document(result: ExperimentResult) -> dict[str, Any]:
    data = result.to_dict()
    return {key: data[key] for key in RESULT_KEYS}


# --------------------------------------------------------------------------------------------


def _print_one(result: ExperimentResult, hours: float) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"{result.policy} on {result.pattern} at {result.target:g}% for {hours:g} h",
        show_header=False,
    )
    table.add_column("measure", style="bold")
    table.add_column("value", justify="right")
    rows = (
        ("success rate (consumed / requested)", f"{result.success_rate * 100:.3f}%"),
        ("throttled units", f"{result.throttled_units:,.0f}"),
        ("capacity-unit-hours (WCU-h)", f"{result.capacity_unit_hours:,.1f}"),
        ("cost", f"${result.cost_usd:,.4f}"),
        ("scale-ups", f"{result.scale_ups}"),
        ("scale-downs", f"{result.scale_downs}"),
        ("decreases used (most in a UTC day)", f"{result.decreases_used}"),
        ("partitions at the end (estimated)", f"{result.partitions_end}"),
    )
    for name, value in rows:
        table.add_row(name, value)
    Console().print(table)


def _prices(args: argparse.Namespace) -> PriceBook:
    """The experiment's price book: us-east-1 (where its table lives), with the user's
    prices file (config or ``--prices``) on top, as every other command prices."""
    from capcon.core.config.settings import ConfigError, load_config
    from capcon.tui.bootstrap import load_books

    try:
        config = load_config()
    except ConfigError as error:
        raise UsageError(str(error)) from None
    return load_books(args, "us-east-1", config).prices


def _run_grid(hours: float, as_json: bool, markdown: bool, prices: PriceBook) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    err = Console(stderr=True)
    total = len(GRID_PATTERNS) * len(GRID_TARGETS) * len(TABLE_POLICIES)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
        disable=not sys.stderr.isatty(),
    ) as progress:
        task = progress.add_task("experiments", total=total)

        def advance(done: int, _total: int, result: ExperimentResult) -> None:
            progress.update(
                task,
                completed=done,
                description=f"{result.pattern} {result.target:g}% {result.policy}",
            )

        results = run_grid(progress=advance, hours=hours, prices=prices)
    if as_json:
        print_json([_document(r) for r in results])
    elif markdown:
        print(grid_markdown(results))
    else:
        out = Console()
        if not out.is_terminal:  # a pipe or a file: no terminal to fit, keep rows on one line
            out = Console(width=max(out.width, 140))
        out.print(_grid_table(results, hours))
    return EXIT_OK


def _cells(
    results: Sequence[ExperimentResult],
) -> tuple[list[str], list[tuple[str, float]], dict[tuple[str, float, str], ExperimentResult]]:
    policies = list(dict.fromkeys(r.policy for r in results))
    rows = list(dict.fromkeys((r.pattern, r.target) for r in results))
    by = {(r.pattern, r.target, r.policy): r for r in results}
    return policies, rows, by


def _grid_table(results: Sequence[ExperimentResult], hours: float) -> Any:
    from rich.table import Table

    policies, rows, by = _cells(results)
    table = Table(
        title=f"Field note B's grid, {hours:g} h from 50 WCU: success % · capacity-unit-hours",
        caption="success = consumed / requested; capacity-unit-hours = provisioned WCU × hours",
    )
    table.add_column("pattern", no_wrap=True)
    table.add_column("target", justify="right", no_wrap=True)
    for policy in policies:
        table.add_column(policy, justify="right", no_wrap=True)
    for pattern, target in rows:
        cells = []
        for policy in policies:
            r = by.get((pattern, target, policy))
            if r is None:
                cells.append("")
                continue
            style = "green" if r.throttled_units == 0 else "yellow"
            cells.append(
                f"[{style}]{r.success_rate * 100:.2f}%[/{style}] · {r.capacity_unit_hours:,.0f}"
            )
        table.add_row(pattern, f"{target:g}%", *cells)
    return table


def grid_markdown(results: Sequence[ExperimentResult]) -> str:
    """The grid as a Markdown table (for the README): success % · capacity-unit-hours."""
    policies, rows, by = _cells(results)
    lines = [
        "| pattern | target | " + " | ".join(policies) + " |",
        "|---|---:|" + "---:|" * len(policies),
    ]
    for pattern, target in rows:
        cells = []
        for policy in policies:
            r = by.get((pattern, target, policy))
            cells.append(
                "" if r is None else f"{r.success_rate * 100:.2f}% · {r.capacity_unit_hours:,.0f}"
            )
        lines.append(f"| {pattern} | {target:g}% | " + " | ".join(cells) + " |")
    return "\n".join(lines)
