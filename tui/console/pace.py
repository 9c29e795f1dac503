"""How the console's polls follow time: AWS's polling policy, or the simulated clock.

The console asks its pace what the next poll fetches and when, whether nobody is looking,
what to do just before a poll, and how the scaler lets time pass.  The two answers differ by
backend, so they are two small objects instead of branches through the app:

- :class:`AwsPace`: each metric requested costs money, so the :class:`PollPolicy` fetches
  off-screen rows less often, and less often still while the console is idle; the scaler's
  waits are real sleeps.
- :class:`SimulatedPace`: the simulated account costs nothing, so every poll fetches
  everything; before each poll its clock catches up with the real time that passed (times its
  speed), and the scaler's waits are short sleeps scaled by that speed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from capcon.core.polling import PollPolicy, PollStep
from capcon.core.ports import SimulationControls

#: Real seconds a poll of the simulated account may catch up at most (a slow poll or a
#: suspended laptop does not fast-forward the world by hours).
MAX_CATCH_UP_SECONDS = 5.0
#: While the simulated clock is paused nothing moves: poll rarely.
PAUSED_POLL_SECONDS = 5.0


class Pace(Protocol):
    def step(self, now: float, last_input: float, last_hidden: float | None) -> PollStep:
        """What the next poll (after the first) fetches and when; ``now`` and the times are
        the console's monotonic clock."""
        ...

    def is_idle(self, now: float, last_input: float) -> bool:
        """Nobody has used the console for the idle time (polls slow down)."""
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


class AwsPace:
    """Polling that costs money: the :class:`PollPolicy` decides."""

    def __init__(self, policy: PollPolicy) -> None:
        self.policy = policy

    def step(self, now: float, last_input: float, last_hidden: float | None) -> PollStep:
        return self.policy.step(now, last_input, last_hidden)

    def is_idle(self, now: float, last_input: float) -> bool:
        return self.policy.is_idle(now, last_input)

    def before_poll(self, first: bool) -> None:
        pass

    def restart(self) -> None:
        pass

    def waiter(self) -> Callable[[float], None]:
        return time.sleep


class SimulatedPace:
    """Polling the simulated account: everything, every ``refresh_seconds``; never idle."""

    def __init__(
        self,
        controls: SimulationControls,
        refresh_seconds: float,
        real_clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.controls = controls
        self.refresh_seconds = refresh_seconds
        self._real_clock = real_clock
        self._last_tick = real_clock()

    def step(self, now: float, last_input: float, last_hidden: float | None) -> PollStep:
        paused = self.controls.paused
        return PollStep(True, False, PAUSED_POLL_SECONDS if paused else self.refresh_seconds)

    def is_idle(self, now: float, last_input: float) -> bool:
        return False

    def before_poll(self, first: bool) -> None:
        """The simulated clock catches up with the real time since the last poll (the first
        poll only starts counting)."""
        now = self._real_clock()
        real, self._last_tick = now - self._last_tick, now
        if not first:
            self.controls.tick(min(real, MAX_CATCH_UP_SECONDS))

    def restart(self) -> None:
        self._last_tick = self._real_clock()

    def waiter(self) -> Callable[[float], None]:
        speed = self.controls.speed
        return lambda seconds: time.sleep(min(1.0, seconds / max(speed, 1.0)))
