"""The audit log screen: every record, and a warning naming the lines that are not
records (skipped, never a crash)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from capcon.core.services.audit import AuditLog, AuditLogError
from capcon.tui.text import AUDIT_COLUMNS, audit_cells, markup_safe, printable


class AuditScreen(Screen[None]):
    """Every change made through capcon, newest last."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "app.pop_screen", "Back"),
    ]

    def __init__(self, audit: AuditLog) -> None:
        super().__init__()
        self.audit = audit

    def compose(self) -> ComposeResult:
        yield Static(f"[b]Audit log[/b] · {markup_safe(str(self.audit.path))}", id="audit-title")
        yield DataTable(id="audit", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for column in AUDIT_COLUMNS:
            table.add_column(column, key=column)
        try:
            reading = self.audit.read_checked(500)
        except AuditLogError as error:  # e.g. a symbolic link: never followed
            self.query_one("#audit-title", Static).update(
                f"[b]Audit log[/b] · {markup_safe(str(error))}"
            )
            self.notify(markup_safe(str(error)), title="audit log", severity="error", timeout=10)
            table.focus()
            return
        records = reading.records
        for number, record in enumerate(records):
            table.add_row(*(Text(printable(cell)) for cell in audit_cells(record)), key=str(number))
        title = f"[b]Audit log[/b] · {markup_safe(str(self.audit.path))}"
        notice = reading.notice()
        if notice is not None:  # lines that are not records: say which, show the rest
            title += f" · {markup_safe(notice)}"
            self.notify(markup_safe(notice), title="audit log", severity="warning", timeout=10)
        if not records:
            title += " · no changes recorded yet"
        self.query_one("#audit-title", Static).update(title)
        if records:
            table.move_cursor(row=len(records) - 1)
        table.focus()
