"""The deployed engine's CloudFormation stack: its code package in S3, change sets, following a
stack to the end of an operation, its parameters, its alarms' actions, and deleting it.

What ``capcon deploy apply | status | live | pause | delete`` does on AWS, step by step; the
order and the questions are the CLI's (:mod:`capcon.tui.cli.deploy_stack`).  Every call is
made inside :func:`capcon.core.backends.aws.errors.calling`, so no boto exception leaves this
module: a missing stack, a missing bucket or a denied call is a :class:`BackendError` with a
message naming what failed.

- The code package goes to ``capcon/<stack>/<sha256>.zip`` (:func:`package_key`): the key is
  the content, so uploading the same code again is a no-op (the object is already there) and
  new code gets a new key, which is a parameter change CloudFormation sees (it does not look
  inside an S3 object for a change).
- Change sets: ``CREATE`` for a new stack (or one left ``REVIEW_IN_PROGRESS`` by a change set
  never executed), ``UPDATE`` for an existing one; each call carries a client token, so a retry
  after a lost answer does not act twice.  A change set with nothing to change ends ``FAILED``
  with "didn't contain changes" (:attr:`ChangeSet.empty`).
- Following: the stack is read every ``poll_seconds`` (the caller's ``wait``: a real sleep)
  until its status stops ending in ``_IN_PROGRESS``, for at most ``timeout_seconds``; a
  failure names the first resource that failed and CloudFormation's reason for it.
- The stack references tables and streams and never owns their capacity:
  :func:`owned_capacity` lists the ``AWS::DynamoDB::Table`` / ``GlobalTable`` and
  ``AWS::Kinesis::Stream`` resources of a template other than the engine's own state table,
  and :meth:`Stacks.create_change_set` refuses a template that has any.

The operations here are a deployer's, not the console's: they are listed in
:data:`~capcon.core.backends.aws.actions.STACK_ACTIONS` (with the alarm actions), apart from
the adapter's :data:`~capcon.core.backends.aws.actions.ACTIONS` (the viewer and operator IAM
policies are derived from those).
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, Literal, cast

from capcon.core.backends.aws.actions import STACK_ACTIONS, StackAction
from capcon.core.backends.aws.errors import calling
from capcon.core.errors import BackendError, NotFound, ValidationFailed
from capcon.core.ports import AlarmState, AlarmStatus

if TYPE_CHECKING:
    from capcon.core.backends.aws.session import AwsSession

#: CloudFormation's limit on a template sent in the request (``TemplateBody``); a larger one
#: goes through S3 (``TemplateURL``, up to 1 MB).  CreateChangeSet API reference.
MAX_TEMPLATE_BODY: Final = 51_200
MAX_TEMPLATE_URL_BODY: Final = 1_000_000
#: The engine's own table: the one DynamoDB table a stack may create.
STATE_TABLE_ID: Final = "StateTable"
#: Resource types that carry capacity a stack must never own.
CAPACITY_TYPES: Final = frozenset(
    {"AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable", "AWS::Kinesis::Stream"}
)
#: IAM resource properties that give a resource a custom name (CAPABILITY_NAMED_IAM).
_IAM_NAMES: Final = (
    "RoleName",
    "UserName",
    "GroupName",
    "ManagedPolicyName",
    "InstanceProfileName",
)
#: How many alarm names EnableAlarmActions / DisableAlarmActions take at once.
ALARM_ACTIONS_BATCH: Final = 100

#: Statuses that end an operation well.
COMPLETE: Final = frozenset(
    {"CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE", "IMPORT_COMPLETE"}
)
#: A change set (or an update) that found nothing to do says so in one of these words.
_NO_CHANGES: Final = ("didn't contain changes", "No updates are to be performed")

Kind = Literal["CREATE", "UPDATE"]


class StackError(BackendError):
    """A stack operation that ended badly (rolled back, failed, timed out) or a stack or
    template that cannot be used as asked; the message says what and what to do."""


# --------------------------------------------------------------------------------------------
# What is read back
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Upload:
    """The code package in S3: where, its digest, and whether this call sent it."""

    bucket: str
    key: str
    sha256: str
    size: int
    uploaded: bool


@dataclass(frozen=True, slots=True)
class ResourceChange:
    """One row of a change set (``Replacement``: ``True``, ``False`` or ``Conditional``; none
    for an ``Add`` or a ``Remove``)."""

    action: str
    logical_id: str
    resource_type: str
    replacement: str | None = None
    scope: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ChangeSet:
    arn: str
    stack_id: str
    kind: Kind
    status: str
    reason: str
    changes: tuple[ResourceChange, ...] = ()

    @property
    def empty(self) -> bool:
        """The change set found nothing to change (it is ``FAILED`` and says so)."""
        return self.status == "FAILED" and any(words in self.reason for words in _NO_CHANGES)

    @property
    def ready(self) -> bool:
        return self.status == "CREATE_COMPLETE"


@dataclass(frozen=True, slots=True)
class StackEvent:
    event_id: str
    at: datetime | None
    logical_id: str
    resource_type: str
    status: str
    reason: str


@dataclass(frozen=True, slots=True)
class StackResource:
    logical_id: str
    physical_id: str
    resource_type: str
    status: str


@dataclass(frozen=True, slots=True)
class StackInfo:
    """A stack as ``DescribeStacks`` reports it."""

    name: str
    stack_id: str
    status: str
    reason: str
    parameters: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    updated: datetime | None = None

    @property
    def in_progress(self) -> bool:
        return self.status.endswith("_IN_PROGRESS") and self.status != "REVIEW_IN_PROGRESS"


@dataclass(frozen=True, slots=True)
class Followed:
    """How an operation on a stack ended: its last status, whether that is a success, the
    first failure's reason (``"Alarm3 (AWS::CloudWatch::Alarm): …"``) and the events seen."""

    status: str
    ok: bool
    failure: str | None
    events: tuple[StackEvent, ...]
    stack: StackInfo | None


