"""The audit log screen."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from capcon.core.services.audit import AuditLog


class AuditScreen(Screen[None]):
    """Every change made through capcon, newest last."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "app.pop_screen", "Back"),
    ]

    def __init__(self, audit: AuditLog) -> None:
        super().__init__()
        self.audit = audit

    def compose(self) -> ComposeResult:
        yield Static(f"[b]Audit log[/b] · {self.audit.path}", id="audit-title")
        yield DataTable(id="audit", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for column in ("at", "change", "phase", "who", "backend", "resource", "summary", "outcome"):
            table.add_column(column, key=column)
        records = self.audit.read(500)
        for number, record in enumerate(records):
            origin = record.get("origin") or {}
            outcome = str(record.get("outcome") or "")
            if record.get("error"):
                outcome += f": {record['error']}"
            table.add_row(
                str(record.get("at", ""))[:19].replace("T", " "),
                str(record.get("change_id", "")),
                str(record.get("phase", "")),
                str(origin.get("who", "")),
                str(origin.get("backend", "")),
                str(record.get("resource", "")),
                str(record.get("summary", "")),
                outcome,
                key=str(number),
            )
        if not records:
            self.query_one("#audit-title", Static).update(
                f"[b]Audit log[/b] · {self.audit.path} · no changes recorded yet"
            )
        else:
            table.move_cursor(row=len(records) - 1)
        table.focus()
