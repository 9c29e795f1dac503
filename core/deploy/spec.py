"""What a deployed engine manages and how it is told: the :class:`DeploySpec`, its encoding in
the Lambda's environment, and the names and descriptions of its alarms.

The template (:mod:`capcon.core.deploy.template`) writes a spec into the scaler Lambda's
environment; the handler (:mod:`capcon.core.deploy.handler`) and ``capcon deploy invoke`` read
it back with :func:`settings_from_environment`.  Alarm names and descriptions are made here
and nowhere else, so the alarm that wakes the handler always names the dimension it watches
(:func:`alarm_description`, :func:`scalable_of_alarm`).  Pure: no AWS call is made.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from capcon.core.errors import CapconError
from capcon.core.ports import Scalable

#: The table policies a stack can run: ``aas`` as AAS target tracking (nothing of ours runs),
#: the others in the scaler Lambda.  ``aas-legacy`` is history and ``oracle`` sees the future.
DEPLOY_TABLE_POLICIES: tuple[str, ...] = ("aas", "h1", "h2", "capcon")
#: The policy every managed stream runs (the only stream policy).
STREAM_POLICY = "kinesis"
#: CloudFormation's stack-name rule (CreateStack API reference): a letter, then letters,
#: digits and hyphens, at most 128 characters.
STACK_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,127}")
#: CloudWatch's limits on an alarm's name and description (PutMetricAlarm API reference).
MAX_ALARM_NAME = 255
MAX_ALARM_DESCRIPTION = 1024
#: Lambda's limit on the total size of a function's environment variables (4 KB).
MAX_ENVIRONMENT_BYTES = 4096

#: The state table's key schema (both strings): ``pk`` names the kind of item (``state``,
#: ``audit``, ``event``), ``sk`` the item within it; ``expires`` (epoch seconds) is its TTL.
STATE_PARTITION_KEY = "pk"
STATE_SORT_KEY = "sk"
STATE_TTL_ATTRIBUTE = "expires"

ENV_STACK = "CAPCON_STACK"
ENV_POLICY = "CAPCON_POLICY"
ENV_TARGET = "CAPCON_TARGET"
ENV_MANAGED = "CAPCON_MANAGED"
ENV_NATIVE_AAS = "CAPCON_NATIVE_AAS"
ENV_BOUNDS = "CAPCON_BOUNDS"
ENV_SHARD_BOUNDS = "CAPCON_SHARD_BOUNDS"
ENV_TICK_MINUTES = "CAPCON_TICK_MINUTES"
ENV_STREAM_CHECK_HOURS = "CAPCON_STREAM_CHECK_HOURS"
#: Set by the template from its parameters and resources (``Ref``), not from the spec.
ENV_DRY_RUN = "CAPCON_DRY_RUN"
ENV_STATE_TABLE = "CAPCON_STATE_TABLE"
ENV_TOPIC_ARN = "CAPCON_TOPIC_ARN"


class DeployError(CapconError):
    """A deploy setting, template or event that cannot be used, with what is allowed."""


@dataclass(frozen=True, slots=True)
class DeploySpec:
    """One stack's engine: its policy and target, the dimensions its Lambda scales
    (``managed``), the tables given AAS target tracking instead (``native_aas``), the capacity
    bounds, and how often its schedules run."""

    stack: str
    policy: str
    target: float
    managed: tuple[Scalable, ...]
    native_aas: tuple[str, ...] = ()
    bounds: tuple[int, int] = (1, 40_000)
    shard_bounds: tuple[int, int] = (1, 10_000)
    tick_minutes: int = 30
    stream_check_hours: int = 36
    log_retention_days: int = 30
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def tables(self) -> tuple[str, ...]:
        """The tables with a managed dimension, in order of first appearance."""
        return tuple(dict.fromkeys(s.name for s in self.managed if s.kind != "stream"))

    @property
    def streams(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.name for s in self.managed if s.kind == "stream"))

    def problems(self) -> list[str]:
        """What is wrong with this spec, each naming the value and what is allowed."""
        out: list[str] = []
        if not STACK_NAME.fullmatch(self.stack):
            out.append(
                f"stack name {self.stack!r}: a letter, then letters, digits or hyphens "
                "(at most 128)"
            )
        if self.policy not in DEPLOY_TABLE_POLICIES:
            out.append(
                f"policy {self.policy!r} cannot be deployed for tables "
                f"(allowed: {', '.join(DEPLOY_TABLE_POLICIES)}; streams always run "
                f"{STREAM_POLICY})"
            )
        if not (math.isfinite(self.target) and 20 <= self.target <= 90):
            out.append(f"target {self.target:g}% is outside 20–90 (percent)")
        low, high = self.bounds
        if not 1 <= low <= high:
            out.append(f"capacity bounds {low}–{high}: need 1 ≤ min ≤ max")
        low, high = self.shard_bounds
        if not 1 <= low <= high:
            out.append(f"shard bounds {low}–{high}: need 1 ≤ min ≤ max")
        if not 1 <= self.tick_minutes <= 1440:
            out.append(f"tick every {self.tick_minutes} min: allowed 1–1440")
        if not 1 <= self.stream_check_hours <= 168:
            out.append(f"stream scale-down check every {self.stream_check_hours} h: allowed 1–168")
        if not self.managed and not self.native_aas:
            out.append("nothing to manage: give --tables and/or --streams")
        clash = sorted(set(self.native_aas) & {s.name for s in self.managed if s.kind != "stream"})
        if clash:
            out.append(f"{', '.join(clash)}: both managed by the Lambda and by native AAS")
        return out


# --------------------------------------------------------------------------------------------
# The Lambda's environment
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """What the handler runs with: the spec, whether it may change anything, and where its
    state and notifications live (``None``: not deployed; ``deploy invoke`` keeps state in a
    local file)."""

    spec: DeploySpec
    dry_run: bool = True
    state_table: str | None = None
    topic_arn: str | None = None


def _bounds(value: tuple[int, int]) -> str:
    return f"{value[0]}-{value[1]}"


def spec_environment(spec: DeploySpec) -> dict[str, str]:
    """The spec as the Lambda's environment variables (the template adds
    :data:`ENV_DRY_RUN`, :data:`ENV_STATE_TABLE` and :data:`ENV_TOPIC_ARN` as ``Ref``\\ s)."""
    return {
        ENV_STACK: spec.stack,
        ENV_POLICY: spec.policy,
        ENV_TARGET: f"{spec.target:g}",
        ENV_MANAGED: ",".join(s.key for s in spec.managed),
        ENV_NATIVE_AAS: ",".join(spec.native_aas),
        ENV_BOUNDS: _bounds(spec.bounds),
        ENV_SHARD_BOUNDS: _bounds(spec.shard_bounds),
        ENV_TICK_MINUTES: str(spec.tick_minutes),
        ENV_STREAM_CHECK_HOURS: str(spec.stream_check_hours),
    }


def environment_size(variables: Mapping[str, str]) -> int:
    """Bytes Lambda counts against :data:`MAX_ENVIRONMENT_BYTES` (keys and values, UTF-8)."""
    return sum(len(k.encode()) + len(v.encode()) for k, v in variables.items())


def _need(env: Mapping[str, str], name: str) -> str:
    value = env.get(name)
    if value is None or not value.strip():
        raise DeployError(f"the environment lacks {name} (set by capcon's template)")
    return value.strip()


def _parse_bounds(env: Mapping[str, str], name: str, default: tuple[int, int]) -> tuple[int, int]:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    low, sep, high = raw.strip().partition("-")
    if not sep or not low.isdigit() or not high.isdigit():
        raise DeployError(f"{name}={raw!r}: expected MIN-MAX in whole numbers, e.g. 1-40000")
    return int(low), int(high)


def _parse_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    if not raw.strip().isdigit():
        raise DeployError(f"{name}={raw!r}: expected a whole number")
    return int(raw.strip())


def _parse_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    word = raw.strip().lower()
    if word in ("true", "1", "yes"):
        return True
    if word in ("false", "0", "no"):
        return False
    raise DeployError(f"{name}={raw!r}: expected true or false")


def settings_from_environment(env: Mapping[str, str]) -> EngineSettings:
    """The handler's settings from its environment; :class:`DeployError` naming the variable,
    its value and what is allowed when one is missing or malformed (and when the spec's
    values break its rules).  Dry run unless :data:`ENV_DRY_RUN` says ``false``."""
    managed: list[Scalable] = []
    for key in filter(None, (k.strip() for k in env.get(ENV_MANAGED, "").split(","))):
        try:
            managed.append(Scalable.parse(key))
        except ValueError as error:
            raise DeployError(f"{ENV_MANAGED}: {error}") from None
    raw_target = _need(env, ENV_TARGET)
    try:
        target = float(raw_target)
    except ValueError:
        raise DeployError(f"{ENV_TARGET}={raw_target!r}: expected a percentage") from None
    spec = DeploySpec(
        stack=_need(env, ENV_STACK),
        policy=_need(env, ENV_POLICY),
        target=target,
        managed=tuple(managed),
        native_aas=tuple(filter(None, (t.strip() for t in env.get(ENV_NATIVE_AAS, "").split(",")))),
        bounds=_parse_bounds(env, ENV_BOUNDS, (1, 40_000)),
        shard_bounds=_parse_bounds(env, ENV_SHARD_BOUNDS, (1, 10_000)),
        tick_minutes=_parse_int(env, ENV_TICK_MINUTES, 30),
        stream_check_hours=_parse_int(env, ENV_STREAM_CHECK_HOURS, 36),
    )
    problems = spec.problems()
    if problems:
        raise DeployError("the engine's settings: " + "; ".join(problems))
    return EngineSettings(
        spec,
        dry_run=_parse_bool(env, ENV_DRY_RUN, True),
        state_table=env.get(ENV_STATE_TABLE) or None,
        topic_arn=env.get(ENV_TOPIC_ARN) or None,
    )


# --------------------------------------------------------------------------------------------
# Alarms: names and descriptions that say what they watch
# --------------------------------------------------------------------------------------------

_MARK = re.compile(
    r"\[capcon stack=(?P<stack>[A-Za-z][A-Za-z0-9-]{0,127}) scalable=(?P<key>\S+)\]\s*\Z"
)


def alarm_name(stack: str, scalable: Scalable, watch: str) -> str:
    """A stack's alarm on ``scalable`` watching ``watch`` (e.g. ``high``, ``bytes``,
    ``throttled``): ``STACK-KEY-WATCH``, shortened with a digest of the whole when it would
    pass CloudWatch's 255 characters.  Every alarm of a stack starts with ``STACK-``."""
    whole = f"{stack}-{scalable.key}-{watch}"
    if len(whole) <= MAX_ALARM_NAME:
        return whole
    digest = hashlib.sha256(whole.encode()).hexdigest()[:12]
    tail = f"-{scalable.dimension}-{watch}-{digest}"
    return whole[: MAX_ALARM_NAME - len(tail)] + tail


def alarm_prefix(stack: str) -> str:
    """The name prefix of every alarm of ``stack``."""
    return f"{stack}-"


def alarm_description(stack: str, scalable: Scalable, human: str) -> str:
    """``human`` (shortened to fit) followed by the mark the handler reads back."""
    mark = f"[capcon stack={stack} scalable={scalable.key}]"
    room = MAX_ALARM_DESCRIPTION - len(mark) - 1
    text = human if len(human) <= room else human[: room - 1] + "…"
    return f"{text}\n{mark}"


def scalable_of_alarm(description: str | None) -> tuple[str, Scalable] | None:
    """``(stack, scalable)`` from an alarm description written by :func:`alarm_description`;
    ``None`` for any other text."""
    if not description:
        return None
    found = _MARK.search(description)
    if found is None:
        return None
    try:
        return found["stack"], Scalable.parse(found["key"])
    except ValueError:
        return None
