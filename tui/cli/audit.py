"""``capcon audit``: the audit log of changes made through capcon (no backend needed).

Lines of the log that are not capcon records (not UTF-8, not JSON, too deep, fields of the
wrong type) are skipped and counted: the table shows the records, stderr says how many lines
were skipped, which, and why (``2 audit lines skipped (lines 14, 90): not a capcon record``).
"""

from __future__ import annotations

import argparse
import sys

from capcon.tui.bootstrap import open_audit
from capcon.tui.cli.output import EXIT_OK, console, print_json
from capcon.tui.text import AUDIT_COLUMNS, audit_cells, printable


def run(args: argparse.Namespace) -> int:
    log = open_audit()
    reading = log.read_checked(args.limit)
    records = reading.records
    notice = reading.notice()
    if notice is not None:
        print(f"capcon: {printable(notice)} in {printable(str(log.path))}", file=sys.stderr)
    if args.json:
        print_json(records)
        return EXIT_OK
    from rich.table import Table as RichTable
    from rich.text import Text

    grid = RichTable(title=Text(printable(f"audit log · {log.path}")), title_justify="left")
    for header in AUDIT_COLUMNS:
        grid.add_column(header)
    for record in records:
        grid.add_row(*(Text(printable(cell)) for cell in audit_cells(record)))
    console(wide=True).print(grid)
    if not records:
        print("no changes recorded yet")
    return EXIT_OK
