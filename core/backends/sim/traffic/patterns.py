"""Traffic patterns: the base class, the primitive shapes, composition, and how each
spells its spec."""

from __future__ import annotations

import math
import operator
import random
from abc import ABC, abstractmethod
from array import array
from collections.abc import Sequence
from dataclasses import MISSING, dataclass, field, fields
from typing import ClassVar

from capcon.core.rules.timefmt import fmt_duration

#: Seconds in a (UTC) day: the period of the ``Daily*`` patterns.
DAY_S = 86_400.0
_HOUR_S = 3_600.0
#: A random walk is generated for its first this-many interval points, then holds its value
#: (2**20 points: two years at the default 60-second interval, 8 MiB of cache at most).
MAX_WALK_POINTS = 2**20
_WALK_BLOCK = 256  # points per lazily generated block of a random walk
_WALK_CACHE = 8  # blocks of a random walk kept built (the rest: their last point only)


class TrafficError(ValueError):
    """A traffic pattern, spec string or CSV file is invalid; the message says what and why."""


# --------------------------------------------------------------------------- formatting


def _num(v: float) -> str:
    """A rate for humans: ``25``, ``162.5``, ``1,200``, ``∞``."""
    if math.isinf(v):
        return "∞"
    if v == int(v) and abs(v) < 1e15:
        return f"{int(v):,}"
    return f"{v:,.3f}".rstrip("0").rstrip(".")


