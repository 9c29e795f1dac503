"""Auto-scaling policies as code, one interface for all of them.

A policy sees only what it could really see: 1-minute datapoints of consumed capacity and
throttles, late by the account's metric delay, the current provisioned capacity, whether an
update is in progress, its own state, and ``now``.  It answers with a :class:`Decision` whose
``reason`` a human can read ("why did it scale, why didn't it").

This module holds Application Auto Scaling's target tracking as AWS runs it for DynamoDB:

* ``aas`` — today's rule (AWS docs, since 2023; docs/aws-rules.md#target-tracking): scale out
  when consumed capacity is above the target for **2** consecutive 1-minute datapoints; scale
  in after **15** consecutive datapoints at least **20** points below the target.  The new
  capacity is ``consumed / target`` — computed from *consumed* capacity, which can never
  exceed provisioned (+ burst), the weakness field note B measured
  (docs/field-notes.md#why-aas-lagged).
* ``aas-legacy`` — the 2017 behaviour of field note B: **5** consecutive breaches to scale out
  (docs/aws-rules.md#the-2017-rule).

and the alternatives field note B and C argue for (docs/field-notes.md):

* ``h1`` — field note B's first hypothesis (docs/field-notes.md#h1-and-h2): scale out after
  **1** breach; new capacity still ``consumed / target``; scale in as ``aas``.
* ``h2`` — the second hypothesis: scale out after **1** breach and size the step from the
  *actual requests*, ``(consumed + throttled) / target``; scale in as ``aas``.
* ``capcon`` — capcon's own policy (:class:`Capcon`; its docstring explains the design).
* ``oracle`` — knows the future demand (:class:`Oracle`, given a forecast by whoever runs it):
  the unreachable reference.
* ``kinesis`` — field note C's rules for a Kinesis stream (:class:`KinesisPolicy`), on a
  :class:`StreamObservation` (capacity in shards; docs/field-notes.md#kinesis-scaling-done-right).

:data:`POLICIES` maps each name to a factory taking the target utilisation in percent;
:data:`TABLE_POLICIES` are the ones for DynamoDB tables and GSIs, :data:`STREAM_POLICIES` the
ones for streams.

One module per family (``target_tracking``, ``capcon``, ``oracle``, ``kinesis``) over ``base``;
``registry`` names them.  The package re-exports their public names.
"""

from capcon.core.policies.base import (
    ASSUMED_UPDATE_SECONDS as ASSUMED_UPDATE_SECONDS,
)
from capcon.core.policies.base import (
    MINUTE as MINUTE,
)
from capcon.core.policies.base import (
    Action as Action,
)
from capcon.core.policies.base import (
    Decision as Decision,
)
from capcon.core.policies.base import (
    Observation as Observation,
)
from capcon.core.policies.base import (
    Policy as Policy,
)
from capcon.core.policies.base import (
    check_target as check_target,
)
from capcon.core.policies.base import (
    clamp as clamp,
)
from capcon.core.policies.base import (
    consecutive_tail as consecutive_tail,
)
from capcon.core.policies.base import (
    first_fresh_minute as first_fresh_minute,
)
from capcon.core.policies.base import (
    fresh_published_at as fresh_published_at,
)
from capcon.core.policies.base import (
    trend_slope as trend_slope,
)
from capcon.core.policies.base import (
    whole_units as whole_units,
)
from capcon.core.policies.capcon import (
    Capcon as Capcon,
)
from capcon.core.policies.kinesis import (
    KinesisPolicy as KinesisPolicy,
)
from capcon.core.policies.kinesis import (
    StreamObservation as StreamObservation,
)
from capcon.core.policies.kinesis import (
    stream_observation as stream_observation,
)
from capcon.core.policies.oracle import (
    Forecast as Forecast,
)
from capcon.core.policies.oracle import (
    Oracle as Oracle,
)
from capcon.core.policies.registry import (
    POLICIES as POLICIES,
)
from capcon.core.policies.registry import (
    STREAM_POLICIES as STREAM_POLICIES,
)
from capcon.core.policies.registry import (
    TABLE_POLICIES as TABLE_POLICIES,
)
from capcon.core.policies.registry import (
    PolicyFactory as PolicyFactory,
)
from capcon.core.policies.registry import (
    make_policy as make_policy,
)
from capcon.core.policies.target_tracking import (
    TargetTracking as TargetTracking,
)
