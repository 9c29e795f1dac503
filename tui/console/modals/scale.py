"""The scale modal: type new capacity, read the plan as you type, confirm.

The modal renders a core :class:`~capcon.core.planning.planner.ScalePlan` (or the refusal) for
what is typed — it never computes capacity rules itself — and returns the plan to apply, or
``None``.  It shows the core's proposal (:func:`~capcon.core.planning.planner.propose`, for a
stream :func:`~capcon.core.planning.planner.propose_shards`): the capacity that serves demand
(consumed + throttled) at a target utilisation the user can change (70 % to start); ``F2``
or *Propose* puts it in the inputs.  Bad numbers get a message saying what is allowed;
nothing is applied until confirmed, and big changes (or any change on a production profile)
need the resource name typed.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select, Static

from capcon.core.model import Stream, Table, Throughput
from capcon.core.planning.planner import (
    PlanContext,
    Proposal,
    Refusal,
    ScalePlan,
    ShardProposal,
    plan,
    propose,
    propose_shards,
)
from capcon.core.planning.requests import ShardChange
from capcon.core.ports import TableChange
from capcon.core.pricing import PriceBook
from capcon.core.rules import RuleSettings
from capcon.tui.console.modals.grammar import OrderedInput, PlanModal, PlanPanel
from capcon.tui.render import render_plan, render_refusal
from capcon.tui.text import markup_safe


def parse_units(text: str, what: str) -> int:
    """A whole number ≥ 0 typed by the user, or ``ValueError`` saying what is allowed."""
    cleaned = text.strip().replace(",", "").replace("_", "")
    if not cleaned:
        raise ValueError(f"{what}: type a whole number")
    try:
        value = int(cleaned)
    except ValueError:
        raise ValueError(f"{what}: {text.strip()!r} is not a whole number") from None
    if value < 0:
        raise ValueError(f"{what}: {value} is negative; capacity is 1 or more")
    return value


class ScaleModal(PlanModal[ScalePlan | str | None]):
    """Preview a capacity change on one table, GSI or stream and confirm it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f2", "propose", "Propose", show=True),
    ]
    APPLY_ID = "apply"

    DEFAULT_CSS = """
    ScaleModal { align: center middle; }
    ScaleModal > Vertical {
        width: 96; height: 90%; border: thick $primary; background: $surface; padding: 0 1;
    }
    ScaleModal .inputs { height: auto; }
    ScaleModal .inputs Input { width: 18; }
    ScaleModal .inputs Select { width: 24; }
    ScaleModal .inputs Label { padding: 1 1 0 0; }
    ScaleModal #message { color: $error; height: auto; }
    ScaleModal .inputs #target { width: 8; }
    ScaleModal #proposal { height: auto; }
    ScaleModal #preview { height: 1fr; }
    ScaleModal #confirm-row { height: auto; }
    ScaleModal #confirm-name { width: 40; }
    ScaleModal .buttons { height: auto; align-horizontal: right; }
    """

    def __init__(
        self,
        resource: Table | Stream,
        index: str | None,
        context: PlanContext,
        rules: RuleSettings,
        prices: PriceBook,
        *,
        now: datetime,
        confirm_factor: float = 4.0,
        production: bool = False,
    ) -> None:
        super().__init__()
        self.resource = resource
        self.index = index
        self.context = context
        self.rules = rules
        self.prices = prices
        self.now = now
        self.confirm_factor = confirm_factor
        self.production = production
        self.result: ScalePlan | Refusal | None = None
        self.error: str | None = None
        self.proposal: Proposal | ShardProposal | None = None

    @property
    def _auto_scaled(self) -> bool:
        """Auto scaling manages this part: a manual change may be undone at its next alarm."""
        return isinstance(self.resource, Table) and self.index in self.context.auto_scaled

    @property
    def target_name(self) -> str:
        return f"{self.resource.name}/{self.index}" if self.index else self.resource.name

    def _current(self) -> Throughput | None:
        if isinstance(self.resource, Table):
            if self.index:
                return self.resource.index(self.index).provisioned
            return self.resource.provisioned
        return None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                f"[b]Scale {markup_safe(self.target_name)}[/b] — nothing changes until you apply"
            )
            yield self.key_hint()
            if self._auto_scaled:
                yield Static(
                    "[b]Auto scaling manages this table[/b]: a manual change may be undone at "
                    "its next alarm. The honest change is its min/max — press "
                    "[b]Change auto scaling instead[/b].",
                    id="aas-note",
                )
            with Horizontal(classes="inputs"):
                if isinstance(self.resource, Stream):
                    yield Label("open shards")
                    yield OrderedInput(str(self.resource.open_shard_count), id="shards")
                    yield Select(
                        [
                            ("UpdateShardCount (uniform)", "uniform"),
                            ("split/merge (targeted)", "targeted"),
                        ],
                        value="uniform",
                        allow_blank=False,
                        id="strategy",
                    )
                else:
                    current = self._current()
                    on_demand = current is None
                    yield Label("RCU")
                    yield OrderedInput(
                        "" if on_demand else str(current.read if current else ""), id="rcu"
                    )
                    yield Label("WCU")
                    yield OrderedInput(
                        "" if on_demand else str(current.write if current else ""), id="wcu"
                    )
                    if self.index is None:
                        yield Select(
                            [("provisioned", "provisioned"), ("on-demand", "on-demand")],
                            value="on-demand" if on_demand else "provisioned",
                            allow_blank=False,
                            id="mode",
                        )
            with Horizontal(classes="inputs"):
                yield Label("target %")
                yield OrderedInput(f"{self.context.target_utilisation * 100:g}", id="target")
                yield Button("Propose (F2)", id="propose")
            yield Static(id="proposal")
            yield Static(id="message")
            with PlanPanel(id="preview"):
                yield Static(id="plan")
            with Horizontal(id="confirm-row"):
                yield Label("", id="confirm-label")
                yield OrderedInput(placeholder=self.target_name, id="confirm-name")
            with Horizontal(classes="buttons"):
                if self._auto_scaled:
                    yield Button("Change auto scaling instead", id="to-aas", variant="primary")
                yield Button("Apply", variant="warning", id="apply", disabled=True)
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#confirm-row").display = False
        self.recompute()
        # now, not after a refresh: the keys typed as the dialog opens go into it
        self.set_focus(self.query(Input).first())

    # ------------------------------------------------------------------------------------

    def _change(self) -> TableChange | ShardChange:
        if isinstance(self.resource, Stream):
            shards = parse_units(self.query_one("#shards", Input).value, "open shards")
            strategy = self.query_one("#strategy", Select).value
            return ShardChange(shards, "targeted" if strategy == "targeted" else "uniform")
        from capcon.core.model import BillingMode

        mode_widget = self.query("#mode")
        mode = mode_widget.first(Select).value if mode_widget else None
        if mode == "on-demand":
            if self.resource.is_on_demand:
                raise ValueError("the table is already on-demand: choose provisioned to switch")
            return TableChange(billing_mode=BillingMode.PAY_PER_REQUEST)
        rcu = parse_units(self.query_one("#rcu", Input).value, "RCU")
        wcu = parse_units(self.query_one("#wcu", Input).value, "WCU")
        capacity = Throughput(rcu, wcu)
        switching = mode == "provisioned" and self.resource.is_on_demand
        billing = BillingMode.PROVISIONED if switching else None
        if self.index:
            return TableChange(indexes=((self.index, capacity),), billing_mode=billing)
        if switching and self.resource.indexes:
            # switching to provisioned needs every GSI's capacity: keep them equal to the table
            return TableChange(
                table=capacity,
                indexes=tuple((i.name, capacity) for i in self.resource.indexes),
                billing_mode=billing,
            )
        return TableChange(table=capacity, billing_mode=billing)

    def _target(self) -> float:
        """The target utilisation typed (a percentage, 1–100), or ``ValueError``."""
        text = self.query_one("#target", Input).value.strip().removesuffix("%").strip()
        try:
            percent = float(text)
        except ValueError:
            raise ValueError(
                f"target %: {text!r} is not a number (type a percentage from 1 to 100)"
            ) from None
        if not 1 <= percent <= 100:  # also refuses NaN
            raise ValueError(f"target %: {percent:g} is outside 1–100")
        return percent / 100

    def _propose(self) -> None:
        """The proposal for the typed target, shown under the inputs."""
        shown = self.query_one("#proposal", Static)
        self.proposal = None
        try:
            self.context = dataclasses.replace(self.context, target_utilisation=self._target())
        except ValueError as error:
            shown.update(f"✗ {markup_safe(str(error))}")
            return
        if isinstance(self.resource, Stream):
            self.proposal = propose_shards(self.resource, self.context, self.rules)
        else:
            self.proposal = propose(self.resource, self.index, self.context, self.rules)
        if self.proposal is None:
            shown.update("no traffic known for this part: nothing to propose")
        else:
            shown.update(f"proposal: {markup_safe(self.proposal.line)} — F2 fills it in")

    def action_propose(self) -> None:
        """Put the proposal in the inputs (RCU and WCU, switching an on-demand table to
        provisioned; a stream's open shards); the plan is recomputed."""
        self._propose()
        if self.proposal is None:
            self.notify("no proposal: the traffic of this part is not known", severity="warning")
            return
        if isinstance(self.proposal, ShardProposal):
            self.query_one("#shards", Input).value = str(self.proposal.shards)
            self.recompute()
            return
        mode = self.query("#mode")
        if mode and mode.first(Select).value == "on-demand":
            mode.first(Select).value = "provisioned"
        self.query_one("#rcu", Input).value = str(self.proposal.capacity.read)
        self.query_one("#wcu", Input).value = str(self.proposal.capacity.write)
        self.recompute()

    def recompute(self) -> None:
        self._propose()
        message = self.query_one("#message", Static)
        preview = self.query_one("#plan", Static)
        apply_button = self.query_one("#apply", Button)
        try:
            change = self._change()
        except ValueError as error:
            self.result = None
            self.error = str(error)
            message.update(f"✗ {markup_safe(self.error)}")
            # the plan panel describes the same text as the message: never an older plan
            preview.update(f"no plan: {markup_safe(self.error)}")
            apply_button.disabled = True
            self.query_one("#confirm-row").display = False
            return
        self.error = None
        message.update("")
        self.result = plan(
            self.resource,
            change,
            self.now,
            rules=self.rules,
            prices=self.prices,
            context=self.context,
        )
        if isinstance(self.result, Refusal):
            preview.update(render_refusal(self.result))
            apply_button.disabled = True
            self.query_one("#confirm-row").display = False
            return
        preview.update(render_plan(self.result))
        needs_name = self.production or self.result.change_factor >= self.confirm_factor
        row = self.query_one("#confirm-row")
        row.display = needs_name
        if needs_name:
            why = (
                "production profile"
                if self.production
                else f"a change of {self.result.change_factor:.1f}×"
            )
            self.query_one("#confirm-label", Label).update(
                f"{why}: type {markup_safe(self.target_name)} to apply "
            )
            typed = self.query_one("#confirm-name", Input).value.strip()
            apply_button.disabled = typed != self.target_name
        else:
            apply_button.disabled = False

    def _unchanged(self, change: TableChange | ShardChange) -> bool:
        if isinstance(change, ShardChange):
            return (
                isinstance(self.resource, Stream)
                and change.target == self.resource.open_shard_count
            )
        if change.billing_mode is not None:
            return False
        current = self._current()
        wanted = change.table if self.index is None else dict(change.indexes).get(self.index)
        return wanted is not None and wanted == current

    @on(Input.Changed)
    @on(Select.Changed)
    def _changed(self) -> None:
        self.recompute()

    @on(Button.Pressed, "#apply")
    def _apply_pressed(self) -> None:
        self.action_apply()

    @on(Button.Pressed, "#propose")
    def _propose_pressed(self) -> None:
        self.action_propose()

    @on(Button.Pressed, "#to-aas")
    def _to_autoscaling(self) -> None:
        self.dismiss("autoscaling")

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def applicable(self) -> ScalePlan | None:
        if isinstance(self.result, ScalePlan) and self._apply_enabled():
            return self.result
        return None

    def missing(self) -> tuple[str, str | None]:
        first = "shards" if isinstance(self.resource, Stream) else "rcu"
        if isinstance(self.result, Refusal):
            try:
                unchanged = self._unchanged(self._change())
            except ValueError:
                unchanged = False
            if unchanged:  # nothing typed yet (split/merge chosen, say): the count is next
                return "type the new capacity first (the inputs show what it is now)", first
            return "AWS would refuse this change: see the reasons", None
        if self.error:
            return self.error, None
        return f"type {self.target_name} to confirm", "confirm-name"