def _clock(hour: float) -> str:
    """An hour of the day as ``HH:MM`` (``14.5`` → ``14:30``)."""
    minutes = round(hour * 60) % (24 * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _spec_num(v: float) -> str:
    """A number for a spec string: parses back to the same float."""
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


# --------------------------------------------------------------------------- validation


def _finite(owner: str, name: str, value: float) -> None:
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise TrafficError(f"{owner}: {name} must be a finite number, not {value!r}")


def _non_negative(owner: str, name: str, value: float) -> None:
    _finite(owner, name, value)
    if value < 0:
        raise TrafficError(f"{owner}: {name} must be ≥ 0 (a rate or a duration), not {value!r}")


def _hour(owner: str, name: str, value: float, *, allow_24: bool = False) -> None:
    _finite(owner, name, value)
    top = 24.0
    if value < 0 or value > top or (value == top and not allow_24):
        allowed = "0 … 24" if allow_24 else "0 ≤ hour < 24"
        raise TrafficError(f"{owner}: {name} must be an hour of the day ({allowed}), not {value!r}")


def _day_offset(owner: str, value: float) -> None:
    _finite(owner, "start_of_day_s", value)
    if not 0 <= value < DAY_S:
        raise TrafficError(
            f"{owner}: start_of_day_s (seconds after UTC midnight at t=0) must be in "
            f"0 … 86399, not {value!r}"
        )


# --------------------------------------------------------------------------- the base class


class Pattern(ABC):
    """Demand in units per second as a function of ``t`` (seconds since the simulation start).

    Subclasses implement :meth:`sample` (one tight loop over many times) and :meth:`describe`;
    :meth:`rate` and :meth:`rates` derive from :meth:`sample`, so they agree exactly.
    ``t`` may be any finite float; negative ``t`` is "before the start" and gives the starting
    value for shapes measured from the start (the ``Daily*`` shapes are periodic instead).
    """

    #: The name in :func:`parse_pattern` specs (``""``: the pattern has no spec form).
    spec_name: ClassVar[str] = ""

    @abstractmethod
    def sample(self, times: Sequence[float]) -> list[float]:
        """The rate at each of ``times`` (any order), one value per time."""

    @abstractmethod
    def describe(self) -> str:
        """A short human description, e.g. ``bell 25→300/s``."""

    def rate(self, t: float) -> float:
        """Demand at ``t`` seconds since the start, in units per second (≥ 0, never NaN)."""
        return self.sample((t,))[0]

    def rates(self, t0: float, n: int, dt: float = 1.0) -> list[float]:
        """``n`` samples at ``t0, t0 + dt, …``: element ``i`` equals ``rate(t0 + i * dt)``."""
        if n < 0:
            raise TrafficError(f"rates: n must be ≥ 0, not {n}")
        return self.sample([t0 + i * dt for i in range(n)])

    def spec(self) -> str:
        """The :func:`parse_pattern` string that rebuilds this pattern (equal value).

        :class:`Shifted`, :class:`Clamped`, a scaled sum and a :class:`Replay` not read from
        a file have no spec form: ``TrafficError``.
        """
        raise TrafficError(f"{self.describe()} has no spec form (parse_pattern cannot express it)")

    # ------------------------------------------------------------------ composition

    def __add__(self, other: Pattern) -> Sum:
        if not isinstance(other, Pattern):
            return NotImplemented
        left = self.parts if isinstance(self, Sum) else (self,)
        right = other.parts if isinstance(other, Sum) else (other,)
        return Sum(left + right)

    def __radd__(self, other: int) -> Pattern:
        # lets sum([p, q, r]) work: sum() starts from 0
        if isinstance(other, int | float) and other == 0:
            return self
        return NotImplemented

    def __mul__(self, factor: float) -> Scaled:
        if isinstance(factor, bool) or not isinstance(factor, int | float):
            return NotImplemented
        if isinstance(self, Scaled):
            return Scaled(self.pattern, self.factor * factor)
        return Scaled(self, factor)

    def __rmul__(self, factor: float) -> Scaled:
        return self.__mul__(factor)

    def shift(self, seconds: float, before: float | None = None) -> Shifted:
        """This pattern started ``seconds`` later: see :class:`Shifted`."""
        return Shifted(self, seconds, before)

    def clamp(self, lo: float = 0.0, hi: float = math.inf) -> Clamped:
        """This pattern limited to ``lo … hi``: see :class:`Clamped`."""
        return Clamped(self, lo, hi)


def _spec_of(p: Pattern) -> str:
    """Generic spec for a primitive pattern: required fields always, the others if not default."""
    args = _ARGS[p.spec_name]
    defaults = {f.name: f.default for f in fields(p)}  # type: ignore[arg-type]
    out: list[str] = []
    for arg in args:
        value = getattr(p, arg.field)
        default = defaults.get(arg.field, MISSING)
        if (
            default is MISSING
            or value != default
            or arg.field in _PARSE_DEFAULTS.get(p.spec_name, {})
        ):
            out.append(f"{arg.key}={_format_arg(arg.kind, value)}")
    return p.spec_name + (":" + ",".join(out) if out else "")


# --------------------------------------------------------------------------- primitive shapes


@dataclass(frozen=True)
class Steady(Pattern):
    """A constant rate."""

    rate_per_s: float

    spec_name: ClassVar[str] = "steady"

    def __post_init__(self) -> None:
        _non_negative("steady", "rate", self.rate_per_s)

    def sample(self, times: Sequence[float]) -> list[float]:
        return [float(self.rate_per_s)] * len(times)

    def rates(self, t0: float, n: int, dt: float = 1.0) -> list[float]:
        if n < 0:
            raise TrafficError(f"rates: n must be ≥ 0, not {n}")
        return [float(self.rate_per_s)] * n

    def describe(self) -> str:
        return f"steady {_num(self.rate_per_s)}/s"

    def spec(self) -> str:
        return f"steady:{_spec_num(self.rate_per_s)}"


@dataclass(frozen=True)
class Bell(Pattern):
    """Field note B's bell curve (docs/field-notes.md#bell-and-top-heavy-shapes).

    ``base`` for ``steady_s``; then linearly up to ``peak`` over ``rise_s``; then linearly back
    to ``base`` over ``fall_s``; then ``base`` for ever.  Defaults: 15 min at 25/s, up to 300/s
    over 45 min, down over 15 min (back at 25/s at t = 4500 s).  ``peak < base`` is a dip.
    """

    base: float = 25.0
    peak: float = 300.0
    steady_s: float = 900.0
    rise_s: float = 2700.0
    fall_s: float = 900.0

    spec_name: ClassVar[str] = "bell"

    def __post_init__(self) -> None:
        for name in ("base", "peak", "steady_s", "rise_s", "fall_s"):
            _non_negative("bell", name, getattr(self, name))

    def sample(self, times: Sequence[float]) -> list[float]:
        base, peak = float(self.base), float(self.peak)
        rise, fall = float(self.rise_s), float(self.fall_s)
        a = float(self.steady_s)
        b = a + rise
        c = b + fall
        up, down = peak - base, base - peak
        out: list[float] = []
        append = out.append
        for t in times:
            if t < a:
                append(base)
            elif t < b:
                append(base + up * ((t - a) / rise))
            elif t < c:
                append(peak + down * ((t - b) / fall))
            else:
                append(base)
        return out

    def describe(self) -> str:
        return f"bell {_num(self.base)}→{_num(self.peak)}/s"

    def spec(self) -> str:
        return _spec_of(self)


@dataclass(frozen=True)
class TopHeavy(Pattern):
    """Field note B's top-heavy shape (docs/field-notes.md#bell-and-top-heavy-shapes).

    ``base`` for ``steady_s``; linearly up to ``peak`` over ``jump_s``; then, stepwise,
    ``peak − decay_per_minute × (whole minutes since the peak)`` until that reaches ``base``,
    then ``base`` for ever.  Defaults: 25/s for 15 min, 300/s at t = 1200 s, 297/s from
    t = 1260 s, … 27/s, then 25/s from t = 1200 + 92 × 60 s.
    """

    base: float = 25.0
    peak: float = 300.0
    steady_s: float = 900.0
    jump_s: float = 300.0
    decay_per_minute: float = 3.0

    spec_name: ClassVar[str] = "top-heavy"

    def __post_init__(self) -> None:
        for name in ("base", "peak", "steady_s", "jump_s", "decay_per_minute"):
            _non_negative("top-heavy", name, getattr(self, name))
        if self.peak < self.base:
            raise TrafficError(
                f"top-heavy: peak ({self.peak!r}) must be ≥ base ({self.base!r}): the shape "
                "jumps up to its peak and decays back down to its base"
            )

    @property
    def back_at_base_s(self) -> float:
        """When the decay reaches ``base`` (``inf`` if it never decays)."""
        t_peak = self.steady_s + self.jump_s
        if self.peak == self.base:
            return t_peak
        if self.decay_per_minute == 0:
            return math.inf
        return t_peak + 60.0 * math.ceil((self.peak - self.base) / self.decay_per_minute)

    def sample(self, times: Sequence[float]) -> list[float]:
        base, peak = float(self.base), float(self.peak)
        jump, decay = float(self.jump_s), float(self.decay_per_minute)
        a = float(self.steady_s)
        b = a + jump
        up = peak - base
        out: list[float] = []
        append = out.append
        for t in times:
            if t < a:
                append(base)
            elif t < b:
                append(base + up * ((t - a) / jump))
            else:
                v = peak - decay * ((t - b) // 60.0)
                append(v if v > base else base)
        return out

    def describe(self) -> str:
        return (
            f"top-heavy {_num(self.base)}→{_num(self.peak)}/s, "
            f"−{_num(self.decay_per_minute)}/s per min"
        )

    def spec(self) -> str:
        return _spec_of(self)


@dataclass(frozen=True)
class Spike(Pattern):
    """``base``, with a spike to ``peak``.

    Starts rising at ``at_s``, reaches ``peak`` at ``at_s + ramp_s``, holds it for
    ``duration_s`` (the time at full peak), falls back over ``ramp_s``: back at ``base`` at
    ``at_s + 2 × ramp_s + duration_s``.  ``ramp_s = 0`` is a square pulse.
    """

    base: float
    peak: float
    at_s: float
    duration_s: float
    ramp_s: float = 60.0

    spec_name: ClassVar[str] = "spike"

    def __post_init__(self) -> None:
        for name in ("base", "peak", "at_s", "duration_s", "ramp_s"):
            _non_negative("spike", name, getattr(self, name))

    def sample(self, times: Sequence[float]) -> list[float]:
        base, peak, ramp = float(self.base), float(self.peak), float(self.ramp_s)
        a = float(self.at_s)
        b = a + ramp
        c = b + float(self.duration_s)
        d = c + ramp
        up, down = peak - base, base - peak
        out: list[float] = []
        append = out.append
        for t in times:
            if t < a or t >= d:
                append(base)
            elif t < b:
                append(base + up * ((t - a) / ramp))
            elif t < c:
                append(peak)
            else:
                append(peak + down * ((t - c) / ramp))
        return out

    def describe(self) -> str:
        return (
            f"spike {_num(self.base)}→{_num(self.peak)}/s at {fmt_duration(self.at_s)} "
            f"for {fmt_duration(self.duration_s)}"
        )

    def spec(self) -> str:
        return _spec_of(self)


@dataclass(frozen=True)
class DailySine(Pattern):
    """A daily cycle: ``mean + amplitude × cos(2π (time of day − peak_hour) / 24 h)``.

    Highest (``mean + amplitude``) at ``peak_hour`` UTC, lowest 12 h later; floored at 0 when
    ``amplitude > mean``.  ``start_of_day_s``: seconds after UTC midnight at ``t = 0``.
    """

    mean: float
    amplitude: float
    peak_hour: float = 14.0
    start_of_day_s: float = 0.0

    spec_name: ClassVar[str] = "sine"

    def __post_init__(self) -> None:
        _non_negative("sine", "mean", self.mean)
        _non_negative("sine", "amplitude", self.amplitude)
        _hour("sine", "peak_hour", self.peak_hour)
        _day_offset("sine", self.start_of_day_s)

    def sample(self, times: Sequence[float]) -> list[float]:
        mean, amp = float(self.mean), float(self.amplitude)
        phase = float(self.start_of_day_s) - float(self.peak_hour) * _HOUR_S
        w = 2.0 * math.pi / DAY_S
        cos = math.cos
        out: list[float] = []
        append = out.append
        for t in times:
            v = mean + amp * cos((t + phase) * w)
            append(v if v > 0.0 else 0.0)
        return out

    def describe(self) -> str:
        return (
            f"daily sine {_num(self.mean)}±{_num(self.amplitude)}/s, "
            f"peak {_clock(self.peak_hour)} UTC"
        )

    def spec(self) -> str:
        return _spec_of(self)


def _daily_window(
    times: Sequence[float],
    shift: float,
    width: float,
    ramp: float,
    outside: float,
    inside: float,
) -> list[float]:
    """A daily trapezoid: ``u = (t + shift) mod 1 day`` is the time since the window opened.

    Rises from ``outside`` to ``inside`` over ``ramp`` from the opening, holds, and is back
    at ``outside`` at ``width`` (ramps lie inside the window; ``2 × ramp ≤ width``).
    """
    up, down = inside - outside, outside - inside
    hold_end = width - ramp
    out: list[float] = []
    append = out.append
    for t in times:
        u = (t + shift) % DAY_S
        if u >= width:
            append(outside)
        elif u < ramp:
            append(outside + up * (u / ramp))
        elif u < hold_end:
            append(inside)
        else:
            append(inside + down * ((u - hold_end) / ramp))
    return out


@dataclass(frozen=True)
class NightlyLoad(Pattern):
    """Field note A's nightly bulk load (docs/field-notes.md#a-nightly-bulk-load): ``load``/s
    for ``hours`` from ``start_hour`` UTC.

    ``base`` outside the window.  Ramps of ``ramp_s`` lie inside the window: the rate starts
    rising at ``start_hour``, is at ``load`` ``ramp_s`` later, starts falling ``ramp_s``
    before the end, and is back at ``base`` when the window ends.  The window may cross
    midnight.  ``start_of_day_s``: seconds after UTC midnight at ``t = 0``.
    """

    base: float
    load: float
    start_hour: float = 1.0
    hours: float = 3.0
    ramp_s: float = 600.0
    start_of_day_s: float = 0.0

    spec_name: ClassVar[str] = "nightly"

    def __post_init__(self) -> None:
        _non_negative("nightly", "base", self.base)
        _non_negative("nightly", "load", self.load)
        _hour("nightly", "start_hour", self.start_hour)
        _non_negative("nightly", "ramp_s", self.ramp_s)
        _day_offset("nightly", self.start_of_day_s)
        _finite("nightly", "hours", self.hours)
        if not 0 < self.hours <= 24:
            raise TrafficError(f"nightly: hours must be in 0 < hours ≤ 24, not {self.hours!r}")
        if 2 * self.ramp_s > self.hours * _HOUR_S:
            raise TrafficError(
                f"nightly: ramp_s={self.ramp_s!r} is too long: the ramp up and the ramp down "
                f"(2 × ramp_s) must fit in the {_num(self.hours)}-hour window"
            )

    def sample(self, times: Sequence[float]) -> list[float]:
        shift = float(self.start_of_day_s) - float(self.start_hour) * _HOUR_S
        return _daily_window(
            times,
            shift,
            float(self.hours) * _HOUR_S,
            float(self.ramp_s),
            float(self.base),
            float(self.load),
        )

    def describe(self) -> str:
        end = self.start_hour + self.hours
        return (
            f"nightly load {_num(self.base)}→{_num(self.load)}/s "
            f"{_clock(self.start_hour)}–{_clock(end)} UTC"
        )

    def spec(self) -> str:
        return _spec_of(self)


@dataclass(frozen=True)
class DaytimeReads(Pattern):
    """Field note A's daytime reads (docs/field-notes.md#a-nightly-bulk-load): ``day``/s from
    ``open_hour`` to ``close_hour`` UTC.

    ``night`` outside.  Ramps of ``ramp_s`` lie inside the day: rising from ``open_hour``,
    at ``day`` from ``open_hour + ramp``, falling from ``close_hour − ramp``, back at
    ``night`` at ``close_hour``.  ``close_hour < open_hour`` crosses midnight.
    ``start_of_day_s``: seconds after UTC midnight at ``t = 0``.
    """

    night: float
    day: float
    open_hour: float = 7.0
    close_hour: float = 22.0
    ramp_s: float = 3600.0
    start_of_day_s: float = 0.0

    spec_name: ClassVar[str] = "daytime"

    def __post_init__(self) -> None:
        _non_negative("daytime", "night", self.night)
        _non_negative("daytime", "day", self.day)
        _hour("daytime", "open_hour", self.open_hour)
        _hour("daytime", "close_hour", self.close_hour, allow_24=True)
        _non_negative("daytime", "ramp_s", self.ramp_s)
        _day_offset("daytime", self.start_of_day_s)
        if self.width_s == 0:
            raise TrafficError(
                f"daytime: open_hour and close_hour must differ (both are {self.open_hour!r})"
            )
        if 2 * self.ramp_s > self.width_s:
            raise TrafficError(
                f"daytime: ramp_s={self.ramp_s!r} is too long: the ramp up and the ramp down "
                f"(2 × ramp_s) must fit in the {fmt_duration(self.width_s)} day"
            )

    @property
    def width_s(self) -> float:
        """Length of the day window in seconds."""
        return ((self.close_hour - self.open_hour) % 24.0) * _HOUR_S

    def sample(self, times: Sequence[float]) -> list[float]:
        shift = float(self.start_of_day_s) - float(self.open_hour) * _HOUR_S
        return _daily_window(
            times,
            shift,
            self.width_s,
            float(self.ramp_s),
            float(self.night),
            float(self.day),
        )

    def describe(self) -> str:
        return (
            f"daytime reads {_num(self.night)}→{_num(self.day)}/s "
            f"{_clock(self.open_hour)}–{_clock(self.close_hour)} UTC"
        )

    def spec(self) -> str:
        return _spec_of(self)


#: The highest value a random walk reaches, whatever its ``maximum`` (a rate a second).
WALK_CEILING = 1e12


@dataclass(frozen=True)
class RandomWalk(Pattern):
    """A deterministic multiplicative random walk, linearly interpolated between points.

    Point ``k`` sits at ``t = k × interval_s``; point 0 is ``start``; each next point is the
    previous one times ``exp(step × z)`` with ``z`` standard normal, clamped to
    ``minimum … maximum`` (so ``step`` is the standard deviation of the log change per
    interval: ±5 % per minute by default; the walk never goes below 0 and, started above 0,
    never reaches 0 unless ``minimum`` is 0 and it underflows).  The points are generated
    lazily in blocks of 256, each block from its own ``random.Random`` seeded with
    ``(seed, block)``, and cached: ``rate(t)`` is a pure function of ``t`` and the seed,
    whatever order it is asked in, in any process.  After :data:`MAX_WALK_POINTS` points the
    walk holds its last value.  Before ``t = 0`` it is ``start``.
    """

    start: float
    step: float = 0.05
    minimum: float = 0.0
    maximum: float = math.inf
    seed: int = 0
    interval_s: float = 60.0
    _blocks: dict[int, array[float]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _ends: list[float] = field(default_factory=list, init=False, repr=False, compare=False)

    spec_name: ClassVar[str] = "walk"

    def __post_init__(self) -> None:
        _non_negative("walk", "step", self.step)
        _non_negative("walk", "minimum", self.minimum)
        _finite("walk", "start", self.start)
        if not isinstance(self.maximum, int | float) or math.isnan(self.maximum):
            raise TrafficError(f"walk: maximum must be a number or inf, not {self.maximum!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise TrafficError(f"walk: seed must be an integer, not {self.seed!r}")
        _finite("walk", "interval_s", self.interval_s)
        if self.interval_s <= 0:
            raise TrafficError(f"walk: interval_s must be > 0 seconds, not {self.interval_s!r}")
        if self.start <= 0:
            raise TrafficError(
                f"walk: start must be > 0 (the walk is multiplicative: from 0 it would stay "
                f"at 0), not {self.start!r}"
            )
        if not self.minimum <= self.start <= self.maximum:
            raise TrafficError(
                f"walk: start ({self.start!r}) must lie in minimum … maximum "
                f"({self.minimum!r} … {self.maximum!r})"
            )

    def _block(self, b: int) -> array[float]:
        """Block ``b``: points ``256 b … 256 b + 256`` (inclusive: one overlaps the next).

        Each block is a pure function of the point before it and the seed, so only the
        last point of every block is kept for good (8 bytes per block), plus the
        :data:`_WALK_CACHE` blocks used last; any other block is rebuilt when asked for.
        """
        blocks = self._blocks
        got = blocks.get(b)
        if got is not None:
            return got
        ends = self._ends
        while len(ends) < b:  # the walk up to block b, built once, in order
            ends.append(self._build(len(ends))[-1])
        built = self._build(b)
        if len(ends) == b:
            ends.append(built[-1])
        # Two threads racing here compute identical values, so the cache stays consistent.
        for old in list(blocks)[: max(0, len(blocks) - _WALK_CACHE + 1)]:
            blocks.pop(old, None)
        blocks[b] = built
        return built

    def _build(self, k: int) -> array[float]:
        v = float(self.start) if k == 0 else self._ends[k - 1]
        # a walk with no maximum is still kept finite (a rate past WALK_CEILING is no
        # traffic anyone simulates; past float's range it would turn into inf, then NaN)
        lo, hi = float(self.minimum), min(float(self.maximum), WALK_CEILING)
        step = float(self.step)
        exp = math.exp
        gauss = random.Random(f"capcon.walk:{self.seed}:{k}").gauss
        points = [v]
        for _ in range(_WALK_BLOCK):
            v *= exp(step * gauss(0.0, 1.0))
            v = lo if v < lo else hi if v > hi else v
            points.append(v)
        return array("d", points)

    def point(self, k: int) -> float:
        """The walk's value at ``t = k × interval_s`` (held after ``MAX_WALK_POINTS``)."""
        k = max(0, min(k, MAX_WALK_POINTS - 1))
        return self._block(k // _WALK_BLOCK)[k % _WALK_BLOCK]

    def sample(self, times: Sequence[float]) -> list[float]:
        iv = float(self.interval_s)
        start = float(self.start)
        last_x = float(MAX_WALK_POINTS - 1)
        cur_b = -1
        blk = self._block(0)
        block = self._block
        out: list[float] = []
        append = out.append
        for t in times:
            x = t / iv
            if not x > 0.0:  # before the start (and NaN)
                append(start)
                continue
            if x >= last_x:
                append(self.point(MAX_WALK_POINTS - 1))
                continue
            k = int(x)
            b, i = divmod(k, _WALK_BLOCK)
            if b != cur_b:
                blk = block(b)
                cur_b = b
            v0 = blk[i]
            append(v0 + (blk[i + 1] - v0) * (x - k))
        return out

    def describe(self) -> str:
        bounds = ""
        if self.minimum > 0 or not math.isinf(self.maximum):
            bounds = f", {_num(self.minimum)}…{_num(self.maximum)}/s"
        return (
            f"random walk from {_num(self.start)}/s "
            f"(±{_num(self.step * 100)}% per {fmt_duration(self.interval_s)},"
            f" seed {self.seed}{bounds})"
        )

    def spec(self) -> str:
        return _spec_of(self)


# --------------------------------------------------------------------------- composition


@dataclass(frozen=True)
class Sum(Pattern):
    """The sum of ``parts`` (at least one).  ``p + q`` builds a flat sum."""

    parts: tuple[Pattern, ...]

    def __post_init__(self) -> None:
        parts = tuple(self.parts)
        if not parts or not all(isinstance(p, Pattern) for p in parts):
            raise TrafficError("sum: needs one or more patterns")
        object.__setattr__(self, "parts", parts)

    def sample(self, times: Sequence[float]) -> list[float]:
        first, *rest = self.parts
        acc = first.sample(times)
        add = operator.add
        for p in rest:
            acc = list(map(add, acc, p.sample(times)))
        return acc

    def describe(self) -> str:
        return " + ".join(
            f"({p.describe()})" if isinstance(p, Sum) else p.describe() for p in self.parts
        )

    def spec(self) -> str:
        return "+".join(p.spec() for p in self.parts)


@dataclass(frozen=True)
class Scaled(Pattern):
    """``pattern`` times ``factor`` (≥ 0).  ``p * k`` and ``k * p`` build one."""

    pattern: Pattern
    factor: float

    def __post_init__(self) -> None:
        _non_negative("scale", "factor", self.factor)

    def sample(self, times: Sequence[float]) -> list[float]:
        k = float(self.factor)
        return [v * k for v in self.pattern.sample(times)]

    def describe(self) -> str:
        return f"{_num(self.factor)} × ({self.pattern.describe()})"

    def spec(self) -> str:
        if isinstance(self.pattern, Sum | Shifted | Clamped | Scaled):
            return super().spec()
        return f"{self.pattern.spec()}*{_spec_num(self.factor)}"


@dataclass(frozen=True)
class Shifted(Pattern):
    """``pattern`` started ``seconds`` later: ``rate(t) = pattern.rate(t − seconds)``.

    Before the shifted start (``t < seconds``) the rate is ``before`` if given, else the
    pattern's starting value ``pattern.rate(0)`` (a bell shifted by an hour sits at its base
    for that hour rather than dropping to 0).  A negative shift skips ahead into the pattern.
    """

    pattern: Pattern
    seconds: float
    before: float | None = None

    def __post_init__(self) -> None:
        _finite("shift", "seconds", self.seconds)
        if self.before is not None:
            _non_negative("shift", "before", self.before)

    def sample(self, times: Sequence[float]) -> list[float]:
        s = float(self.seconds)
        inner = self.pattern.sample([t - s if t > s else 0.0 for t in times])
        if self.before is None:
            return inner
        b = float(self.before)
        return [v if t >= s else b for t, v in zip(times, inner, strict=True)]

    def describe(self) -> str:
        return f"{self.pattern.describe()}, from +{fmt_duration(self.seconds)}"


@dataclass(frozen=True)
class Clamped(Pattern):
    """``pattern`` limited to ``lo … hi`` (``0 ≤ lo ≤ hi``, ``hi`` may be ``inf``)."""

    pattern: Pattern
    lo: float = 0.0
    hi: float = math.inf

    def __post_init__(self) -> None:
        _non_negative("clamp", "lo", self.lo)
        if not isinstance(self.hi, int | float) or math.isnan(self.hi) or self.hi < self.lo:
            raise TrafficError(f"clamp: hi must be a number ≥ lo ({self.lo!r}), not {self.hi!r}")

    def sample(self, times: Sequence[float]) -> list[float]:
        lo, hi = float(self.lo), float(self.hi)
        return [lo if v < lo else hi if v > hi else v for v in self.pattern.sample(times)]

    def describe(self) -> str:
        return f"{self.pattern.describe()}, clamped to {_num(self.lo)}…{_num(self.hi)}/s"


# --------------------------------------------------------------------------- spec strings


@dataclass(frozen=True, slots=True)
class _Arg:
    key: str  # the key in a spec string
    field: str  # the dataclass field
    kind: str  # "num", "seconds", "hour", "int", "max", "bool", "path"


def _args(*items: tuple[str, str, str]) -> tuple[_Arg, ...]:
    return tuple(_Arg(k, f, kind) for k, f, kind in items)


_ARGS: dict[str, tuple[_Arg, ...]] = {
    "steady": _args(("rate", "rate_per_s", "num")),
    "bell": _args(
        ("base", "base", "num"),
        ("peak", "peak", "num"),
        ("steady", "steady_s", "seconds"),
        ("rise", "rise_s", "seconds"),
        ("fall", "fall_s", "seconds"),
    ),
    "top-heavy": _args(
        ("base", "base", "num"),
        ("peak", "peak", "num"),
        ("steady", "steady_s", "seconds"),
        ("jump", "jump_s", "seconds"),
        ("decay", "decay_per_minute", "num"),
    ),
    "spike": _args(
        ("base", "base", "num"),
        ("peak", "peak", "num"),
        ("at", "at_s", "seconds"),
        ("duration", "duration_s", "seconds"),
        ("ramp", "ramp_s", "seconds"),
    ),
    "sine": _args(
        ("mean", "mean", "num"),
        ("amplitude", "amplitude", "num"),
        ("peak_hour", "peak_hour", "hour"),
        ("start_of_day", "start_of_day_s", "seconds"),
    ),
    "nightly": _args(
        ("base", "base", "num"),
        ("load", "load", "num"),
        ("start_hour", "start_hour", "hour"),
        ("hours", "hours", "hour"),
        ("ramp", "ramp_s", "seconds"),
        ("start_of_day", "start_of_day_s", "seconds"),
    ),
    "daytime": _args(
        ("night", "night", "num"),
        ("day", "day", "num"),
        ("open_hour", "open_hour", "hour"),
        ("close_hour", "close_hour", "hour"),
        ("ramp", "ramp_s", "seconds"),
        ("start_of_day", "start_of_day_s", "seconds"),
    ),
    "walk": _args(
        ("start", "start", "num"),
        ("step", "step", "num"),
        ("min", "minimum", "num"),
        ("max", "maximum", "max"),
        ("seed", "seed", "int"),
        ("interval", "interval_s", "seconds"),
    ),
    "csv": _args(("path", "path", "path"), ("step", "step", "bool"), ("loop", "loop", "bool")),
}

#: Names :func:`parse_pattern` understands, in the order help texts list them.
PATTERN_NAMES: tuple[str, ...] = tuple(_ARGS)

_PARSE_DEFAULTS: dict[str, dict[str, object]] = {"spike": {"base": 0.0}}


def _format_arg(kind: str, value: object) -> str:
    if kind == "bool":
        return "true" if value else "false"
    if kind in {"int", "path"}:
        return str(value)
    assert isinstance(value, int | float)
    return _spec_num(value)
