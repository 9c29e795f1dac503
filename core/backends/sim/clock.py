"""Simulated time: a speed factor (1× to 3,600×), pause and single-step.

The clock only converts real elapsed time into simulated seconds; the account advances the
world by that much.  Nothing here reads the wall clock: the caller passes real elapsed
seconds, so a run is reproducible from its seed and its sequence of ticks.
"""

from __future__ import annotations

from datetime import datetime, timedelta

MIN_SPEED = 1.0
MAX_SPEED = 3_600.0


class SpeedError(ValueError):
    """A speed outside 1× … 3,600×."""


def check_speed(speed: float) -> float:
    if not (MIN_SPEED <= speed <= MAX_SPEED):
        raise SpeedError(
            f"speed {speed:g}× is not allowed: choose {MIN_SPEED:g}× to {MAX_SPEED:,.0f}× "
            "(1× is real time, 60× a minute per second, 3,600× an hour per second)"
        )
    return float(speed)


class SimClock:
    """Simulated time since ``start``, in whole seconds."""

    def __init__(self, start: datetime, speed: float = 1.0, *, paused: bool = False) -> None:
        if start.tzinfo is None:
            raise ValueError("the simulated clock needs a timezone-aware start (UTC)")
        self.start = start
        self.elapsed = 0  # simulated seconds since start
        self._speed = check_speed(speed)
        self.paused = paused
        self._carry = 0.0  # fractional simulated seconds not yet stepped

    @property
    def speed(self) -> float:
        return self._speed

    @speed.setter
    def speed(self, value: float) -> None:
        self._speed = check_speed(value)

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.elapsed)

    def due(self, real_seconds: float) -> int:
        """Whole simulated seconds owed for ``real_seconds`` of real time (0 when paused)."""
        if self.paused or real_seconds <= 0:
            return 0
        self._carry += real_seconds * self._speed
        whole = int(self._carry)
        self._carry -= whole
        return whole
