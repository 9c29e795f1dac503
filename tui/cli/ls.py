"""``capcon ls``: every table, GSI and stream with capacity, use, throttles and cost.

What cannot be read (a service denied, failing or answering garbage) leaves the rest listed:
each notice goes to stderr (``capcon: notice: kinesis:ListStreams: access denied — streams not
shown``) and the exit code is 4 (partial); ``--json`` stays a list of rows on stdout.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from capcon.core.jsonable import to_jsonable
from capcon.core.model import Table, TableClass
from capcon.core.services.overview import Notice, Row, orphaned, read_overview
from capcon.tui.bootstrap import Session
from capcon.tui.cli.output import EXIT_OK, EXIT_PARTIAL, console, print_json
from capcon.tui.text import (
    capacity_text,
    cost_text,
    last_throttled_text,
    partitions_text,
    printable,
    throttled_text,
    use_text,
    util_text,
)

SORT_KEYS: dict[str, Callable[[Row], Any]] = {
    "name": lambda r: r.name,
    "cost": lambda r: -(r.cost_per_hour or 0.0),
    "util": lambda r: -(r.utilisation or 0.0),
    "throttles": lambda r: -r.throttled_per_second,
}

COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "left"),
    ("kind", "left"),
    ("mode", "left"),
    ("status", "left"),
    ("capacity R/W", "right"),
    ("consumed R/W /s", "right"),
    ("util", "right"),
    ("throttled /s", "right"),
    ("last throttled", "left"),
    ("partitions (est.)", "right"),
    ("$/h", "right"),
    ("AAS", "left"),
)


def run(args: argparse.Namespace, session: Session) -> int:
    backend = session.backend
    books = session.books
    overview = read_overview(backend, books.rules, books.prices)
    rows = list(overview.rows)
    done = EXIT_PARTIAL if overview.partial else EXIT_OK
    if args.filter:
        rows = [r for r in rows if args.filter.lower() in r.name.lower()]
    rows.sort(key=SORT_KEYS[args.sort])
    tables = {t.name: t for t in overview.tables}
    if args.json:
        print_json([row_json(r, tables.get(r.table or "")) for r in rows])
        print_notices(overview.notices)
        return done
    from rich.table import Table as RichTable
    from rich.text import Text

    now = backend.now()
    grid = RichTable(
        title=Text(printable(f"{session.origin.backend} · {now:%Y-%m-%d %H:%M} UTC")),
        title_justify="left",
    )
    for header, justify in COLUMNS:
        grid.add_column(header, justify=justify)  # type: ignore[arg-type]
    for row in rows:
        grid.add_row(
            Text(printable(row.name)),
            row.kind,
            mode_text(row, tables.get(row.table or "")),
            Text(printable(row.status), style="" if row.status == "ACTIVE" else "yellow"),
            capacity_text(row),
            use_text(row),
            util_text(row),
            throttled_text(row),
            last_throttled_text(row, now),
            partitions_text(row),
            cost_text(row),
            row.auto_scaling.marker,
            style="bold red" if row.throttling else "",
        )
    out = console(wide=True)
    out.print(grid)
    total = sum(r.cost_per_hour or 0.0 for r in rows)
    throttling = [r.name for r in rows if r.throttling]
    unknown_cost = any(r.cost_per_hour is None for r in rows)
    summary = Text(f"{len(rows)} resources · ${total:,.2f}/h{'+' if unknown_cost else ''} · ")
    if throttling:
        summary.append(printable(f"throttling: {', '.join(throttling)}"), style="bold red")
    elif rows and not all(r.metrics_known for r in rows):
        summary.append("throttling unknown")
    else:
        summary.append("no throttling")
    out.print(summary)
    traps = [f"{r.name}: {trap}" for r in rows for trap in r.auto_scaling.traps]
    traps += [
        f"{rid}: auto scaling is left on a table or index that no longer exists: deregister it"
        for rid in orphaned(overview.auto_scaling, overview.tables)
    ]
    for trap in traps:
        out.print(Text(printable(f"⚠ {trap}"), style="yellow"))
    for row in rows:
        for note in row.auto_scaling.notes:
            out.print(Text(printable(f"· {row.name}: {note}")))
    out.print(
        "[dim]consumed: mean of the last 5 published minutes; throttled: the last complete "
        "minute (R reads, W writes); partitions are estimates[/]"
    )
    if overview.notices:
        out.print(
            Text(
                f"partial: {len(overview.notices)} part(s) of the account could not be read "
                "(see the notices)",
                style="bold yellow",
            )
        )
    print_notices(overview.notices)
    return done


def print_notices(notices: Sequence[Notice]) -> None:
    """Each notice on stderr, one line, then the backend's own words (escaped: they may
    quote what the server sent)."""
    for notice in notices:
        print(f"capcon: notice: {printable(notice.text)}", file=sys.stderr)
        if notice.detail:
            print(f"  {printable(notice.detail)}", file=sys.stderr)


def mode_text(row: Row, table: Table | None) -> str:
    """The mode column: the capacity mode, then ``IA`` for a Standard-IA table and
    ``global ×N`` for a global table in N regions (its own and its replicas')."""
    if row.kind == "stream" or table is None:
        return row.mode
    words = [row.mode]
    if table.table_class is not TableClass.STANDARD:
        words.append("IA")
    if table.is_global and row.kind == "table":
        words.append(f"global ×{len(table.replicas) + 1}")
    return " · ".join(words)


def row_json(row: Row, table: Table | None = None) -> dict[str, Any]:
    data: dict[str, Any] = to_jsonable(row)
    if table is not None:
        data["table_class"] = table.table_class.value
        data["replica_regions"] = [r.region for r in table.replicas]
    data["auto_scaling"]["traps"] = list(row.auto_scaling.traps)
    data["auto_scaling"]["notes"] = list(row.auto_scaling.notes)
    data["throttling"] = row.throttling
    data["last_throttled"] = to_jsonable(row.last_throttled)
    return data
