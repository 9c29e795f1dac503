"""The event modal: a known spike scaled ahead and brought back down, previewed as you type.

Like the scale dialog (:mod:`.scale`), it renders what the core answers for what is typed —
:func:`~capcon.core.planning.events.plan_event`'s :class:`EventPlan` (timeline, costs,
partitions, whether the return is allowed that day, the scheduled actions) or its
:class:`Refusal` — and never computes a rule itself.  Start and end are typed as
``capcon event plan`` takes them (ISO 8601 UTC, or ``+90m``, ``+2h``, ``+1d`` from now,
:func:`~capcon.core.planning.events.parse_when`); the capacity at the peak as RCU/WCU for a
provisioned table or GSI, pre-warming (``R/W`` units per second) for an on-demand table, or
open shards for a stream.  Enter (or Ctrl+S, or *Apply*) returns the plan to apply; Escape
returns ``None``.  Big changes, or any change on a production profile, need the resource's
name typed first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Button, Input, Label, Static
from textual.worker import Worker, WorkerState

from capcon.core.model import Stream, Table, Throughput, WarmThroughput
from capcon.core.planning.events import (
    EventPlan,
    EventRequest,
    ReactiveEstimate,
    parse_when,
    plan_event,
)
from capcon.core.planning.planner import Refusal, Usage
from capcon.core.ports import ScalableTarget, ScalingPolicy, ScheduledAction
from capcon.core.pricing import PriceBook
from capcon.core.rules import RuleSettings
from capcon.tui.console.failures import error_text
from capcon.tui.console.modals.grammar import OrderedInput, PlanModal, PlanPanel
from capcon.tui.console.modals.scale import parse_units
from capcon.tui.render import render_event_plan, render_refusal
from capcon.tui.text import markup_safe

#: What the start and end inputs hold when the modal opens: an hour from now, for an hour.
DEFAULT_START = "+1h"
DEFAULT_END = "+2h"
#: Reactive scaling is rehearsed (on the simulated account, in a thread) once typing has
#: paused this long: a rehearsal takes a fraction of a second, too long for each key.
REHEARSE_AFTER_SECONDS = 0.4
#: As ``capcon event plan`` rehearses it (``rehearse_event``): the part's AAS target-tracking
#: policy, else what ``capcon autoscale`` runs by default.
DEFAULT_POLICY, DEFAULT_TARGET = "capcon", 70.0

Rehearse = Callable[[EventRequest], "ReactiveEstimate | None"]


@dataclass(frozen=True, slots=True)
class EventFacts:
    """What :func:`plan_event` needs beyond the resource, read by the console before the
    modal opens (the modal reads nothing): the part's auto scaling, its scheduled actions,
    a stream's reshard history, the part's recent use."""

    targets: tuple[ScalableTarget, ...] = ()
    policies: tuple[ScalingPolicy, ...] = ()
    scheduled: tuple[ScheduledAction, ...] = ()
    reshard_history: tuple[datetime, ...] = ()
    usage: Usage | None = None


def reactive_for(
    resource: Table | Stream,
    facts: EventFacts,
    request: EventRequest,
    prices: PriceBook,
    rules: RuleSettings,
) -> ReactiveEstimate | None:
    """Reactive scaling rehearsed on the event's shape, as ``capcon event plan`` does it: the
    part at its capacity now and its demand now (consumed + throttled), a jump to the peak
    asked for (at 70 % use) at the start, back at the end; the part's AAS target-tracking
    policy and target on that dimension, else capcon's default policy.  ``None`` where there
    is nothing to rehearse (a stream, an on-demand table, no capacity asked) or the
    rehearsal refuses its inputs."""
    from capcon.core.backends.sim.rehearsal import rehearse_event
    from capcon.core.planning.requests import dimension_word

    if not isinstance(resource, Table):
        return None
    dimension = "write" if request.write is not None else "read"
    policy = next(
        (
            p
            for p in facts.policies
            if dimension_word(p.dimension) == dimension and p.policy_type == "TargetTrackingScaling"
        ),
        None,
    )
    usage = facts.usage
    base = 0.0
    if usage is not None:
        base = usage.demand_write if dimension == "write" else usage.demand_read
    try:
        return rehearse_event(
            resource,
            request,
            policy="aas" if policy is not None else DEFAULT_POLICY,
            target=policy.target_value if policy is not None else DEFAULT_TARGET,
            targets=facts.targets,
            base_demand=base,
            prices=prices,
            rules=rules,
        )
    except (ValueError, KeyError):
        return None


def parse_warm(text: str) -> WarmThroughput | None:
    """``R/W`` pre-warming units per second (``12000/4000``), ``None`` when blank; else
    ``ValueError`` saying what is allowed."""
    cleaned = text.strip()
    if not cleaned:
        return None
    read, sep, write = cleaned.partition("/")
    if not sep:
        raise ValueError(f"warm: {cleaned!r} is not R/W (reads/s and writes/s, e.g. 12000/4000)")
    return WarmThroughput(
        parse_units(read, "warm reads/s"), parse_units(write, "warm writes/s"), "ACTIVE"
    )


class Unchanged(ValueError):
    """The peak typed is the capacity now: nothing to plan yet (a hint, not an error)."""


class EventModal(PlanModal[EventPlan | None]):
    """Preview a planned event on one table, GSI or stream, and confirm it."""

    APPLY_ID = "event-apply"

    DEFAULT_CSS = """
    EventModal { align: center middle; }
    EventModal > Vertical {
        width: 100; max-width: 100%; height: 90%; border: thick $primary;
        background: $surface; padding: 0 1;
    }
    EventModal .inputs { height: auto; }
    EventModal .inputs Input { width: 24; }
    EventModal .inputs .units { width: 12; }
    EventModal .inputs Label { padding: 1 1 0 0; }
    EventModal #event-message { color: $error; height: auto; }
    EventModal #event-preview { height: 1fr; }
    EventModal #event-confirm-row { height: auto; }
    EventModal #event-confirm-name { width: 40; }
    EventModal .buttons { height: auto; align-horizontal: right; }
    """

    def __init__(
        self,
        resource: Table | Stream,
        index: str | None,
        facts: EventFacts,
        rules: RuleSettings,
        prices: PriceBook,
        *,
        now: datetime,
        confirm_factor: float = 4.0,
        production: bool = False,
        stream_store: bool = False,
        rehearse: Rehearse | None = None,
    ) -> None:
        """``stream_store``: the console was given a state store for stream schedules (a
        stream's event can be previewed without one, not applied); ``rehearse``: how reactive
        scaling is estimated for a request (run in a thread once typing pauses; the preview
        is re-planned with it)."""
        super().__init__()
        self.resource = resource
        self.index = index
        self.facts = facts
        self.rules = rules
        self.prices = prices
        self.now = now
        self.confirm_factor = confirm_factor
        self.production = production
        self.stream_store = stream_store
        self.result: EventPlan | Refusal | None = None
        self.error: str | None = None
        #: the peak typed is the capacity now (Enter moves to the peak)
        self._unchanged = False
        self._rehearse = rehearse
        #: reactive estimates by request (the preview re-planned with each as it comes)
        self.reactive: dict[EventRequest, ReactiveEstimate | None] = {}
        self._rehearsal_timer: Timer | None = None
        self._request: EventRequest | None = None
        #: the request a rehearsal runs for (one at a time: a simulation uses a CPU)
        self._rehearsing: EventRequest | None = None

    class Rehearsed(Message):
        """A rehearsal of reactive scaling finished (for ``request``)."""

        def __init__(self, request: EventRequest, estimate: ReactiveEstimate | None) -> None:
            super().__init__()
            self.request = request
            self.estimate = estimate

    @property
    def target_name(self) -> str:
        return f"{self.resource.name}/{self.index}" if self.index else self.resource.name

    def _current(self) -> Throughput | None:
        if isinstance(self.resource, Stream):
            return None
        part = self.resource if self.index is None else self.resource.index(self.index)
        return None if self.resource.is_on_demand else part.provisioned

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                f"[b]Planned event on {markup_safe(self.target_name)}[/b] — scaled ahead of "
                "the start, brought back at the end; nothing changes until you apply"
            )
            yield self.key_hint()
            with Horizontal(classes="inputs"):
                yield Label("start")
                yield OrderedInput(DEFAULT_START, id="event-start")
                yield Label("end")
                yield OrderedInput(DEFAULT_END, id="event-end")
            with Horizontal(classes="inputs"):
                if isinstance(self.resource, Stream):
                    yield Label("peak open shards")
                    yield OrderedInput(
                        str(self.resource.open_shard_count), id="event-shards", classes="units"
                    )
                elif self.resource.is_on_demand:
                    yield Label("pre-warm to R/W units/s")
                    yield OrderedInput("", placeholder="12000/4000", id="event-warm")
                else:
                    current = self._current()
                    yield Label("peak RCU")
                    yield OrderedInput(
                        str(current.read if current else ""), id="event-rcu", classes="units"
                    )
                    yield Label("peak WCU")
                    yield OrderedInput(
                        str(current.write if current else ""), id="event-wcu", classes="units"
                    )
            yield Static(id="event-message")
            with PlanPanel(id="event-preview"):
                yield Static(id="event-plan")
            with Horizontal(id="event-confirm-row"):
                yield Label("", id="event-confirm-label")
                yield OrderedInput(placeholder=self.target_name, id="event-confirm-name")
            with Horizontal(classes="buttons"):
                yield Button("Apply", variant="warning", id="event-apply", disabled=True)
                yield Button("Cancel", id="event-cancel")

    def on_mount(self) -> None:
        self.query_one("#event-confirm-row").display = False
        self.recompute()
        self.set_focus(self.query_one("#event-start", Input))

    # ------------------------------------------------------------------------------------

    def _value(self, selector: str) -> str:
        return self.query_one(selector, Input).value

    def _when(self, selector: str, what: str) -> datetime:
        try:
            return parse_when(self._value(selector), self.now)
        except ValueError as error:
            raise ValueError(f"{what}: {error}") from None

    def request(self) -> EventRequest:
        """The request typed, or ``ValueError`` naming what is wrong and what is allowed."""
        start = self._when("#event-start", "start")
        end = self._when("#event-end", "end")
        name = self.resource.name
        if isinstance(self.resource, Stream):
            shards = parse_units(self._value("#event-shards"), "open shards")
            return EventRequest(name, start, end, shards=shards)
        if self.resource.is_on_demand:
            warm = parse_warm(self._value("#event-warm"))
            if warm is None:
                raise ValueError(
                    "an on-demand table is made ready by pre-warming: type R/W units per "
                    "second (e.g. 12000/4000), or switch it to provisioned first"
                )
            return EventRequest(name, start, end, index=self.index, warm=warm)
        current = self._current()
        rcu = parse_units(self._value("#event-rcu"), "RCU")
        wcu = parse_units(self._value("#event-wcu"), "WCU")
        read = rcu if current is None or rcu != current.read else None
        write = wcu if current is None or wcu != current.write else None
        if read is None and write is None:
            raise Unchanged("type the RCU and/or WCU the event needs (shown: the capacity now)")
        return EventRequest(name, start, end, index=self.index, read=read, write=write)

    def _factor(self, plan: EventPlan) -> float:
        """How many times the capacity grows at the peak (the largest dimension's)."""
        factors = [
            plan.peak[key] / before
            for key, before in plan.before.items()
            if before > 0 and key in plan.peak
        ]
        return max(factors, default=1.0)

    def recompute(self) -> None:
        message = self.query_one("#event-message", Static)
        preview = self.query_one("#event-plan", Static)
        apply_button = self.query_one("#event-apply", Button)
        row = self.query_one("#event-confirm-row")
        try:
            request = self.request()
        except ValueError as error:
            self.result = None
            self.error = str(error)
            hint = self._unchanged = isinstance(error, Unchanged)
            message.update(
                f"[dim]{markup_safe(self.error)}[/]" if hint else f"✗ {markup_safe(self.error)}"
            )
            # the plan panel describes the same text as the message: never an older plan
            preview.update("" if hint else f"no plan: {markup_safe(self.error)}")
            apply_button.disabled = True
            row.display = False
            return
        self.error = None
        self._unchanged = False
        message.update("")
        self._request = request
        facts = self.facts
        try:
            self.result = plan_event(
                self.resource,
                request,
                self.now,
                rules=self.rules,
                prices=self.prices,
                targets=facts.targets,
                policies=facts.policies,
                scheduled=facts.scheduled,
                reshard_history=facts.reshard_history,
                usage=facts.usage,
                reactive=self.reactive.get(request),
            )
        except Exception as error:  # a planner bug on some input: said, never fatal
            self.result = None
            self.error = f"the planner failed on this request: {error_text(error)}"
            message.update(f"✗ {markup_safe(self.error)}")
            preview.update(f"no plan: {markup_safe(self.error)}")
            apply_button.disabled = True
            row.display = False
            return
        if isinstance(self.result, Refusal):
            preview.update(render_refusal(self.result))
            apply_button.disabled = True
            row.display = False
            return
        preview.update(render_event_plan(self.result))
        if request not in self.reactive:
            self._schedule_rehearsal()
        if self.result.kind == "stream" and not self.stream_store:
            self.error = (
                "a stream's event is capcon's own schedule, kept in a state store this console "
                "was not given: apply it with capcon event apply (it says where it keeps it)"
            )
            message.update(f"✗ {markup_safe(self.error)}")
            apply_button.disabled = True
            row.display = False
            return
        factor = self._factor(self.result)
        needs_name = self.production or factor >= self.confirm_factor
        row.display = needs_name
        if needs_name:
            why = "production profile" if self.production else f"a peak of {factor:.1f}×"
            self.query_one("#event-confirm-label", Label).update(
                f"{why}: type {markup_safe(self.target_name)} to apply "
            )
            typed = self._value("#event-confirm-name").strip()
            apply_button.disabled = typed != self.target_name
        else:
            apply_button.disabled = False

    def _schedule_rehearsal(self) -> None:
        if self._rehearse is None:
            return
        if self._rehearsal_timer is not None:
            self._rehearsal_timer.stop()
        self._rehearsal_timer = self.set_timer(REHEARSE_AFTER_SECONDS, self._start_rehearsal)

    def _start_rehearsal(self) -> None:
        if self._rehearsal_timer is not None:
            self._rehearsal_timer.stop()
            self._rehearsal_timer = None
        request = self._request
        if request is None or request in self.reactive or self._rehearsing is not None:
            return  # rehearsed; or one runs, and the latest request follows when it is done
        self._rehearsing = request
        self._rehearsal(request)

    @work(thread=True, group="rehearsal", exit_on_error=False)
    def _rehearsal(self, request: EventRequest) -> None:
        """Reactive scaling rehearsed for ``request`` (a thread: the simulation takes a
        fraction of a second); an unexpected failure reaches the app's one handler."""
        assert self._rehearse is not None
        estimate = self._rehearse(request)
        self.post_message(self.Rehearsed(request, estimate))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A rehearsal that failed unexpectedly: the app's one handler says what failed; the
        preview stays, without reactive scaling."""
        if event.state is not WorkerState.ERROR:
            return
        if self._rehearsing is not None:  # not tried again for this request
            self.reactive[self._rehearsing] = None
            self._rehearsing = None
        report = getattr(self.app, "report_failure", None)
        if callable(report):
            report(event.worker)

    @on(Rehearsed)
    def _rehearsed(self, message: Rehearsed) -> None:
        self.reactive[message.request] = message.estimate
        self._rehearsing = None
        if message.request == self._request:
            if message.estimate is not None:
                self.recompute()  # the preview with reactive scaling's cost and share served
        else:
            self._start_rehearsal()  # typed on meanwhile: the latest request now

    @on(Input.Changed)
    def _changed(self) -> None:
        self.recompute()

    @on(Button.Pressed, "#event-apply")
    def _apply_pressed(self) -> None:
        self.action_apply()

    @on(Button.Pressed, "#event-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def applicable(self) -> EventPlan | None:
        if isinstance(self.result, EventPlan) and self._apply_enabled():
            return self.result
        return None

    def missing(self) -> tuple[str, str | None]:
        if isinstance(self.result, Refusal):
            return "this event would be refused: see the reasons", None
        if self.error and self._unchanged:  # the peak is what is needed next
            peak = self.query(".units, #event-warm").first()
            return self.error, peak.id
        if self.error:
            return self.error, None
        return f"type {self.target_name} to confirm", "event-confirm-name"
