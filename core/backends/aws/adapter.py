"""The ports of :mod:`capcon.core.ports` over boto3: :class:`AwsAdapter`.

Inventory, metrics, capacity changes and Application Auto Scaling for one account and region.
Every AWS call is made inside :func:`capcon.core.backends.aws.errors.calling`, which names its
IAM action (:mod:`capcon.core.backends.aws.actions`), so callers only ever see
:class:`capcon.core.errors.BackendError` and its kinds.  AWS's JSON is turned into model values
by :mod:`capcon.core.backends.aws.describe`, the same code that reads pasted ``aws`` CLI output.

No answer is believed unchecked (:mod:`capcon.core.backends.aws.answers`): a body that is not
JSON, a missing list, a value of the wrong type is a
:class:`~capcon.core.backends.aws.errors.MalformedAnswer` naming the operation and resource,
never a traceback and never an empty listing.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar, cast

from botocore.exceptions import ClientError

from capcon.core.backends.aws import answers, cloudwatch
from capcon.core.backends.aws.actions import Action
from capcon.core.backends.aws.answers import flag, mapping, number, optional_whole, text, whole
from capcon.core.backends.aws.describe import (
    DescribeError,
    advantage_from_settings,
    consumers_from_list,
    replica_auto_scaling_from_describe,
    stream_from_describe,
    table_from_describe,
)
from capcon.core.backends.aws.errors import calling, client_error_code, malformed
from capcon.core.backends.aws.session import AwsSession
from capcon.core.errors import BackendError, NotFound, ValidationFailed
from capcon.core.model import (
    BillingMode,
    ReplicaScaling,
    Stream,
    StreamMode,
    Table,
    TableClass,
    Throughput,
    WarmThroughput,
)
from capcon.core.ports import (
    READ_UTILIZATION,
    WRITE_UTILIZATION,
    AccountLimits,
    MetricQuery,
    MetricSeries,
    RequestCounter,
    ScalableTarget,
    ScalingActivity,
    ScalingPolicy,
    ScheduledAction,
    TableChange,
)

if TYPE_CHECKING:  # the stubs are for the type checker: nothing here is needed at run time
    from types_boto3_application_autoscaling.client import ApplicationAutoScalingClient
    from types_boto3_application_autoscaling.literals import MetricTypeType, ScalableDimensionType
    from types_boto3_application_autoscaling.type_defs import (
        DescribeScalableTargetsRequestTypeDef,
        DescribeScalableTargetsResponseTypeDef,
        DescribeScalingActivitiesRequestPaginateTypeDef,
        DescribeScheduledActionsRequestTypeDef,
        DescribeScheduledActionsResponseTypeDef,
        ScalableTargetTypeDef,
    )
    from types_boto3_cloudwatch.client import CloudWatchClient
    from types_boto3_dynamodb.client import DynamoDBClient
    from types_boto3_dynamodb.type_defs import (
        OnDemandThroughputTypeDef,
        ProvisionedThroughputTypeDef,
        UpdateGlobalSecondaryIndexActionTypeDef,
        UpdateTableInputTypeDef,
        WarmThroughputTypeDef,
    )
    from types_boto3_kinesis.client import KinesisClient
    from types_boto3_kinesis.literals import StreamModeType
    from types_boto3_kinesis.type_defs import (
        ListShardsInputTypeDef,
        ListShardsOutputTypeDef,
        ListStreamsInputTypeDef,
        ShardTypeDef,
    )

T = TypeVar("T")
R = TypeVar("R")
P = TypeVar("P", bound=Mapping[str, Any])
ActivityStatus = Literal["Successful", "Failed", "InProgress", "Unfulfilled"]

NAMESPACE: Final = "dynamodb"
#: ``ListTables`` returns at most 100 names a page.
TABLES_PAGE = 100
#: ``ListStreams``: at most 100 names a page (moto's paginator stops after page 1).
STREAMS_PAGE = 100
#: ``ListShards``: 10,000 a page is AWS's maximum (default 1,000).
SHARDS_PAGE = 10_000
#: ``DescribeScalableTargets``: at most 50 ``ResourceIds`` a call.
RESOURCE_IDS_PER_CALL = 50
#: Safety stop for paging loops (a service that keeps answering with a token).
MAX_PAGES = 10_000
#: Threads describing tables or streams at once.
DESCRIBE_WORKERS = 8
#: AWS's control-plane rates (docs/aws-rules.md#control-plane-rates), kept below with a margin.
DESCRIBE_TABLE_PER_SECOND = 1000.0  # DescribeTable + ListTables: 2,500/s combined
LIST_STREAMS_PER_SECOND = 4.0  # ListStreams: 5/s
DESCRIBE_STREAM_SUMMARY_PER_SECOND = 15.0  # DescribeStreamSummary: 20/s
#: Seconds the account's On-demand Advantage setting (``DescribeAccountSettings``, 5/s per
#: account) is kept before it is asked again.
ACCOUNT_SETTINGS_SECONDS = 300.0
#: ``ListStreamConsumers``: at most this many a page.
CONSUMERS_PAGE = 100
#: AAS's ``StatusCode`` in the words of :class:`ScalingActivity` (``Pending`` is in progress,
#: ``Overridden`` did not complete); anything else AWS may add counts as failed.
ACTIVITY_STATUS: dict[str, ActivityStatus] = {
    "Successful": "Successful",
    "Failed": "Failed",
    "InProgress": "InProgress",
    "Unfulfilled": "Unfulfilled",
    "Pending": "InProgress",
    "Overridden": "Failed",
}


class RateLimiter:
    """A token bucket shared by threads: bursts of up to ``burst`` calls, then ``rate`` a
    second."""

    def __init__(
        self, rate: float, burst: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = max(1.0, rate if burst is None else burst)
        self._clock = clock
        self._tokens = self.burst
        self._stamp = clock()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            self._tokens -= 1.0
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait > 0:
            time.sleep(wait)


def _pages(fetch: Callable[[str | None], P], token_key: str = "NextToken") -> Iterator[P]:
    """Pages of a ``NextToken``-style listing; stops when a token repeats (moto's AAS)."""
    token: str | None = None
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        page = fetch(token)
        yield page
        token = _token(page, token_key)
        if not token or token in seen:
            return
        seen.add(token)
    raise BackendError(f"paging did not end after {MAX_PAGES} pages")


def _token(page: Mapping[str, Any], key: str) -> str | None:
    """A page's continuation token: a string, or none."""
    token = page.get(key)
    if token is None or token == "":
        return None
    if not isinstance(token, str):
        raise DescribeError(f"{key}: expected a string, got {token!r}"[:120])
    return token


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for first in range(0, len(items), size):
        yield items[first : first + size]


def _throughput_json(read: int, write: int) -> ProvisionedThroughputTypeDef:
    return {"ReadCapacityUnits": read, "WriteCapacityUnits": write}


def _warm_json(warm: WarmThroughput) -> WarmThroughputTypeDef:
    """``WarmThroughput`` with both values: moto keeps only the members sent."""
    return {
        "ReadUnitsPerSecond": warm.read_units_per_second,
        "WriteUnitsPerSecond": warm.write_units_per_second,
    }


def _on_demand_json(limit: Throughput) -> OnDemandThroughputTypeDef:
    """``OnDemandThroughput``: a dimension of 0 (no maximum) is sent as AWS's -1."""
    return {
        "MaxReadRequestUnits": limit.read or -1,
        "MaxWriteRequestUnits": limit.write or -1,
    }


def _dimension(dimension: str) -> ScalableDimensionType:
    """The model keeps a scalable dimension as text; AWS checks it (the stubs list them all)."""
    return cast("ScalableDimensionType", dimension)


def _metric_type(metric: str) -> MetricTypeType:
    """The model keeps a predefined metric as text; AWS checks it (the stubs list them all)."""
    return cast("MetricTypeType", metric)


def _suspended(target: Mapping[str, Any], path: str) -> bool:
    state = mapping(target.get("SuspendedState") or {}, f"{path}.SuspendedState")
    path = f"{path}.SuspendedState"
    return flag(state, "DynamicScalingInSuspended", path) or flag(
        state, "DynamicScalingOutSuspended", path
    )


def target_from_aws(raw: object, path: str = "ScalableTarget") -> ScalableTarget:
    """A :class:`ScalableTarget` from one ``ScalableTargets`` element.  ``suspended`` is true
    when dynamic scaling in *or* out is suspended (either stops target tracking working).
    A missing field or a value of the wrong type raises :class:`DescribeError` naming it."""
    doc = mapping(raw, path)
    return ScalableTarget(
        resource_id=text(doc, "ResourceId", path),
        dimension=text(doc, "ScalableDimension", path),
        min_capacity=whole(doc, "MinCapacity", path),
        max_capacity=whole(doc, "MaxCapacity", path),
        suspended=_suspended(doc, path),
    )


def policy_from_aws(raw: object, path: str = "ScalingPolicy") -> ScalingPolicy:
    """A :class:`ScalingPolicy` from one ``ScalingPolicies`` element.  A StepScaling policy
    (not supported for DynamoDB) keeps its type, target value 0 and its cooldown."""
    doc = mapping(raw, path)
    policy_type = text(doc, "PolicyType", path, default="TargetTrackingScaling")
    name = text(doc, "PolicyName", path)
    rid = text(doc, "ResourceId", path)
    dimension = text(doc, "ScalableDimension", path)
    tracking = doc.get("TargetTrackingScalingPolicyConfiguration")
    if tracking:
        tpath = f"{path}.TargetTrackingScalingPolicyConfiguration"
        tracking = mapping(tracking, tpath)
        predefined = mapping(
            tracking.get("PredefinedMetricSpecification") or {},
            f"{tpath}.PredefinedMetricSpecification",
        )
        metric = predefined.get("PredefinedMetricType")
        return ScalingPolicy(
            name=name,
            resource_id=rid,
            dimension=dimension,
            policy_type=policy_type,
            target_value=number(tracking, "TargetValue", tpath, default=0.0),
            predefined_metric=text(
                predefined, "PredefinedMetricType", f"{tpath}.PredefinedMetricSpecification"
            )
            if metric
            else None,
            scale_out_cooldown=whole(tracking, "ScaleOutCooldown", tpath, default=0),
            scale_in_cooldown=whole(tracking, "ScaleInCooldown", tpath, default=0),
            disable_scale_in=flag(tracking, "DisableScaleIn", tpath),
        )
    spath = f"{path}.StepScalingPolicyConfiguration"
    step = mapping(doc.get("StepScalingPolicyConfiguration") or {}, spath)
    cooldown = whole(step, "Cooldown", spath, default=0)
    return ScalingPolicy(
        name=name,
        resource_id=rid,
        dimension=dimension,
        policy_type=policy_type,
        target_value=0.0,
        predefined_metric=None,
        scale_out_cooldown=cooldown,
        scale_in_cooldown=cooldown,
    )


def scheduled_action_from_aws(raw: object, path: str = "ScheduledAction") -> ScheduledAction:
    """A :class:`ScheduledAction` from one ``ScheduledActions`` element; a missing field or a
    value of the wrong type raises :class:`DescribeError` naming it (and what is allowed).

    Required (as the API reference says): ``ScheduledActionName``, ``ResourceId``,
    ``ScalableDimension``, ``Schedule`` (non-empty strings).  ``ScalableTargetAction`` (an
    object; ``MinCapacity``/``MaxCapacity`` whole numbers ≥ 0, either absent: unchanged),
    ``Timezone`` (a string; empty: UTC), ``StartTime``/``EndTime``/``CreationTime``
    (times; one without a zone is UTC) may be absent."""
    doc = mapping(raw, path)
    apath = f"{path}.ScalableTargetAction"
    bounds = doc.get("ScalableTargetAction")
    action = {} if bounds is None else mapping(bounds, apath)

    def required(key: str) -> str:
        value = text(doc, key, path)
        if not value.strip():
            raise DescribeError(f"{path}.{key} is empty (a non-empty string is required)")
        return value

    def moment(key: str) -> datetime | None:
        value = doc.get(key)
        if value is None:
            return None
        if not isinstance(value, datetime):
            shown = repr(value)
            shown = shown if len(shown) <= 80 else shown[:80] + "…"
            raise DescribeError(f"{path}.{key}: expected a time, got {shown}")
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)

    return ScheduledAction(
        name=required("ScheduledActionName"),
        resource_id=required("ResourceId"),
        dimension=required("ScalableDimension"),
        schedule=required("Schedule"),
        min_capacity=optional_whole(action, "MinCapacity", apath),
        max_capacity=optional_whole(action, "MaxCapacity", apath),
        timezone=text(doc, "Timezone", path, default="") or None,
        start=moment("StartTime"),
        end=moment("EndTime"),
        created=moment("CreationTime"),
    )


