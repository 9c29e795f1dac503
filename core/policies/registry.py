"""Policies by name."""

from __future__ import annotations

from collections.abc import Callable

from capcon.core.policies.base import WINDOW_2017, Policy
from capcon.core.policies.capcon import Capcon
from capcon.core.policies.kinesis import KinesisPolicy
from capcon.core.policies.oracle import Oracle
from capcon.core.policies.target_tracking import TargetTracking

PolicyFactory = Callable[[float], Policy]

POLICIES: dict[str, PolicyFactory] = {
    "aas": lambda target: TargetTracking(target, name="aas", breaches_out=2),
    "aas-legacy": lambda target: TargetTracking(target, name="aas-legacy", breaches_out=5),
    "h1": lambda target: TargetTracking(
        target, name="h1", breaches_out=1, sizing_window=WINDOW_2017
    ),
    "h2": lambda target: TargetTracking(target, name="h2", breaches_out=1, sizing="requests"),
    "capcon": Capcon,
    "oracle": Oracle,
    "kinesis": KinesisPolicy,
}
#: The policies for DynamoDB tables and GSIs (the experiment grid runs these).
TABLE_POLICIES: tuple[str, ...] = ("aas-legacy", "aas", "h1", "h2", "capcon", "oracle")
#: The policies for Kinesis streams (observations in shards: :class:`StreamObservation`).
STREAM_POLICIES: tuple[str, ...] = ("kinesis",)


def make_policy(name: str, target: float) -> Policy:
    """A fresh policy by name; ``ValueError`` listing the known names otherwise."""
    try:
        factory = POLICIES[name]
    except KeyError:
        raise ValueError(
            f"unknown policy {name!r} (known: {', '.join(sorted(POLICIES))})"
        ) from None
    return factory(target)
