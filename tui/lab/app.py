"""The trainer lab: several auto-scaling policies side by side on identical simulated tables.

Each policy gets its own fresh simulated account (a table at 50 WCU carrying the chosen
traffic pattern, auto scaled at the chosen target: field note B's experiment,
docs/field-notes.md#b-auto-scaling-too-slow), and all of
them advance together on one clock with play / pause / step / speed.  Per policy: a chart of
demand, consumed and provisioned (throttled minutes marked), and its decision log — every
minute's "why did it scale, why didn't it".  The results table fills in as the run goes.

The ``scheduled`` lane (:mod:`.scheduled`) is the studio's answer to a known event: the same
table and target tracking, plus scheduled actions raising the minimum before the event and
restoring it after — against the reactive policies on the same spike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.color import Color
from textual.containers import Grid, Vertical
from textual.widgets import DataTable, Footer, RichLog, Static
from textual_plotext import PlotextPlot

from capcon.core.backends.sim.account import SimAccount
from capcon.core.backends.sim.clock import check_speed
from capcon.core.backends.sim.experiment import LAB_HOURS, TABLE, experiment_account
from capcon.core.config.prices import load_price_book
from capcon.core.ports import MetricQuery
from capcon.core.pricing import PriceBook
from capcon.tui.lab.scheduled import FALLBACK_POLICY, SCHEDULED, scheduled_lane
from capcon.tui.text import printable

DIMS = (("TableName", TABLE),)
QUERIES = (
    MetricQuery("c", "AWS/DynamoDB", "ConsumedWriteCapacityUnits", DIMS),
    MetricQuery("t", "AWS/DynamoDB", "WriteThrottleEvents", DIMS),
    MetricQuery("p", "AWS/DynamoDB", "ProvisionedWriteCapacityUnits", DIMS, stat="Average"),
)


@dataclass
class Lane:
    """One policy's run: its account, what has been shown of its log, its figures."""

    policy: str
    account: SimAccount
    logged: int = 0
    last_hold: str = ""
    ups: int = 0
    downs: int = 0
    figures: dict[str, float] = field(default_factory=dict)
    #: the scheduled lane's event: its raise and restore (time, phase, minimum set)
    scheduled: tuple[tuple[datetime, str, int | None], ...] = ()
    #: scheduled moments already written to the lane's log
    announced: int = 0


def make_lane(name: str, pattern: str, target: float) -> Lane:
    """A lane: a reactive policy's experiment account, or the scheduled lane's (``ValueError``
    naming what is wrong, e.g. a pattern without a known event)."""
    if name == SCHEDULED:
        lane = scheduled_lane(pattern, target)
        moments = tuple(
            (action.at, phase, action.min_capacity)
            for action, phase in zip(lane.actions, ("raise", "restore"), strict=True)
            if action.at is not None
        )
        return Lane(name, lane.account, scheduled=moments)
    return Lane(name, experiment_account(pattern, target, name))


def lane_figures(
    account: SimAccount, prices: PriceBook
) -> tuple[dict[str, float], list[tuple[datetime, float, float, float]]]:
    """Totals so far and per-minute (time, demand, consumed, provisioned) in units/s.

    Read straight from the simulated store, every minute so far (a trainer's view of the
    truth, not CloudWatch's late one)."""
    start = account.epoch
    end = account.now()
    consumed, throttled, provisioned = account.store.query(
        list(QUERIES), start, end, end + timedelta(days=1)
    )
    thr = dict(zip(throttled.timestamps, throttled.values, strict=True))
    prov = dict(zip(provisioned.timestamps, provisioned.values, strict=True))
    minutes = [
        (t, (c + thr.get(t, 0.0)) / 60, c / 60, prov.get(t, 0.0))
        for t, c in zip(consumed.timestamps, consumed.values, strict=True)
    ]
    served = sum(consumed.values)
    refused = sum(throttled.values)
    requested = served + refused
    unit_hours = sum(p for *_, p in minutes) / 60
    return (
        {
            "success": served / requested if requested else 1.0,
            "throttled": refused,
            "unit_hours": unit_hours,
            "cost": unit_hours * prices.wcu_hour,
            "partitions": float(account.tables[TABLE].table.partitions),
        },
        minutes,
    )