def activity_from_aws(raw: object, path: str = "ScalingActivity") -> ScalingActivity:
    """A :class:`ScalingActivity` from one ``ScalingActivities`` element.  ``Pending`` counts
    as in progress and ``Overridden`` as failed; AWS's own status stays in ``details``."""
    doc = mapping(raw, path)
    status = text(doc, "StatusCode", path, default="Successful")
    details: dict[str, str] = {"StatusCode": status}
    if doc.get("Details"):
        details["Details"] = text(doc, "Details", path)
    if doc.get("ActivityId"):
        details["ActivityId"] = text(doc, "ActivityId", path)
    reasons = answers.items(doc, "NotScaledReasons", required=False)
    for i, reason in enumerate(reasons):
        reason = mapping(reason, f"{path}.NotScaledReasons[{i}]")
        details[f"NotScaledReason{i}"] = ", ".join(f"{k}={v}" for k, v in sorted(reason.items()))
    start = doc.get("StartTime")
    end = doc.get("EndTime")
    return ScalingActivity(
        resource_id=text(doc, "ResourceId", path),
        dimension=text(doc, "ScalableDimension", path),
        start=_utc(start) if isinstance(start, datetime) else datetime.now(UTC),
        description=text(doc, "Description", path, default=""),
        cause=text(doc, "Cause", path, default=""),
        status=ACTIVITY_STATUS.get(status, "Failed"),
        end=_utc(end) if isinstance(end, datetime) else None,
        status_message=text(doc, "StatusMessage", path, default=""),
        details=details,
    )


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _is_not_implemented(error: ClientError) -> bool:
    """An endpoint without the operation: moto answers HTTP 500 with an HTML page (so the
    "code" is just the status), others 501 or ``NotImplemented``."""
    code = client_error_code(error)
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return (
        status == 501
        or code in {"NotImplemented", "NotImplementedException", "501"}
        or (status == 500 and code in {"", "500"})
    )


