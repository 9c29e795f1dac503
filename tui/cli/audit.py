"""``capcon audit``: the audit log of changes made through capcon (no backend needed).

Lines of the log that are not capcon records (not UTF-8, not JSON, too deep, fields of the
wrong type) are skipped and counted: the table shows the records, stderr says how many lines
were skipped, which, and why (``2 audit lines skipped (lines 14, 90): not a capcon record``).

``--stack NAME`` reads a deployed engine's audit items instead: from the state table the
stack names (its ``StateTable`` output), through the session (``--profile``, ``--region``,
``--endpoint-url``), shown with the same columns and the same JSON.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence

from capcon.tui.bootstrap import open_audit
from capcon.tui.cli.output import EXIT_OK, console, print_json
from capcon.tui.errors import UsageError
from capcon.tui.text import AUDIT_COLUMNS, audit_cells, printable


def run(args: argparse.Namespace) -> int:
    if getattr(args, "stack", None):
        return run_stack(args)
    log = open_audit()
    reading = log.read_checked(args.limit)
    records = reading.records
    notice = reading.notice()
    if notice is not None:
        print(f"capcon: {printable(notice)} in {printable(str(log.path))}", file=sys.stderr)
    if args.json:
        print_json(records)
        return EXIT_OK
    show(records, f"audit log · {log.path}")
    return EXIT_OK


def show(records: Sequence[Mapping[str, object]], title: str) -> None:
    """The records as the audit table (every cell escaped: it may come from anywhere)."""
    from rich.table import Table as RichTable
    from rich.text import Text

    grid = RichTable(title=Text(printable(title)), title_justify="left")
    for header in AUDIT_COLUMNS:
        grid.add_column(header)
    for record in records:
        grid.add_row(*(Text(printable(cell)) for cell in audit_cells(record)))
    console(wide=True).print(grid)
    if not records:
        print("no changes recorded yet")


def run_stack(args: argparse.Namespace) -> int:
    """The audit items of the deployed engine of ``--stack``."""
    from capcon.core.deploy.spec import STACK_NAME
    from capcon.tui.bootstrap import open_session, scenario
    from capcon.tui.cli.deploy_stack import audit_items, require_state_table, stacks_of

    stack: str = args.stack
    if not STACK_NAME.fullmatch(stack):
        raise UsageError(
            f"--stack {printable(repr(stack))}: a letter, then letters, digits or hyphens "
            "(at most 128)"
        )
    if scenario(args):
        raise UsageError(
            "audit --stack reads a deployed stack's state table on AWS (or --endpoint-url); "
            "the simulated account has no stacks"
        )
    stacks = stacks_of(open_session(args))
    info = stacks.describe(stack)
    table = require_state_table(stacks, info)
    records = audit_items(stacks, table, args.limit)
    if args.json:
        print_json(records)
        return EXIT_OK
    show(records, f"audit of stack {stack} · state table {table}")
    return EXIT_OK
