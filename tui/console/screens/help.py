"""The help screen: two pages, the keys (and how the console polls) and the lessons.

The lessons walk a trainer through field notes A–C (docs/field-notes.md) on the ``demo``
account, step by step.  Every demo row a step names is written ``{row:name}`` in
:data:`LESSONS`: :func:`cited_rows` lists them, and a test checks each one is in the demo
scenario (core/backends/sim/scenarios.py), so a renamed row cannot leave a lesson behind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static, TabbedContent, TabPane

from capcon.core.polling import PollPolicy
from capcon.core.rules import fmt_duration
from capcon.tui.text import markup_safe

HELP = """\
[b]capcon[/b] — capacity console for DynamoDB tables and Kinesis streams

[b]Keys[/b]
  ↑ ↓ PgUp PgDn     move                                   Enter   detail (charts, shards)
  c                 scale (preview, then confirm)          a   audit log
  u                 auto scaling: min, max, target (preview, then confirm)
  e                 planned event: scale ahead of a known spike and back after it
                    (start, end, capacity at the peak; preview, then confirm)
  /                 filter by name (Esc clears)            n   next throttling row (wraps)
  s                 sort: trouble (throttling first, then nearest to capacity), name,
                    util, throttles, cost; the cursor goes to the top row
  t                 next theme                             r   refresh now
  p  (F12 anywhere) screenshot: an SVG of the screen{shots}
  Ctrl+P            command palette (every action, and "Go to <resource>")
  q                 quit                                   ?   this help
{sim}
[b]Columns[/b]
  capacity R/W      provisioned RCU/WCU, or shards for a stream
  reads/writes vs capacity
                    one column a minute: height = consumed ÷ provisioned (full = at capacity,
                    ▓ = above it, on burst capacity), coloured above 80%, in the throttle
                    colour when that column's requests (reads or writes) were throttled,
                    · when CloudWatch has no datapoint yet.
                    Streams: bytes and records against the shard limits. On-demand rows:
                    against twice the recent peak (what on-demand serves instantly).
  util              the higher of read and write use over the last 5 published minutes
  throttled/s       throttled requests (records for streams) per second in the last complete
                    minute, R or W for reads or writes (R 12 W 3: both); else when the
                    row last throttled
  parts             estimated partitions (DynamoDB does not report them: an estimate)
  AAS               auto scaling registered; AAS! = a trap (registered but no policy, …)
  ◷ 2h10 / ▲ 45m    after a name: a planned event, raised in 2 h 10 min / raised now and
                    restored in 45 min (+N: more events; ↻: a recurring scheduled action);
                    the detail charts mark its raise ↑ and restore ↓ on the time axis and
                    draw the planned capacity between them
  ✎ 4m / ⇅ 2h       after a name: its newest change of the last 24 h, made through capcon
                    (its audit log) / by auto scaling (its activities), and how long ago

Metrics come from CloudWatch 1–3 minutes late; the status bar says how old they are and what
polling has cost.{polling} {ro}
"""


@dataclass(frozen=True, slots=True)
class Lesson:
    """One field note told on the demo account: its title and the steps, in order."""

    note: str
    title: str
    steps: tuple[str, ...]


#: The lessons; ``{row:name}`` names a demo row (shown in bold; checked by a test).
LESSONS: tuple[Lesson, ...] = (
    Lesson(
        "A",
        "Nightly bulk load, and the no-policy trap",
        (
            "Select {row:recommendations} and press Enter: its writes jump every night from"
            " 01:00 to 04:00 (the nightly load) while its reads follow the day; auto scaling"
            " follows the load minutes late.",
            "Select {row:inventory}: [b]AAS![/b] in the AAS column. Auto scaling is registered"
            " but has no policy, so nothing ever scales — the trap. Enter names it.",
            "Press [b]u[/b] on {row:inventory}: give writes (then reads: the first select)"
            " a min, a max and a target of 70 %; the preview says what auto scaling will do,"
            " Enter applies, [b]a[/b] shows the audit record.",
            "Press [b]c[/b] on {row:recommendations}: the dialog proposes the capacity that"
            " serves demand, and prices fixed capacity against on-demand.",
        ),
    ),
    Lesson(
        "B",
        "Auto scaling too slow: the 2017 rule against request count",
        (
            "Compare {row:checkout} (a bell curve under today's 2-breach auto scaling) with"
            " {row:leaderboard} (a top-heavy spike on fixed capacity, which throttles).",
            "Quit ([b]q[/b]) and run [b]capcon lab --pattern bell --target 70 --policies"
            " aas-legacy,h1,h2,capcon[/b]: the 2017 rule (5 breaches, steps from consumption),"
            " H1 (1 breach), H2 (1 breach, steps from requests) and capcon side by side.",
            "Run it again with [b]--pattern top-heavy[/b], then with [b]--target 80[/b]: the"
            " 2017 rule falls behind, H2 keeps up.",
            "[b]capcon sim --grid[/b] prints the studio's twelve cells (2 shapes × 6 targets).",
        ),
    ),
    Lesson(
        "C",
        "Permanent side effects: dilution, and Kinesis resharding",
        (
            "Select {row:user-events}: about 40 partitions (the parts column) left by a past"
            " migration at 40,000 WCU. It throttles (R+W) at about half its capacity: a hot"
            " key lives on one thin partition. Enter shows per-partition capacity against the"
            " hottest partition's demand.",
            "Press [b]c[/b] on {row:orders} and type 4000 WCU: the plan says the new"
            " partitions are permanent and what each one gets once capacity comes back down"
            " (dilution) — before anything changes. Esc cancels.",
            "Select {row:payments}: 30 % of its records share a key. Enter shows the shards"
            " with their hash-range share: one hot shard.",
            "Press [b]c[/b] on {row:payments}: UpdateShardCount (uniform) against split/merge"
            " (targeted), the shards closed and until when they stay readable, the cost.",
            "The Kinesis policy scales up fast at 80 % and down only every 36 h, when every"
            " 5-minute point of the last 24 h was under 50 %: {row:clickstream} (near 90 %)"
            " would grow, {row:app-logs} (about 25 %) waits for its 36 h"
            " ([b]capcon autoscale --policy kinesis[/b]).",
        ),
    ),
)

_ROW = re.compile(r"\{row:([^}]+)\}")


def cited_rows(lessons: tuple[Lesson, ...] = LESSONS) -> set[str]:
    """Every demo row the lessons name."""
    return {m.group(1) for lesson in lessons for step in lesson.steps for m in _ROW.finditer(step)}


LESSONS_INTRO = (
    "[b]Lessons[/b] — field notes A–C on the demo account (docs/field-notes.md), step by"
    " step. Rows are named in bold; [b]/[/b] and part of the name finds one."
)


def step_markup(step: str) -> str:
    """A step as console markup: the rows it names in bold."""
    return _ROW.sub(lambda m: f"[b]{markup_safe(m.group(1))}[/b]", step)


def lessons_text(lessons: tuple[Lesson, ...] = LESSONS) -> str:
    """The lessons page as one text (console markup): each field note, its steps numbered."""
    parts = [LESSONS_INTRO]
    for lesson in lessons:
        parts.append(f"\n[b]{lesson.note}. {lesson.title}[/b]")
        parts += [f"  {n}. {step_markup(step)}" for n, step in enumerate(lesson.steps, 1)]
    return "\n".join(parts) + "\n"


SIM_KEYS = """  space             pause / resume simulated time          + / -   faster / slower
  .                 step one simulated minute
