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

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.color import Color
from textual.containers import Grid, Vertical
from textual.events import Resize
from textual.widgets import DataTable, Footer, RichLog, Static
from textual_plotext import PlotextPlot

from capcon.core.backends.sim.account import SimAccount
from capcon.core.backends.sim.clock import check_speed
from capcon.core.backends.sim.experiment import (
    EXPERIMENT_HOURS,
    LAB_HOURS,
    TABLE,
    experiment_account,
)
from capcon.core.config.prices import load_price_book
from capcon.core.policies import Decision
from capcon.core.ports import MetricQuery
from capcon.core.pricing import PriceBook
from capcon.core.rules.timefmt import fmt_duration
from capcon.tui.lab.axes import clock_label, time_ticks, value_ticks
from capcon.tui.lab.scheduled import FALLBACK_POLICY, SCHEDULED, scheduled_lane
from capcon.tui.lab.settings import (
    KINESIS,
    LabSettings,
    SettingsDialog,
    check_settings,
    parse_policies,
)
from capcon.tui.lab.stream import StreamExperiment
from capcon.tui.text import printable

DIMS = (("TableName", TABLE),)
QUERIES = (
    MetricQuery("c", "AWS/DynamoDB", "ConsumedWriteCapacityUnits", DIMS),
    MetricQuery("t", "AWS/DynamoDB", "WriteThrottleEvents", DIMS),
    MetricQuery("p", "AWS/DynamoDB", "ProvisionedWriteCapacityUnits", DIMS, stat="Average"),
)
#: The results table's columns.
RESULT_COLUMNS: tuple[str, ...] = (
    "policy",
    "success",
    "throttled units",
    "WCU-hours",
    "cost",
    "scale-ups",
    "scale-downs",
    "partitions",
)
#: Decision-log lines kept per lane (a 3 h run writes a few hundred).
MAX_LOG_LINES = 5_000


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
    #: the chart's y-axis top and time tick labels, as last drawn
    axis_top: float = 0.0
    time_labels: tuple[str, ...] = ()
    #: the kinesis lane's stream and its policy (``None``: a table lane)
    stream: StreamExperiment | None = None

    def advance(self, seconds: int) -> None:
        if self.stream is not None:
            self.stream.advance(seconds)
        else:
            self.account.advance(seconds)

    def decisions(self) -> list[tuple[datetime, str, str, Decision]]:
        if self.stream is not None:
            return self.stream.decisions
        return list(self.account.decisions)


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
    if name == KINESIS:
        stream = StreamExperiment(pattern, target)
        return Lane(name, stream.account, stream=stream)
    return Lane(name, experiment_account(pattern, target, name))


def stream_figures(
    stream: StreamExperiment, prices: PriceBook
) -> tuple[dict[str, float], list[tuple[datetime, float, float, float]]]:
    """The kinesis lane's totals (records, open shard-hours) and per-minute (time, demand,
    accepted, open shards), demand and accepted in shards' worth of writes."""
    accepted, refused, shard_hours = stream.totals()
    requested = accepted + refused
    return (
        {
            "success": accepted / requested if requested else 1.0,
            "throttled": refused,
            "unit_hours": shard_hours,
            "cost": shard_hours * prices.shard_hour,
            "partitions": float(stream.open_shards),
        },
        stream.minutes(),
    )


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


class DecisionLog(RichLog):
    """A lane's decision log: every line kept whole (wrapped to the log's width, re-wrapped
    when the width changes), scrollable; ``l`` focuses it, arrows and PgUp/PgDn scroll."""

    def __init__(self) -> None:
        super().__init__(markup=False, wrap=True, min_width=8, max_lines=MAX_LOG_LINES)
        self.entries: list[Text] = []
        self._wrapped_at = 0

    def add(self, line: Text) -> None:
        self.entries.append(line)
        if len(self.entries) > MAX_LOG_LINES:
            del self.entries[: len(self.entries) - MAX_LOG_LINES]
        self.write(line)

    def reset(self) -> None:
        self.entries.clear()
        self.clear()

    @on(Resize)
    def _rewrap(self) -> None:
        width = self.scrollable_content_region.width
        if width != self._wrapped_at and self.entries:
            self._wrapped_at = width
            self.clear()
            for line in self.entries:
                self.write(line)
        self._wrapped_at = width


