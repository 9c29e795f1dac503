"""How the console's polls follow time: AWS's polling policy, or the simulated clock.

The console asks its pace what the next poll fetches and when, whether nobody is looking,
what to do just before a poll, and how the scaler lets time pass.  The two answers differ by
backend, so they are two small objects instead of branches through the app:

- :class:`AwsPace`: each metric requested costs money, so the :class:`PollPolicy` fetches
  off-screen rows less often, and less often still while the console is idle; the scaler's
  waits are real sleeps.
- :class:`SimulatedPace`: the simulated account costs nothing, so every poll fetches
  everything; before each poll its clock catches up with the real time that passed (times its
  speed).  The scaler's waits move the clock themselves, the same way: a wait of ``n``
  simulated seconds lasts until the clock has moved ``n`` seconds on, whether polls happen
  meanwhile or not.  (It used to sleep and count on the polls to move the clock; progress
  updates that kept putting the next poll off froze the world, and an apply ran out its
  1,800 simulated seconds in half a minute of real time with the table still ``UPDATING``.)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Protocol

from capcon.core.errors import BackendError
from capcon.core.polling import PollPolicy, PollStep
from capcon.core.ports import SimulationControls

#: Real seconds a poll of the simulated account may catch up at most (a slow poll or a
#: suspended laptop does not fast-forward the world by hours).
MAX_CATCH_UP_SECONDS = 5.0
#: While the simulated clock is paused nothing moves: poll rarely.
PAUSED_POLL_SECONDS = 5.0
#: Longest real sleep of a scaler's wait between two looks at the simulated clock (a pause,
#: a change of speed or the console closing is noticed within this).
WAIT_SLICE_SECONDS = 0.25


class ConsoleClosed(BackendError):
    """The console closed while the scaler waited for a change to land: it was sent, and
    whether it landed was not seen."""

    maybe_sent = True


class Pace(Protocol):
    def step(
        self,
        now: float,
        last_input: float,
        last_hidden: float | None,
        live_until: float | None = None,
    ) -> PollStep:
        """What the next poll (after the first) fetches and when; ``now`` and the times are
        the console's monotonic clock; ``live_until``: not idle before then (a change was
        made)."""
        ...

    def is_idle(self, now: float, last_input: float, live_until: float | None = None) -> bool:
        """Nobody has used the console for the idle time (polls slow down), and no change
        keeps it live."""
        ...

    def before_poll(self, first: bool) -> None:
        """Called in the poll thread before the backend is read."""
        ...

    def restart(self) -> None:
        """Real time counts from now (the simulated clock was paused or resumed)."""
        ...

    def waiter(self) -> Callable[[float], None]:
        """How the scaler waits ``seconds`` of the backend's time."""
        ...

    def close(self) -> None:
        """The console is closing: waits end now (with :class:`ConsoleClosed`)."""
        ...


class AwsPace:
    """Polling that costs money: the :class:`PollPolicy` decides."""

    def __init__(self, policy: PollPolicy) -> None:
        self.policy = policy
        self._closed = threading.Event()

    def step(
        self,
        now: float,
        last_input: float,
        last_hidden: float | None,
        live_until: float | None = None,
    ) -> PollStep:
        return self.policy.step(now, last_input, last_hidden, live_until)

    def is_idle(self, now: float, last_input: float, live_until: float | None = None) -> bool:
        return self.policy.is_idle(now, last_input, live_until)

    def before_poll(self, first: bool) -> None:
        pass

    def restart(self) -> None:
        pass

    def waiter(self) -> Callable[[float], None]:
        return self.wait

    def wait(self, seconds: float) -> None:
        """A real wait (the scaler following a change on AWS), ended by :meth:`close` with
        :class:`ConsoleClosed`: quitting the console (or SIGTERM) does not leave an apply
        following for minutes after the screen is gone; its outcome is recorded ``unknown``
        and the next command reconciles it."""
        if self._closed.wait(seconds):
            raise ConsoleClosed(
                "the console closed before the change was seen to land: it was sent, and "
                "may have been carried out (the next capcon command reconciles it)"
            )

    def close(self) -> None:
        self._closed.set()


class SimulatedPace:
    """Polling the simulated account: everything, every ``refresh_seconds``; never idle.

    The simulated clock follows real time (times its speed) through :meth:`catch_up`, called
    by each poll and by the scaler's waits: whichever comes first moves the clock by the real
    time since the last catch-up, so the two never count the same real second twice.
    """

    def __init__(
        self,
        controls: SimulationControls,
        refresh_seconds: float,
        real_clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.controls = controls
        self.refresh_seconds = refresh_seconds
        self._real_clock = real_clock
        self._last_tick = real_clock()
        self._tick_lock = threading.Lock()
        self._closed = threading.Event()
        self._sleep = sleep or self._closed.wait

    def step(
        self,
        now: float,
        last_input: float,
        last_hidden: float | None,
        live_until: float | None = None,
    ) -> PollStep:
        paused = self.controls.paused
        return PollStep(True, False, PAUSED_POLL_SECONDS if paused else self.refresh_seconds)

    def is_idle(self, now: float, last_input: float, live_until: float | None = None) -> bool:
        return False

    def catch_up(self) -> int:
        """The simulated clock moves by the real time since the last catch-up (at most
        :data:`MAX_CATCH_UP_SECONDS` of it) times its speed; returns the simulated seconds."""
        with self._tick_lock:
            now = self._real_clock()
            real, self._last_tick = now - self._last_tick, now
            return self.controls.tick(min(max(real, 0.0), MAX_CATCH_UP_SECONDS))

    def before_poll(self, first: bool) -> None:
        """The simulated clock catches up with the real time since the last poll or wait (the
        first poll only starts counting)."""
        if first:
            self.restart()
        else:
            self.catch_up()

    def restart(self) -> None:
        with self._tick_lock:
            self._last_tick = self._real_clock()

    def waiter(self) -> Callable[[float], None]:
        return self.wait

    def wait(self, seconds: float) -> None:
        """Until the simulated clock is ``seconds`` further on: real sleeps of the time that
        takes at the current speed (re-read each slice, so ``+``/``-`` apply at once), each
        followed by a catch-up.  While the clock is paused the wait goes on (the change lands
        when time moves again); closing the console ends it with :class:`ConsoleClosed`."""
        target = self.controls.now() + timedelta(seconds=seconds)
        while True:
            if self._closed.is_set():
                raise ConsoleClosed(
                    "the console closed before the change was seen to land: it was sent, and "
                    "may have been carried out (see capcon audit)"
                )
            left = (target - self.controls.now()).total_seconds()
            if left <= 0:
                return
            speed = max(self.controls.speed, 1.0)
            slice_seconds = WAIT_SLICE_SECONDS if self.controls.paused else left / speed
            self._sleep(min(WAIT_SLICE_SECONDS, max(slice_seconds, 0.001)))
            self.catch_up()

    def close(self) -> None:
        self._closed.set()