"""


def _polling_text(policy: PollPolicy) -> str:
    visible, hidden = fmt_duration(policy.visible_seconds), fmt_duration(policy.hidden_seconds)
    text = (
        f"\nRows on screen are polled every {visible}, the rest every {hidden}"
        " (each metric requested costs money)"
    )
    if policy.idle_after_seconds > 0:
        idle_visible = fmt_duration(policy.idle_visible_seconds)
        idle_hidden = fmt_duration(policy.idle_hidden_seconds)
        text += (
            f"; after {fmt_duration(policy.idle_after_seconds)} without a key, click or scroll,"
            f" every {idle_visible} and {idle_hidden}"
            " (the status bar says idle; any key fetches at once)"
        )
    return text + "."


class HelpScreen(ModalScreen[None]):
    """Two pages: the keys (``k``) and the lessons (``l``); Tab or ←/→ on the tabs too."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close"),
        Binding("k", "page('keys')", "Keys"),
        Binding("l", "page('lessons')", "Lessons"),
        Binding("down", "scroll_page(1, False)", "Down", show=False),
        Binding("up", "scroll_page(-1, False)", "Up", show=False),
        Binding("pagedown,space", "scroll_page(1, True)", "Page down", show=False),
        Binding("pageup", "scroll_page(-1, True)", "Page up", show=False),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: 104; max-width: 100%; height: 90%; border: thick $primary;
        background: $surface; padding: 0 1;
    }
    HelpScreen #help-hint { color: $text-muted; height: 1; }
    HelpScreen TabbedContent { height: 1fr; }
    HelpScreen TabPane { padding: 0 1; }
    HelpScreen VerticalScroll { height: 1fr; }
    HelpScreen .lesson { margin-top: 1; }
    HelpScreen .step { height: auto; }
    HelpScreen .step .number { width: 5; text-align: right; padding-right: 1; }
    HelpScreen .step Static { width: 1fr; }
    """

    def __init__(
        self,
        simulated: bool,
        read_only: bool,
        polling: PollPolicy | None = None,
        *,
        screenshots: Path | None = None,
        page: str = "keys",
    ) -> None:
        """``screenshots``: the folder ``p`` saves to (named on the keys page); ``page``:
        the page shown first (``keys`` or ``lessons``)."""
        super().__init__()
        where = f" in {markup_safe(str(screenshots))}" if screenshots is not None else ""
        self.text = HELP.format(
            sim=SIM_KEYS if simulated else "",
            polling="" if simulated or polling is None else _polling_text(polling),
            ro="\n[b]Read-only session:[/b] no scale action is offered." if read_only else "",
            shots=where,
        )
        self.lessons = lessons_text()
        self.page = page

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("[b]k[/b] keys · [b]l[/b] lessons · [b]Esc[/b] close", id="help-hint")
            with TabbedContent(initial=self.page):
                with TabPane("Keys", id="keys"), VerticalScroll():
                    yield Static(self.text, id="keys-text")
                with TabPane("Lessons", id="lessons"), VerticalScroll(id="lessons-text"):
                    # one widget a step, so a long step wraps under its own text
                    yield Static(LESSONS_INTRO)
                    for lesson in LESSONS:
                        yield Static(f"[b]{lesson.note}. {lesson.title}[/b]", classes="lesson")
                        for number, step in enumerate(lesson.steps, 1):
                            with Horizontal(classes="step"):
                                yield Static(f"{number}.", classes="number")
                                yield Static(step_markup(step))

    def action_page(self, page: str) -> None:
        self.query_one(TabbedContent).active = page

    def action_scroll_page(self, direction: int, page: bool) -> None:
        """Scroll the page shown (a line, or a page), wherever the focus is."""
        active = self.query_one(TabbedContent).active
        scroll = self.query_one(f"#{active}", TabPane).query_one(VerticalScroll)
        if page:
            scroll.scroll_page_down() if direction > 0 else scroll.scroll_page_up()
        else:
            scroll.scroll_down() if direction > 0 else scroll.scroll_up()

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