class LabApp(App[None]):
    """``capcon lab``: policies side by side."""

    TITLE = "capcon lab"
    #: nothing focused at start: ``l`` focuses the first lane's log, the keys drive the lab
    AUTO_FOCUS = None
    CSS = """
    #lab-status { height: auto; padding: 0 1; background: $panel; }
    #lanes { grid-size: 2; grid-gutter: 0 1; height: 1fr; }
    .lane { border: round $primary; height: 1fr; }
    .lane > .lane-title { height: auto; max-height: 3; padding: 0 1; }
    .lane > PlotextPlot { height: 2fr; min-height: 5; }
    .lane > DecisionLog { height: 1fr; min-height: 2; scrollbar-size-vertical: 1; }
    .lane.reading > PlotextPlot { height: 1fr; }
    .lane.reading > DecisionLog { height: 3fr; }
    .lane > DecisionLog:focus { background: $boost; }
    .lane:focus-within { border: round $accent; }
    #results { height: auto; max-height: 6; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "play", "Play/pause"),
        Binding("full_stop", "step", "Step 1 min"),
        Binding("plus,equals_sign", "faster", "Faster"),
        Binding("minus", "slower", "Slower"),
        Binding("c", "continue_run", "Continue"),
        Binding("e", "settings", "Settings"),
        Binding("y", "y_scale", "Y scale"),
        Binding("l", "read_log", "Log"),
        Binding("t", "next_theme", "Theme"),
        Binding("escape", "leave_log", "Leave log", show=False),
        Binding("r", "restart", "Restart"),
        Binding("f12", "take_screenshot", "Screenshot"),
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
        theme: str = "capcon-dark",
    ) -> None:
        super().__init__()
        #: the theme at start (the config's ``theme``: a projector wants ``projector``)
        self.start_theme = theme
        #: what the lanes' capacity costs: the session's book (us-east-1 and the user's file)
        self.prices = prices or load_price_book("us-east-1")
        settings = check_settings(pattern, target, tuple(policies))
        self.pattern = settings.pattern
        self.target = settings.target
        self.policy_names = settings.policies
        self.speed = check_speed(speed)
        #: simulated seconds a session runs at most (the lanes keep every minute of them)
        self.limit_seconds = round(LAB_HOURS * 3600)
        #: where the run pauses unless continued: the experiment's (and the grid's) duration
        self.duration_seconds = round(EXPERIMENT_HOURS * 3600)
        self.continued = False
        #: one y-scale across the lanes (heights compare); ``y`` gives each lane its own
        self.shared_scale = True
        self.playing = autoplay
        self.lanes = self._fresh_lanes()

    def _fresh_lanes(self) -> list[Lane]:
        return [make_lane(name, self.pattern, self.target) for name in self.policy_names]

    @property
    def settings(self) -> LabSettings:
        return LabSettings(self.pattern, self.target, self.policy_names)

    @property
    def elapsed_seconds(self) -> int:
        clock = self.lanes[0].account
        return round((clock.now() - clock.epoch).total_seconds())

    @property
    def done(self) -> bool:
        """Paused at the experiment's duration, waiting for ``c``."""
        return not self.continued and self.elapsed_seconds >= self.duration_seconds

    def _lane_widgets(self) -> list[Vertical]:
        return [
            Vertical(
                Static(classes="lane-title"),
                PlotextPlot(),
                DecisionLog(),
                classes="lane",
                id=f"lane-{number}",
            )
            for number in range(len(self.lanes))
        ]

    def compose(self) -> ComposeResult:
        yield Static(id="lab-status")
        yield Grid(*self._lane_widgets(), id="lanes")
        yield DataTable(id="results", cursor_type="none")
        yield Footer()

    def on_mount(self) -> None:
        from capcon.tui.console.theming import builtin_themes

        for theme in builtin_themes():
            self.register_theme(theme)
        known = self.start_theme in self.available_themes
        self.theme = self.start_theme if known else "capcon-dark"
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        table = self.query_one("#results", DataTable)
        for label in RESULT_COLUMNS:
            table.add_column(label, key=label)
        self._fill_results()
        self.repaint()
        self.set_interval(0.5, self.tick)

    def _fill_results(self) -> None:
        table = self.query_one("#results", DataTable)
        table.clear()
        for lane in self.lanes:
            table.add_row(lane.policy, *([""] * (len(RESULT_COLUMNS) - 1)), key=lane.policy)

    def on_resize(self) -> None:
        self.call_after_refresh(self.repaint)

    # --- time ---------------------------------------------------------------------------

    def tick(self) -> None:
        if self.playing:
            self.advance(max(1, round(self.speed * 0.5)))

    def advance(self, seconds: int) -> None:
        """Advance every lane together: up to the experiment's duration (3 h, like the grid:
        the totals then match ``capcon sim --grid``), where the run pauses until ``c``;
        after that up to :attr:`limit_seconds` (the lanes keep every minute that long)."""
        elapsed = self.elapsed_seconds
        stop = self.limit_seconds
        if not self.continued:
            stop = min(stop, self.duration_seconds)
        seconds = min(seconds, stop - elapsed)
        if seconds > 0:
            for lane in self.lanes:
                lane.advance(seconds)
        if elapsed + max(0, seconds) >= stop:
            if stop >= self.limit_seconds and (self.playing or seconds <= 0):
                self.notify(
                    f"the lab runs {self.limit_seconds / 86400:g} simulated days at most"
                    " (every minute is kept for the totals): r starts again",
                    timeout=8,
                )
            elif not self.continued and seconds > 0:
                self.notify(f"{self._duration_words()} done — press c to continue", timeout=8)
            self.playing = False
        self.repaint()

    def _duration_words(self) -> str:
        return f"{self.duration_seconds / 3600:g} h"

    def action_play(self) -> None:
        if self.done:
            self.notify(f"{self._duration_words()} done — press c to continue", timeout=5)
            return
        self.playing = not self.playing
        self.repaint()

    def action_step(self) -> None:
        self.playing = False
        self.advance(60)

    def action_continue_run(self) -> None:
        """Go on past the experiment's duration (the totals then drift from the grid's)."""
        if not self.done:
            return
        self.continued = True
        self.playing = True
        self.repaint()

    def action_faster(self) -> None:
        self.speed = min(3_600.0, self.speed * 2)
        self.repaint()

    def action_slower(self) -> None:
        self.speed = max(1.0, self.speed / 2)
        self.repaint()

    def action_y_scale(self) -> None:
        self.shared_scale = not self.shared_scale
        self.repaint()

    def action_take_screenshot(self) -> None:
        """The screen as an SVG in the screenshot folder, said where (as in the console)."""
        from capcon.tui.screenshots import screenshot_action

        screenshot_action(self)

    def action_restart(self) -> None:
        self.lanes = self._fresh_lanes()
        self.continued = False
        for log_widget in self.query(DecisionLog):
            log_widget.reset()
        self.repaint()

    def action_next_theme(self) -> None:
        """The next capcon theme (dark, light, projector, colour-blind), as in the console."""
        names = [n for n in self.available_themes if n.startswith("capcon-")]
        current = names.index(self.theme) if self.theme in names else -1
        self.theme = names[(current + 1) % len(names)]
        self.notify(f"theme: {self.theme}", timeout=2)

    def _theme_changed(self, _theme: object) -> None:
        self.repaint()  # the charts' and the legend's colours come from the theme

    # --- settings -----------------------------------------------------------------------

    def action_settings(self) -> None:
        def check(settings: LabSettings) -> None:
            [make_lane(name, settings.pattern, settings.target) for name in settings.policies]

        self.push_screen(SettingsDialog(self.settings, check), self._settings_chosen)

    async def _settings_chosen(self, settings: LabSettings | None) -> None:
        if settings is not None:
            await self.apply_settings(settings)

    async def apply_settings(self, settings: LabSettings) -> None:
        """Restart the lanes with ``settings`` (``ValueError`` when they cannot be built; the
        lanes are then left as they were)."""
        lanes = [make_lane(name, settings.pattern, settings.target) for name in settings.policies]
        self.pattern, self.target, self.policy_names = (
            settings.pattern,
            settings.target,
            settings.policies,
        )
        self.lanes = lanes
        self.continued = False
        grid = self.query_one("#lanes", Grid)
        await grid.remove_children()
        await grid.mount_all(self._lane_widgets())
        self._fill_results()
        self.repaint()

    # --- the decision log ---------------------------------------------------------------

    def action_read_log(self) -> None:
        """Focus the next lane's decision log (after the last, back to none)."""
        logs = list(self.query(DecisionLog))
        focused = self.focused
        index = logs.index(focused) if isinstance(focused, DecisionLog) else -1
        for lane in self.query(".lane"):
            lane.remove_class("reading")
        if index + 1 >= len(logs):
            self.set_focus(None)
            return
        log = logs[index + 1]
        log.focus()
        if log.parent is not None:
            log.parent.add_class("reading")

    def action_leave_log(self) -> None:
        for lane in self.query(".lane"):
            lane.remove_class("reading")
        self.set_focus(None)

    # --- painting -----------------------------------------------------------------------

    def get_theme_variable_defaults(self) -> dict[str, str]:
        from capcon.tui.console.theming import APP_VARIABLES

        return dict(APP_VARIABLES)

    def _hex(self, name: str, fallback: str) -> str:
        return Color.parse(self.theme_variables.get(name, fallback)).hex

    def _colour(self, name: str, fallback: str) -> tuple[int, int, int]:
        return Color.parse(self._hex(name, fallback)).rgb

    def status_text(self) -> Text:
        elapsed = timedelta(seconds=self.elapsed_seconds)
        if self.done:
            state: tuple[str, str] = (
                f"{self._duration_words()} done — press c to continue",
                f"bold {self._hex('hot', '#FFB000')}",
            )
        else:
            state = (f"{self.speed:g}× {'playing' if self.playing else 'paused'}", "")
        of = (
            ""
            if self.continued
            else f" of {_fmt_elapsed(timedelta(seconds=self.duration_seconds))}"
        )
        scale = "one y-scale" if self.shared_scale else "y-scale per lane"
        return Text.assemble(
            ("capcon lab", "bold"),
            f" · {printable(self.pattern)} · target {self.target:g}% · "
            f"t+{_fmt_elapsed(elapsed)}{of} ({self.lanes[0].account.now():%H:%M}) · ",
            state,
            f" · {scale}   ",
            ("━ demand ", self._hex("demand", "#ff9f1c")),
            ("━ consumed ", self._hex("consumed", "#4aa3ff")),
            ("━ provisioned ", self._hex("provisioned", "#c0c0c0")),
            ("▼ throttled", self._hex("throttle", "#ff4f6d")),
        )

    def repaint(self) -> None:
        self.query_one("#lab-status", Static).update(self.status_text())
        results = self.query_one("#results", DataTable)
        series: list[list[tuple[datetime, float, float, float]]] = []
        for number, lane in enumerate(self.lanes):
            if lane.stream is not None:
                figures, minutes = stream_figures(lane.stream, self.prices)
            else:
                figures, minutes = lane_figures(lane.account, self.prices)
            lane.figures = figures
            series.append(minutes)
            self._log_decisions(number, lane)
            stream = lane.stream is not None
            cells = {
                "success": f"{figures['success']:.2%}",
                "throttled units": f"{figures['throttled']:,.0f}" + (" records" if stream else ""),
                "WCU-hours": f"{figures['unit_hours']:,.1f}" + (" shard-h" if stream else ""),
                "cost": f"${figures['cost']:.4f}",
                "scale-ups": str(lane.ups),
                "scale-downs": str(lane.downs),
                "partitions": (
                    f"{figures['partitions']:.0f} shards"
                    if stream
                    else f"~{figures['partitions']:.0f}"
                ),
            }
            for column, value in cells.items():
                if lane.policy in results.rows:
                    results.update_cell(lane.policy, column, value, update_width=True)
        # one scale across the table lanes (in WCU); the stream lane counts shards: its own
        shared = max(
            (_top(m) for lane, m in zip(self.lanes, series, strict=True) if lane.stream is None),
            default=0.0,
        )
        for number, (lane, minutes) in enumerate(zip(self.lanes, series, strict=True)):
            own = not self.shared_scale or lane.stream is not None
            self._chart(number, lane, minutes, _top(minutes) if own else shared)

    def _log_decisions(self, number: int, lane: Lane) -> None:
        logs = self.query(f"#lane-{number} DecisionLog")
        if not logs:
            return
        log = logs.first(DecisionLog)
        now = lane.account.now()
        while lane.announced < len(lane.scheduled) and lane.scheduled[lane.announced][0] <= now:
            at, phase, minimum = lane.scheduled[lane.announced]
            floor = f"min {minimum:,} WCU" if minimum is not None else "min/max back"
            log.add(Text(f"{self._clock(lane, at)} scheduled action {phase}: {floor}", "bold"))
            lane.announced += 1
        decisions = lane.decisions()
        for at, _rid, _dim, decision in decisions[lane.logged :]:
            stamp = self._clock(lane, at)
            if decision.action == "hold":
                # the stream's holds count down to the next scale-down check every minute:
                # a new line only when the words change, not the numbers
                same = decision.reason
                if lane.stream is not None:
                    same = _DIGITS.sub("#", _COUNTDOWN.sub("", same))
                if same == lane.last_hold:
                    continue
                lane.last_hold = same
                log.add(Text(f"{stamp} hold: {printable(decision.reason)}", style="dim"))
                continue
            lane.last_hold = ""
            if decision.action == "scale-out":
                lane.ups += 1
            else:
                lane.downs += 1
            log.add(
                Text(
                    f"{stamp} {decision.action} → {decision.capacity}: {printable(decision.reason)}"
                )
            )
        lane.logged = len(decisions)

    def _stream_title(self, stream: StreamExperiment, figures: dict[str, float]) -> Text:
        """The kinesis lane's title: shards open and closed, success, shard-hours, and the
        countdown to the policy's next 36 h scale-down check."""
        due = stream.next_scale_down_check()
        wait = max(timedelta(0), due - stream.now()) if due is not None else None
        # to the minute: the check runs on a minute boundary, seconds add nothing
        left = "" if wait is None else fmt_duration(wait - timedelta(seconds=wait.seconds % 60))
        closed = stream.closed_shards
        at = f" (at {stream.target:g}%)" if stream.target != self.target else ""
        return Text.assemble(
            ("kinesis", "bold"),
            at,
            f"  success {figures['success']:.2%} · {figures['unit_hours']:,.1f} shard-h\n",
            f"{stream.open_shards} shards" + (f", {closed} closed" if closed else ""),
            (f" · scale-down check in {left}" if left else "", self._hex("hot", "#FFB000")),
        )

    @staticmethod
    def _clock(lane: Lane, at: datetime) -> str:
        """``at`` as time since the lane's start (h:mm, as on the charts' axis)."""
        return clock_label((at - lane.account.epoch).total_seconds() / 60)

    def _chart(
        self,
        number: int,
        lane: Lane,
        minutes: list[tuple[datetime, float, float, float]],
        top: float,
    ) -> None:
        figures = lane.figures
        titles = self.query(f"#lane-{number} .lane-title")
        plots = self.query(f"#lane-{number} PlotextPlot")
        if not titles or not plots:
            return
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
        if lane.stream is not None:
            titles.first(Static).update(self._stream_title(lane.stream, figures))
        else:
            titles.first(Static).update(
                Text.assemble(
                    (name, "bold"),
                    f"  success {figures['success']:.2%} · {figures['unit_hours']:,.0f} WCU-h",
                )
            )
        plot = plots.first(PlotextPlot)
        plt = plot.plt
        plt.clear_figure()
        epoch = lane.account.epoch
        done = self.elapsed_seconds / 60
        span = max(done, self.duration_seconds / 60)
        width, height = plot.size.width, plot.size.height
        label_width = len(f"{top:,.0f}") + 2
        ticks, labels = time_ticks(span, max(8, width - label_width))
        axis_top, yticks, ylabels = value_ticks(top * 1.05, max(2, height - 2))
        lane.axis_top, lane.time_labels = axis_top, tuple(labels)
        plt.xlim(0, span)
        plt.ylim(0, axis_top)
        plt.xticks(ticks, labels)
        plt.yticks(yticks, ylabels)
        if minutes:
            xs = [(m[0] - epoch).total_seconds() / 60 for m in minutes]
            for index, role, fallback in (
                (3, "provisioned", "#c0c0c0"),
                (1, "demand", "#ff9f1c"),
                (2, "consumed", "#4aa3ff"),
            ):
                plt.plot(
                    xs, [m[index] for m in minutes], color=self._colour(role, fallback), marker="hd"
                )
            throttled = [x for x, m in zip(xs, minutes, strict=True) if m[1] - m[2] > 0.5]
            if throttled:
                plt.scatter(
                    throttled,
                    [axis_top] * len(throttled),
                    color=self._colour("throttle", "#ff4f6d"),
                    marker="▼",
                )
            if lane.scheduled:  # the raise and restore on the top edge, where they fall
                for symbol, phase in (("↑", "raise"), ("↓", "restore")):
                    at = [
                        (t - epoch).total_seconds() / 60
                        for t, p, _ in lane.scheduled
                        if p == phase and t <= minutes[-1][0]
                    ]
                    if at:
                        plt.scatter(
                            at,
                            [axis_top] * len(at),
                            color=self._colour("ok", "#5FD787"),
                            marker=symbol,
                        )
        plot.refresh()


