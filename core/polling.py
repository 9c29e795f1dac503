"""When the console polls, and what: visibility-aware polling with an idle back-off.

Every metric a console requests from CloudWatch costs money ($0.01 per 1,000 with
``GetMetricData``), and an on-call engineer leaves the console open for hours.  So the
console asks for the rows on screen often and for the rows off screen rarely, and once
nobody has pressed a key or moved the mouse for a while it polls less often still, until
the next key press (which polls at once).  :class:`PollPolicy` holds those intervals and
:meth:`PollPolicy.step` decides, for one moment, how long to wait and whether the next poll
includes the off-screen rows.  It is pure: the caller passes the times (seconds on any
monotonic clock).

What it costs, for a console on 1,000 tables and 200 streams (≈ 5,000 metric series, about
200 of them on a 50-line screen) at the defaults — see ``bench/bench_refresh.py`` for the
measured per-poll figures:

- in use: 200 metrics a minute + the other 4,800 every 15 min = 31,200 metrics/h ≈ $0.31/h;
- idle: 200 every 5 min + the other 4,800 every hour = 7,200 metrics/h ≈ $0.07/h;
- polling everything every minute: 300,000 metrics/h = $3.00/h.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from capcon.core.schema import SettingsError, setting, validate

#: After a change capcon made, the console stays live (never idle) this long: someone who
#: has just applied a fix watches it work, often without touching a key.
LIVE_AFTER_CHANGE_SECONDS = 15 * 60.0


class PollPolicyError(SettingsError):
    """A polling interval out of range; the message names it and the allowed range."""


@dataclass(frozen=True, slots=True)
class PollStep:
    """The decision for one poll."""

    hidden: bool
    """Whether this poll fetches the off-screen rows too."""
    idle: bool
    """Whether nobody has used the console for ``idle_after_seconds``."""
    delay: float
    """Seconds from this poll to the next."""


@dataclass(frozen=True, slots=True)
class PollPolicy:
    """Polling intervals (seconds) of a console on AWS.

    Each field is declared with the settings schema (:mod:`capcon.core.schema`): a
    slower pace may not be faster than the one it slows down from (``at_least``), and the
    config file's polling keys that are left unset follow the set ones (``follow``), both
    from these declarations.
    """

    visible_seconds: float = setting(
        60.0, "Rows on screen, while someone uses the console.", positive=True, unit="seconds"
    )
    hidden_seconds: float = setting(
        900.0,
        "Rows off screen (they still sort and count: sort by throttles must see them).",
        positive=True,
        unit="seconds",
        at_least=("visible_seconds",),
    )
    idle_after_seconds: float = setting(
        300.0,
        "No key press or mouse click for this long makes the console idle (0: never).",
        unit="seconds",
        allowed="0 (never idle) or a positive number of seconds",
    )
    idle_visible_seconds: float = setting(
        300.0,
        "Rows on screen, while idle.",
        positive=True,
        unit="seconds",
        at_least=("visible_seconds",),
    )
    idle_hidden_seconds: float = setting(
        3600.0,
        "Rows off screen, while idle.",
        positive=True,
        unit="seconds",
        at_least=("hidden_seconds", "idle_visible_seconds"),
    )

    def __post_init__(self) -> None:
        validate(self, PollPolicyError)

    def is_idle(self, now: float, last_input: float, live_until: float | None = None) -> bool:
        """Nobody has used the console for ``idle_after_seconds``, and it is not kept live
        (``live_until``: after a change, see :data:`LIVE_AFTER_CHANGE_SECONDS`)."""
        if live_until is not None and now < live_until:
            return False
        return self.idle_after_seconds > 0 and now - last_input >= self.idle_after_seconds

    def step(
        self,
        now: float,
        last_input: float,
        last_hidden: float | None,
        live_until: float | None = None,
    ) -> PollStep:
        """What the poll at ``now`` fetches, and when the next one is.

        ``last_input`` is the time of the last key press or click, ``last_hidden`` the time
        of the last poll that fetched the off-screen rows (``None``: never), ``live_until``
        when the console may go idle again after a change (``None``: no change).  The
        caller polls again at once on the first input after an idle spell.
        """
        idle = self.is_idle(now, last_input, live_until)
        hidden_every = self.idle_hidden_seconds if idle else self.hidden_seconds
        hidden = last_hidden is None or now - last_hidden >= hidden_every
        delay = self.idle_visible_seconds if idle else self.visible_seconds
        return PollStep(hidden=hidden, idle=idle, delay=delay)

    def polls_per_hour(self, *, idle: bool) -> tuple[float, float]:
        """(polls, of which fetch the off-screen rows too) per hour in a steady state: the
        off-screen rows ride along with the first visible poll at or after their interval."""
        visible_every = self.idle_visible_seconds if idle else self.visible_seconds
        hidden_every = self.idle_hidden_seconds if idle else self.hidden_seconds
        hidden_period = math.ceil(hidden_every / visible_every) * visible_every
        return 3600 / visible_every, 3600 / hidden_period

    def metrics_per_hour(self, visible: int, total: int, *, idle: bool) -> float:
        """Metrics requested per hour: ``visible`` series on screen out of ``total``."""
        polls, full_polls = self.polls_per_hour(idle=idle)
        return polls * visible + full_polls * (total - visible)
