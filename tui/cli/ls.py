"""``capcon ls``: every table, GSI and stream with capacity, use, throttles and cost."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from capcon.core.jsonable import to_jsonable
from capcon.core.services.overview import Row, auto_scaling_by_resource, collect_rows, orphaned
from capcon.tui.bootstrap import Session
from capcon.tui.cli.output import EXIT_OK, console, print_json
from capcon.tui.text import (
    capacity_text,
    cost_text,
    partitions_text,
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
    ("partitions (est.)", "right"),
    ("$/h", "right"),
    ("AAS", "left"),
)


def run(args: argparse.Namespace, session: Session) -> int:
    backend = session.backend
    books = session.books
    tables = backend.describe_tables(backend.list_tables())
    aas = auto_scaling_by_resource(backend)
    rows = collect_rows(
        backend,
        books.rules,
        books.prices,
        tables=tables,
        streams=backend.describe_streams(backend.list_streams()),
        auto_scaling=aas,
    )
    if args.filter:
        rows = [r for r in rows if args.filter.lower() in r.name.lower()]
    rows.sort(key=SORT_KEYS[args.sort])
    if args.json:
        print_json([row_json(r) for r in rows])
        return EXIT_OK
    from rich.table import Table as RichTable
    from rich.text import Text

    grid = RichTable(
        title=Text(f"{session.origin.backend} · {backend.now():%Y-%m-%d %H:%M} UTC"),
        title_justify="left",
    )
    for header, justify in COLUMNS:
        grid.add_column(header, justify=justify)  # type: ignore[arg-type]
    for row in rows:
        grid.add_row(
            Text(row.name),
            row.kind,
            row.mode,
            Text(row.status, style="" if row.status == "ACTIVE" else "yellow"),
            capacity_text(row),
            use_text(row),
            util_text(row),
            throttled_text(row),
            partitions_text(row),
            cost_text(row),
            row.auto_scaling.marker,
            style="bold red" if row.throttling else "",
        )
    out = console(wide=True)
    out.print(grid)
    total = sum(r.cost_per_hour or 0.0 for r in rows)
    throttling = [r.name for r in rows if r.throttling]
    summary = Text(f"{len(rows)} resources · ${total:,.2f}/h · ")
    if throttling:
        summary.append(f"throttling: {', '.join(throttling)}", style="bold red")
    else:
        summary.append("no throttling")
    out.print(summary)
    traps = [f"{r.name}: {trap}" for r in rows for trap in r.auto_scaling.traps]
    traps += [
        f"{rid}: auto scaling is left on a table or index that no longer exists: deregister it"
        for rid in orphaned(aas, tables)
    ]
    for trap in traps:
        out.print(Text(f"⚠ {trap}", style="yellow"))
    out.print(
        "[dim]consumed and throttles: mean of the last 5 published minutes; partitions are "
        "estimates[/]"
    )
    return EXIT_OK


def row_json(row: Row) -> dict[str, Any]:
    data: dict[str, Any] = to_jsonable(row)
    data["auto_scaling"]["traps"] = list(row.auto_scaling.traps)
    data["throttling"] = row.throttling
    return data
