"""The simulated account of a Kinesis experiment (``capcon sim --policy kinesis``, the lab's
stream lane): one provisioned stream carrying a traffic pattern, fresh at its start.

Field note B's shapes are writes per second for a 50 WCU table (25 → 300); a stream takes
them as :data:`RECORDS_PER_WRITE` records of 1 KiB each (bell: 250 → 3,000 records/s), so
from one shard (1,000 records/s, 1 MiB/s) the ``kinesis`` policy of field note C
(docs/field-notes.md#kinesis-scaling-done-right) has to reshard up and, a day and a half
later, may scale down.
"""

from __future__ import annotations

import math
from datetime import timedelta

from capcon.core.backends.sim.account import SimAccount
from capcon.core.backends.sim.experiment import START
from capcon.core.backends.sim.traffic import Pattern, Scaled, StreamLoad, parse_pattern

#: The experiment's stream.
STREAM = "experiment-stream"
#: Records per second a stream gets for each write per second of a table pattern.
RECORDS_PER_WRITE = 10.0
#: Bytes per record (1 KiB: a shard's byte and record limits bind together).
RECORD_BYTES = 1024.0


def stream_experiment_account(
    pattern: Pattern | str, *, shards: int = 1, hours: float = 3.0, retention_hours: int = 24
) -> SimAccount:
    """A fresh simulated account at :data:`START` with one stream :data:`STREAM` of
    ``shards`` open shards carrying ``pattern`` × :data:`RECORDS_PER_WRITE` records/s;
    every minute of the first ``hours`` stays readable at 1-minute resolution.  A bad
    pattern raises :class:`ValueError` (a ``TrafficError``) naming what is allowed."""
    if shards < 1:
        raise ValueError(f"shards must be ≥ 1, not {shards}")
    shape = parse_pattern(pattern) if isinstance(pattern, str) else pattern
    retention = timedelta(minutes=math.ceil(hours * 60) + 60)
    account = SimAccount(START, minute_retention=retention)
    account.add_stream(
        STREAM,
        shards=shards,
        load=StreamLoad(Scaled(shape, RECORDS_PER_WRITE), RECORD_BYTES),
        retention_hours=retention_hours,
    )
    return account
