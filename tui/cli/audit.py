"""``capcon audit``: the audit log of changes made through capcon (no backend needed)."""

from __future__ import annotations

import argparse

from capcon.tui.bootstrap import open_audit
from capcon.tui.cli.output import EXIT_OK, console, print_json
from capcon.tui.text import AUDIT_COLUMNS, audit_cells


def run(args: argparse.Namespace) -> int:
    log = open_audit()
    records = log.read(args.limit)
    if args.json:
        print_json(records)
        return EXIT_OK
    from rich.table import Table as RichTable
    from rich.text import Text

    grid = RichTable(title=Text(f"audit log · {log.path}"), title_justify="left")
    for header in AUDIT_COLUMNS:
        grid.add_column(header)
    for record in records:
        grid.add_row(*(Text(cell) for cell in audit_cells(record)))
    console(wide=True).print(grid)
    if not records:
        print("no changes recorded yet")
    return EXIT_OK
