"""Sharing one backend between the console's worker threads.

The simulated account is not thread-safe and boto3 clients are only safe per call, so every
call into the backend goes through one lock.  Calls are short (a describe, one batched
metrics call); the UI thread never makes them.

:class:`LockedBackend` is a :class:`~capcon.core.ports.Backend` itself, by explicit
delegation, and :class:`LockedControls` the same for the
:class:`~capcon.core.ports.SimulationControls`: the console holds only these two, typed, and
never the backend behind them.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime

from capcon.core.model import Stream, StreamMode, Table, Throughput
from capcon.core.ports import (
    AccountLimits,
    Backend,
    MetricQuery,
    MetricSeries,
    RequestCounter,
    ScalableTarget,
    ScalingActivity,
    ScalingPolicy,
    SimulationControls,
    TableChange,
)


class LockedBackend:
    """Every port of ``backend``, each call under ``lock``."""

    def __init__(self, backend: Backend, lock: threading.RLock | None = None) -> None:
        self._backend = backend
        self._lock = lock or threading.RLock()
        self.label = backend.label

    @property
    def lock(self) -> threading.RLock:
        return self._lock

    # --- Inventory -------------------------------------------------------------------------

    def list_tables(self) -> list[str]:
        with self._lock:
            return self._backend.list_tables()

    def describe_table(self, name: str) -> Table:
        with self._lock:
            return self._backend.describe_table(name)

    def describe_tables(self, names: Sequence[str]) -> list[Table]:
        with self._lock:
            return self._backend.describe_tables(names)

    def list_streams(self) -> list[str]:
        with self._lock:
            return self._backend.list_streams()

    def describe_stream(self, name: str) -> Stream:
        with self._lock:
            return self._backend.describe_stream(name)

    def describe_streams(self, names: Sequence[str]) -> list[Stream]:
        with self._lock:
            return self._backend.describe_streams(names)

    def account_limits(self) -> AccountLimits:
        with self._lock:
            return self._backend.account_limits()

    # --- Metrics ---------------------------------------------------------------------------

    def get_metric_data(
        self,
        queries: Sequence[MetricQuery],
        start: datetime,
        end: datetime,
        *,
        sent: RequestCounter | None = None,
    ) -> list[MetricSeries]:
        with self._lock:
            return self._backend.get_metric_data(queries, start, end, sent=sent)

    # --- Actuator --------------------------------------------------------------------------

    def update_table(self, name: str, change: TableChange) -> Table:
        with self._lock:
            return self._backend.update_table(name, change)

    def update_shard_count(self, name: str, target: int) -> Stream:
        with self._lock:
            return self._backend.update_shard_count(name, target)

    def split_shard(self, name: str, shard_id: str, new_starting_hash_key: int) -> None:
        with self._lock:
            self._backend.split_shard(name, shard_id, new_starting_hash_key)

    def merge_shards(self, name: str, shard_id: str, adjacent_shard_id: str) -> None:
        with self._lock:
            self._backend.merge_shards(name, shard_id, adjacent_shard_id)

    def update_stream_mode(self, name: str, mode: StreamMode) -> None:
        with self._lock:
            self._backend.update_stream_mode(name, mode)

    # --- AutoScaling -----------------------------------------------------------------------

    def describe_scalable_targets(self) -> list[ScalableTarget]:
        with self._lock:
            return self._backend.describe_scalable_targets()

    def describe_scaling_policies(self) -> list[ScalingPolicy]:
        with self._lock:
            return self._backend.describe_scaling_policies()

    def describe_scaling_activities(self, resource_id: str | None = None) -> list[ScalingActivity]:
        with self._lock:
            return self._backend.describe_scaling_activities(resource_id)

    def register_scalable_target(self, target: ScalableTarget) -> None:
        with self._lock:
            self._backend.register_scalable_target(target)

    def deregister_scalable_target(self, resource_id: str, dimension: str) -> None:
        with self._lock:
            self._backend.deregister_scalable_target(resource_id, dimension)

    def put_scaling_policy(self, policy: ScalingPolicy) -> None:
        with self._lock:
            self._backend.put_scaling_policy(policy)

    def delete_scaling_policy(self, name: str, resource_id: str, dimension: str) -> None:
        with self._lock:
            self._backend.delete_scaling_policy(name, resource_id, dimension)

    # --- Clock -----------------------------------------------------------------------------

    def now(self) -> datetime:
        with self._lock:
            return self._backend.now()


class LockedControls:
    """The simulation's controls, sharing the backend's lock where the world moves.

    :meth:`tick`, :meth:`step` and the two reads that walk the account take the lock (they
    run or read the whole simulation).  The clock's single values (``now``, ``paused``,
    ``speed``) are read and set without it, as before: the status bar reads them on the UI
    thread every second, and must not wait behind a poll that is advancing simulated time.
    """

    def __init__(self, controls: SimulationControls, lock: threading.RLock) -> None:
        self._controls = controls
        self._lock = lock

    def now(self) -> datetime:
        return self._controls.now()

    @property
    def paused(self) -> bool:
        return self._controls.paused

    def pause(self) -> None:
        self._controls.pause()

    def resume(self) -> None:
        self._controls.resume()

    @property
    def speed(self) -> float:
        return self._controls.speed

    @speed.setter
    def speed(self, value: float) -> None:
        self._controls.speed = value

    @property
    def speed_range(self) -> tuple[float, float]:
        return self._controls.speed_range

    def tick(self, real_seconds: float) -> int:
        with self._lock:
            return self._controls.tick(real_seconds)

    def step(self, seconds: int) -> None:
        with self._lock:
            self._controls.step(seconds)

    def provisioned_in_use(self) -> Throughput:
        with self._lock:
            return self._controls.provisioned_in_use()

    def reshard_history(self, stream: str) -> tuple[datetime, ...]:
        with self._lock:
            return self._controls.reshard_history(stream)


def locked(
    backend: Backend, controls: SimulationControls | None
) -> tuple[LockedBackend, LockedControls | None]:
    """``backend`` and its ``controls`` (if any) behind one shared lock."""
    shared = LockedBackend(backend)
    return shared, None if controls is None else LockedControls(controls, shared.lock)
