"""The auto-scaling modal: edit min, max and target (or set auto scaling up, or switch it
off) for one dimension of a table or GSI, reading the preview as you type.

Like the scale modal it renders a core plan and returns it to apply, or ``None``.
"""

from __future__ import annotations

from datetime import datetime

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from capcon.core.model import Table
from capcon.core.planning.autoscaling import AutoScalingPlan, plan_autoscaling
from capcon.core.planning.planner import Refusal, Usage
from capcon.core.planning.requests import AutoScalingChange, Dimension
from capcon.core.pricing import PriceBook
from capcon.core.rules import RuleSettings
from capcon.core.services.overview import AutoScalingState
from capcon.tui.console.modals.grammar import OrderedInput, PlanModal, PlanPanel
from capcon.tui.console.modals.scale import parse_units
from capcon.tui.render import render_autoscaling_plan, render_refusal
from capcon.tui.text import markup_safe


class AutoScalingModal(PlanModal[AutoScalingPlan | None]):
    """Preview and confirm an Application Auto Scaling change."""

    APPLY_ID = "aas-apply"

    DEFAULT_CSS = """
    AutoScalingModal { align: center middle; }
    AutoScalingModal > Vertical {
        width: 96; height: 80%; border: thick $primary; background: $surface; padding: 0 1;
    }
    AutoScalingModal .inputs { height: auto; }
    AutoScalingModal .inputs Input { width: 14; }
    AutoScalingModal .inputs Select { width: 16; }
    AutoScalingModal .inputs Label { padding: 1 1 0 0; }
    AutoScalingModal #aas-message { color: $error; height: auto; }
    AutoScalingModal #aas-preview { height: 1fr; }
    AutoScalingModal .buttons { height: auto; align-horizontal: right; }
    """

    def __init__(
        self,
        table: Table,
        index: str | None,
        state: AutoScalingState,
        usage: Usage | None,
        rules: RuleSettings,
        prices: PriceBook,
        *,
        now: datetime,
    ) -> None:
        super().__init__()
        self.table = table
        self.index = index
        self.state = state
        self.usage = usage
        self.rules = rules
        self.prices = prices
        self.now = now
        self.result: AutoScalingPlan | Refusal | None = None
        self.error: str | None = None

    @property
    def name_shown(self) -> str:
        return f"{self.table.name}/{self.index}" if self.index else self.table.name

    def _existing(self, dimension: str) -> tuple[int, int, float]:
        target = next(
            (t for t in self.state.targets if ("Read" in t.dimension) == (dimension == "read")),
            None,
        )
        policy = next(
            (p for p in self.state.policies if ("Read" in p.dimension) == (dimension == "read")),
            None,
        )
        capacity = (
            self.table.index(self.index).provisioned if self.index else self.table.provisioned
        )
        current = 1
        if capacity is not None:
            current = capacity.read if dimension == "read" else capacity.write
        lo = target.min_capacity if target else max(1, current // 2)
        hi = target.max_capacity if target else current * 4
        value = policy.target_value if policy else 70.0
        return lo, hi, value

    def compose(self) -> ComposeResult:
        lo, hi, value = self._existing("write")
        with Vertical():
            yield Static(
                f"[b]Auto scaling of {markup_safe(self.name_shown)}[/b] — nothing changes until "
                "you apply"
            )
            yield self.key_hint()
            with Horizontal(classes="inputs"):
                yield Select(
                    [("writes", "write"), ("reads", "read")],
                    value="write",
                    allow_blank=False,
                    id="aas-dimension",
                )
                yield Label("min")
                yield OrderedInput(str(lo), id="aas-min")
                yield Label("max")
                yield OrderedInput(str(hi), id="aas-max")
                yield Label("target %")
                yield OrderedInput(f"{value:g}", id="aas-target")
                yield Checkbox("on", value=True, id="aas-enabled")
            yield Static(id="aas-message")
            with PlanPanel(id="aas-preview"):
                yield Static(id="aas-plan")
            with Horizontal(classes="buttons"):
                yield Button("Apply", variant="warning", id="aas-apply", disabled=True)
                yield Button("Cancel", id="aas-cancel")

    def on_mount(self) -> None:
        self.recompute()
        self.set_focus(self.query_one("#aas-min", Input))

    def _change(self) -> AutoScalingChange:
        dimension: Dimension = (
            "read" if self.query_one("#aas-dimension", Select).value == "read" else "write"
        )
        enabled = self.query_one("#aas-enabled", Checkbox).value
        if not enabled:
            return AutoScalingChange(self.table.name, self.index, dimension, enabled=False)
        lo = parse_units(self.query_one("#aas-min", Input).value, "min")
        hi = parse_units(self.query_one("#aas-max", Input).value, "max")
        text = self.query_one("#aas-target", Input).value.strip().rstrip("%")
        try:
            target = float(text)
        except ValueError:
            raise ValueError(f"target: {text!r} is not a number (20–90)") from None
        return AutoScalingChange(self.table.name, self.index, dimension, lo, hi, target)

    def recompute(self) -> None:
        message = self.query_one("#aas-message", Static)
        preview = self.query_one("#aas-plan", Static)
        button = self.query_one("#aas-apply", Button)
        try:
            change = self._change()
        except ValueError as error:
            self.result = None
            self.error = str(error)
            message.update(f"✗ {markup_safe(self.error)}")
            # the plan panel describes the same text as the message: never an older plan
            preview.update(f"no plan: {markup_safe(self.error)}")
            button.disabled = True
            return
        self.error = None
        message.update("")
        self.result = plan_autoscaling(
            self.table,
            change,
            self.state.targets,
            self.state.policies,
            self.now,
            rules=self.rules,
            prices=self.prices,
            usage=self.usage,
        )
        if isinstance(self.result, Refusal):
            unchanged = all("already set like this" in v.message for v in self.result.violations)
            preview.update(
                "Edit min, max or target (or untick 'on' to switch auto scaling off): the "
                "preview appears here as you type."
                if unchanged
                else render_refusal(self.result)
            )
            button.disabled = True
        else:
            preview.update(render_autoscaling_plan(self.result))
            button.disabled = False

    @on(Select.Changed, "#aas-dimension")
    def _dimension(self, event: Select.Changed) -> None:
        lo, hi, value = self._existing(str(event.value))
        self.query_one("#aas-min", Input).value = str(lo)
        self.query_one("#aas-max", Input).value = str(hi)
        self.query_one("#aas-target", Input).value = f"{value:g}"
        self.recompute()

    @on(Input.Changed)
    @on(Checkbox.Changed)
    def _changed(self) -> None:
        self.recompute()

    @on(Button.Pressed, "#aas-apply")
    def _apply_pressed(self) -> None:
        self.action_apply()

    @on(Button.Pressed, "#aas-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def applicable(self) -> AutoScalingPlan | None:
        if isinstance(self.result, AutoScalingPlan) and self._apply_enabled():
            return self.result
        return None

    def missing(self) -> tuple[str, str | None]:
        if self.error:
            return self.error, None
        if isinstance(self.result, Refusal):
            unchanged = all("already set like this" in v.message for v in self.result.violations)
            if unchanged:
                return "nothing to apply yet: edit min, max or target, or untick 'on'", "aas-min"
            return "this change would be refused: see the reasons", None
        return "fix the values first: see the message", None