@dataclass(frozen=True, slots=True)
class Schedule:
    """One of the stack's schedules (an EventBridge rule or a Scheduler schedule)."""

    logical_id: str
    name: str
    expression: str
    state: str


# --------------------------------------------------------------------------------------------
# Pure helpers
# --------------------------------------------------------------------------------------------


def package_key(stack: str, data: bytes) -> tuple[str, str]:
    """``(key, sha256)`` of a code package: ``capcon/<stack>/<sha256>.zip``."""
    digest = hashlib.sha256(data).hexdigest()
    return f"capcon/{stack}/{digest}.zip", digest


def template_body(template: Mapping[str, Any]) -> str:
    """The template as compact JSON (sorted keys: the same template is the same text)."""
    return json.dumps(template, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def _resources(template: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    resources = template.get("Resources")
    if not isinstance(resources, Mapping):
        return {}
    return {str(k): v for k, v in resources.items() if isinstance(v, Mapping)}


def owned_capacity(template: Mapping[str, Any], *, state_table: str = STATE_TABLE_ID) -> list[str]:
    """The resources of ``template`` that would own a table's or a stream's capacity
    (``"Orders (AWS::DynamoDB::Table)"``): every DynamoDB table or global table and Kinesis
    stream but the engine's state table (logical id ``state_table``)."""
    found: list[str] = []
    for logical_id, resource in _resources(template).items():
        kind = resource.get("Type")
        if kind in CAPACITY_TYPES and not (
            logical_id == state_table and kind == "AWS::DynamoDB::Table"
        ):
            found.append(f"{logical_id} ({kind})")
    return found


def refuse_owned_capacity(template: Mapping[str, Any]) -> None:
    """:class:`StackError` when ``template`` owns a table's or a stream's capacity."""
    owned = owned_capacity(template)
    if owned:
        raise StackError(
            f"the template creates {', '.join(owned)}: a capcon stack references tables and "
            "streams and never owns their capacity (only its state table); nothing was sent"
        )


def capabilities(template: Mapping[str, Any]) -> list[str]:
    """The capabilities a template needs acknowledged: ``CAPABILITY_IAM`` for IAM resources,
    ``CAPABILITY_NAMED_IAM`` when one has a custom name, ``CAPABILITY_AUTO_EXPAND`` for a
    ``Transform`` (CreateChangeSet API reference)."""
    needed: list[str] = []
    iam = [
        r for r in _resources(template).values() if str(r.get("Type", "")).startswith("AWS::IAM::")
    ]
    if iam:
        needed.append("CAPABILITY_IAM")
        named = any(
            isinstance(r.get("Properties"), Mapping)
            and any(name in r["Properties"] for name in _IAM_NAMES)
            for r in iam
        )
        if named:
            needed.append("CAPABILITY_NAMED_IAM")
    if template.get("Transform"):
        needed.append("CAPABILITY_AUTO_EXPAND")
    return needed


def retained(template: Mapping[str, Any], logical_id: str) -> bool:
    """Whether deleting the stack keeps the resource ``logical_id`` (``DeletionPolicy``
    ``Retain`` or ``RetainExceptOnCreate``)."""
    resource = _resources(template).get(logical_id)
    return resource is not None and resource.get("DeletionPolicy") in (
        "Retain",
        "RetainExceptOnCreate",
    )


def first_failure(events: Sequence[StackEvent]) -> str | None:
    """The first resource that failed and why, from the events of an operation (newest first,
    as CloudFormation lists them).  A resource whose work was only cancelled because another
    failed is not the cause (events of the same second may be listed in any order)."""
    failed = [e for e in reversed(events) if e.status.endswith("_FAILED") and e.reason]
    causes = [e for e in failed if "cancelled" not in e.reason.lower()] or failed
    if causes:
        event = causes[0]
        return f"{event.logical_id} ({event.resource_type}): {event.reason}"
    rolled = [e for e in reversed(events) if "ROLLBACK" in e.status and e.reason]
    if rolled:
        return f"{rolled[0].logical_id}: {rolled[0].reason}"
    return None


def change_set_name(now: datetime, seed: str) -> str:
    """A change set name CloudFormation accepts (a letter, then letters, digits, hyphens)."""
    digest = hashlib.sha256(seed.encode()).hexdigest()[:8]
    return f"capcon-{now.astimezone(UTC):%Y%m%d%H%M%S}-{digest}"


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


# --------------------------------------------------------------------------------------------
# The stack on AWS
# --------------------------------------------------------------------------------------------


class Stacks:
    """A region's CloudFormation stacks, their code bucket and their alarms, through one
    :class:`~capcon.core.backends.aws.session.AwsSession`.

    ``wait(seconds)`` lets time pass between polls (``time.sleep`` against AWS); an operation
    followed for longer than ``timeout_seconds`` (a change set: ``change_set_timeout``) ends
    in a :class:`StackError` saying it goes on in AWS and where to look.
    """

    def __init__(
        self,
        session: AwsSession,
        *,
        wait: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        poll_seconds: float = 5.0,
        timeout_seconds: float = 3600.0,
        change_set_timeout: float = 600.0,
    ) -> None:
        self.session = session
        self.wait = wait
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.timeout_seconds = timeout_seconds
        self.change_set_timeout = change_set_timeout

    @property
    def region(self) -> str:
        return self.session.region

    # -- the code package ----------------------------------------------------------------

    def upload_package(self, bucket: str, stack: str, data: bytes) -> Upload:
        """``data`` under :func:`package_key` in ``bucket``, unless an object of that size is
        there already (the key is the digest: the same bytes)."""
        key, digest = package_key(stack, data)
        if self._object_size(bucket, key) == len(data):
            return Upload(bucket, key, digest, len(data), uploaded=False)
        self._put(bucket, key, data, "application/zip")
        return Upload(bucket, key, digest, len(data), uploaded=True)

    def _object_size(self, bucket: str, key: str) -> int | None:
        s3 = self.session.s3()
        try:
            with calling("s3:GetObject", f"s3://{bucket}/{key}"):
                head = s3.head_object(Bucket=bucket, Key=key)
        except BackendError as error:
            # HEAD answers have no body: a missing object (or bucket) is a bare 404, and a
            # caller allowed to put but not to get sees 403; either way the put says more
            if getattr(error, "aws_code", None) in ("404", "403", "NoSuchKey", "NotFound"):
                return None
            raise self._bucket_error(error, bucket) from None
        size = head.get("ContentLength")
        return size if isinstance(size, int) else None

    def _put(self, bucket: str, key: str, data: bytes, content_type: str) -> None:
        s3 = self.session.s3()
        try:
            with calling("s3:PutObject", f"s3://{bucket}/{key}"):
                s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType=content_type)
        except BackendError as error:
            raise self._bucket_error(error, bucket) from None

    def _bucket_error(self, error: BackendError, bucket: str) -> BackendError:
        code = getattr(error, "aws_code", None)
        if code == "NoSuchBucket":
            return NotFound(
                f"S3 bucket {bucket!r} does not exist (or not in {self.region}): create it in "
                f"{self.region} (Lambda reads its code from a bucket in its own region) or "
                "give another --bucket"
            )
        if code in (
            "PermanentRedirect",
            "AuthorizationHeaderMalformed",
            "IllegalLocationConstraintException",
        ):
            return ValidationFailed(
                f"S3 bucket {bucket!r} is in another region than {self.region}: Lambda reads "
                "its code from a bucket in its own region; use a bucket there"
            )
        return error

    def template_url(self, bucket: str, stack: str, body: str) -> str:
        """A template too large for ``TemplateBody`` uploaded beside the code; its URL."""
        digest = hashlib.sha256(body.encode()).hexdigest()
        key = f"capcon/{stack}/template-{digest}.json"
        self._put(bucket, key, body.encode(), "application/json")
        # CloudFormation reads a template only from an S3 URL of this form (an endpoint's
        # emulation does too: moto resolves it in its own S3)
        domain = "amazonaws.com.cn" if self.region.startswith("cn-") else "amazonaws.com"
        return f"https://{bucket}.s3.{self.region}.{domain}/{key}"

    # -- reading the stack ---------------------------------------------------------------

    def find(self, stack: str) -> StackInfo | None:
        """The stack named (or with the id) ``stack``; ``None`` if there is none (a deleted
        stack is none)."""
        cfn = self.session.cloudformation()
        try:
            with calling("cloudformation:DescribeStacks", stack):
                answer = cfn.describe_stacks(StackName=stack)
        except ValidationFailed as error:
            if "does not exist" in str(error):
                return None
            raise
        stacks = answer.get("Stacks") or []
        if not stacks:
            return None
        info = _stack_info(stacks[0])
        return None if info.status == "DELETE_COMPLETE" and stack == info.name else info

    def describe(self, stack: str) -> StackInfo:
        """The stack, or :class:`NotFound` naming it and the region."""
        info = self.find(stack)
        if info is None:
            raise NotFound(
                f"no stack named {stack!r} in {self.region}: check --stack and --region "
                "(`capcon deploy apply` creates one)"
            )
        return info

    def events(self, stack: str, *, after: str | None = None, limit: int = 200) -> list[StackEvent]:
        """The stack's events, newest first: those newer than the event ``after`` (all when
        ``None``), at most ``limit``."""
        cfn = self.session.cloudformation()
        found: list[StackEvent] = []
        with calling("cloudformation:DescribeStackEvents", stack):
            for page in cfn.get_paginator("describe_stack_events").paginate(StackName=stack):
                for raw in page.get("StackEvents") or []:
                    event = StackEvent(
                        event_id=_text(raw.get("EventId")),
                        at=raw.get("Timestamp"),
                        logical_id=_text(raw.get("LogicalResourceId")),
                        resource_type=_text(raw.get("ResourceType")),
                        status=_text(raw.get("ResourceStatus")),
                        reason=_text(raw.get("ResourceStatusReason")),
                    )
                    if after is not None and event.event_id == after:
                        return found
                    found.append(event)
                    if len(found) >= limit:
                        return found
        return found

    def newest_event(self, stack: str) -> str | None:
        events = self.events(stack, limit=1)
        return events[0].event_id if events else None

    def resources(self, stack: str) -> list[StackResource]:
        cfn = self.session.cloudformation()
        with calling("cloudformation:DescribeStackResources", stack):
            answer = cfn.describe_stack_resources(StackName=stack)
        return [
            StackResource(
                _text(raw.get("LogicalResourceId")),
                _text(raw.get("PhysicalResourceId")),
                _text(raw.get("ResourceType")),
                _text(raw.get("ResourceStatus")),
            )
            for raw in answer.get("StackResources") or []
        ]

    def template(self, stack: str) -> dict[str, Any]:
        """The stack's template as deployed (``{}`` if it is not JSON)."""
        cfn = self.session.cloudformation()
        with calling("cloudformation:GetTemplate", stack):
            answer = cfn.get_template(StackName=stack, TemplateStage="Original")
        body: Any = answer.get("TemplateBody")
        if isinstance(body, Mapping):  # botocore decodes a JSON body into a dict
            return dict(body)
        try:
            parsed = json.loads(body) if isinstance(body, str) else None
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}

    def physical_id(
        self, stack: StackInfo, logical_id: str, output: str | None = None
    ) -> str | None:
        """A resource's name: the stack's output ``output`` when it has one, else the
        resource's physical id."""
        if output and stack.outputs.get(output):
            return stack.outputs[output]
        for resource in self.resources(stack.stack_id):
            if resource.logical_id == logical_id and resource.physical_id:
                return resource.physical_id
        return None

    def schedules(self, stack: str) -> list[Schedule]:
        """The stack's EventBridge rules and Scheduler schedules, with their expressions and
        states (as far as they can be read: ``?`` otherwise)."""
        found: list[Schedule] = []
        for resource in self.resources(stack):
            if resource.resource_type == "AWS::Events::Rule":
                found.append(self._rule(resource))
            elif resource.resource_type == "AWS::Scheduler::Schedule":
                found.append(self._schedule(resource))
        return found

    def _rule(self, resource: StackResource) -> Schedule:
        events = self.session.events()
        # a rule's physical id is its name (on the default bus)
        with calling("events:DescribeRule", resource.physical_id):
            rule = events.describe_rule(Name=resource.physical_id)
        return Schedule(
            resource.logical_id,
            resource.physical_id,
            _text(rule.get("ScheduleExpression")) or _text(rule.get("EventPattern")),
            _text(rule.get("State")),
        )

    def _schedule(self, resource: StackResource) -> Schedule:
        scheduler = self.session.scheduler()
        with calling("scheduler:GetSchedule", resource.physical_id):
            schedule = scheduler.get_schedule(Name=resource.physical_id)
        return Schedule(
            resource.logical_id,
            resource.physical_id,
            _text(schedule.get("ScheduleExpression")),
            _text(schedule.get("State")),
        )

    # -- change sets -----------------------------------------------------------------------

    def create_change_set(
        self,
        stack: str,
        template: Mapping[str, Any],
        parameters: Mapping[str, str | None],
        *,
        bucket: str,
        now: datetime,
    ) -> ChangeSet:
        """A change set for ``template`` with ``parameters`` (``None``: keep the stack's
        value), computed and described: ``CREATE`` when there is no stack (or one left in
        review), ``UPDATE`` otherwise.  Refused (nothing sent) when the template owns a table
        or a stream, or when the stack is busy or must be deleted first."""
        refuse_owned_capacity(template)
        existing = self.find(stack)
        kind: Kind = "CREATE"
        if existing is not None and existing.status != "REVIEW_IN_PROGRESS":
            if existing.in_progress:
                raise StackError(
                    f"stack {stack} is {existing.status}: wait until it ends and retry"
                )
            if existing.status in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED"):
                raise StackError(
                    f"stack {stack} is {existing.status} and cannot be updated: "
                    f"`capcon deploy delete --stack {stack}`, then apply again"
                )
            kind = "UPDATE"
        body = template_body(template)
        source: dict[str, str]
        if len(body.encode()) <= MAX_TEMPLATE_BODY:
            source = {"TemplateBody": body}
        elif len(body.encode()) <= MAX_TEMPLATE_URL_BODY:
            source = {"TemplateURL": self.template_url(bucket, stack, body)}
        else:
            raise StackError(
                f"the template is {len(body.encode()):,} bytes: CloudFormation takes at most "
                f"{MAX_TEMPLATE_URL_BODY:,}; split the tables over several stacks"
            )
        params: list[dict[str, Any]] = []
        declared = template.get("Parameters")
        for key, value in parameters.items():
            if isinstance(declared, Mapping) and key not in declared:
                continue
            if value is None:
                if kind == "UPDATE" and existing is not None and key in existing.parameters:
                    params.append({"ParameterKey": key, "UsePreviousValue": True})
            else:
                params.append({"ParameterKey": key, "ParameterValue": value})
        name = change_set_name(now, body + json.dumps(params, sort_keys=True, default=str))
        cfn = self.session.cloudformation()
        try:
            with calling("cloudformation:CreateChangeSet", stack):
                answer = cfn.create_change_set(
                    StackName=stack,
                    ChangeSetName=name,
                    ChangeSetType=kind,
                    Parameters=cast(Any, params),
                    Capabilities=cast(Any, capabilities(template)),
                    Description=f"capcon deploy apply ({kind.lower()})",
                    ClientToken=uuid.uuid4().hex,
                    **source,  # type: ignore[arg-type]
                )
        except ValidationFailed as error:
            # AWS makes a FAILED change set saying there is nothing to change; moto refuses
            # the request with the same words
            if not any(words in str(error) for words in _NO_CHANGES):
                raise
            return ChangeSet(
                "", existing.stack_id if existing else stack, kind, "FAILED", str(error)
            )
        arn = _text(answer.get("Id")) or name
        stack_id = _text(answer.get("StackId")) or stack
        return self.wait_change_set(arn, stack_id, kind)

    def wait_change_set(self, arn: str, stack_id: str, kind: Kind) -> ChangeSet:
        """The change set once CloudFormation has computed it (or given up on it)."""
        started = self.clock()
        while True:
            change_set = self.describe_change_set(arn, stack_id, kind)
            if change_set.status not in ("CREATE_PENDING", "CREATE_IN_PROGRESS"):
                return change_set
            if self.clock() - started > self.change_set_timeout:
                raise StackError(
                    f"change set {arn} still {change_set.status} after "
                    f"{self.change_set_timeout:.0f} s: see the CloudFormation console, or "
                    "delete it and apply again"
                )
            self.wait(self.poll_seconds)

    def describe_change_set(self, arn: str, stack_id: str, kind: Kind) -> ChangeSet:
        cfn = self.session.cloudformation()
        changes: list[ResourceChange] = []
        status = reason = ""
        token: str | None = None
        with calling("cloudformation:DescribeChangeSet", arn):
            for _ in range(100):  # pages of changes (each up to 100 of them)
                page = (
                    cfn.describe_change_set(ChangeSetName=arn, StackName=stack_id, NextToken=token)
                    if token
                    else cfn.describe_change_set(ChangeSetName=arn, StackName=stack_id)
                )
                status = _text(page.get("Status"))
                reason = _text(page.get("StatusReason"))
                for raw in page.get("Changes") or []:
                    change = raw.get("ResourceChange")
                    if not isinstance(change, Mapping):
                        continue
                    scope = change.get("Scope")
                    changes.append(
                        ResourceChange(
                            action=_text(change.get("Action")),
                            logical_id=_text(change.get("LogicalResourceId")),
                            resource_type=_text(change.get("ResourceType")),
                            replacement=_text(change.get("Replacement")) or None,
                            scope=tuple(str(s) for s in scope) if isinstance(scope, list) else (),
                        )
                    )
                token = page.get("NextToken")
                if not token:
                    break
        return ChangeSet(arn, stack_id, kind, status, reason, tuple(changes))

    def delete_change_set(self, change_set: ChangeSet) -> None:
        """Delete a change set not executed; a ``CREATE`` one's stack (created empty, in
        review) goes with it, so nothing is left."""
        cfn = self.session.cloudformation()
        if not change_set.arn:  # refused when asked for: there is none
            return
        with calling("cloudformation:DeleteChangeSet", change_set.arn):
            cfn.delete_change_set(ChangeSetName=change_set.arn, StackName=change_set.stack_id)
        if change_set.kind == "CREATE":
            info = self.find(change_set.stack_id)
            if info is not None and info.status == "REVIEW_IN_PROGRESS":
                with calling("cloudformation:DeleteStack", change_set.stack_id):
                    cfn.delete_stack(
                        StackName=change_set.stack_id, ClientRequestToken=uuid.uuid4().hex
                    )

    def execute_change_set(self, change_set: ChangeSet) -> Followed:
        """Execute a computed change set and follow the stack to the end."""
        after = self.start_change_set(change_set)
        return self.follow(change_set.stack_id, after=after)

    def start_change_set(self, change_set: ChangeSet) -> str | None:
        """Execute a computed change set; the stack's newest event before it (to follow it
        from there)."""
        if not change_set.ready:
            raise StackError(
                f"change set {change_set.arn} is {change_set.status}"
                + (f" ({change_set.reason})" if change_set.reason else "")
                + ": it cannot be executed"
            )
        after = self.newest_event(change_set.stack_id)
        cfn = self.session.cloudformation()
        with calling("cloudformation:ExecuteChangeSet", change_set.arn):
            cfn.execute_change_set(
                ChangeSetName=change_set.arn,
                StackName=change_set.stack_id,
                ClientRequestToken=uuid.uuid4().hex,
            )
        return after

    # -- following -------------------------------------------------------------------------

    def follow(self, stack_id: str, *, after: str | None, deleting: bool = False) -> Followed:
        """Read the stack until its status is no longer ``…_IN_PROGRESS`` (at most
        ``timeout_seconds``); the events since the event ``after`` and the first failure."""
        started = self.clock()
        while True:
            info = self.find(stack_id)
            if info is None:  # gone: deleted (a stack id normally still answers)
                if deleting:
                    return Followed("DELETE_COMPLETE", True, None, (), None)
                raise StackError(f"stack {stack_id} disappeared while being followed")
            if not info.in_progress:
                break
            if self.clock() - started > self.timeout_seconds:
                raise StackError(
                    f"stack {info.name} still {info.status} after {self.timeout_seconds:.0f} s: "
                    "CloudFormation goes on; `capcon deploy status` shows where it is"
                )
            self.wait(self.poll_seconds)
        events = tuple(self.events(stack_id, after=after))
        ok = info.status in COMPLETE
        failure = None if ok else (first_failure(events) or info.reason or info.status)
        return Followed(info.status, ok, failure, events, info)

    # -- parameters --------------------------------------------------------------------------

    def set_parameters(self, stack: StackInfo, values: Mapping[str, str]) -> Followed | None:
        """Update the stack's parameters ``values`` with its template as it is (every other
        parameter keeps its value), and follow it; ``None`` when each already had its value
        (nothing sent)."""
        missing = [key for key in values if key not in stack.parameters]
        if missing:
            raise StackError(
                f"stack {stack.name} has no parameter {', '.join(missing)}: is it a capcon stack?"
            )
        if all(stack.parameters.get(k) == v for k, v in values.items()):
            return None
        params: list[dict[str, Any]] = [
            {"ParameterKey": key, "ParameterValue": values[key]}
            if key in values
            else {"ParameterKey": key, "UsePreviousValue": True}
            for key in stack.parameters
        ]
        after = self.newest_event(stack.stack_id)
        cfn = self.session.cloudformation()
        try:
            with calling("cloudformation:UpdateStack", stack.name):
                cfn.update_stack(
                    StackName=stack.stack_id,
                    UsePreviousTemplate=True,
                    Parameters=cast(Any, params),
                    # acknowledging a capability the template does not need is allowed
                    Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
                    ClientRequestToken=uuid.uuid4().hex,
                )
        except ValidationFailed as error:
            if any(words in str(error) for words in _NO_CHANGES):
                return None
            raise
        return self.follow(stack.stack_id, after=after)

    # -- alarms --------------------------------------------------------------------------------

    def alarms(
        self, prefix: str, *, owned: Callable[[str], bool] | None = None
    ) -> list[AlarmStatus]:
        """The metric alarms whose names start with ``prefix`` (and, with ``owned``, whose
        description it accepts: another stack's name may start with this one's prefix)."""
        cloudwatch = self.session.cloudwatch()
        found: list[AlarmStatus] = []
        with calling("cloudwatch:DescribeAlarms", prefix):
            pages: Iterator[Any] = iter(
                cloudwatch.get_paginator("describe_alarms").paginate(
                    AlarmNamePrefix=prefix, AlarmTypes=["MetricAlarm"]
                )
            )
            for page in pages:
                for raw in page.get("MetricAlarms") or []:
                    name = _text(raw.get("AlarmName"))
                    description = _text(raw.get("AlarmDescription"))
                    if not name.startswith(prefix) or (owned and not owned(description)):
                        continue
                    state = _text(raw.get("StateValue"))
                    threshold = raw.get("Threshold")
                    found.append(
                        AlarmStatus(
                            name=name,
                            state=cast(AlarmState, state)
                            if state in ("OK", "ALARM", "INSUFFICIENT_DATA")
                            else "INSUFFICIENT_DATA",
                            threshold=float(threshold)
                            if isinstance(threshold, int | float)
                            else None,
                            actions_enabled=bool(raw.get("ActionsEnabled")),
                            description=description,
                        )
                    )
        return found

    def set_alarm_actions(self, names: Sequence[str], enabled: bool) -> None:
        """Enable or disable the actions of the alarms ``names`` (100 a call)."""
        cloudwatch = self.session.cloudwatch()
        for start in range(0, len(names), ALARM_ACTIONS_BATCH):
            batch = list(names[start : start + ALARM_ACTIONS_BATCH])
            if enabled:
                with calling("cloudwatch:EnableAlarmActions", batch[0]):
                    cloudwatch.enable_alarm_actions(AlarmNames=batch)
            else:
                with calling("cloudwatch:DisableAlarmActions", batch[0]):
                    cloudwatch.disable_alarm_actions(AlarmNames=batch)

    # -- deleting ------------------------------------------------------------------------------

    def delete(self, stack: StackInfo) -> Followed:
        """Delete the stack and follow it to ``DELETE_COMPLETE`` (or ``DELETE_FAILED``, with
        the resource that could not be deleted)."""
        after = self.newest_event(stack.stack_id)
        cfn = self.session.cloudformation()
        with calling("cloudformation:DeleteStack", stack.name):
            cfn.delete_stack(StackName=stack.stack_id, ClientRequestToken=uuid.uuid4().hex)
        return self.follow(stack.stack_id, after=after, deleting=True)


def _stack_info(raw: Mapping[str, Any]) -> StackInfo:
    parameters = {
        _text(p.get("ParameterKey")): _text(p.get("ParameterValue"))
        for p in raw.get("Parameters") or []
        if isinstance(p, Mapping)
    }
    outputs = {
        _text(o.get("OutputKey")): _text(o.get("OutputValue"))
        for o in raw.get("Outputs") or []
        if isinstance(o, Mapping)
    }
    updated = raw.get("LastUpdatedTime") or raw.get("CreationTime")
    return StackInfo(
        name=_text(raw.get("StackName")),
        stack_id=_text(raw.get("StackId")),
        status=_text(raw.get("StackStatus")),
        reason=_text(raw.get("StackStatusReason")),
        parameters=parameters,
        outputs=outputs,
        updated=updated if isinstance(updated, datetime) else None,
    )


__all__ = [
    "STACK_ACTIONS",
    "ChangeSet",
    "Followed",
    "ResourceChange",
    "Schedule",
    "StackAction",
    "StackError",
    "StackEvent",
    "StackInfo",
    "StackResource",
    "Stacks",
    "Upload",
    "capabilities",
    "first_failure",
    "owned_capacity",
    "package_key",
    "refuse_owned_capacity",
    "retained",
]