class LabApp(App[None]):
    """``capcon lab``: policies side by side."""

    TITLE = "capcon lab"
    CSS = """
    #lab-status { height: 1; padding: 0 1; background: $panel; }
    #lanes { grid-size: 2; grid-gutter: 0 1; height: 1fr; }
    .lane { border: round $primary; height: 1fr; }
    .lane > .lane-title { height: 1; padding: 0 1; }
    .lane > PlotextPlot { height: 1fr; }
    .lane > RichLog { height: 7; }
    #results { height: auto; max-height: 8; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "play", "Play/pause"),
        Binding("full_stop", "step", "Step 1 min"),
        Binding("plus,equals_sign", "faster", "Faster"),
        Binding("minus", "slower", "Slower"),
        Binding("r", "restart", "Restart"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(
        self,
        pattern: str = "bell",
        target: float = 70.0,
        policies: tuple[str, ...] = ("aas-legacy", "aas", "h2", "capcon"),
        *,
        speed: float = 60.0,
        autoplay: bool = True,
        prices: PriceBook | None = None,
    ) -> None:
        super().__init__()
        #: what the lanes' capacity costs: the session's book (us-east-1 and the user's file)
        self.prices = prices or load_price_book("us-east-1")
        repeated = sorted({p for p in policies if policies.count(p) > 1})
        if repeated:
            raise ValueError(
                f"--policies names {printable(', '.join(repeated))} more than once: each lane "
                "runs a different policy (2 to 4 of them, comma-separated)"
            )
        if not 2 <= len(policies) <= 4:
            raise ValueError(f"choose 2 to 4 policies, not {len(policies)}")
        self.pattern = pattern
        self.target = target
        self.policy_names = policies
        self.speed = check_speed(speed)
        #: simulated seconds a session runs at most (the lanes keep every minute of them)
        self.limit_seconds = round(LAB_HOURS * 3600)
        self.playing = autoplay
        self.lanes = self._fresh_lanes()

    def _fresh_lanes(self) -> list[Lane]:
        return [make_lane(name, self.pattern, self.target) for name in self.policy_names]

    def compose(self) -> ComposeResult:
        yield Static(id="lab-status")
        with Grid(id="lanes"):
            for number in range(len(self.lanes)):
                with Vertical(classes="lane", id=f"lane-{number}"):
                    yield Static(classes="lane-title")
                    yield PlotextPlot()
                    yield RichLog(markup=False, wrap=False, max_lines=500)
        yield DataTable(id="results", cursor_type="none")
        yield Footer()

    def on_mount(self) -> None:
        from capcon.tui.console.theming import builtin_themes

        for theme in builtin_themes():
            self.register_theme(theme)
        self.theme = "capcon-dark"
        table = self.query_one("#results", DataTable)
        for label in (
            "policy",
            "success",
            "throttled units",
            "WCU-hours",
            "cost",
            "scale-ups",
            "scale-downs",
            "partitions",
        ):
            table.add_column(label, key=label)
        for lane in self.lanes:
            table.add_row(lane.policy, *([""] * 7), key=lane.policy)
        self.repaint()
        self.set_interval(0.5, self.tick)

    # --- time ---------------------------------------------------------------------------

    def tick(self) -> None:
        if self.playing:
            self.advance(max(1, round(self.speed * 0.5)))

    def advance(self, seconds: int) -> None:
        """Advance every lane together, up to :attr:`limit_seconds` of simulated time (the
        lanes keep every minute that long; the totals add them all up)."""
        clock = self.lanes[0].account
        elapsed = round((clock.now() - clock.epoch).total_seconds())
        seconds = min(seconds, self.limit_seconds - elapsed)
        if seconds > 0:
            for lane in self.lanes:
                lane.account.advance(seconds)
        if elapsed + max(0, seconds) >= self.limit_seconds:
            if self.playing or seconds <= 0:
                self.notify(
                    f"the lab runs {self.limit_seconds / 86400:g} simulated days at most"
                    " (every minute is kept for the totals): r starts again",
                    timeout=8,
                )
            self.playing = False
        self.repaint()

    def action_play(self) -> None:
        self.playing = not self.playing
        self.repaint()

    def action_step(self) -> None:
        self.playing = False
        self.advance(60)

    def action_faster(self) -> None:
        self.speed = min(3_600.0, self.speed * 2)
        self.repaint()

    def action_slower(self) -> None:
        self.speed = max(1.0, self.speed / 2)
        self.repaint()

    def action_restart(self) -> None:
        self.lanes = self._fresh_lanes()
        for log_widget in self.query(RichLog):
            log_widget.clear()
        self.repaint()

    # --- painting -----------------------------------------------------------------------

    def get_theme_variable_defaults(self) -> dict[str, str]:
        from capcon.tui.console.theming import APP_VARIABLES

        return dict(APP_VARIABLES)

    def _hex(self, name: str, fallback: str) -> str:
        return Color.parse(self.theme_variables.get(name, fallback)).hex

    def _colour(self, name: str, fallback: str) -> tuple[int, int, int]:
        return Color.parse(self._hex(name, fallback)).rgb

    def repaint(self) -> None:
        clock = self.lanes[0].account
        elapsed = clock.now() - clock.epoch
        state = "playing" if self.playing else "paused"
        self.query_one("#lab-status", Static).update(
            f"[b]capcon lab[/b] · pattern {self.pattern} · target {self.target:g}% · "
            f"t+{_fmt_elapsed(elapsed)} · {self.speed:g}× {state} · "
            "space play/pause · . step · +/- speed · r restart"
        )
        results = self.query_one("#results", DataTable)
        for number, lane in enumerate(self.lanes):
            figures, minutes = lane_figures(lane.account, self.prices)
            lane.figures = figures
            self._log_decisions(number, lane)
            self._chart(number, lane, minutes)
            cells = {
                "success": f"{figures['success']:.2%}",
                "throttled units": f"{figures['throttled']:,.0f}",
                "WCU-hours": f"{figures['unit_hours']:,.1f}",
                "cost": f"${figures['cost']:.4f}",
                "scale-ups": str(lane.ups),
                "scale-downs": str(lane.downs),
                "partitions": f"~{figures['partitions']:.0f}",
            }
            for column, value in cells.items():
                results.update_cell(lane.policy, column, value)

    def _log_decisions(self, number: int, lane: Lane) -> None:
        log = self.query_one(f"#lane-{number} RichLog", RichLog)
        now = lane.account.now()
        while lane.announced < len(lane.scheduled) and lane.scheduled[lane.announced][0] <= now:
            at, phase, minimum = lane.scheduled[lane.announced]
            floor = f"min {minimum:,} WCU" if minimum is not None else "min/max back"
            log.write(Text(f"{at:%H:%M} scheduled action {phase}: {floor}", style="bold"))
            lane.announced += 1
        decisions = list(lane.account.decisions)
        for at, _rid, _dim, decision in decisions[lane.logged :]:
            if decision.action == "hold":
                if decision.reason == lane.last_hold:
                    continue
                lane.last_hold = decision.reason
                log.write(Text(f"{at:%H:%M} hold: {decision.reason}", style="dim"))
                continue
            lane.last_hold = ""
            if decision.action == "scale-out":
                lane.ups += 1
            else:
                lane.downs += 1
            log.write(
                Text(f"{at:%H:%M} {decision.action} → {decision.capacity}: {decision.reason}")
            )
        lane.logged = len(decisions)

    def _chart(
        self, number: int, lane: Lane, minutes: list[tuple[datetime, float, float, float]]
    ) -> None:
        figures = lane.figures
        title = self.query_one(f"#lane-{number} .lane-title", Static)
        name = lane.policy
        if lane.scheduled:
            name += (
                f" ({FALLBACK_POLICY} + "
                + " ".join(
                    f"{'↑' if phase == 'raise' else '↓'}{at:%H:%M}"
                    for at, phase, _ in lane.scheduled
                )
                + ")"
            )
        title.update(
            Text.assemble(
                (name, "bold"),
                f"  success {figures['success']:.2%} · {figures['unit_hours']:,.0f} WCU-h  ",
                ("━ demand ", self._hex("demand", "#ff9f1c")),
                ("━ consumed ", self._hex("consumed", "#4aa3ff")),
                ("━ provisioned ", self._hex("provisioned", "#c0c0c0")),
                ("▼ throttled", self._hex("throttle", "#ff4f6d")),
            )
        )
        plot = self.query_one(f"#lane-{number} PlotextPlot", PlotextPlot)
        plt = plot.plt
        plt.clear_figure()
        if minutes:
            xs = list(range(len(minutes)))
            for index, role, fallback in (
                (3, "provisioned", "#c0c0c0"),
                (1, "demand", "#ff9f1c"),
                (2, "consumed", "#4aa3ff"),
            ):
                plt.plot(
                    xs, [m[index] for m in minutes], color=self._colour(role, fallback), marker="hd"
                )
            throttled = [i for i, m in enumerate(minutes) if m[1] - m[2] > 0.5]
            if throttled:
                top = max(max(m[1], m[3]) for m in minutes)
                plt.scatter(
                    throttled,
                    [top] * len(throttled),
                    color=self._colour("throttle", "#ff4f6d"),
                    marker="▼",
                )
            if lane.scheduled:  # the raise and restore on the top edge, where they fall
                top = max(max(m[1], m[3]) for m in minutes)
                for symbol, phase in (("↑", "raise"), ("↓", "restore")):
                    at = [
                        round((t - lane.account.epoch).total_seconds() / 60)
                        for t, p, _ in lane.scheduled
                        if p == phase and t <= minutes[-1][0]
                    ]
                    if at:
                        plt.scatter(
                            at, [top] * len(at), color=self._colour("ok", "#5FD787"), marker=symbol
                        )
            plt.xlabel("minutes")
        plot.refresh()


def _fmt_elapsed(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60}h{minutes % 60:02d}"


def run_lab(args: Any) -> int:
    """``capcon lab``: check the inputs, then run the lab app."""
    from capcon.core.backends.sim.experiment import check_inputs
    from capcon.core.config.settings import ConfigError, load_config
    from capcon.core.policies import POLICIES, STREAM_POLICIES
    from capcon.tui.bootstrap import load_books
    from capcon.tui.errors import UsageError
    from capcon.tui.text import printable

    policies = tuple(p.strip() for p in args.policies.split(",") if p.strip())
    try:
        for policy in policies:
            if policy == SCHEDULED:  # the scheduled lane checks its pattern when built
                continue
            if policy not in POLICIES or policy in STREAM_POLICIES:
                known = [name for name in POLICIES if name not in STREAM_POLICIES]
                raise ValueError(
                    f"unknown lane {printable(policy)!r}: a table policy "
                    f"({', '.join(known)}) or {SCHEDULED} (a known event scaled ahead)"
                )
            check_inputs(args.pattern, args.target, policy, 1.0)
        check_speed(args.speed)
        books = load_books(args, "us-east-1", load_config())
        app = LabApp(args.pattern, args.target, policies, speed=args.speed, prices=books.prices)
    except (ValueError, ConfigError) as error:
        raise UsageError(str(error)) from None
    app.run()
    return 0
