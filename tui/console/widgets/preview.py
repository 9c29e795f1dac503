"""The preview pane: the selected row's charts and key facts, under the list.

On a tall terminal the list leaves rows empty (the demo's 16 rows fill a third of a 160×50
screen); the console gives that room to this pane instead (:meth:`CapconApp._fit_layout`), and
takes it back when the list needs it.  It follows the list's cursor.

It costs no call: everything it shows is already in the console's snapshot, the row (capacity,
partitions, auto scaling, cost, when it last throttled) and its per-minute sparkline series
(consumed, capacity, throttled, over as many minutes as the feed keeps), so the pane is drawn
from what the last poll brought, with the detail screen's chart widget
(:class:`~capcon.tui.console.screens.detail.ChartPanel`, used as it is).  Drawing a chart costs
CPU, so while the cursor stays on one row the pane redraws at most every
:data:`REDRAW_SECONDS` (the simulated account polls every second); a new row, a new width or a
new theme draws at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.message import Message
from textual.widgets import Static

from capcon.core.services.feed import Sparks
from capcon.core.services.overview import Row
from capcon.tui.text import (
    capacity_text,
    cost_text,
    last_throttled_text,
    printable,
    use_text,
    util_text,
)

if TYPE_CHECKING:
    from capcon.tui.console.screens.detail import Chart, Series, Window

#: Least real time between two drawings of the same row's charts: a glance pane (the list's
#: sparklines are the live view).  At 5 s the demo at 60× (a new minute every second) spent
#: about 0.9 points of a core on plotext; on AWS a new minute comes once a minute anyway.
REDRAW_SECONDS = 15.0
#: A missing minute is a gap in the line, never a zero.
GAP_SECONDS = 90.0

#: Theme variables by chart role, and the built-in one to use when a theme lacks it (as the
#: detail screen draws them).
_FALLBACK = {
    "consumed": "primary",
    "provisioned": "success",
    "throttle": "error",
    "demand": "secondary",
    "hot": "warning",
    "updating": "warning",
    "event": "accent",
    "muted": "foreground-darken-3",
}


def theme_colour(variables: Mapping[str, str], role: str) -> str:
    """A theme colour by chart role."""
    value = variables.get(role) or variables.get(_FALLBACK.get(role, "foreground"))
    return value or variables.get("foreground", "white")


def _window(minutes: int) -> Window:
    from capcon.tui.console.screens.detail import Window

    tick = timedelta(minutes=10 if minutes > 30 else 5)
    return Window("preview", f"{minutes} min", timedelta(minutes=minutes), 60, tick, "%H:%M")


def _points(
    minutes: tuple[datetime, ...], values: tuple[float | None, ...], scale: float
) -> tuple[tuple[datetime, float], ...]:
    """Per-minute sums as a rate per second (× ``scale``); missing minutes left out."""
    return tuple((t, v / 60 * scale) for t, v in zip(minutes, values, strict=True) if v is not None)


def _level(
    minutes: tuple[datetime, ...], per_minute: float | None, scale: float
) -> tuple[tuple[datetime, float], ...]:
    if per_minute is None or not minutes:
        return ()
    value = per_minute / 60 * scale
    return ((minutes[0], value), (minutes[-1], value))


def preview_charts(row: Row, sparks: Sparks) -> tuple[Chart, Chart]:
    """The row's two charts from its sparkline series: a table's (or GSI's) reads and writes
    in units per second against capacity, a stream's incoming bytes and records against its
    shards' limits.  Pure."""
    from capcon.tui.console.screens.detail import Chart, Series

    m = sparks.minutes

    def limit(per_minute: float | None, scale: float) -> tuple[Series, ...]:
        """Capacity as a level line; none (not even in the legend) when there is none."""
        points = _level(m, per_minute, scale)
        return (Series("provisioned", "provisioned", points, 1e12),) if points else ()

    if row.kind == "stream":
        mib = 1 / 2**20
        return (
            Chart(
                "bytes",
                "incoming · MiB/s",
                (
                    *limit(sparks.read_capacity, mib),
                    Series("incoming", "consumed", _points(m, sparks.read, mib), GAP_SECONDS),
                    Series("throttled", "throttle", _points(m, sparks.throttled, 1.0), GAP_SECONDS),
                ),
            ),
            Chart(
                "records",
                "incoming · records/s",
                (
                    *limit(sparks.write_capacity, 1.0),
                    Series("incoming", "consumed", _points(m, sparks.write, 1.0), GAP_SECONDS),
                ),
            ),
        )

    def dimension(which: str, word: str, unit: str) -> Chart:
        values = sparks.read if which == "read" else sparks.write
        cap = sparks.read_capacity if which == "read" else sparks.write_capacity
        series = (
            *limit(cap, 1.0),
            Series("consumed", "consumed", _points(m, values, 1.0), GAP_SECONDS),
            Series("throttled", "throttle", _points(m, sparks.throttles(which), 1.0), GAP_SECONDS),
        )
        return Chart(word, f"{word} · {unit}", series)

    return dimension("read", "reads", "RCU/s"), dimension("write", "writes", "WCU/s")


def preview_facts(row: Row, now: datetime) -> tuple[str, str, str]:
    """The row's key facts on three plain lines (the caller escapes them): what it is, its
    capacity, partitions and cost; its use and auto scaling; its throttling."""
    first = [row.kind, row.mode, row.status, capacity_text(row)]
    if row.partitions is not None:
        count = row.partitions.count
        first.append(f"~{count} partition{'s' if count != 1 else ''}")
    cost = cost_text(row)
    if cost:
        first.append(f"${cost}/h")
    use, util = use_text(row), util_text(row)
    second = []
    if use == "?":
        second.append("use unknown")
    elif use:
        per = "" if row.kind == "stream" else " per second"
        second.append(f"using {use}{per}" + (f" ({util})" if util else ""))
    aas = row.auto_scaling
    if not aas.known:
        second.append("auto scaling unknown")
    elif aas.targets:
        ranges = ", ".join(
            f"{t.dimension.rsplit(':', 1)[-1].replace('CapacityUnits', '').lower()} "
            f"{t.min_capacity:,}–{t.max_capacity:,}"
            for t in aas.targets
        )
        second.append(f"auto scaling {ranges}" + (f" · trap: {aas.traps[0]}" if aas.traps else ""))
    elif row.kind != "stream":
        second.append("no auto scaling")
    third = []
    if row.throttling:
        third.append(f"throttling now: {row.throttled_per_second:,.1f}/s")
    last = last_throttled_text(row, now)
    if last.startswith("none"):
        third.append(f"no throttling {last.removeprefix('none ')}")
    elif last and last != "?":
        third.append(f"last throttled {last}")
    return " · ".join(first), " · ".join(second), " · ".join(third)


class Preview(Vertical):
    """The selected row: a title with its key facts over its two charts side by side."""

    DEFAULT_CSS = """
    Preview { height: 1fr; border-top: tall $panel-lighten-1; }
    Preview > #preview-facts { height: 3; padding: 0 1; }
    Preview > #preview-charts { height: 1fr; }
    Preview ChartPanel { width: 1fr; }
    """

    #: Seconds between the pane's first showing and its charts' mounting: plotext is imported
    #: and two charts are built then, after the console's first frames (start-up time).
    mount_delay = 0.5

    def __init__(self, *, id: str | None = None, clock: Callable[[], float]) -> None:
        super().__init__(id=id)
        self._clock = clock
        #: what the charts show now: (row name, newest minute, width, theme) and when drawn
        self._drawn: tuple[object, ...] | None = None
        self._drawn_at = float("-inf")
        #: drawings of the charts (tests read it)
        self.paints = 0
        self.row_name: str | None = None
        self._mounting = False
        self._charts_ready = False
        self._pending: tuple[Row, Sparks, Mapping[str, str]] | None = None

    class Resized(Message):
        """The pane's size changed (the console may lay the screen out again)."""

    def on_resize(self, event: events.Resize) -> None:
        self.post_message(self.Resized())

    def compose(self) -> ComposeResult:
        yield Static(id="preview-facts")
        # the charts come with the first drawing: plotext is not imported before the console
        # shows its first rows (start-up time)
        yield Horizontal(id="preview-charts")

    def show(
        self,
        row: Row,
        sparks: Sparks | None,
        now: datetime,
        variables: Mapping[str, str],
        theme: str,
        *,
        force: bool = False,
    ) -> bool:
        """Show ``row`` (its facts at once; its charts when the row, the width or the theme
        changed, or when newer minutes came and :data:`REDRAW_SECONDS` have passed, or
        ``force``).  Returns whether the charts were drawn."""
        first, second, third = preview_facts(row, now)
        facts = Text(printable(row.name), style="bold", no_wrap=True, overflow="ellipsis")
        facts.append(f" · {printable(first)}")
        facts.append(" · Enter: full detail", style="dim")
        facts.append(f"\n{printable(second)}\n{printable(third)}")
        static = self.query_one("#preview-facts", Static)
        if static.content != facts:
            static.update(facts)
        self.row_name = row.name
        if sparks is None or not sparks.minutes:
            return False
        token = (row.name, sparks.minutes[-1], row.capacity, self.size.width, theme)
        if token == self._drawn:
            return False
        moved = self._drawn is None or token[0] != self._drawn[0] or token[3:] != self._drawn[3:]
        at = self._clock()
        if not (force or moved or at - self._drawn_at >= REDRAW_SECONDS):
            return False
        self._drawn, self._drawn_at = token, at
        if self._charts_ready:
            self._draw(row, sparks, variables)
        else:  # the first drawing: the charts are mounted, then drawn (the newest row's)
            self._pending = (row, sparks, variables)
            if not self._mounting:
                self._mounting = True
                if self.mount_delay > 0:
                    self.set_timer(self.mount_delay, self._mount_and_draw)
                else:
                    self.call_later(self._mount_and_draw)
        return True

    async def _mount_and_draw(self) -> None:
        """Mount the two charts (once), then draw the newest row asked for meanwhile: a
        chart mounted but not yet composed has nothing to draw into."""
        from capcon.tui.console.screens.detail import ChartPanel

        if not self.is_attached:  # the console closed before the timer fired
            return
        box = self.query_one("#preview-charts", Horizontal)
        charts = (ChartPanel(id="preview-a"), ChartPanel(id="preview-b"))
        await box.mount(*charts)
        if not all(chart.is_attached for chart in charts):  # closing meanwhile
            return
        self._charts_ready = True
        pending, self._pending = self._pending, None
        if pending is not None:
            self._draw(*pending)

    def _draw(self, row: Row, sparks: Sparks, variables: Mapping[str, str]) -> None:
        from capcon.tui.console.screens.detail import ChartPanel

        window = _window(len(sparks.minutes))
        start, end = sparks.minutes[0], sparks.minutes[-1]

        def colour(role: str) -> str:
            return theme_colour(variables, role)

        try:
            panels = [self.query_one(i, ChartPanel) for i in ("#preview-a", "#preview-b")]
            for panel, chart in zip(panels, preview_charts(row, sparks), strict=True):
                panel.show(chart, start, end, window, colour)
        except NoMatches:  # the console is closing: its widgets (and theirs) are being removed
            return
        self.paints += 1
