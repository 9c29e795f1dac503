"""The capcon console: the live capacity list, detail charts, scale preview and apply.

Data flow (docs/architecture.md#the-consoles-data-flow): a thread worker reads the backend
(through one lock) and posts a
:class:`CapconApp.DataReady` message; the handler repaints on the main thread and schedules
the next poll with a one-shot timer, so polls never overlap and a slow backend never blocks
the UI.  Errors from the backend become notifications, never a crash: a worker handles the
backend's own errors (:class:`CapconError`) itself, and any other failure of any worker
reaches one handler, :meth:`CapconApp.on_worker_state_changed`, which says what failed.

The console takes the backend's ports and, on the simulated account, its
:class:`SimulationControls`; the differences between the two (polling pace, the simulated
clock's keys and status) hang on whether controls were given, never on a backend's class.
"""

from __future__ import annotations

import asyncio
import math
import signal
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.cells import cell_len, set_cell_size
from rich.text import Text
from textual import events, on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.command import Provider
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.theme import Theme
from textual.timer import Timer
from textual.widgets import Footer, Input, Static
from textual.worker import Worker, WorkerState

from capcon.core.errors import CapconError
from capcon.core.inflight import IN_FLIGHT, InFlight
from capcon.core.model import Stream, Table, Throughput
from capcon.core.planning.autoscaling import AutoScalingPlan
from capcon.core.planning.events import EventPlan
from capcon.core.planning.planner import PlanContext, ScalePlan
from capcon.core.planning.schedules import EventRecord, StreamSchedule
from capcon.core.polling import LIVE_AFTER_CHANGE_SECONDS, PollPolicy, PollStep
from capcon.core.ports import Backend, SimulationControls, StateStore
from capcon.core.pricing import PriceBook
from capcon.core.rules import RuleSettings, fmt_duration
from capcon.core.services.audit import AuditLog, Origin
from capcon.core.services.changes import (
    RECENT,
    PendingChange,
    RecentChange,
    change_mark,
    pending_for,
    shown_on_rows,
)
from capcon.core.services.feed import LATE, Feed, Snapshot, Sparks
from capcon.core.services.inspect import live_context
from capcon.core.services.metrics import MetricsService
from capcon.core.services.overview import AutoScalingState, Row
from capcon.core.services.scaler import Scaler
from capcon.tui.console.backend import locked
from capcon.tui.console.events import by_row, events_of, read_stream_schedules, row_cell
from capcon.tui.console.failures import error_text
from capcon.tui.console.modals.grammar import OrderedInput
from capcon.tui.console.pace import AwsPace, Pace, SimulatedPace
from capcon.tui.console.palette import AnyWordCommands
from capcon.tui.console.recent import RecentWatch
from capcon.tui.console.status import Part, fit
from capcon.tui.console.widgets.preview import Preview
from capcon.tui.console.widgets.resource_list import Column, ResourceList
from capcon.tui.console.widgets.spark import SparkColours, sparkline
from capcon.tui.screenshots import screenshot_dir
from capcon.tui.text import (
    capacity_text,
    cost_text,
    markup_safe,
    partitions_text,
    printable,
    throttle_cell,
    throttled_text,
    util_text,
)

if TYPE_CHECKING:
    from capcon.tui.console.modals.event import EventFacts

#: The list's sorts, in the order ``s`` cycles them: key and the word the status bar says.
#: ``trouble`` (the default): throttling rows first, most throttled first, then the rest
#: nearest to their capacity first.
SORTS: tuple[tuple[str, str], ...] = (
    ("trouble", "trouble"),
    ("name", "name"),
    ("util", "utilisation"),
    ("throttles", "throttles"),
    ("cost", "cost"),
)
SPARK_WIDTH = 20
#: The sparklines' narrowest (below it they are hidden) and widest: one column a minute, and
#: the feed keeps as many minutes as the widest sparkline drawn (:meth:`CapconApp._refitted`).
SPARK_LEAST, SPARK_MOST = 5, 60
#: The preview pane shows under the list when this many lines are left over below its rows
#: and the terminal is this wide (widgets/preview.py).
PREVIEW_MIN_HEIGHT, PREVIEW_MIN_WIDTH = 12, 80
#: Rows drawn in the very first frame on a large account (the rest follow right after).
FIRST_SCREEN_ROWS = 60
#: The status bar and the banner are repainted this often between polls: the data's age and
#: what a slow call has been waiting for keep counting.
TICK_SECONDS = 1.0
#: Shortest real interval between two list refreshes from an apply's progress reports (a
#: change of status always gets one).
PROGRESS_REFRESH_SECONDS = 1.0
# Fixed widths per terminal width: the list never measures its cells (auto-sized columns
# measured every cell of every row on each repaint, which is what made the first frame slow
# on 1,000+ resources).  Widths follow the terminal (widgets/resource_list.py, fit_columns):
# on a narrow one the sparklines give room first, then kind, mode and status turn compact,
# then the gaps and the name narrow; name, capacity, util, throttled/s, parts, $/h and AAS
# stay whole down to 100 columns.  On a wide one the sparklines grow.
COLUMNS = (
    Column("name", "name", 24, compact=18),
    Column(
        "kind", "kind", 6, compact=4, short_label="kind",
        short=(("table", "tbl"), ("index", "idx"), ("stream", "str")),
    ),
    Column(
        "mode", "mode", 11, compact=4, short_label="mode",
        short=(("provisioned", "prov"), ("on-demand", "o-d")),
    ),
    Column(
        "status", "status", 8, compact=4, short_label="stat",
        short=(("ACTIVE", "act"), ("UPDATING", "UPD"), ("CREATING", "CRE"), ("DELETING", "DEL")),
    ),
    Column("capacity", "capacity R/W", 13),
    Column(
        "rspark", "reads vs capacity", SPARK_WIDTH, short_label="R use",
        flex=(SPARK_LEAST, SPARK_MOST),
    ),
    Column(
        "wspark", "writes vs capacity", SPARK_WIDTH, short_label="W use",
        flex=(SPARK_LEAST, SPARK_MOST),
    ),
    Column("util", "util", 5),
    Column("thr", "throttled/s", 11),
    Column("parts", "parts", 5),
    Column("cost", "$/h", 7),
    Column("aas", "AAS", 5),
)  # fmt: skip


#: What a cell looks like: its text, style and spans (see :func:`_cell_key`).
CellKey = tuple[str, str, tuple[tuple[int, int, str], ...]]


@dataclass
class ConsoleOptions:
    """How the console runs (from the CLI flags and the config file)."""

    polling: PollPolicy = field(default_factory=PollPolicy)
    """AWS: visible rows, off-screen rows, and the idle back-off."""
    sim_refresh_seconds: float = 1.0
    read_only: bool = False
    production: bool = False
    profile: str | None = None
    confirm_factor: float = 4.0
    theme: str = "capcon-dark"
    sim_speed: float = 60.0
    poll: bool = True
    screenshot_dir: Path | None = None
    """Where ``p`` saves screenshots (``None``: ``$CAPCON_SCREENSHOT_DIR``, else
    ``screenshots`` in capcon's state folder; :mod:`capcon.tui.screenshots`)."""
    sort: str = "trouble"
    """The sort the list starts with: a key of :data:`SORTS` (the config's ``sort``)."""
    stop_signals: bool = False
    """SIGTERM and SIGHUP close the console as ``q`` does (an apply under way records how
    far it got); set by ``capcon`` itself, not by tests."""


class _Bar(Static):
    """The status bar: painted again when its width changes (its parts are chosen to fit)."""

    def __init__(self, repaint: Callable[[], None], *, id: str) -> None:
        super().__init__(id=id)
        self._repaint = repaint

    def on_resize(self, _event: events.Resize) -> None:
        self._repaint()


def _set_line(widget: Static, text: str) -> None:
    """Update a one-line bar: nothing when unchanged, and no layout pass (its height is
    fixed), so a status line that ticks every second repaints only itself."""
    if widget.content != text:
        widget.update(text, layout=False)


def util_step(utilisation: float) -> float:
    """Utilisation in 10 % steps, for the trouble sort: rows a few points apart keep their
    order (by name) instead of swapping at every poll (a list that jitters is hard to read,
    and each new order repaints every row: measured, 5 % steps and two-figure rates cost the
    demo at 60× about 0.6 points of a core)."""
    return math.floor(utilisation * 10) / 10


def trouble_step(rate: float) -> float:
    """A throttle rate down to a 1-2-5 step (0.5, 1, 2, 5, 10, 20, 50 …), for the same
    reason: 692/s and 23/s are told apart, 23/s and 34/s are not."""
    if rate <= 0:
        return 0.0
    decade = 10.0 ** math.floor(math.log10(rate))
    return max(step * decade for step in (1.0, 2.0, 5.0) if step * decade <= rate)


