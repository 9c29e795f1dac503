"""The lab's settings: pattern, target and lanes, checked the same way on the command line
(``capcon lab --pattern … --target … --policies …``) and in the app's settings dialog (``e``),
where Enter applies and restarts the lanes, Escape cancels, and a bad value is named in the
dialog (the lanes keep running what they ran)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from capcon.core.backends.sim.experiment import check_inputs
from capcon.core.policies import POLICIES, STREAM_POLICIES
from capcon.core.rules import TARGET_RANGE
from capcon.tui.lab.scheduled import FALLBACK_POLICY, SCHEDULED
from capcon.tui.text import printable

#: How many lanes the lab shows side by side.
MIN_LANES, MAX_LANES = 2, 4


@dataclass(frozen=True, slots=True)
class LabSettings:
    """What the lanes run: a traffic pattern, a target utilisation and 2–4 lanes."""

    pattern: str
    target: float
    policies: tuple[str, ...]


#: The lane that runs field note C's Kinesis policy on a simulated stream.
KINESIS = "kinesis"


def lane_names() -> list[str]:
    """Every lane a ``--policies`` list may name."""
    return [name for name in POLICIES if name not in STREAM_POLICIES] + [SCHEDULED, KINESIS]


def parse_policies(text: str) -> tuple[str, ...]:
    """The lanes of a comma-separated list, or ``ValueError`` naming what is wrong: an unknown
    name (with the known ones), a name given twice, fewer than 2 or more than 4."""
    names = tuple(p.strip() for p in text.split(",") if p.strip())
    for name in names:
        if name not in lane_names():
            known = [n for n in POLICIES if n not in STREAM_POLICIES]
            raise ValueError(
                f"unknown lane {printable(name)!r}: a table policy ({', '.join(known)}) "
                f"or {SCHEDULED} (a known event scaled ahead) or {KINESIS} (a stream under "
                "field note C's Kinesis policy)"
            )
    repeated = sorted({p for p in names if names.count(p) > 1})
    if repeated:
        raise ValueError(
            f"--policies names {printable(', '.join(repeated))} more than once: each lane "
            f"runs a different policy ({MIN_LANES} to {MAX_LANES} of them, comma-separated)"
        )
    if not MIN_LANES <= len(names) <= MAX_LANES:
        raise ValueError(
            f"choose {MIN_LANES} to {MAX_LANES} policies, not {len(names)} "
            f"(comma-separated: {', '.join(lane_names())})"
        )
    return names


def parse_target(text: str) -> float:
    """A target utilisation in percent, or ``ValueError`` naming the range."""
    low, high = TARGET_RANGE
    try:
        value = float(text.strip().rstrip("%"))
    except ValueError:
        raise ValueError(
            f"target {printable(text)!r} is not a number: choose {low:g}–{high:g}"
        ) from None
    return value


def check_settings(pattern: str, target: float, policies: tuple[str, ...]) -> LabSettings:
    """The settings, checked (``ValueError`` naming the first problem)."""
    policies = parse_policies(",".join(policies))
    for policy in policies:
        table_policy = FALLBACK_POLICY if policy in (SCHEDULED, KINESIS) else policy
        check_inputs(pattern, target, table_policy, 1.0)
    return LabSettings(pattern.strip(), float(target), policies)


class SettingsDialog(ModalScreen[LabSettings | None]):
    """Pattern, target and lanes in place: Enter applies, Escape cancels."""

    DEFAULT_CSS = """
    SettingsDialog { align: center middle; }
    SettingsDialog > Vertical {
        width: 72; max-width: 100%; height: auto; padding: 0 1;
        border: round $primary; background: $surface;
    }
    SettingsDialog Label { width: 1fr; }
    SettingsDialog Input { margin: 0 0 1 0; }
    SettingsDialog Input:focus { border: tall $accent; }
    SettingsDialog #settings-error { color: $error; height: auto; }
    SettingsDialog #settings-help { color: $text-muted; height: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(
        self, current: LabSettings, check: Callable[[LabSettings], object] | None = None
    ) -> None:
        """``check`` builds what the settings describe (``ValueError`` when it cannot, e.g.
        the scheduled lane on a pattern without a known event): the dialog stays open and
        says why."""
        super().__init__()
        self.current = current
        self.check = check

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("[b]Lab settings[/b] — the lanes restart with them")
            yield Label("pattern (bell, top-heavy, spike:…, steady:25 …)")
            yield Input(self.current.pattern, id="settings-pattern")
            yield Label("target % (20–90)")
            yield Input(f"{self.current.target:g}", id="settings-target")
            yield Label(f"lanes, 2–4 comma-separated ({', '.join(lane_names())})")
            yield Input(",".join(self.current.policies), id="settings-policies")
            yield Static("", id="settings-error")
            yield Static("Enter applies · Escape cancels · Tab next field", id="settings-help")

    def on_mount(self) -> None:
        self.query_one("#settings-pattern", Input).focus()

    def read(self) -> LabSettings:
        """The dialog's values, checked (``ValueError`` naming the first problem)."""
        pattern = self.query_one("#settings-pattern", Input).value
        target = parse_target(self.query_one("#settings-target", Input).value)
        policies = parse_policies(self.query_one("#settings-policies", Input).value)
        return check_settings(pattern, target, policies)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            settings = self.read()
            if self.check is not None:
                self.check(settings)
        except ValueError as error:
            self.query_one("#settings-error", Static).update(Text(printable(str(error))))
            return
        self.dismiss(settings)

    def action_cancel(self) -> None:
        self.dismiss(None)
