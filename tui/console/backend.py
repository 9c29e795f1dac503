"""Sharing one backend between the console's worker threads.

The simulated account is not thread-safe and boto3 clients are only safe per call, so every
call into the backend goes through one lock.  Calls are short (a describe, one batched
metrics call); the UI thread never makes them.

Each call, once it holds the lock, is registered in an :class:`~capcon.core.inflight.InFlight`
registry under the AWS operation it stands for (``dynamodb:DescribeTable`` on ``table
orders``), whichever backend serves it: the status bar names a slow call the same way on AWS
(where the adapter also registers each single request) and on the simulated account.  A call
waiting for the lock is not registered: the one holding it is what everybody waits for.

:class:`LockedBackend` is a :class:`~capcon.core.ports.Backend` itself, by explicit
delegation, and :class:`LockedControls` the same for the
:class:`~capcon.core.ports.SimulationControls`: the console holds only these two, typed, and
never the backend behind them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence, Sized
from contextlib import contextmanager
from datetime import datetime

from capcon.core.inflight import IN_FLIGHT, InFlight
from capcon.core.model import ReplicaScaling, Stream, StreamMode, Table, Throughput
from capcon.core.ports import (
    AccountLimits,
    Backend,
    MetricQuery,
    MetricSeries,
    ReplicaAutoScaling,
    RequestCounter,
    ScalableTarget,
    ScalingActivity,
    ScalingPolicy,
    ScheduledAction,
    SimulationControls,
    TableChange,
)


class LockedBackend:
    """Every port of ``backend``, each call under ``lock``."""

    def __init__(
        self,
        backend: Backend,
        lock: threading.RLock | None = None,
        *,
        inflight: InFlight = IN_FLIGHT,
    ) -> None:
        self._backend = backend
        self._lock = lock or threading.RLock()
        self.label = backend.label
        self.inflight = inflight

    @property
    def lock(self) -> threading.RLock:
        return self._lock

    @contextmanager
    def _call(self, operation: str, resource: str | None = None) -> Iterator[None]:
        """Under the lock, and in flight while it runs."""
        with self._lock, self.inflight.track(operation, resource, batch=True):
            yield

    # --- Inventory -------------------------------------------------------------------------

    def list_tables(self) -> list[str]:
        with self._call("dynamodb:ListTables"):
            return self._backend.list_tables()

    def describe_table(self, name: str) -> Table:
        with self._call("dynamodb:DescribeTable", f"table {name}"):
            return self._backend.describe_table(name)

    def describe_tables(self, names: Sequence[str]) -> list[Table]:
        with self._call("dynamodb:DescribeTable", _count(names, "table")):
            return self._backend.describe_tables(names)

    def describe_table_replica_auto_scaling(self, name: str) -> tuple[ReplicaScaling, ...]:
        """A global table's replica auto scaling, when the backend offers it (else none)."""
        if not isinstance(self._backend, ReplicaAutoScaling):
            return ()
        with self._call("dynamodb:DescribeTableReplicaAutoScaling", f"table {name}"):
            return self._backend.describe_table_replica_auto_scaling(name)

    def list_streams(self) -> list[str]:
        with self._call("kinesis:ListStreams"):
            return self._backend.list_streams()

    def describe_stream(self, name: str) -> Stream:
        with self._call("kinesis:DescribeStreamSummary", f"stream {name}"):
            return self._backend.describe_stream(name)

    def describe_streams(self, names: Sequence[str]) -> list[Stream]:
        with self._call("kinesis:DescribeStreamSummary", _count(names, "stream")):
            return self._backend.describe_streams(names)

    def account_limits(self) -> AccountLimits:
        with self._call("dynamodb:DescribeLimits"):
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
        with self._call("cloudwatch:GetMetricData", _count(queries, "metric")):
            return self._backend.get_metric_data(queries, start, end, sent=sent)

    # --- Actuator --------------------------------------------------------------------------

    def update_table(self, name: str, change: TableChange) -> Table:
        with self._call("dynamodb:UpdateTable", f"table {name}"):
            return self._backend.update_table(name, change)

    def update_shard_count(self, name: str, target: int) -> Stream:
        with self._call("kinesis:UpdateShardCount", f"stream {name}"):
            return self._backend.update_shard_count(name, target)

    def split_shard(self, name: str, shard_id: str, new_starting_hash_key: int) -> None:
        with self._call("kinesis:SplitShard", f"stream {name}"):
            self._backend.split_shard(name, shard_id, new_starting_hash_key)

    def merge_shards(self, name: str, shard_id: str, adjacent_shard_id: str) -> None:
        with self._call("kinesis:MergeShards", f"stream {name}"):
            self._backend.merge_shards(name, shard_id, adjacent_shard_id)

    def update_stream_mode(self, name: str, mode: StreamMode) -> None:
        with self._call("kinesis:UpdateStreamMode", f"stream {name}"):
            self._backend.update_stream_mode(name, mode)

    # --- AutoScaling -----------------------------------------------------------------------

    def describe_scalable_targets(self) -> list[ScalableTarget]:
        with self._call("application-autoscaling:DescribeScalableTargets"):
            return self._backend.describe_scalable_targets()

    def describe_scaling_policies(self) -> list[ScalingPolicy]:
        with self._call("application-autoscaling:DescribeScalingPolicies"):
            return self._backend.describe_scaling_policies()

    def describe_scaling_activities(self, resource_id: str | None = None) -> list[ScalingActivity]:
        with self._call("application-autoscaling:DescribeScalingActivities", resource_id):
            return self._backend.describe_scaling_activities(resource_id)

    def register_scalable_target(self, target: ScalableTarget) -> None:
        with self._call("application-autoscaling:RegisterScalableTarget", _resource_id(target)):
            self._backend.register_scalable_target(target)

    def deregister_scalable_target(self, resource_id: str, dimension: str) -> None:
        with self._call("application-autoscaling:DeregisterScalableTarget", resource_id):
            self._backend.deregister_scalable_target(resource_id, dimension)

    def put_scaling_policy(self, policy: ScalingPolicy) -> None:
        with self._call("application-autoscaling:PutScalingPolicy", _resource_id(policy)):
            self._backend.put_scaling_policy(policy)

    def delete_scaling_policy(self, name: str, resource_id: str, dimension: str) -> None:
        with self._call("application-autoscaling:DeleteScalingPolicy", resource_id):
            self._backend.delete_scaling_policy(name, resource_id, dimension)

    def describe_scheduled_actions(self, resource_id: str | None = None) -> list[ScheduledAction]:
        with self._call("application-autoscaling:DescribeScheduledActions", resource_id):
            return self._backend.describe_scheduled_actions(resource_id)

    def put_scheduled_action(self, action: ScheduledAction) -> None:
        with self._call("application-autoscaling:PutScheduledAction", _resource_id(action)):
            self._backend.put_scheduled_action(action)

    def delete_scheduled_action(self, name: str, resource_id: str, dimension: str) -> None:
        with self._call("application-autoscaling:DeleteScheduledAction", resource_id):
            self._backend.delete_scheduled_action(name, resource_id, dimension)

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

    def hot_key(self, table: str, index: str | None = None) -> float:
        with self._lock:
            return self._controls.hot_key(table, index)

    def set_hot_key(self, table: str, share: float, index: str | None = None) -> None:
        with self._lock:
            self._controls.set_hot_key(table, share, index)

    def shard_times(self, stream: str) -> dict[str, tuple[datetime, datetime | None]]:
        with self._lock:
            return self._controls.shard_times(stream)


def locked(
    backend: Backend, controls: SimulationControls | None, *, inflight: InFlight = IN_FLIGHT
) -> tuple[LockedBackend, LockedControls | None]:
    """``backend`` and its ``controls`` (if any) behind one shared lock."""
    shared = LockedBackend(backend, inflight=inflight)
    return shared, None if controls is None else LockedControls(controls, shared.lock)


def _count(items: Sequence[object], noun: str) -> str | None:
    """``1 table``, ``1,000 tables`` (what a batch call is about; ``None`` if not countable:
    naming a call must never be what fails it)."""
    if not isinstance(items, Sized):
        return None
    return f"{len(items):,} {noun}{'' if len(items) == 1 else 's'}"


def _resource_id(value: ScalableTarget | ScalingPolicy | ScheduledAction) -> str | None:
    """The resource an auto-scaling call is about (``table/orders``)."""
    rid = getattr(value, "resource_id", None)
    return rid if isinstance(rid, str) else None
