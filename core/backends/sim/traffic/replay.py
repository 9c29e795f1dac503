"""Replaying recorded traffic: CSV points read and validated, and the Replay pattern over them."""

from __future__ import annotations

import csv
import math
import os
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar

from capcon.core.backends.sim.traffic.patterns import Pattern, TrafficError
from capcon.core.rules.timefmt import fmt_duration


@dataclass(frozen=True)
class Replay(Pattern):
    """Recorded traffic: ``(seconds, rate)`` points, strictly increasing in time.

    Linear interpolation between points (``step=True``: each value holds until the next
    point).  Before the first point: the first value.  After the last point: the last value,
    or with ``loop=True`` the recording repeats with period ``last − first + (last gap)``
    (the last point lasts as long as the gap before it; linear interpolation runs from the
    last point back to the first value across the wrap).  ``source`` is the file it came from
    (used by :meth:`spec`).  Read files with :meth:`from_csv`.
    """

    points: tuple[tuple[float, float], ...]
    step: bool = False
    loop: bool = False
    source: str = ""
    _times: tuple[float, ...] = field(init=False, repr=False, compare=False)
    _values: tuple[float, ...] = field(init=False, repr=False, compare=False)

    spec_name: ClassVar[str] = "csv"

    def __post_init__(self) -> None:
        try:
            points = tuple((float(t), float(v)) for t, v in self.points)
        except (TypeError, ValueError):
            raise TrafficError(
                f"replay: points must be (seconds, rate) pairs of numbers, not {self.points!r}"
            ) from None
        if not points:
            raise TrafficError("replay: needs at least one (seconds, rate) point")
        for i, (t, v) in enumerate(points):
            if not math.isfinite(t) or not math.isfinite(v):
                raise TrafficError(f"replay: point {i} {(t, v)!r} is not finite")
            if v < 0:
                raise TrafficError(f"replay: point {i} has a negative rate {v!r}; rates are ≥ 0")
            if i and t <= points[i - 1][0]:
                raise TrafficError(
                    f"replay: point {i} at {t!r} s is not after point {i - 1} at "
                    f"{points[i - 1][0]!r} s; times must increase strictly"
                )
        times = tuple(t for t, _ in points)
        values = tuple(v for _, v in points)
        if self.loop and len(points) > 1:
            period = times[-1] - times[0] + (times[-1] - times[-2])
            times += (times[0] + period,)
            values += (values[0],)
        object.__setattr__(self, "points", points)
        object.__setattr__(self, "_times", times)
        object.__setattr__(self, "_values", values)

    @property
    def period_s(self) -> float | None:
        """The loop period in seconds (``None``: not looping, or a single point)."""
        if not self.loop or len(self.points) < 2:
            return None
        return self._times[-1] - self._times[0]

    @classmethod
    def from_csv(
        cls, path: str | os.PathLike[str], *, step: bool = False, loop: bool = False
    ) -> Replay:
        """Read ``seconds,rate`` or ``timestamp,rate`` rows (see :func:`read_csv_points`)."""
        return cls(read_csv_points(path), step=step, loop=loop, source=os.fspath(path))

    def sample(self, times: Sequence[float]) -> list[float]:
        ts, vs = self._times, self._values
        first_t, first_v = ts[0], vs[0]
        last = len(self.points) - 1
        last_v = vs[last]
        period = self.period_s
        top = len(ts) - 2
        step = self.step
        out: list[float] = []
        append = out.append
        for t in times:
            if not t > first_t:  # before the first point (and NaN)
                append(first_v)
                continue
            if period is not None:
                t = first_t + (t - first_t) % period
            elif t >= ts[last]:
                append(last_v)
                continue
            i = bisect_right(ts, t) - 1
            if i > top:  # rounding put a looped time on the wrap point itself
                i = top
            v0 = vs[i]
            if step:
                append(v0)
            else:
                t0 = ts[i]
                append(v0 + (vs[i + 1] - v0) * ((t - t0) / (ts[i + 1] - t0)))
        return out

    def describe(self) -> str:
        name = os.path.basename(self.source) if self.source else "recording"
        span = self.points[-1][0] - self.points[0][0]
        how = "step" if self.step else "linear"
        loop = ", looping" if self.loop else ""
        return f"replay {name} ({len(self.points)} points over {fmt_duration(span)}, {how}{loop})"

    def spec(self) -> str:
        if not self.source:
            return super().spec()
        if any(c in self.source for c in "+*,="):
            raise TrafficError(
                f"replay of {self.source!r} has no spec form: the path contains one of + * , ="
            )
        extra = (",step=true" if self.step else "") + (",loop=true" if self.loop else "")
        if extra or ":" in self.source:
            return f"csv:path={self.source}{extra}"
        return f"csv:{self.source}"