def group_rows(rows: Iterable[Row], sort: str, needle: str) -> list[Row]:
    """Rows filtered by ``needle`` and sorted by ``sort``, GSIs kept under their table."""
    groups: dict[str, list[Row]] = {}
    for row in rows:
        head = row.table if row.kind in ("table", "index") and row.table else row.name
        groups.setdefault(f"{row.kind == 'stream'}:{head}", []).append(row)
    needle = needle.lower().strip()

    def keep(group: list[Row]) -> bool:
        return not needle or any(needle in r.name.lower() for r in group)

    def key(group: list[Row]) -> tuple[float, ...] | tuple[float, bool, str]:
        if sort == "trouble":
            throttled = sum(r.throttled_per_second for r in group)
            util = max((r.utilisation or 0.0) for r in group)
            return (0.0 if throttled > 0 else 1.0, -trouble_step(throttled), -util_step(util))
        if sort == "util":
            return (-max((r.utilisation or 0.0) for r in group), False, "")
        if sort == "throttles":
            return (-sum(r.throttled_per_second for r in group), False, "")
        if sort == "cost":
            return (-sum(r.cost_per_hour or 0.0 for r in group), False, "")
        return (0.0, group[0].kind == "stream", group[0].name)

    ordered = sorted((g for g in groups.values() if keep(g)), key=lambda g: (key(g), g[0].name))
    return [row for group in ordered for row in group]