_DIGITS = re.compile(r"[0-9][0-9.,]*")
_COUNTDOWN = re.compile(r"; next scale-down check in .*$")


def _top(minutes: list[tuple[datetime, float, float, float]]) -> float:
    """The highest demand or provisioned capacity of a lane's minutes (0 with none)."""
    return max((max(m[1], m[3]) for m in minutes), default=0.0)


def _fmt_elapsed(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60}h{minutes % 60:02d}"


def run_lab(args: Any) -> int:
    """``capcon lab``: check the inputs (a bad one is a usage error: exit 2 naming it), then
    run the lab app."""
    from capcon.core.config.settings import ConfigError, load_config
    from capcon.tui.bootstrap import load_books
    from capcon.tui.console.theming import builtin_themes, resolve_theme_name
    from capcon.tui.errors import UsageError

    try:
        policies = parse_policies(args.policies)
        check_settings(args.pattern, args.target, policies)
        check_speed(args.speed)
        config = load_config()
        books = load_books(args, "us-east-1", config)
        theme, _warning = resolve_theme_name(config.theme, [t.name for t in builtin_themes()])
        app = LabApp(
            args.pattern,
            args.target,
            policies,
            speed=args.speed,
            prices=books.prices,
            theme=theme,
        )
    except (ValueError, ConfigError) as error:
        raise UsageError(str(error)) from None
    app.run()
    return 0