def _parse_time_cell(cell: str) -> float | datetime | None:
    """A number of seconds, an ISO 8601 timestamp (naive = UTC), or ``None``."""
    try:
        return float(cell)
    except ValueError:
        pass
    try:
        ts = datetime.fromisoformat(cell)
    except ValueError:
        return None
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)


def read_csv_points(path: str | os.PathLike[str]) -> tuple[tuple[float, float], ...]:
    """``(seconds, rate)`` points from a two-column CSV file.

    Columns: ``seconds,rate`` (seconds since the start) or ``timestamp,rate`` (ISO 8601, made
    relative to the first row; naive timestamps are UTC).  An optional header row first,
    blank lines ignored.  Anything else is a :class:`TrafficError` naming the file and line.
    """
    name = os.fspath(path)
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            text = f.read()
    except FileNotFoundError:
        raise TrafficError(f"traffic file {name}: no such file") from None
    except IsADirectoryError:
        raise TrafficError(f"traffic file {name}: is a directory, expected a CSV file") from None
    except UnicodeDecodeError:
        raise TrafficError(
            f"traffic file {name}: not a text CSV file (not UTF-8); expected lines "
            "'seconds,rate' or 'timestamp,rate'"
        ) from None
    except OSError as e:
        raise TrafficError(f"traffic file {name}: cannot read it ({e.strerror})") from None

    expected = "expected 2 columns: 'seconds,rate' or 'timestamp,rate'"
    points: list[tuple[float, float]] = []
    mode: type | None = None  # float (seconds) or datetime, from the first data row
    origin: datetime | None = None
    prev_line = 0
    reader = csv.reader(text.splitlines())
    seen_row = False
    try:
        for row in reader:
            line = reader.line_num
            cells = [c.strip() for c in row]
            if not cells or all(not c for c in cells):
                continue
            first_row = not seen_row
            seen_row = True
            if len(cells) != 2:
                raise TrafficError(
                    f"traffic file {name}, line {line}: {expected}, got {len(cells)}"
                )
            when = _parse_time_cell(cells[0])
            if when is None:
                if first_row:
                    continue  # a header row
                what = "a number of seconds" if mode is float else "an ISO 8601 timestamp"
                raise TrafficError(
                    f"traffic file {name}, line {line}: time {cells[0]!r} is not {what}"
                )
            if mode is None:
                mode = type(when)
            if not isinstance(when, mode):
                was = "seconds" if mode is float else "timestamps"
                raise TrafficError(
                    f"traffic file {name}, line {line}: time {cells[0]!r} mixes formats: the "
                    f"rows above use {was}; use one of seconds or ISO 8601 timestamps throughout"
                )
            if isinstance(when, datetime):
                if origin is None:
                    origin = when
                seconds = (when - origin).total_seconds()
            else:
                seconds = when
            if not math.isfinite(seconds):
                raise TrafficError(
                    f"traffic file {name}, line {line}: time {cells[0]!r} is not finite"
                )
            try:
                value = float(cells[1])
            except ValueError:
                raise TrafficError(
                    f"traffic file {name}, line {line}: rate {cells[1]!r} is not a number"
                ) from None
            if not math.isfinite(value) or value < 0:
                raise TrafficError(
                    f"traffic file {name}, line {line}: rate {cells[1]!r} must be a finite "
                    "number ≥ 0"
                )
            if points and seconds <= points[-1][0]:
                raise TrafficError(
                    f"traffic file {name}, line {line}: time {cells[0]!r} is not after line "
                    f"{prev_line}'s; rows must be in strictly increasing time order"
                )
            points.append((seconds, value))
            prev_line = line
    except csv.Error as e:
        raise TrafficError(
            f"traffic file {name}, line {reader.line_num}: not a CSV file ({e}); {expected}"
        ) from None
    if not points:
        raise TrafficError(f"traffic file {name}: no data rows; {expected}, one row per time")
    return tuple(points)


def recordings_end(pattern: Pattern) -> float | None:
    """When the last recording in ``pattern`` ends, in seconds from the start of the
    simulation (shifts counted), ``None`` when it holds no recording or loops (a loop has no
    end).  What a run of a replay should last: beyond it the last value is held, before it
    the recording is cut."""
    from capcon.core.backends.sim.traffic.patterns import Clamped, Scaled, Shifted, Sum

    def ends(p: Pattern, offset: float) -> list[float | None]:
        if isinstance(p, Replay):
            return [None if p.loop and len(p.points) > 1 else offset + p.points[-1][0]]
        if isinstance(p, Sum):
            return [e for part in p.parts for e in ends(part, offset)]
        if isinstance(p, Shifted):
            return ends(p.pattern, offset + float(p.seconds))
        if isinstance(p, Scaled | Clamped):
            return ends(p.pattern, offset)
        return []

    found = ends(pattern, 0.0)
    if not found or any(e is None for e in found):
        return None
    return max(0.0, *(e for e in found if e is not None))
