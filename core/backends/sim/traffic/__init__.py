"""Traffic patterns for the simulated AWS account: demand per second as a pure function of time.

A :class:`Pattern` answers "how many units per second are *asked for* at ``t`` seconds after
the simulation start" (writes, reads or records: the pattern does not care which).  It is
demand, not what AWS serves: throttling is the simulator's business.  Every pattern is a
frozen value, deterministic for its parameters (random walks included: a seed, no clock), and
never returns a negative number or NaN for a finite ``t``.

The shapes come from the field notes (docs/field-notes.md):

* :class:`Bell` and :class:`TopHeavy` are field note B's two load-test shapes, exactly
  (docs/field-notes.md#bell-and-top-heavy-shapes);
* :class:`NightlyLoad` and :class:`DaytimeReads` are field note A (bulk load every night,
  newsletter reads by day: docs/field-notes.md#a-nightly-bulk-load); :class:`DailySine` is a
  generic daily cycle;
* :class:`Spike`, :class:`RandomWalk`, :class:`Replay` (a CSV file) and :class:`Steady` fill in.

Patterns compose: ``p + q`` (:class:`Sum`), ``p * k`` / ``k * p`` (:class:`Scaled`),
``p.shift(s)`` (:class:`Shifted`) and ``p.clamp(lo, hi)`` (:class:`Clamped`).
:func:`parse_pattern` reads the same patterns from a CLI flag (``"steady:10+bell*2"``) and
:meth:`Pattern.spec` writes them back.

Speed: the simulator samples every resource once per second of simulated time, a minute at
a time (``rates(t0, 60)``).  Every pattern implements :meth:`Pattern.sample` as one tight loop
over the sample times (no per-sample method calls); :meth:`Pattern.rate` and
:meth:`Pattern.rates` are both derived from it, so ``rates(t0, n, dt)[i] == rate(t0 + i * dt)``
holds bit for bit.

Hot keys: :class:`KeyDistribution` says how traffic spreads over the 128-bit hash-key space
(uniform, plus one hot key taking a fixed share), per Kinesis shard or per table partition.
:class:`StreamLoad` bundles a record-rate pattern, a record size and a key distribution.

The package: ``patterns`` (the base class, shapes, composition), ``replay`` (CSV traffic),
``keys`` (hot keys over the hash-key space and shards) and ``spec`` (spec strings);
every public name is re-exported here.
"""

from capcon.core.backends.sim.traffic.keys import (
    KeyDistribution as KeyDistribution,
)
from capcon.core.backends.sim.traffic.keys import (
    StreamLoad as StreamLoad,
)
from capcon.core.backends.sim.traffic.patterns import (
    DAY_S as DAY_S,
)
from capcon.core.backends.sim.traffic.patterns import (
    MAX_WALK_POINTS as MAX_WALK_POINTS,
)
from capcon.core.backends.sim.traffic.patterns import (
    PATTERN_NAMES as PATTERN_NAMES,
)
from capcon.core.backends.sim.traffic.patterns import (
    Bell as Bell,
)
from capcon.core.backends.sim.traffic.patterns import (
    Clamped as Clamped,
)
from capcon.core.backends.sim.traffic.patterns import (
    DailySine as DailySine,
)
from capcon.core.backends.sim.traffic.patterns import (
    DaytimeReads as DaytimeReads,
)
from capcon.core.backends.sim.traffic.patterns import (
    NightlyLoad as NightlyLoad,
)
from capcon.core.backends.sim.traffic.patterns import (
    Pattern as Pattern,
)
from capcon.core.backends.sim.traffic.patterns import (
    RandomWalk as RandomWalk,
)
from capcon.core.backends.sim.traffic.patterns import (
    Scaled as Scaled,
)
from capcon.core.backends.sim.traffic.patterns import (
    Shifted as Shifted,
)
from capcon.core.backends.sim.traffic.patterns import (
    Spike as Spike,
)
from capcon.core.backends.sim.traffic.patterns import (
    Steady as Steady,
)
from capcon.core.backends.sim.traffic.patterns import (
    Sum as Sum,
)
from capcon.core.backends.sim.traffic.patterns import (
    TopHeavy as TopHeavy,
)
from capcon.core.backends.sim.traffic.patterns import (
    TrafficError as TrafficError,
)
from capcon.core.backends.sim.traffic.replay import (
    Replay as Replay,
)
from capcon.core.backends.sim.traffic.replay import (
    read_csv_points as read_csv_points,
)
from capcon.core.backends.sim.traffic.spec import (
    describe_patterns as describe_patterns,
)
from capcon.core.backends.sim.traffic.spec import (
    parse_pattern as parse_pattern,
)

__all__ = [
    "DAY_S",
    "MAX_WALK_POINTS",
    "PATTERN_NAMES",
    "Bell",
    "Clamped",
    "DailySine",
    "DaytimeReads",
    "KeyDistribution",
    "NightlyLoad",
    "Pattern",
    "RandomWalk",
    "Replay",
    "Scaled",
    "Shifted",
    "Spike",
    "Steady",
    "StreamLoad",
    "Sum",
    "TopHeavy",
    "TrafficError",
    "describe_patterns",
    "parse_pattern",
    "read_csv_points",
]
