"""The help screen: keys, and how the console polls."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from capcon.core.polling import PollPolicy
from capcon.core.rules import fmt_duration

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
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close"),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 104; height: 80%; border: thick $primary; background: $surface; padding: 1 2;
    }
    """

    def __init__(self, simulated: bool, read_only: bool, polling: PollPolicy | None = None) -> None:
        super().__init__()
        self.text = HELP.format(
            sim=SIM_KEYS if simulated else "",
            polling="" if simulated or polling is None else _polling_text(polling),
            ro="\n[b]Read-only session:[/b] no scale action is offered." if read_only else "",
        )

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(self.text)

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