class AwsAdapter:
    """Every port (:class:`capcon.core.ports.Backend`) for one AWS account and region."""

    def __init__(
        self,
        session: AwsSession,
        *,
        describe_workers: int = DESCRIBE_WORKERS,
    ) -> None:
        self.session = session
        self.label = session.label
        self.describe_workers = describe_workers
        self.shards_page = SHARDS_PAGE
        self._table_rate = RateLimiter(DESCRIBE_TABLE_PER_SECOND)
        self._list_streams_rate = RateLimiter(LIST_STREAMS_PER_SECOND)
        self._stream_rate = RateLimiter(DESCRIBE_STREAM_SUMMARY_PER_SECOND)
        self._activities_supported = True
        self._advantage: tuple[float, bool | None] | None = None
        self._advantage_lock = threading.Lock()

    # --- clients -----------------------------------------------------------------------------

    # Every answer a read receives is checked first (answers.watch): a body that is not JSON
    # is an error naming the operation, where botocore would have made it an empty answer.

    @property
    def dynamodb(self) -> DynamoDBClient:
        return answers.watch(self.session.dynamodb())

    @property
    def kinesis(self) -> KinesisClient:
        return answers.watch(self.session.kinesis())

    @property
    def cloudwatch(self) -> CloudWatchClient:
        return answers.watch(self.session.cloudwatch())

    @property
    def autoscaling(self) -> ApplicationAutoScalingClient:
        return answers.watch(self.session.autoscaling())

    # Mutations are sent once: botocore's retries would resend a request whose answer was
    # lost (a read timeout, a reset) although it may have been carried out.  The scaler
    # decides what happens next, after reading the resource (``BackendError.maybe_sent``; a
    # malformed answer to a mutation is one too: a server answered, something happened).

    @property
    def dynamodb_once(self) -> DynamoDBClient:
        return answers.watch(self.session.dynamodb(max_attempts=1))

    @property
    def kinesis_once(self) -> KinesisClient:
        return answers.watch(self.session.kinesis(max_attempts=1))

    @property
    def autoscaling_once(self) -> ApplicationAutoScalingClient:
        return answers.watch(self.session.autoscaling(max_attempts=1))

    # --- clock -------------------------------------------------------------------------------

    def now(self) -> datetime:
        """Wall-clock time in UTC."""
        return datetime.now(UTC)

    # --- inventory ---------------------------------------------------------------------------

    def list_tables(self) -> list[str]:
        """Every table name (``ListTables``, 100 a page).  A page without ``TableNames`` (or
        with something else than names in it) is an error, never an empty account."""
        names: list[str] = []
        pages = self.dynamodb.get_paginator("list_tables").paginate(
            PaginationConfig={"PageSize": TABLES_PAGE}
        )
        with calling("dynamodb:ListTables"):
            self._table_rate.acquire()
            for page in pages:  # each page is requested as the loop comes back for it
                names += answers.names(page, "TableNames")
                if _token(page, "LastEvaluatedTableName"):
                    self._table_rate.acquire()  # a next page follows
        return names

    def describe_table(self, name: str) -> Table:
        """``DescribeTable``; an answer that does not describe table ``name`` is a
        :class:`MalformedAnswer`."""
        action: Final = "dynamodb:DescribeTable"
        resource = f"table {name}"
        self._table_rate.acquire()
        with calling(action, resource):
            answer = self.dynamodb.describe_table(TableName=name)
        try:
            if "Table" not in answer:
                raise DescribeError("Table is missing (the table's description is required)")
            table = table_from_describe(answer)
        except DescribeError as error:
            raise malformed(action, resource, str(error)) from None
        if table.name != name:
            raise malformed(action, resource, f"it describes another table, {table.name!r}")
        return table

    def describe_tables(self, names: Sequence[str]) -> list[Table]:
        """``describe_table`` for many tables on a bounded thread pool, in the order given.
        A table deleted since it was listed is left out."""
        return self._describe_many(names, self.describe_table)

    def list_streams(self) -> list[str]:
        """Every stream name, paging with ``ExclusiveStartStreamName`` until
        ``HasMoreStreams`` is false."""
        # By hand, not boto3's paginator: it pages with NextToken, which moto never returns
        # (its listing would stop after the first page).
        names: list[str] = []
        start: str | None = None
        for _ in range(MAX_PAGES):
            params: ListStreamsInputTypeDef = {"Limit": STREAMS_PAGE}
            if start:
                params["ExclusiveStartStreamName"] = start
            self._list_streams_rate.acquire()
            with calling("kinesis:ListStreams"):
                page = self.kinesis.list_streams(**params)
                batch = answers.names(page, "StreamNames")
                more = page.get("HasMoreStreams")
                if not isinstance(more, bool):
                    raise DescribeError(f"HasMoreStreams: expected true or false, got {more!r}")
            names += batch
            if not more or not batch or batch[-1] == start:
                return names
            start = batch[-1]
        raise BackendError(f"kinesis:ListStreams did not end after {MAX_PAGES} pages")

    def _shards(self, name: str) -> list[ShardTypeDef]:
        """Every shard of a stream (open and closed), following ``NextToken``.  AWS refuses
        ``StreamName`` together with ``NextToken``: later pages send only the token."""
        # By hand, not boto3's paginator: it sends StreamName with every page, which AWS
        # refuses past the first (botocore issue 2009).
        shards: list[ShardTypeDef] = []

        def fetch(token: str | None) -> ListShardsOutputTypeDef:
            params: ListShardsInputTypeDef = {"MaxResults": self.shards_page}
            if token:
                params["NextToken"] = token
            else:
                params["StreamName"] = name
            return self.kinesis.list_shards(**params)

        with calling("kinesis:ListShards", f"stream {name}"):
            for page in _pages(fetch):
                shards += answers.items(page, "Shards")
        return shards

    def describe_stream(self, name: str) -> Stream:
        """``DescribeStreamSummary`` and every shard from ``ListShards``: the open-shard count
        comes from the shards, never from ``OpenShardCount``."""
        action: Final = "kinesis:DescribeStreamSummary"
        resource = f"stream {name}"
        self._stream_rate.acquire()
        with calling(action, resource):
            summary = self.kinesis.describe_stream_summary(StreamName=name)
        if "StreamDescriptionSummary" not in summary:
            raise malformed(action, resource, "StreamDescriptionSummary is missing")
        shards = self._shards(name)
        try:
            stream = stream_from_describe(summary, shards)
        except DescribeError as error:
            # the summary or the shards (ListShards, read second)
            raise malformed(f"{action} + kinesis:ListShards", resource, str(error)) from None
        if stream.name != name:
            raise malformed(action, resource, f"it describes another stream, {stream.name!r}")
        doc = summary["StreamDescriptionSummary"]
        if "ConsumerCount" not in doc and stream.arn:  # older endpoints, moto
            stream = dataclasses.replace(stream, consumer_count=self._consumers(stream))
        if stream.is_on_demand and stream.on_demand_advantage is None:
            stream = dataclasses.replace(stream, on_demand_advantage=self.on_demand_advantage())
        return stream

    def _consumers(self, stream: Stream) -> int:
        """Enhanced fan-out consumers registered on ``stream`` (``ListStreamConsumers``)."""
        arn = cast(str, stream.arn)
        listed: list[object] = []

        def fetch(token: str | None) -> Mapping[str, Any]:
            if token:
                return self.kinesis.list_stream_consumers(StreamARN=arn, NextToken=token)
            return self.kinesis.list_stream_consumers(StreamARN=arn, MaxResults=CONSUMERS_PAGE)

        resource = f"stream {stream.name}"
        with calling("kinesis:ListStreamConsumers", resource):
            for page in _pages(fetch):
                listed += answers.items(page, "Consumers", required=False)
        try:
            return consumers_from_list(listed)
        except DescribeError as error:
            raise malformed("kinesis:ListStreamConsumers", resource, str(error)) from None

    def on_demand_advantage(self) -> bool | None:
        """Whether the account uses On-demand Advantage in this region
        (``DescribeAccountSettings``), asked at most once every
        :data:`ACCOUNT_SETTINGS_SECONDS`; ``None`` when unknown (the call denied, not
        implemented — moto —, or answered without the setting)."""
        with self._advantage_lock:
            now = time.monotonic()
            if self._advantage is not None and now - self._advantage[0] < ACCOUNT_SETTINGS_SECONDS:
                return self._advantage[1]
            value: bool | None
            try:
                with calling("kinesis:DescribeAccountSettings"):
                    answer: Mapping[str, Any] = self.kinesis.describe_account_settings()
                value = advantage_from_settings(answer)
            except (BackendError, DescribeError):
                value = None
            self._advantage = (now, value)
            return value

    def describe_streams(self, names: Sequence[str]) -> list[Stream]:
        """``describe_stream`` for many streams on a bounded thread pool (rate-limited to
        stay under ``DescribeStreamSummary``'s 20/s), in the order given."""
        return self._describe_many(names, self.describe_stream)

    def _describe_many(self, names: Sequence[str], describe: Callable[[str], R]) -> list[R]:
        def one(name: str) -> R | None:
            try:
                return describe(name)
            except NotFound:
                return None

        if not names:
            return []
        workers = max(1, min(self.describe_workers, len(names)))
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="capcon-describe")
        try:
            futures = [pool.submit(one, name) for name in names]
            found = [future.result() for future in futures]
        finally:
            # on the first error, what has not started yet is dropped, not sent
            pool.shutdown(wait=True, cancel_futures=True)
        return [item for item in found if item is not None]

    def account_limits(self) -> AccountLimits:
        """``dynamodb:DescribeLimits`` and ``kinesis:DescribeLimits``."""
        defaults = AccountLimits()
        with calling("dynamodb:DescribeLimits"):
            ddb: Mapping[str, Any] = self.dynamodb.describe_limits()
            limits = {
                key: whole(ddb, key, "DescribeLimits", default=default)
                for key, default in (
                    ("AccountMaxReadCapacityUnits", defaults.account_max_read_units),
                    ("AccountMaxWriteCapacityUnits", defaults.account_max_write_units),
                    ("TableMaxReadCapacityUnits", defaults.table_max_read_units),
                    ("TableMaxWriteCapacityUnits", defaults.table_max_write_units),
                )
            }
        with calling("kinesis:DescribeLimits"):
            kin: Mapping[str, Any] = self.kinesis.describe_limits()
            shard_limit = optional_whole(kin, "ShardLimit", "DescribeLimits")
            open_shards = whole(
                kin, "OpenShardCount", "DescribeLimits", default=defaults.open_shard_count
            )
            on_demand = optional_whole(kin, "OnDemandStreamCount", "DescribeLimits")
            on_demand_limit = optional_whole(kin, "OnDemandStreamCountLimit", "DescribeLimits")
        return AccountLimits(
            account_max_read_units=limits["AccountMaxReadCapacityUnits"],
            account_max_write_units=limits["AccountMaxWriteCapacityUnits"],
            table_max_read_units=limits["TableMaxReadCapacityUnits"],
            table_max_write_units=limits["TableMaxWriteCapacityUnits"],
            shard_limit=shard_limit,
            open_shard_count=open_shards,
            on_demand_stream_count=on_demand,
            on_demand_stream_count_limit=on_demand_limit,
        )

    # --- metrics -----------------------------------------------------------------------------

    def get_metric_data(
        self,
        queries: Sequence[MetricQuery],
        start: datetime,
        end: datetime,
        *,
        sent: RequestCounter | None = None,
    ) -> list[MetricSeries]:
        """One ``GetMetricData`` request (its ``NextToken`` pages followed): no batching, no
        cache, no count of its own; :class:`capcon.core.services.metrics.MetricsService` does
        those, and ``sent`` is told of every request."""
        return cloudwatch.get_metric_data(self.cloudwatch, queries, start, end, sent=sent)

    # --- actuation ---------------------------------------------------------------------------

    @staticmethod
    def table_request(name: str, change: TableChange) -> UpdateTableInputTypeDef:
        """The ``UpdateTable`` parameters for ``change``."""
        params: UpdateTableInputTypeDef = {"TableName": name}
        on_demand = change.billing_mode is BillingMode.PAY_PER_REQUEST
        if change.billing_mode is not None:
            params["BillingMode"] = "PAY_PER_REQUEST" if on_demand else "PROVISIONED"
        if on_demand and (change.table is not None or change.indexes):
            raise ValidationFailed(
                f"table {name}: a switch to on-demand takes no capacity (drop the RCU/WCU)"
            )
        if change.table is not None:
            params["ProvisionedThroughput"] = _throughput_json(
                change.table.read, change.table.write
            )
        updates: dict[str, UpdateGlobalSecondaryIndexActionTypeDef] = {}
        for index, capacity in change.indexes:
            updates.setdefault(index, {"IndexName": index})["ProvisionedThroughput"] = (
                _throughput_json(capacity.read, capacity.write)
            )
        if change.warm is not None:
            params["WarmThroughput"] = _warm_json(change.warm)
        for index, warm in change.index_warm:
            updates.setdefault(index, {"IndexName": index})["WarmThroughput"] = _warm_json(warm)
        if change.on_demand_max is not None:
            params["OnDemandThroughput"] = _on_demand_json(change.on_demand_max)
        for index, limit in change.index_on_demand_max:
            updates.setdefault(index, {"IndexName": index})["OnDemandThroughput"] = _on_demand_json(
                limit
            )
        if updates:
            params["GlobalSecondaryIndexUpdates"] = [{"Update": u} for u in updates.values()]
        if change.table_class is not None:
            params["TableClass"] = (
                "STANDARD_INFREQUENT_ACCESS"
                if change.table_class is TableClass.STANDARD_INFREQUENT_ACCESS
                else "STANDARD"
            )
        if len(params) == 1:
            raise ValidationFailed(f"table {name}: the change has nothing to change")
        return params

    def update_table(self, name: str, change: TableChange) -> Table:
        """``UpdateTable`` and the table as described right after."""
        request = self.table_request(name, change)
        with calling("dynamodb:UpdateTable", f"table {name}"):
            self.dynamodb_once.update_table(**request)
        return self.describe_table(name)

    def describe_table_replica_auto_scaling(self, name: str) -> tuple[ReplicaScaling, ...]:
        """``DescribeTableReplicaAutoScaling``: a global table's replica auto scaling (empty
        for a table without replicas, or where the endpoint does not implement the call)."""
        action: Action = "dynamodb:DescribeTableReplicaAutoScaling"
        with calling(action, f"table {name}"):
            try:
                answer = self.dynamodb.describe_table_replica_auto_scaling(TableName=name)
            except ClientError as error:
                if not _is_not_implemented(error):
                    raise
                return ()
        try:
            return replica_auto_scaling_from_describe(cast("Mapping[str, Any]", answer))
        except DescribeError as error:
            raise malformed(action, f"table {name}", str(error)) from None

    def update_shard_count(self, name: str, target: int) -> Stream:
        with calling("kinesis:UpdateShardCount", f"stream {name}"):
            self.kinesis_once.update_shard_count(
                StreamName=name, TargetShardCount=target, ScalingType="UNIFORM_SCALING"
            )
        return self.describe_stream(name)

    def split_shard(self, name: str, shard_id: str, new_starting_hash_key: int) -> None:
        with calling("kinesis:SplitShard", f"stream {name}"):
            self.kinesis_once.split_shard(
                StreamName=name,
                ShardToSplit=shard_id,
                NewStartingHashKey=str(new_starting_hash_key),
            )

    def merge_shards(self, name: str, shard_id: str, adjacent_shard_id: str) -> None:
        with calling("kinesis:MergeShards", f"stream {name}"):
            self.kinesis_once.merge_shards(
                StreamName=name, ShardToMerge=shard_id, AdjacentShardToMerge=adjacent_shard_id
            )

    def update_stream_mode(self, name: str, mode: StreamMode) -> None:
        """``UpdateStreamMode`` (it takes the stream's ARN, read first)."""
        with calling("kinesis:DescribeStreamSummary", f"stream {name}"):
            summary = self.kinesis.describe_stream_summary(StreamName=name)
        arn = summary.get("StreamDescriptionSummary", {}).get("StreamARN")
        if not arn:
            raise BackendError(f"kinesis:DescribeStreamSummary on stream {name}: no StreamARN")
        aws_mode: StreamModeType = (
            "ON_DEMAND" if StreamMode(mode) is StreamMode.ON_DEMAND else "PROVISIONED"
        )
        with calling("kinesis:UpdateStreamMode", f"stream {name}"):
            self.kinesis_once.update_stream_mode(
                StreamARN=arn, StreamModeDetails={"StreamMode": aws_mode}
            )

    # --- Application Auto Scaling ------------------------------------------------------------

    def describe_scalable_targets(
        self, resource_ids: Sequence[str] | None = None
    ) -> list[ScalableTarget]:
        """DynamoDB's scalable targets (``ResourceIds`` sent 50 at a time when given)."""
        batches: list[Sequence[str] | None] = [None]
        if resource_ids is not None:
            batches = list(_chunks(list(resource_ids), RESOURCE_IDS_PER_CALL))
        found: dict[tuple[str, str], ScalableTarget] = {}
        with calling("application-autoscaling:DescribeScalableTargets"):
            for batch in batches:
                for i, raw in enumerate(self._scalable_targets(batch)):
                    target = target_from_aws(raw, f"ScalableTargets[{i}]")
                    found[(target.resource_id, target.dimension)] = target
        return list(found.values())

    def _scalable_targets(
        self, resource_ids: Sequence[str] | None
    ) -> Iterator[ScalableTargetTypeDef]:
        """One ``DescribeScalableTargets`` listing, page by page."""
        # By hand, not boto3's paginator: moto answers every page with the same NextToken,
        # which the paginator refuses (an error); here the listing ends at a repeated token.

        def fetch(token: str | None) -> DescribeScalableTargetsResponseTypeDef:
            params: DescribeScalableTargetsRequestTypeDef = {"ServiceNamespace": NAMESPACE}
            if resource_ids is not None:
                params["ResourceIds"] = list(resource_ids)
            if token:
                params["NextToken"] = token
            return self.autoscaling.describe_scalable_targets(**params)

        for page in _pages(fetch):
            yield from answers.items(page, "ScalableTargets")

    def describe_scaling_policies(
        self, resource_ids: Sequence[str] | None = None
    ) -> list[ScalingPolicy]:
        """DynamoDB's scaling policies (all of them; filtered to ``resource_ids`` if given)."""
        wanted = None if resource_ids is None else set(resource_ids)
        found: dict[tuple[str, str, str], ScalingPolicy] = {}
        pages = self.autoscaling.get_paginator("describe_scaling_policies").paginate(
            ServiceNamespace=NAMESPACE
        )
        with calling("application-autoscaling:DescribeScalingPolicies"):
            for page in pages:
                for i, raw in enumerate(answers.items(page, "ScalingPolicies")):
                    policy = policy_from_aws(raw, f"ScalingPolicies[{i}]")
                    if wanted is None or policy.resource_id in wanted:
                        found[(policy.name, policy.resource_id, policy.dimension)] = policy
        return list(found.values())

    def describe_scaling_activities(self, resource_id: str | None = None) -> list[ScalingActivity]:
        """What AAS did, newest first (including what it declined to do).  An endpoint that
        does not implement the call (moto) gives an empty list."""
        if not self._activities_supported:
            return []
        # A diagnostic read: one retry at most, so an endpoint without it answers quickly.
        aas = answers.watch(self.session.autoscaling(max_attempts=2))
        request: DescribeScalingActivitiesRequestPaginateTypeDef = {
            "ServiceNamespace": NAMESPACE,
            "IncludeNotScaledActivities": True,
        }
        if resource_id is not None:
            request["ResourceId"] = resource_id
        pages = aas.get_paginator("describe_scaling_activities").paginate(**request)
        activities: list[ScalingActivity] = []
        with calling("application-autoscaling:DescribeScalingActivities", resource_id):
            try:
                for page in pages:
                    activities += [
                        activity_from_aws(raw, f"ScalingActivities[{i}]")
                        for i, raw in enumerate(
                            answers.items(page, "ScalingActivities", required=False)
                        )
                    ]
            except ClientError as error:
                if not _is_not_implemented(error):
                    raise
                self._activities_supported = False
                return []
        return activities

    def register_scalable_target(self, target: ScalableTarget) -> None:
        suspended = bool(target.suspended)
        with calling("application-autoscaling:RegisterScalableTarget", target.resource_id):
            self.autoscaling_once.register_scalable_target(
                ServiceNamespace=NAMESPACE,
                ResourceId=target.resource_id,
                ScalableDimension=_dimension(target.dimension),
                MinCapacity=target.min_capacity,
                MaxCapacity=target.max_capacity,
                SuspendedState={
                    "DynamicScalingInSuspended": suspended,
                    "DynamicScalingOutSuspended": suspended,
                    "ScheduledScalingSuspended": suspended,
                },
            )

    def deregister_scalable_target(self, resource_id: str, dimension: str) -> None:
        with calling("application-autoscaling:DeregisterScalableTarget", resource_id):
            self.autoscaling_once.deregister_scalable_target(
                ServiceNamespace=NAMESPACE,
                ResourceId=resource_id,
                ScalableDimension=_dimension(dimension),
            )

    def put_scaling_policy(self, policy: ScalingPolicy) -> None:
        """A ``TargetTrackingScaling`` policy on a predefined DynamoDB utilisation metric (the
        only kind AAS supports for DynamoDB)."""
        if policy.policy_type != "TargetTrackingScaling":
            raise ValidationFailed(
                f"policy {policy.name}: DynamoDB supports only TargetTrackingScaling policies, "
                f"not {policy.policy_type}"
            )
        metric = policy.predefined_metric or (
            READ_UTILIZATION if "ReadCapacityUnits" in policy.dimension else WRITE_UTILIZATION
        )
        with calling("application-autoscaling:PutScalingPolicy", policy.resource_id):
            self.autoscaling_once.put_scaling_policy(
                PolicyName=policy.name,
                ServiceNamespace=NAMESPACE,
                ResourceId=policy.resource_id,
                ScalableDimension=_dimension(policy.dimension),
                PolicyType="TargetTrackingScaling",
                TargetTrackingScalingPolicyConfiguration={
                    "TargetValue": float(policy.target_value),
                    "PredefinedMetricSpecification": {"PredefinedMetricType": _metric_type(metric)},
                    "ScaleOutCooldown": policy.scale_out_cooldown,
                    "ScaleInCooldown": policy.scale_in_cooldown,
                    "DisableScaleIn": policy.disable_scale_in,
                },
            )

    def delete_scaling_policy(self, name: str, resource_id: str, dimension: str) -> None:
        with calling("application-autoscaling:DeleteScalingPolicy", resource_id):
            self.autoscaling_once.delete_scaling_policy(
                PolicyName=name,
                ServiceNamespace=NAMESPACE,
                ResourceId=resource_id,
                ScalableDimension=_dimension(dimension),
            )

    def describe_scheduled_actions(self, resource_id: str | None = None) -> list[ScheduledAction]:
        """DynamoDB's scheduled actions (``ResourceId`` filters when given), every page; an
        action listed twice (a page repeated) counts once."""
        found: dict[tuple[str, str, str], ScheduledAction] = {}
        with calling("application-autoscaling:DescribeScheduledActions", resource_id):
            for i, raw in enumerate(self._scheduled_actions(resource_id)):
                # i counts across pages: the n-th action of the whole listing
                action = scheduled_action_from_aws(raw, f"ScheduledActions[{i}]")
                found[(action.name, action.resource_id, action.dimension)] = action
        return list(found.values())

    def _scheduled_actions(self, resource_id: str | None) -> Iterator[object]:
        """One ``DescribeScheduledActions`` listing, page by page (by hand, as for the
        scalable targets: a repeated ``NextToken`` ends it instead of failing)."""

        def fetch(token: str | None) -> DescribeScheduledActionsResponseTypeDef:
            params: DescribeScheduledActionsRequestTypeDef = {"ServiceNamespace": NAMESPACE}
            if resource_id is not None:
                params["ResourceId"] = resource_id
            if token:
                params["NextToken"] = token
            return self.autoscaling.describe_scheduled_actions(**params)

        for page in _pages(fetch):
            yield from answers.items(page, "ScheduledActions", required=False)

    def put_scheduled_action(self, action: ScheduledAction) -> None:
        request: dict[str, Any] = {
            "ServiceNamespace": NAMESPACE,
            "ScheduledActionName": action.name,
            "ResourceId": action.resource_id,
            "ScalableDimension": _dimension(action.dimension),
            "Schedule": action.schedule,
        }
        bounds: dict[str, int] = {}
        if action.min_capacity is not None:
            bounds["MinCapacity"] = action.min_capacity
        if action.max_capacity is not None:
            bounds["MaxCapacity"] = action.max_capacity
        if bounds:
            request["ScalableTargetAction"] = bounds
        if action.timezone:
            request["Timezone"] = action.timezone
        if action.start is not None:
            request["StartTime"] = action.start
        if action.end is not None:
            request["EndTime"] = action.end
        with calling("application-autoscaling:PutScheduledAction", action.resource_id):
            self.autoscaling_once.put_scheduled_action(**request)

    def delete_scheduled_action(self, name: str, resource_id: str, dimension: str) -> None:
        with calling("application-autoscaling:DeleteScheduledAction", resource_id):
            self.autoscaling_once.delete_scheduled_action(
                ServiceNamespace=NAMESPACE,
                ScheduledActionName=name,
                ResourceId=resource_id,
                ScalableDimension=_dimension(dimension),
            )