class CapconApp(App[None]):
    """The console."""

    CSS_PATH = "app.tcss"
    TITLE = "capcon"
    BINDINGS: ClassVar[list[BindingType]] = [
        # priority: handled as the key arrives, so the keys typed right after it go into the
        # filter (a plain binding ran only once "/" had bubbled up from the list: the keys
        # behind it had gone to the list by then and were lost)
        Binding("slash", "filter", "Filter", priority=True),
        Binding("s", "sort", "Sort"),
        Binding("n", "next_throttling", "Next throttling"),
        Binding("c", "scale", "Scale"),
        Binding("u", "autoscaling", "Auto scaling"),
        Binding("e", "event", "Event"),
        Binding("a", "audit", "Audit log"),
        Binding("t", "next_theme", "Theme"),
        Binding("r", "refresh", "Refresh"),
        Binding("space", "pause", "Pause", show=False),
        Binding("plus,equals_sign", "faster", "Faster", show=False),
        Binding("minus", "slower", "Slower", show=False),
        Binding("full_stop", "step", "Step", show=False),
        Binding("question_mark", "help", "Help"),
        Binding("p", "take_screenshot", "Screenshot", show=False),
        # F12 also over a dialog or the detail screen (a dialog's inputs take "p" as text)
        Binding("f12", "take_screenshot", "Screenshot", show=False, priority=True),
        Binding("q", "quit", "Quit"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    class DataReady(Message):
        """A fresh snapshot (only the newest one matters).

        ``polled``: it comes from the chain of polls, whose next poll its handler schedules;
        a refresh for an apply's progress report is not (it must never put the next poll
        off: in the simulated account that froze the clock for the whole apply).
        """

        def __init__(
            self,
            snapshot: Snapshot,
            hidden: bool = True,
            *,
            polled: bool = True,
            events: tuple[EventRecord, ...] | None = None,
            events_error: str | None = None,
            changes: tuple[RecentChange, ...] | None = None,
            changes_error: str | None = None,
        ) -> None:
            super().__init__()
            self.snapshot = snapshot
            self.hidden = hidden  # off-screen rows were fetched too
            self.polled = polled
            #: the account's planned events, when this refresh read them (``None``: not read)
            self.events = events
            self.events_error = events_error
            #: the recent changes, when this refresh found new ones (``None``: as they were)
            self.changes = changes
            self.changes_error = changes_error

        def can_replace(self, message: Message) -> bool:
            """Superseded by a newer snapshot that does what this one's handler would: go on
            with the chain of polls, date the off-screen rows, bring the events."""
            return (
                isinstance(message, CapconApp.DataReady)
                and (message.polled or not self.polled)
                and (message.hidden or not self.hidden)
                and (message.events is not None or self.events is None)
                and (message.events_error is not None or self.events_error is None)
                and (message.changes is not None or self.changes is None)
                and (message.changes_error is not None or self.changes_error is None)
            )

    class PollFailed(Message):
        """The backend refused or failed a read: a poll's (``polled``: the banner says so
        until a poll succeeds, and the chain of polls goes on) or another worker's."""

        def __init__(self, error: str, *, polled: bool = True) -> None:
            super().__init__()
            self.error = error
            self.polled = polled

    class ApplyDone(Message):
        """An apply ended: ``rows`` are the rows it set (their :attr:`CapconApp.pending`
        entries go when ``ok`` is false, and get ``change_id`` when it is true)."""

        def __init__(
            self,
            text: str,
            ok: bool,
            *,
            rows: tuple[str, ...] = (),
            change_id: str = "",
            resource: str = "",
            inventory: bool = True,
        ) -> None:
            super().__init__()
            self.text = text
            self.ok = ok
            self.rows = rows
            self.change_id = change_id
            #: the apply's resource (its "applying" status part ends)
            self.resource = resource
            #: the change touched more than the rows' capacity (auto scaling, scheduled
            #: actions): the next poll reads the whole inventory again
            self.inventory = inventory

    def __init__(
        self,
        backend: Backend,
        origin: Origin,
        rules: RuleSettings,
        prices: PriceBook,
        audit: AuditLog,
        options: ConsoleOptions | None = None,
        *,
        controls: SimulationControls | None = None,
        wait: Callable[[float], None] | None = None,
        themes: Iterable[Theme] = (),
        theme_warnings: Iterable[str] = (),
        inflight: InFlight = IN_FLIGHT,
        schedules: StateStore | None = None,
    ) -> None:
        """``controls``: the simulated account's clock (``None`` on AWS); ``inflight``: where
        calls in flight are registered (the AWS adapter's requests always are in the
        process's registry); ``schedules``: where capcon keeps its stream schedules (the
        events on streams are read from it, and a stream event applied here is saved in it;
        ``None``: the console shows the tables' events only)."""
        super().__init__()
        self.options = options or ConsoleOptions()
        #: what the status bar names while a call is slow
        self.inflight = inflight
        self.backend, self.controls = locked(backend, controls, inflight=inflight)
        self.pace: Pace = (
            AwsPace(self.options.polling)
            if self.controls is None
            else SimulatedPace(self.controls, self.options.sim_refresh_seconds)
        )
        self.origin = origin
        self.rules = rules
        self.prices = prices
        self.audit = audit
        #: the one GetMetricData caller: the list and the detail screen, counted as sent
        self.metrics = MetricsService(self.backend)
        self.feed = Feed(self.backend, rules, prices, metrics=self.metrics)
        self.snapshot: Snapshot | None = None
        self.schedules = schedules
        #: the account's planned events (every one, past ones too: the charts mark them) and
        #: the ones not over yet by row name (the list marks them)
        self.events: tuple[EventRecord, ...] = ()
        self.event_rows: dict[str, tuple[EventRecord, ...]] = {}
        self._events_error: str | None = None
        #: the stream schedules last read from ``schedules`` (by the poll worker)
        self._stream_schedules: tuple[StreamSchedule, ...] = ()
        keys = [key for key, _word in SORTS]
        self._sort_warning: str | None = None
        if self.options.sort in keys:
            self.sort_index = keys.index(self.options.sort)
        else:  # the config is checked when read; a caller's typo is said, never raised
            self.sort_index = 0
            self._sort_warning = (
                f"sort {self.options.sort!r} unknown (one of {', '.join(keys)}): "
                f"sorted by {SORTS[0][1]}"
            )
        self.needle = ""
        self._shown: list[str] = []
        # the list, kept: the app's handlers paint it also while a screen is pushed on top
        self._list = ResourceList(COLUMNS, id="resources")
        # the clock read when called: a test sets its own after the app is built
        self._preview = Preview(id="preview", clock=lambda: self.clock())  # noqa: PLW0108
        self._list_height: int | None = None  # the list's fixed height while previewing
        self._layout_due = False
        self._cells: dict[tuple[str, str], CellKey] = {}
        self._wait = wait
        self._extra_themes = list(themes)
        self._theme_warnings = list(theme_warnings)
        self.last_error: str | None = None
        #: the snapshot's time (the backend's clock) and when it arrived (``clock``)
        self._data_at: tuple[datetime, float] | None = None
        #: one Feed refresh at a time: the poll and an apply's progress share the feed
        self._feed_lock = threading.Lock()
        self._status = _Bar(self._bars_resized, id="status")
        self._banner = Static(id="banner")
        self._notices_shown: tuple[str, ...] = ()
        self._polls = 0
        self._poll_timer: Timer | None = None
        #: the polling policy's clock (a test sets a fake one)
        self.clock: Callable[[], float] = time.monotonic
        self._last_input = self.clock()
        self._last_hidden: float | None = None
        self._step: PollStep | None = None
        self._all_rows_at: datetime | None = None
        self._stale_inventory = False  # set after capcon's own changes: describe everything
        #: the applies under way: resource → what is being applied (the status bar says so
        #: from the moment Apply is pressed, before any answer)
        self.applying: dict[str, str] = {}
        #: the width the key hint was last fitted to (its keys are fixed for a session)
        self._hint_width: int | None = None
        #: not idle before this (the console's clock): a change was made
        self._live_until: float | None = None
        #: capacity asked for and not seen landed yet, by row name (``TABLE``,
        #: ``TABLE/INDEX``, ``STREAM``): set when an apply starts, dropped when the row reads
        #: ``ACTIVE`` at that capacity or the apply ended without it.  The list and the detail
        #: screen show it at once, marked pending.
        self.pending: dict[str, PendingChange] = {}
        #: capcon's audit entries and auto scaling's activities of the last day (read by the
        #: poll worker, sparingly: :mod:`.recent`), and the newest one by row name (the list
        #: marks it after the name: ``✎ 4m``, ``⇅ 2h``)
        self.recent_changes: tuple[RecentChange, ...] = ()
        self.change_rows: dict[str, RecentChange] = {}
        self._changes_error: str | None = None
        self._recent = RecentWatch(
            audit,
            origin,
            simulated=controls is not None,
            clock=lambda: self.clock(),  # noqa: PLW0108 - a test sets another clock later
        )
        if self.controls is not None:
            self.controls.speed = self.options.sim_speed

    # --- theme -------------------------------------------------------------------------

    def get_theme_variable_defaults(self) -> dict[str, str]:
        from capcon.tui.console.theming import APP_VARIABLES

        return dict(APP_VARIABLES)

    def _colours(self) -> SparkColours:
        variables = self.theme_variables
        return SparkColours(
            normal=variables.get("consumed", "#4aa3ff"),
            high=variables.get("hot", "#ffb000"),
            throttle=variables.get("throttle", "#ff4f6d"),
            empty=variables.get("foreground-darken-3", "#555555"),
        )

    # --- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(id="frame"):
            yield self._status
            yield self._banner
            yield OrderedInput(
                placeholder="filter: part of a name (Enter to keep, Esc to clear)", id="filter"
            )
            yield self._list
            yield self._preview
            yield Static(id="hint")
        yield Footer()

    def on_mount(self) -> None:
        for theme in self._extra_themes:
            self.register_theme(theme)
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        try:
            self.theme = self.options.theme
        except Exception:  # an unknown theme name: keep the default, say so
            self.notify(
                markup_safe(f"theme {self.options.theme!r} not found: using capcon-dark"),
                severity="warning",
            )
        if self._sort_warning:
            self.notify(markup_safe(self._sort_warning), severity="warning", timeout=8)
        for warning in self._theme_warnings:  # they quote theme files: text, never markup
            self.notify(markup_safe(warning), severity="warning", timeout=8)
        if self.options.production:
            self.query_one("#frame").add_class("production")
        self.query_one("#filter", Input).display = False
        self._banner.display = False
        self._preview.display = False
        self._paint_status()
        self._list.focus()
        self.set_interval(TICK_SECONDS, self._tick)
        if self.options.poll:
            self.poll()
        if self.options.stop_signals:
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGHUP):
                # closed by a signal: the process exits 128 + n, as the CLI's commands do
                loop.add_signal_handler(signum, self._close_by_signal, signum)

    def _close_by_signal(self, signum: int) -> None:
        self.exit(return_code=128 + signum)

    def on_unmount(self) -> None:
        """An apply waiting for its change to land stops waiting (its outcome is recorded
        ``unknown``, reconciled by the next command): the console is closing."""
        self.pace.close()
        if self.options.stop_signals:
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGHUP):
                loop.remove_signal_handler(signum)

    def _tick(self) -> None:
        """Between polls: the data's age and what a slow call waits for keep counting."""
        if not self._list_gone():
            self._paint_status()

    # --- polling ---------------------------------------------------------------------------

    def _poll_step(self) -> PollStep:
        """What this poll fetches and when the next one is (the console's polling policy).

        The first poll fetches only what the first screen shows, so rows appear at once; the
        second follows right after the first frame with everything else.  On AWS, off-screen
        rows and the inventory are then fetched at the policy's slower pace (each metric
        requested costs money), and less often still while nobody uses the console; the
        simulated account costs nothing and fetches everything every time (:mod:`.pace`).
        """
        now = self.clock()
        if self._polls == 0:
            return PollStep(hidden=False, idle=False, delay=0.2)
        return self.pace.step(now, self._last_input, self._last_hidden, self._live_until)

    @work(thread=True, exclusive=True, group="poll", name="poll", exit_on_error=False)
    def poll(self) -> None:
        """Read the backend in a thread; post the snapshot (or the backend's error).  Any
        other failure reaches :meth:`on_worker_state_changed`, which keeps polling."""
        step = self._step = self._poll_step()
        first = self._polls == 0
        self._polls += 1
        if step.hidden:
            self._last_hidden = self.clock()
        try:
            self.pace.before_poll(first)
            inventory = step.hidden or first or self._stale_inventory
            self._stale_inventory = False
            with self._feed_lock:
                snapshot = self.feed.refresh(
                    self._visible(), hidden=step.hidden, inventory=inventory
                )
        except CapconError as error:
            self.post_message(self.PollFailed(str(error)))
            return
        # the events: the rows' scheduled actions (read with their auto scaling) at this
        # poll's time, and the stream schedules, read again with the inventory
        events_error: str | None = None
        if inventory and self.schedules is not None:
            try:
                self._stream_schedules, problems = read_stream_schedules(self.schedules)
                events_error = "".join(f"stream schedule not read: {p}\n" for p in problems)
            except CapconError as error:  # the list goes on with the schedules it had
                events_error = f"stream schedules not read: {error}"
        events = tuple(events_of(snapshot.rows, self._stream_schedules, snapshot.at))
        changes = self._recent.look(self.backend, snapshot.rows, snapshot.at)
        self.post_message(
            self.DataReady(
                snapshot,
                step.hidden,
                events=events,
                events_error=events_error or None,
                changes=changes.changes,
                changes_error=changes.error,
            )
        )

    def _visible(self) -> list[str]:
        try:
            table = self._list
        except Exception:
            return []
        first = max(0, table.scroll_offset.y)
        return self._shown[first : first + max(1, table.size.height)]

    def poll_now(self) -> None:
        """Poll at once; the pending timed poll is dropped (one chain of polls, never two)."""
        if self._poll_timer is not None:
            self._poll_timer.stop()
            self._poll_timer = None
        self.poll()

    def _list_gone(self) -> bool:
        """A poll answered after the console began to close: its screen is gone, and nothing
        is painted or polled again."""
        return not self._list.is_attached

    def _next_poll(self) -> None:
        if not self.options.poll:
            return
        if self._poll_timer is not None:
            self._poll_timer.stop()
        step = self._step or self._poll_step()
        if self._polls == 1:
            # the rest of the rows, once the first screen has been drawn
            self._poll_timer = None
            self.call_after_refresh(self._poll_after_first_frame)
            return
        self._poll_timer = self.set_timer(step.delay, self.poll)

    def _poll_after_first_frame(self) -> None:
        self._poll_timer = self.set_timer(0.2, self.poll)

    @property
    def idle(self) -> bool:
        """Nobody has pressed a key, clicked or scrolled for the policy's idle time (AWS)."""
        return self.pace.is_idle(self.clock(), self._last_input, self._live_until)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(
            event, events.Key | events.MouseDown | events.MouseScrollDown | events.MouseScrollUp
        ) and not getattr(event, "is_forwarded", False):
            self._touched()
        await super().on_event(event)

    def _touched(self) -> None:
        """Someone uses the console: after an idle spell, fresh data at once."""
        was_idle = self.idle
        self._last_input = self.clock()
        if was_idle and self.options.poll:
            self.poll_now()
            from capcon.tui.console.screens.detail import DetailScreen

            if isinstance(self.screen, DetailScreen):
                self.screen.refresh_now()
            self._paint_status()

    @on(DataReady)
    def _on_data(self, message: DataReady) -> None:
        if self._list_gone():
            return
        self.snapshot = message.snapshot
        self._data_at = (message.snapshot.at, self.clock())
        if message.hidden:
            self._all_rows_at = message.snapshot.at
        self.last_error = None
        self._settle_pending(message.snapshot)
        if message.changes is not None:
            self.recent_changes = message.changes
        self._mark_changes(message.snapshot.at)
        if message.changes_error != self._changes_error:
            self._changes_error = message.changes_error  # said once, until it changes
            if message.changes_error is not None:
                self.notify(
                    markup_safe(message.changes_error),
                    title="recent changes",
                    severity="warning",
                    timeout=10,
                )
        if message.events is not None:
            self.events = message.events
            self.event_rows = by_row(message.events)
        if message.events_error != self._events_error:
            self._events_error = message.events_error  # said once, until it changes
            if message.events_error is not None:
                self.notify(markup_safe(message.events_error), severity="warning", timeout=10)
        notices = tuple(n.text for n in message.snapshot.notices)
        if notices and notices != self._notices_shown:  # degraded: say what is missing, once
            self.notify(
                markup_safe("\n".join(notices)), title="partial", severity="warning", timeout=10
            )
        self._notices_shown = notices
        self._paint_table()
        self._paint_status()
        if message.polled:
            self._next_poll()

    def _mark_changes(self, now: datetime) -> None:
        """The newest recent change of each row (within :data:`RECENT` of ``now``)."""
        newest: dict[str, RecentChange] = {}
        for change in self.recent_changes:
            if not shown_on_rows(change) or not now - RECENT <= change.at <= now:
                continue
            if change.row not in newest or change.at > newest[change.row].at:
                newest[change.row] = change
        self.change_rows = newest

    def _settle_pending(self, snapshot: Snapshot) -> None:
        """Drop the pending changes the snapshot shows landed (``ACTIVE`` at the capacity
        asked for)."""
        if not self.pending:
            return
        for row in snapshot.rows:
            asked = self.pending.get(row.name)
            if asked is None:
                continue
            # landed; or the apply ended (it has a change id) and the row is ACTIVE at what
            # AWS made of it (another change may have come in between)
            ended = asked.change_id is not None and row.status == "ACTIVE"
            if ended or asked.reached(row.capacity, row.shards, row.status):
                del self.pending[row.name]

    @on(PollFailed)
    def _on_poll_failed(self, message: PollFailed) -> None:
        if self._list_gone():
            return
        self.notify(markup_safe(message.error), title="backend error", severity="error", timeout=10)
        if message.polled:
            self.last_error = message.error
            self._paint_status()
            self._next_poll()

    @on(ApplyDone)
    def _on_apply_done(self, message: ApplyDone) -> None:
        self.applying.pop(message.resource, None)
        self._keep_live()
        self._recent.force_audit()
        for name in message.rows:
            asked = self.pending.get(name)
            if asked is None:
                continue
            if message.ok:
                self.pending[name] = replace(asked, change_id=message.change_id or None)
            else:
                del self.pending[name]
        self.notify(
            markup_safe(message.text), severity="information" if message.ok else "error", timeout=10
        )
        if message.inventory:
            self._stale_inventory = True
            self.action_refresh()
        else:  # a capacity change: its rows read again, nothing else (the polls go on)
            self._follow(message.rows)
        self._paint_status()

    def _keep_live(self) -> None:
        """A change was made: the console stays live (not idle) for
        :data:`LIVE_AFTER_CHANGE_SECONDS` from now."""
        self._live_until = self.clock() + LIVE_AFTER_CHANGE_SECONDS

    def _follow(self, rows: Iterable[str]) -> None:
        """Read ``rows`` again (their resources and metrics, nothing else) in a thread."""
        names = list(rows)
        if names:
            self._start(partial(self._refresh_rows, names), "refresh after apply", "follow",
                        exclusive=True)  # fmt: skip

    def _refresh_rows(self, names: list[str]) -> None:
        """The rows a change follows, read again: only their resources are described and only
        their metrics fetched (the rest of the list keeps what it had).  Not a poll."""
        try:
            with self._feed_lock:
                snapshot = self.feed.refresh(names, hidden=False, inventory=False)
        except CapconError as error:
            self.post_message(self.PollFailed(str(error), polled=False))
            return
        changes = self._recent.look(self.backend, snapshot.rows, snapshot.at)
        self.post_message(
            self.DataReady(
                snapshot,
                hidden=False,
                polled=False,
                changes=changes.changes,
                changes_error=changes.error,
            )
        )

    # --- failures --------------------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one handler for workers that failed: every worker runs with
        ``exit_on_error=False``, so an error nobody expected (a bug, a broken audit log, a
        lost connection) ends here instead of ending the console."""
        if event.state is not WorkerState.ERROR:
            return
        text = self.report_failure(event.worker)
        if event.worker.group == "poll":
            # as after a backend error: the last good data stay, the status says why, and
            # the chain of polls goes on
            self.last_error = text
            self._paint_status()
            self._next_poll()

    def report_failure(self, worker: Worker[object]) -> str:
        """Notify that ``worker`` failed: its name says what failed, then the error.

        Screens forward their own workers' failures here (a worker's state changes are
        sent to the node that started it).  Returns the error as one plain line.
        """
        text = error_text(worker.error)
        self.notify(
            markup_safe(text),
            title=f"{printable(worker.name)} failed",
            severity="error",
            timeout=10,
        )
        return text

    # --- painting --------------------------------------------------------------------------

    def _row_cells(self, row: Row, sparks: Sparks | None) -> dict[str, Text]:
        colours = self._colours()
        throttle_style = f"bold {colours.throttle}" if row.throttling else ""
        indent = "  └ " if row.kind == "index" else ""
        # names and statuses come from AWS: shown as written, no control character painted
        name = Text(printable(indent + (row.index or row.name)), style=throttle_style)
        marks: list[tuple[str, str]] = []  # the newest recent change, then a planned event
        change = self.change_rows.get(row.name)
        if change is not None and self.snapshot is not None:
            live = change.outcome in ("pending", "InProgress")
            mark = change_mark(change, self.snapshot.at)
            marks.append((mark, "updating" if live else "secondary"))
        events = self.event_rows.get(row.name)
        if events and self.snapshot is not None:
            marks.append((row_cell(events, self.snapshot.at), "accent"))
        if marks:
            name = self._with_marks(name, marks)
        updating = "bold " + self.theme_variables.get("updating", "yellow")
        asked = self.pending.get(row.name)
        status = (
            Text(printable(row.status), style=updating)
            if row.status != "ACTIVE"
            else Text("pending", style=updating)
            if asked is not None
            else Text(row.status)
        )
        if asked is None:
            capacity = Text(capacity_text(row, compact=True))
        else:  # what was asked, at once, marked: not in place yet
            shown = (
                replace(row, capacity=asked.asked)
                if isinstance(asked.asked, Throughput)
                else replace(row, shards=asked.asked)
            )
            capacity = Text(capacity_text(shown, compact=True) + "*", style=updating)
        if sparks is None:
            rspark = wspark = Text("")
        else:
            rspark = sparkline(
                sparks.utilisation("read"),
                sparks.throttles("read"),
                colours,
                self._list.width_of("rspark"),
            )
            wspark = sparkline(
                sparks.utilisation("write"),
                sparks.throttles("write"),
                colours,
                self._list.width_of("wspark"),
            )
        util_style = colours.high if (row.utilisation or 0) >= 0.8 else ""
        now = self.snapshot.at if self.snapshot is not None else row.throttles_since
        thr = Text(
            _throttle_cell(row, now),
            style=throttle_style if row.throttling else "",
        )
        aas = row.auto_scaling.marker
        return {
            "name": name,
            "kind": Text(row.kind),
            "mode": Text(row.mode),
            "status": status,
            "capacity": capacity,
            "rspark": rspark,
            "wspark": wspark,
            "util": Text(util_text(row), style=util_style, justify="right"),
            "thr": thr,
            "parts": Text(partitions_text(row)),
            "cost": Text(cost_text(row)),
            "aas": Text(aas, style=colours.high if aas == "AAS!" else ""),
        }

    @on(ResourceList.Refitted)
    def _refitted(self) -> None:
        """The list's columns were fitted to a new width: every row is drawn again (the
        sparklines show as many minutes as they are wide), and the feed keeps as many
        minutes as the widest sparkline shows (from the next poll; never fewer again)."""
        widest = max(self._list.width_of("rspark"), self._list.width_of("wspark"))
        feed = self.feed
        if widest > feed.spark_minutes:
            feed.spark_minutes = widest
            feed.keep = max(feed.keep, timedelta(minutes=widest) + LATE)
        self._shown = []
        self._paint_table()

    def _with_marks(self, name: Text, marks: list[tuple[str, str]]) -> Text:
        """The name cell with the row's marks at its right end: its planned event
        (``◷ 2h10``) and its newest recent change (``✎ 4m``), each ``(text, theme
        variable)``.  The name is cut to leave room, so the marks are seen however long the
        name (and at any width: the name column is the one never scrolled away)."""
        width = self._list.width_of("name")
        marks = [(text, variable) for text, variable in marks if text]
        room = width - sum(cell_len(text) + 1 for text, _v in marks)
        plain = name.plain
        if cell_len(plain) > room:
            plain = set_cell_size(plain, max(0, room - 1)) + "…"
        text = Text(set_cell_size(plain, room) + " ", style=name.style)
        for i, (mark, variable) in enumerate(marks):
            fallback = {"accent": "magenta", "updating": "yellow"}.get(variable, "cyan")
            colour = self.theme_variables.get(variable, fallback)
            text.append(mark, style=f"bold {colour}")
            if i < len(marks) - 1:
                text.append(" ")
        return text

    # --- layout: the list's columns and height, the preview pane -------------------------

    def _layout_after_paint(self) -> None:
        """After this repaint is on screen: the preview pane laid out and drawn (once, however
        many repaints ask; after the frame, so the first rows never wait for a chart)."""
        if not self._layout_due:
            self._layout_due = True
            self.call_after_refresh(self._fit_layout)

    @on(ResourceList.Resized)
    @on(Preview.Resized)
    def _relayout(self) -> None:
        self._fit_layout()

    def on_resize(self, event: events.Resize) -> None:
        self._fit_layout()

    def _fit_layout(self) -> None:
        """Rows left over under the list become the preview pane (when there are
        :data:`PREVIEW_MIN_HEIGHT` of them on a terminal :data:`PREVIEW_MIN_WIDTH` wide); the
        list takes them back when it needs them (more rows, a smaller terminal, a banner)."""
        self._layout_due = False
        table, preview = self._list, self._preview
        if self._list_gone():
            return
        room = table.outer_size.height + (preview.outer_size.height if preview.display else 0)
        if room <= 0:
            return
        need = table.row_count + 1 + (1 if table.table_width > table.size.width else 0)
        show = (
            self.snapshot is not None
            and table.row_count > 0
            and room - need >= PREVIEW_MIN_HEIGHT
            and self.size.width >= PREVIEW_MIN_WIDTH
        )
        if show:
            if self._list_height != need:
                self._list_height = need
                table.styles.height = need
            if not preview.display:
                preview.display = True
            self._paint_preview()
        elif preview.display or self._list_height is not None:
            preview.display = False
            self._list_height = None
            table.styles.height = "1fr"

    def _paint_preview(self, *, force: bool = False) -> None:
        """The preview pane shows the row under the cursor (when the pane is shown)."""
        preview = self._preview
        if not preview.display or self.snapshot is None:
            return
        row = self.selected_row()
        if row is None:
            return
        now = self._backend_now() or self.snapshot.at
        preview.show(
            row,
            self.snapshot.sparks.get(row.name),
            now,
            self.theme_variables,
            self.theme,
            force=force,
        )

    @on(ResourceList.Highlighted)
    def _highlighted(self) -> None:
        self._paint_preview()

    def _paint_table(self, *, top: bool = False) -> None:
        """Paint the list; ``top``: the cursor goes to the first row (after a new sort or
        filter, the top row is what the user asked to see), else it stays on its row."""
        self._layout_after_paint()
        snapshot = self.snapshot
        if snapshot is None:
            return
        table = self._list
        rows = group_rows(snapshot.rows, SORTS[self.sort_index][0], self.needle)
        names = [r.name for r in rows]
        if names != self._shown:
            current = table.cursor_key
            self._cells.clear()
            first_screen = not self._shown and len(rows) > FIRST_SCREEN_ROWS
            if first_screen:
                # a large account: draw one screenful now, the rest after the first frame
                rows, names = rows[:FIRST_SCREEN_ROWS], names[:FIRST_SCREEN_ROWS]
                self.call_after_refresh(self._paint_table)
            lines = []
            for row in rows:
                cells = self._row_cells(row, snapshot.sparks.get(row.name))
                lines.append((row.name, [cells[column.key] for column in COLUMNS]))
                self._cells.update({(row.name, k): _cell_key(v) for k, v in cells.items()})
            table.set_rows(lines)
            self._shown = names
            if top:
                table.move_cursor(row=0)
            elif current in names:
                table.move_cursor(row=names.index(current))
            return
        changes: list[tuple[str, str, Text]] = []
        for row in rows:
            cells = self._row_cells(row, snapshot.sparks.get(row.name))
            for column, value in cells.items():
                key = _cell_key(value)
                if self._cells.get((row.name, column)) != key:
                    changes.append((row.name, column, value))
                    self._cells[(row.name, column)] = key
        if changes:
            table.update_cells(changes)
        if top:
            table.move_cursor(row=0)

    def _bar_width(self, widget: Static) -> int:
        """The cells a one-line bar has for its text (before its first layout: the
        screen's width less the padding and a production frame)."""
        width = widget.content_size.width
        if width > 0:
            return width
        frame = 2 if self.options.production else 0
        return max(1, self.size.width - 2 - frame)

    def _bars_resized(self) -> None:
        """The status bar has another width: its parts (and the hint's) chosen again, once
        the console is up."""
        if self._list.is_attached:
            self._paint_status()

    def _status_parts(self, now: datetime | None) -> list[Part]:
        """The status bar's parts in the order shown, each with its priority (0 most
        important) and shorter forms: :func:`capcon.tui.console.status.fit` keeps what fits."""
        backend = markup_safe(self.origin.backend)
        parts = [Part.of(f"[b]capcon[/b] · {backend}", backend, priority=3)]
        profile = self.options.profile
        if profile and profile not in self.origin.backend:
            parts.append(Part.of(f"profile {markup_safe(profile)}", priority=4))
        if self.options.production:
            parts.append(Part.of("[b reverse] PRODUCTION [/]", priority=0, required=True))
        if self.options.read_only:
            parts.append(Part.of("[b]read-only[/b]", priority=0, required=True))
        region = self.origin.region
        if region and region not in self.origin.backend:
            parts.append(Part.of(markup_safe(region), priority=6))  # often in the backend too
        snapshot = self.snapshot
        controls = self.controls
        if controls is not None:
            state = "paused" if controls.paused else f"{controls.speed:g}×"
            clock = controls.now()
            parts.append(
                Part.of(
                    f"sim {clock:%H:%M:%S} UTC ({state})",
                    f"sim {clock:%H:%M:%S} ({state})",
                    f"sim {clock:%H:%M}" + (" ⏸" if controls.paused else ""),
                    priority=2,
                    shorten=4,
                )
            )
        for resource, summary in self.applying.items():
            parts.append(
                Part.of(
                    f"[b]applying[/b] {markup_safe(printable(summary))}",
                    f"[b]applying[/b] {markup_safe(printable(resource))}",
                    priority=1,
                    shorten=3,
                )
            )
        waiting = self.inflight.waiting()
        if waiting is not None:
            call, seconds = waiting
            took = fmt_duration(round(seconds))
            parts.append(
                Part.of(
                    f"[b]waiting for {markup_safe(call.what())}[/b] ({took})",
                    f"[b]waiting[/b] ({took})",
                    priority=1,
                    shorten=3,
                )
            )
        if snapshot is not None:
            if snapshot.data_until is not None:
                age = (now or snapshot.at) - snapshot.data_until
                stale = " [b]stale[/b]" if age.total_seconds() > 600 else ""
                old = _age_words(age)
                parts.append(
                    Part.of(
                        f"data until {snapshot.data_until:%H:%M} ({old} old){stale}",
                        f"data {old} old{stale}",
                        priority=2,
                        shorten=3,
                    )
                )
            if snapshot.undescribed:
                parts.append(
                    Part.of(
                        f"[b]reading {snapshot.undescribed:,} more resources…[/b]",
                        f"[b]reading {snapshot.undescribed:,} more…[/b]",
                        priority=3,
                        shorten=4,
                    )
                )
            if controls is None:
                refreshed = f"refreshed {snapshot.at:%H:%M:%S}"
                if self._all_rows_at is not None and self._all_rows_at != snapshot.at:
                    off = f"off-screen {self._all_rows_at:%H:%M}"
                    parts.append(Part.of(f"{refreshed} ({off})", off, priority=5, shorten=7))
                else:
                    parts.append(Part.of(refreshed, priority=5))
            if self.idle:
                every = fmt_duration(self.options.polling.idle_visible_seconds)
                parts.append(
                    Part.of(
                        f"[b]idle[/b]: every {every}, any key resumes",
                        f"[b]idle[/b]: every {every}",
                        "[b]idle[/b]",
                        priority=2,
                        shorten=4,
                    )
                )
        usage = self.metrics.usage
        cost = f"${usage.cost(self.prices):.4f}"
        counted = f"CloudWatch {usage.calls} calls, {usage.metrics_requested:,} metrics, {cost}"
        parts.append(
            Part.of(
                counted + (" (as if on AWS)" if controls else ""),
                counted,
                f"CloudWatch {cost}",
                priority=5,
                shorten=8,
            )
        )
        needle = self.needle if len(self.needle) <= 24 else self.needle[:23] + "…"
        parts.append(Part.of(f"sort: {SORTS[self.sort_index][1]}", priority=0, required=True))
        if self.needle:
            parts.append(Part.of(f"filter: {markup_safe(repr(needle))}", priority=0, required=True))
        if self.last_error:  # the whole error is in the banner above, never cut
            parts.append(
                Part.of(
                    f"[b]error:[/b] {markup_safe(printable(self.last_error[:60]))}",
                    "[b]error[/b] (above)",
                    priority=0,
                    required=True,
                    shorten=3,
                )
            )
        if snapshot is not None and snapshot.notices:
            count = len(snapshot.notices)
            more = f" (+{count - 1})" if count > 1 else ""
            first = markup_safe(printable(snapshot.notices[0].text[:70]))
            parts.append(
                Part.of(
                    f"[b]partial:[/b] {first}{more}",
                    f"[b]partial:[/b] {count} notice{'s' if count > 1 else ''}",
                    priority=1,
                    shorten=3,
                )
            )
        return parts

    def _paint_status(self) -> None:
        now = self._backend_now()
        _set_line(self._status, fit(self._status_parts(now), self._bar_width(self._status)))
        self._paint_banner(now)
        hint = self.query_one("#hint", Static)
        width = self._bar_width(hint)
        if self._hint_width != width:  # the keys never change: fitted again on a resize only
            self._hint_width = width
            _set_line(hint, fit(self._hint_parts(), width))

    def _hint_parts(self) -> list[Part]:
        """The key hint under the list, the most useful keys kept when it is narrow."""
        keys: list[tuple[str, int]] = [("Enter detail", 0), ("n next throttling", 1)]
        if not self.options.read_only:
            keys += [("c scale", 1), ("e event", 3), ("u auto scaling", 3)]
        keys += [("/ filter", 2), ("s sort", 2), ("a audit", 4), ("t theme", 5)]
        keys.append(("? help (read-only)" if self.options.read_only else "? help", 0))
        if self.controls is not None:
            keys += [("space pause", 4), ("+/- speed", 5), (". step", 5)]
        return [Part.of(text, priority=priority) for text, priority in keys]

    def _backend_now(self) -> datetime | None:
        """The backend's time now: the simulated clock, or on AWS the last snapshot's time
        plus the time since it arrived (no call, and no wait behind a poll's lock)."""
        if self.controls is not None:
            return self.controls.now()
        if self._data_at is None:
            return None
        at, arrived = self._data_at
        return at + timedelta(seconds=max(0.0, self.clock() - arrived))

    def _paint_banner(self, now: datetime | None) -> None:
        """While the last poll failed: why, and how old the data on screen are."""
        banner = self._banner
        error = self.last_error
        if not error:
            if banner.display:
                banner.display = False
                _set_line(banner, "")
            return
        text = f"[b]last refresh failed:[/b] {markup_safe(error)}"
        if self.snapshot is None:
            text += " · no data read yet"
        else:
            at = self.snapshot.at
            ago = fmt_duration((now or at) - at, approx=True)
            text += f" · the data shown were read at {at:%H:%M:%S} ({ago} ago)"
        if banner.content != text:
            banner.update(text)
        banner.display = True

    # --- selection -------------------------------------------------------------------------

    def selected_row(self) -> Row | None:
        if self.snapshot is None or not self._shown:
            return None
        table = self._list
        if table.cursor_row >= len(self._shown):
            return None
        name = self._shown[table.cursor_row]
        return next((r for r in self.snapshot.rows if r.name == name), None)

    # --- actions ---------------------------------------------------------------------------

    LIST_ONLY: ClassVar[frozenset[str]] = frozenset(
        {"filter", "sort", "clear_filter", "detail", "next_throttling"}
    )
    CHANGES: ClassVar[frozenset[str]] = frozenset({"scale", "autoscaling", "event"})

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The list's own keys do nothing while another screen (detail, audit) is on top."""
        if action in self.CHANGES and self.options.read_only:
            return False  # a read-only session offers no change at all
        if action == "filter" and isinstance(self.focused, Input):
            return False  # "/" typed into the filter (or another input) is text
        return not (action in self.LIST_ONLY and len(self.screen_stack) > 1)

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        # now, not after a refresh (``focus()`` waits for one): the next key is the filter's
        self.screen.set_focus(box)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.needle = event.value
        self._paint_table(top=True)
        self._paint_status()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self._list.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        box.display = False
        self.needle = ""
        self._paint_table(top=True)
        self._paint_status()
        self._list.focus()

    def action_sort(self) -> None:
        self.sort_index = (self.sort_index + 1) % len(SORTS)
        self._paint_table(top=True)
        self._paint_status()

    def action_next_throttling(self) -> None:
        """The cursor to the next row throttling now, below the cursor (wrapping round)."""
        snapshot = self.snapshot
        if snapshot is None or not self._shown:
            return
        throttling = {r.name for r in snapshot.rows if r.throttling}
        start = self._list.cursor_row
        count = len(self._shown)
        for step in range(1, count + 1):
            index = (start + step) % count
            if self._shown[index] in throttling:
                self._list.move_cursor(row=index)
                return
        where = " among the rows shown (filter: clear it with Esc)" if self.needle else ""
        self.notify(f"no row is throttling{where}", timeout=3)

    def action_refresh(self) -> None:
        self.poll_now()

    def action_next_theme(self) -> None:
        names = [n for n in self.available_themes if n.startswith("capcon-")] or list(
            self.available_themes
        )
        current = names.index(self.theme) if self.theme in names else -1
        self.theme = names[(current + 1) % len(names)]
        self.notify(f"theme: {self.theme}", timeout=2)

    def _theme_changed(self, _theme: object) -> None:
        """Repaint every cell in the new colours, once Textual has applied the theme's
        variables (they change in its CSS refresh, after the theme is set)."""

        def repaint() -> None:
            self._shown = []
            self._paint_table()

        self.call_after_refresh(repaint)

    def action_pause(self) -> None:
        controls = self.controls
        if controls is None:
            return
        if controls.paused:
            controls.resume()
        else:
            controls.pause()
        self.pace.restart()
        self._paint_status()

    def _set_speed(self, factor: float) -> None:
        controls = self.controls
        if controls is None:
            return
        slowest, fastest = controls.speed_range
        controls.speed = min(fastest, max(slowest, controls.speed * factor))
        self._paint_status()

    def action_faster(self) -> None:
        self._set_speed(2.0)

    def action_slower(self) -> None:
        self._set_speed(0.5)

    def action_step(self) -> None:
        if self.controls is not None:
            self.controls.step(60)
            self.action_refresh()

    def action_help(self) -> None:
        from capcon.tui.console.screens.help import HelpScreen

        simulated = self.controls is not None
        self.push_screen(
            HelpScreen(
                simulated,
                self.options.read_only,
                self.options.polling,
                screenshots=screenshot_dir(self.options.screenshot_dir),
            )
        )

    def action_take_screenshot(self) -> None:
        """The screen as an SVG in the screenshot folder (made if missing), said where."""
        from capcon.tui.screenshots import screenshot_action

        screenshot_action(self, self.options.screenshot_dir)

    def action_audit(self) -> None:
        from capcon.tui.console.screens.audit import AuditScreen

        self.push_screen(AuditScreen(self.audit))

    @on(ResourceList.Opened)
    def _on_opened(self) -> None:
        self.action_detail()

    def action_detail(self) -> None:
        row = self.selected_row()
        if row is None:
            return
        from capcon.tui.console.screens.detail import DetailScreen

        self.push_screen(DetailScreen(row))

    def action_scale(self) -> None:
        if self.options.read_only:
            self.notify("read-only session: scaling is not offered", severity="warning")
            return
        row = self.selected_row()
        if row is None:
            return
        self.open_scale(row)

    def _start(self, work: Callable[[], None], name: str, group: str, *, exclusive: bool) -> None:
        """A thread worker named for what it does (a failure's notification names it)."""
        self.run_worker(
            work, name=name, group=group, exclusive=exclusive, thread=True, exit_on_error=False
        )

    def open_scale(self, row: Row) -> None:
        """Read the resource and its planning context in a thread, then open the scale modal."""
        self._start(
            partial(self._prepare_scale, row),
            f"scale preview of {row.name}",
            "scale-prep",
            exclusive=True,
        )

    def _read_for_preview(self, row: Row) -> tuple[Table | Stream, PlanContext]:
        """The row's resource read again, and its planning context (recent use, history):
        what the scale and the event previews plan on.  In a worker thread."""
        resource: Table | Stream
        if row.kind == "stream":
            resource = self.backend.describe_stream(row.name)
        else:
            assert row.table is not None
            resource = self.backend.describe_table(row.table)
        context = live_context(
            self.backend,
            resource,
            self.rules,
            self.prices,
            self.audit,
            self.controls,
            metrics=self.metrics,
        )
        return resource, context

    def _prepare_scale(self, row: Row) -> None:
        try:
            resource, context = self._read_for_preview(row)
        except CapconError as error:
            self.post_message(self.PollFailed(str(error), polled=False))
            return
        # on the UI thread; an error there comes back here, so the worker's handler says so
        self.call_from_thread(self._push_scale, row, resource, context)

    def _push_scale(self, row: Row, resource: Table | Stream, context: PlanContext) -> None:
        from capcon.tui.console.modals.scale import ScaleModal

        self._paint_status()  # the preview's metrics, billed at once (not at the next tick)

        def done(result: ScalePlan | str | None) -> None:
            if result == "autoscaling":
                self.open_autoscaling(row)
            elif isinstance(result, ScalePlan):
                self.apply_plan(result, resource)

        self.push_screen(
            ScaleModal(
                resource,
                row.index,
                context,
                self.rules,
                self.prices,
                now=self.backend.now(),
                confirm_factor=self.options.confirm_factor,
                production=self.options.production,
            ),
            done,
        )

    def action_event(self) -> None:
        if self.options.read_only:
            self.notify("read-only session: events cannot be planned", severity="warning")
            return
        row = self.selected_row()
        if row is None:
            return
        self.open_event(row)

    def open_event(self, row: Row) -> None:
        """Read the resource, its auto scaling, scheduled actions and recent use in a thread,
        then open the event modal."""
        self._start(
            partial(self._prepare_event, row),
            f"event preview of {row.name}",
            "scale-prep",
            exclusive=True,
        )

    def _prepare_event(self, row: Row) -> None:
        from capcon.core.ports import resource_id
        from capcon.core.services.overview import auto_scaling_by_resource
        from capcon.tui.console.modals.event import EventFacts

        try:
            resource, context = self._read_for_preview(row)
            if isinstance(resource, Table):
                rid = resource_id(resource.name, row.index)
                state = auto_scaling_by_resource(self.backend).get(rid)
                facts = EventFacts(
                    targets=state.targets if state else (),
                    policies=state.policies if state else (),
                    scheduled=state.scheduled if state else (),
                    usage=context.usage.get(row.index),
                )
            else:
                facts = EventFacts(reshard_history=context.reshard_history)
            now = self.backend.now()
        except CapconError as error:
            self.post_message(self.PollFailed(str(error), polled=False))
            return
        self.call_from_thread(self._push_event, row, resource, facts, now)

    def _push_event(
        self, row: Row, resource: Table | Stream, facts: EventFacts, now: datetime
    ) -> None:
        from capcon.tui.console.modals.event import EventModal, reactive_for

        self._paint_status()  # the preview's metrics, billed at once
        rules, prices = self.rules, self.prices

        def done(result: EventPlan | None) -> None:
            if isinstance(result, EventPlan):
                self.apply_event(result)

        self.push_screen(
            EventModal(
                resource,
                row.index,
                facts,
                self.rules,
                self.prices,
                now=now,
                confirm_factor=self.options.confirm_factor,
                production=self.options.production,
                stream_store=self.schedules is not None,
                rehearse=lambda request: reactive_for(resource, facts, request, prices, rules),
            ),
            done,
        )

    def apply_event(self, plan: EventPlan) -> None:
        """Apply a confirmed event plan through the scaler, in a thread."""
        self._acknowledge(plan.request.resource, f"event {plan.event_id} on {plan.label}")
        self._start(
            partial(self._guarded, plan.request.resource, partial(self._apply_event, plan)),
            f"apply event {plan.event_id} on {plan.label}",
            "apply",
            exclusive=False,
        )

    def _apply_event(self, plan: EventPlan) -> None:
        scaler = self._scaler()
        done = partial(self.ApplyDone, resource=plan.request.resource)
        what = f"event {plan.event_id} on {plan.label}"
        try:
            result = scaler.apply_event(plan, schedules=self.schedules)
        except CapconError as error:
            self.post_message(done(f"{what}: {error}", False))
            return
        finally:
            self._show_audit_notices()
        if result.outcome == "applied":
            self.post_message(done(f"scheduled: {what}", True))
        else:
            self.post_message(done(f"{result.outcome}: {what} — {result.error}", False))

    def action_autoscaling(self) -> None:
        if self.options.read_only:
            self.notify("read-only session: auto scaling cannot be changed", severity="warning")
            return
        row = self.selected_row()
        if row is None or row.kind == "stream":
            self.notify("auto scaling here is for tables and GSIs", severity="warning")
            return
        self.open_autoscaling(row)

    def open_autoscaling(self, row: Row) -> None:
        """Read the table and its auto scaling in a thread, then open the auto-scaling modal."""
        self._start(
            partial(self._prepare_autoscaling, row),
            f"auto scaling of {row.name}",
            "scale-prep",
            exclusive=True,
        )

    def _prepare_autoscaling(self, row: Row) -> None:
        from capcon.core.ports import resource_id
        from capcon.core.services.overview import auto_scaling_by_resource, with_traps

        try:
            assert row.table is not None
            table = self.backend.describe_table(row.table)
            state = with_traps(
                table,
                row.index,
                auto_scaling_by_resource(self.backend).get(resource_id(row.table, row.index)),
            )
            now = self.backend.now()
        except CapconError as error:
            self.post_message(self.PollFailed(str(error), polled=False))
            return
        self.call_from_thread(self._push_autoscaling, row, table, state, now)

    def _push_autoscaling(
        self, row: Row, table: Table, state: AutoScalingState, now: datetime
    ) -> None:
        from capcon.tui.console.modals.autoscaling import AutoScalingModal

        def done(result: AutoScalingPlan | None) -> None:
            if result is not None:
                self.apply_autoscaling(result)

        self.push_screen(
            AutoScalingModal(table, row.index, state, row.usage, self.rules, self.prices, now=now),
            done,
        )

    def apply_autoscaling(self, plan: AutoScalingPlan) -> None:
        """Apply an auto-scaling plan through the scaler, in a thread."""
        self._acknowledge(plan.resource, plan.summary)
        self._start(
            partial(self._guarded, plan.resource, partial(self._apply_autoscaling, plan)),
            f"apply auto scaling to {plan.resource}",
            "apply",
            exclusive=False,
        )

    def _apply_autoscaling(self, plan: AutoScalingPlan) -> None:
        scaler = self._scaler()
        done = partial(self.ApplyDone, resource=plan.resource)
        try:
            result = scaler.apply_autoscaling(plan)
        except CapconError as error:
            self.post_message(done(f"{plan.summary}: {error}", False))
            return
        finally:
            self._show_audit_notices()
        if result.outcome == "applied":
            self.post_message(done(f"applied: {plan.summary}", True))
        else:
            self.post_message(done(f"{result.outcome}: {plan.summary} — {result.error}", False))

    def _show_audit_notices(self) -> None:
        """What the audit log fixed on its own (its mode), once, as notifications (from a
        worker thread)."""
        for note in self.audit.take_notices():
            self.call_from_thread(
                self.notify, markup_safe(note), title="audit log", severity="warning", timeout=10
            )

    def _scaler(self) -> Scaler:
        return Scaler(
            self.backend,
            self.audit,
            self.origin,
            wait=self._waiter(),
            read_only=self.options.read_only,
            poll_seconds=5.0,
        )

    def _waiter(self) -> Callable[[float], None]:
        if self._wait is not None:
            return self._wait
        return self.pace.waiter()

    def apply_plan(self, plan: ScalePlan, previous: Table | Stream) -> None:
        """Apply a confirmed plan through the scaler, in a thread (progress as it goes)."""
        at = self._backend_now() or plan.made_at
        for asked in pending_for(plan.resource, plan.kind, plan.change, at):
            self.pending[asked.row] = asked
        self._acknowledge(plan.resource, plan.summary)
        self._start(
            partial(self._guarded, plan.resource, partial(self._apply_plan, plan, previous)),
            f"apply {plan.resource}",
            "apply",
            exclusive=False,
        )

    def _guarded(self, resource: str, work: Callable[[], None]) -> None:
        """An apply (in its worker): if it fails unexpectedly (its failure is reported by
        :meth:`on_worker_state_changed`), its resource is no longer said to be applying
        and its rows no longer pending."""
        try:
            work()
        except Exception:
            self.call_from_thread(self._apply_gone, resource)
            raise

    def _apply_gone(self, resource: str) -> None:
        self.applying.pop(resource, None)
        for name in [n for n in self.pending if n == resource or n.startswith(resource + "/")]:
            del self.pending[name]
        self._paint_table()
        self._paint_status()

    def _acknowledge(self, resource: str, summary: str) -> None:
        """At once, before anything is sent: a notification, the status bar, the rows
        (their pending capacity)."""
        self.applying[resource] = summary
        self._keep_live()
        self.notify(markup_safe(f"sending: {summary}"), title="apply", timeout=5)
        self._paint_table()
        self._paint_status()

    def _apply_plan(self, plan: ScalePlan, previous: Table | Stream) -> None:
        from capcon.core.services.scaler import Progress

        scaler = self._scaler()
        last = [0.0]
        refreshed: list[tuple[str | None, float]] = [(None, float("-inf"))]  # status, when
        rows = [p.row for p in pending_for(plan.resource, plan.kind, plan.change, plan.made_at)]
        if not rows:  # a class switch, a pre-warm: the resource's own row all the same
            rows = [plan.resource]
        done = partial(self.ApplyDone, rows=tuple(rows), resource=plan.resource, inventory=False)

        def progress(p: Progress) -> None:
            if p.fraction - last[0] >= 0.25 or p.fraction >= 1.0:
                last[0] = p.fraction
                self.call_from_thread(self.notify, markup_safe(p.message), timeout=3)
            # the changed rows, re-read when the status changes or a second has passed: in
            # the simulated account reports come many times a second.  Only those rows:
            # following a change on AWS used to re-read every row on screen every 5 s (12
            # ListTables and 112 DescribeTable in 47 s).  Not a poll: the chain of polls
            # goes on as it was.
            status, then = refreshed[0]
            at = self.clock()
            if p.status == status and at - then < PROGRESS_REFRESH_SECONDS:
                return
            refreshed[0] = (p.status, at)
            with self._feed_lock:
                snapshot = self.feed.refresh(rows, hidden=False, inventory=False)
            self.post_message(self.DataReady(snapshot, hidden=False, polled=False))

        try:
            result = scaler.apply(plan, progress=progress, previous=previous)
        except CapconError as error:
            self.post_message(done(f"{plan.summary}: {error}", False))
            return
        finally:
            self._show_audit_notices()
        if result.outcome in ("applied", "accepted"):
            self.post_message(
                done(f"{result.outcome}: {plan.summary}", True, change_id=result.change_id)
            )
        else:
            self.post_message(done(f"{result.outcome}: {plan.summary} — {result.error}", False))

    # --- command palette -------------------------------------------------------------------

    # The palette finds a command by any word of its title or help (AnyWordCommands): "thr"
    # finds the sort by throttles and the rows throttling now.
    COMMANDS: ClassVar[set[type[Provider] | Callable[[], type[Provider]]]] = {AnyWordCommands}

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        offered: set[str] = set()

        def command(
            title: str, help_text: str, callback: Callable[[], object], *, discover: bool = True
        ) -> SystemCommand:
            offered.add(getattr(callback, "__name__", ""))
            return SystemCommand(title, help_text, callback, discover)

        for system in super().get_system_commands(screen):
            if system.title != "Screenshot":  # Textual's saves to ~/Downloads: ours below
                yield system
        yield command(
            "Filter resources", "Show only names containing some text (/)", self.action_filter
        )
        yield command("Clear filter", "Show every resource again (Esc)", self.action_clear_filter)
        yield command(
            "Sort",
            "Cycle the sort: trouble, name, utilisation, throttles, cost (s)",
            self.action_sort,
        )
        yield command(
            "Next throttling row",
            "Move to the next row throttling now (n)",
            self.action_next_throttling,
        )
        for key, label in SORTS:
            yield command(
                f"Sort by {label}",
                f"Order the list by {label} now",
                partial(self._sort_by, key),
            )
        yield command(
            "Detail",
            "Charts, partitions, budget, shards of the selected row (Enter)",
            self.action_detail,
        )
        if not self.options.read_only:
            yield command(
                "Scale",
                "Preview and apply a capacity change on the selected row (c)",
                self.action_scale,
            )
            yield command(
                "Auto scaling",
                "Edit min, max and target of the selected table or GSI (u)",
                self.action_autoscaling,
            )
            yield command(
                "Planned event",
                "Scale the selected row ahead of a known spike and back after it (e)",
                self.action_event,
            )
        yield command("Audit log", "Every change made through capcon (a)", self.action_audit)
        yield command("Refresh", "Read the backend now (r)", self.action_refresh)
        yield command(
            "Next theme", "dark, light, projector, colour-blind (t)", self.action_next_theme
        )
        yield command(
            "Screenshot",
            f"Save the screen as an SVG in {screenshot_dir(self.options.screenshot_dir)} (p)",
            self.action_take_screenshot,
        )
        yield command("Help", "Keys, columns and the lessons (?)", self.action_help)
        if self.controls is not None:
            yield command(
                "Pause / resume simulation", "Freeze simulated time (space)", self.action_pause
            )
            yield command("Faster", "Simulated time twice as fast (+)", self.action_faster)
            yield command("Slower", "Simulated time half as fast (-)", self.action_slower)
            yield command(
                "Step one minute", "Advance simulated time by a minute (.)", self.action_step
            )
        # every other key of the console, so the palette reaches every action (a key added
        # later without a command of its own is offered under its footer name)
        for binding in self.BINDINGS:
            if not isinstance(binding, Binding) or binding.action in ("quit", "app.quit"):
                continue
            method = getattr(self, f"action_{binding.action}", None)
            if method is None or method.__name__ in offered:
                continue
            if self.check_action(binding.action, ()) is False:
                continue
            key = binding.key_display or binding.key.split(",")[0]
            yield command(binding.description or binding.action, f"({key})", method)
        if self.snapshot is not None:
            for row in self.snapshot.rows:
                trouble = " · throttling now" if row.throttling else ""
                yield SystemCommand(
                    f"Go to {row.name}",
                    f"{row.kind}, {row.mode}, {capacity_text(row, compact=True)}{trouble}",
                    lambda name=row.name: self.jump_to(name),
                    discover=False,
                )

    def _sort_by(self, key: str) -> None:
        """The sort set to ``key`` (through ``s``'s own action, so a sort behaves the same
        from the palette as from the key)."""
        for _ in SORTS:
            if SORTS[self.sort_index][0] == key:
                return
            self.action_sort()

    def jump_to(self, name: str) -> None:
        if name not in self._shown:
            self.action_clear_filter()
        if name in self._shown:
            self._list.move_cursor(row=self._shown.index(name))


def _age_words(age: timedelta) -> str:
    """How old the data are: to the second under 10 minutes (it visibly counts between
    polls), then in whole minutes."""
    seconds = age.total_seconds()
    return fmt_duration(age, step=1 if seconds < 600 else 60)


def _rate(value: float) -> str:
    """A throttle rate in at most 4 cells: ``0.4``, ``12``, ``120``, ``1.2k``, ``12k``."""
    if value < 10:
        return f"{value:.1f}"
    if value < 1000:
        return f"{value:.0f}"
    if value < 10_000:
        return f"{value / 1000:.1f}k"
    return f"{min(value / 1000, 999):.0f}k"


def _throttle_cell(row: Row, now: datetime | None) -> str:
    """The throttled/s cell: each side's rate when reads and writes both throttle
    (``R 12 W 3.5``; its one side otherwise, ``66.0 W``), else when it last throttled."""
    read, write = row.throttled_read_per_second, row.throttled_write_per_second
    if row.kind != "stream" and row.metrics_known and read > 0 and write > 0:
        spaced = f"R {_rate(read)} W {_rate(write)}"
        return spaced if len(spaced) <= 11 else f"R{_rate(read)} W{_rate(write)}"
    return throttle_cell(row, now) if now is not None else throttled_text(row)


def _cell_key(value: Text) -> CellKey:
    """What a cell looks like: rich ``Text`` equality ignores styles, this does not."""
    return (
        value.plain,
        str(value.style),
        tuple((sp.start, sp.end, str(sp.style)) for sp in value.spans),
    )
