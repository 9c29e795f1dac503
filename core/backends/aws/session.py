"""An AWS session from the standard boto3 chain, with capcon's client settings.

Credentials and region come from where every AWS tool looks for them: ``--profile`` /
``AWS_PROFILE``, ``AWS_ACCESS_KEY_ID`` …, ``~/.aws/config`` and ``~/.aws/credentials``, SSO,
instance and container roles.  ``--endpoint-url`` points every client at one endpoint (a moto
server, LocalStack).  Clients retry in botocore's ``standard`` mode (its default is still
``legacy``) with timeouts sized for a control plane, so a dead endpoint fails in well under
half a minute, not minutes.

Why these numbers: DynamoDB's, Kinesis's, Application Auto Scaling's and STS's control-plane
calls answer in tens of milliseconds, and connecting to an AWS endpoint takes less than one;
an answer that has not started after 6 s will not come, and a connection not made in 3 s
(two SYNs) is not being made.  Three attempts leave throttling two retries (throttled answers
come at once, and botocore backs off 1 s then 2 s at most) and a lost packet one.  So one call
fails within ``3 × (3 + 6) + 1 + 2 = 30`` s at worst (:func:`worst_case_seconds`), and an
endpoint that accepts connections and never answers fails in ``3 × 6 = 18`` s; one that drops
them in ``3 × 3 = 9`` s.  ``GetMetricData`` computes its answer (up to 500 series) before it
sends a byte, so CloudWatch gets a longer read timeout and one retry: ``2 × (3 + 10) + 1 = 27``
s.  The caller's identity (for the audit log; STS is used for nothing else) gets one attempt
of 3 s: it is ``"unknown"`` when it cannot be read, and it must not double the time a dead
endpoint takes to report (``capcon ls`` on a hung endpoint: 3 + 18 s).

A read timeout bounds the wait for each piece of the answer, not the whole: an endpoint that
trickles a byte every few seconds is not caught by it (nor by botocore).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal, TypeVar, cast, get_args

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ProfileNotFound

from capcon.core.backends.aws.errors import calling, map_error
from capcon.core.errors import BackendError, CredentialsMissing
from capcon.core.redact import redact_url

if TYPE_CHECKING:  # the stubs are for the type checker: nothing here is needed at run time
    from types_boto3_application_autoscaling.client import ApplicationAutoScalingClient
    from types_boto3_cloudformation.client import CloudFormationClient
    from types_boto3_cloudwatch.client import CloudWatchClient
    from types_boto3_dynamodb.client import DynamoDBClient
    from types_boto3_events.client import EventBridgeClient
    from types_boto3_kinesis.client import KinesisClient
    from types_boto3_s3.client import S3Client
    from types_boto3_scheduler.client import EventBridgeSchedulerClient
    from types_boto3_sts.client import STSClient

C = TypeVar("C")

#: The region used with ``--endpoint-url`` when nothing else names one (moto, LocalStack).
ENDPOINT_DEFAULT_REGION = "us-east-1"

#: Attempts of a control-plane call, the first included (botocore's standard mode: 3).
MAX_ATTEMPTS = 3
#: Seconds to make a TCP (and TLS) connection.
CONNECT_TIMEOUT = 3.0
#: Seconds to wait for an answer (each read of it) from a control plane.
READ_TIMEOUT = 6.0
#: CloudWatch's ``GetMetricData`` computes its whole answer before sending it.
METRICS_READ_TIMEOUT = 10.0
METRICS_MAX_ATTEMPTS = 2
#: ``sts:GetCallerIdentity`` for the audit log's origin: best effort, one short attempt.
IDENTITY_MAX_ATTEMPTS = 1
IDENTITY_READ_TIMEOUT = 3.0

# botocore's standard retry mode (botocore.retries.standard.ExponentialBackoff): before retry
# i (1-based) it sleeps rand(0, 1) × min(base × 2^(i-1), 20) s, base 1 s after a throttling
# error and 0.05 s (DynamoDB 0.025 s) after any other.  A test checks these against botocore.
BACKOFF_CAP_SECONDS = 20.0
THROTTLING_BACKOFF_BASE_SECONDS = 1.0


def worst_case_seconds(attempts: int, connect_timeout: float, read_timeout: float) -> float:
    """The longest one call can take before it fails: every attempt connects just in time
    and then waits out the read timeout, and every retry follows botocore's longest back-off
    (the throttling one; a server's ``x-amz-retry-after`` header, which AWS's DynamoDB and
    Kinesis do not send, could add up to 5 s a retry)."""
    backoff = sum(
        min(THROTTLING_BACKOFF_BASE_SECONDS * 2.0 ** (retry - 1), BACKOFF_CAP_SECONDS)
        for retry in range(1, attempts)
    )
    return attempts * (connect_timeout + read_timeout) + backoff


Service = Literal["dynamodb", "kinesis", "cloudwatch", "application-autoscaling", "sts"]
#: The services capcon talks to (boto3 client names).
SERVICES: tuple[Service, ...] = get_args(Service)
#: What ``capcon deploy`` manages a stack with (:mod:`capcon.core.backends.aws.stacks`).
DeployService = Literal["cloudformation", "s3", "events", "scheduler"]


class AwsSession:
    """Credentials, region, endpoint and one boto3 client per service (created on first use,
    shared by threads: boto3 clients are thread-safe, sessions are not).

    ``max_attempts`` counts every attempt, the first included (as ``AWS_MAX_ATTEMPTS`` and the
    AWS CLI do; botocore's ``retries["max_attempts"]`` would count retries only): 3 means one
    request and up to 2 retries, 1 means no retry.  It and ``read_timeout`` are the control
    plane's; CloudWatch has ``metrics_max_attempts`` and ``metrics_read_timeout``.  An
    accessor's ``max_attempts`` overrides the session's for that client (mutations: 1).
    """

    def __init__(
        self,
        profile: str | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        *,
        max_attempts: int = MAX_ATTEMPTS,
        connect_timeout: float = CONNECT_TIMEOUT,
        read_timeout: float = READ_TIMEOUT,
        metrics_max_attempts: int = METRICS_MAX_ATTEMPTS,
        metrics_read_timeout: float = METRICS_READ_TIMEOUT,
        max_pool_connections: int = 16,
    ) -> None:
        for name, attempts in (
            ("max_attempts", max_attempts),
            ("metrics_max_attempts", metrics_max_attempts),
        ):
            if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
                raise ValueError(f"{name} must be a whole number of attempts ≥ 1, got {attempts!r}")
        for name, seconds in (
            ("connect_timeout", connect_timeout),
            ("read_timeout", read_timeout),
            ("metrics_read_timeout", metrics_read_timeout),
        ):
            if not (isinstance(seconds, int | float) and 0 < seconds <= 3600):
                raise ValueError(
                    f"{name} must be a number of seconds in (0, 3600], got {seconds!r}"
                )
        self.max_attempts = max_attempts
        self.metrics_max_attempts = metrics_max_attempts
        self.connect_timeout = float(connect_timeout)
        self.read_timeout = float(read_timeout)
        self.metrics_read_timeout = float(metrics_read_timeout)
        self.endpoint_url = endpoint_url or None
        try:
            self._boto = boto3.session.Session(profile_name=profile, region_name=region)
        except ProfileNotFound:
            raise CredentialsMissing(
                f"AWS profile {profile!r} not found in ~/.aws/config or ~/.aws/credentials: "
                "check --profile / AWS_PROFILE, or run aws configure --profile "
                f"{profile or 'NAME'}"
            ) from None
        except BotoCoreError as error:
            raise map_error(error, "session") from error
        self.profile: str | None = profile or _profile_in_use(self._boto)
        resolved = self._boto.region_name
        if not resolved:
            if self.endpoint_url is None:
                raise BackendError(
                    "no AWS region set: pass --region, set AWS_REGION or AWS_DEFAULT_REGION, "
                    "or set region in your profile (aws configure)"
                )
            resolved = ENDPOINT_DEFAULT_REGION
        self.region: str = resolved
        self.config = Config(
            region_name=self.region,
            retries={"mode": "standard", "total_max_attempts": max_attempts},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            max_pool_connections=max_pool_connections,
            user_agent_extra="capcon",
        )
        self._clients: dict[tuple[Service | DeployService, int | None], object] = {}
        self._lock = threading.Lock()
        self._identity: str | None = None

    @property
    def label(self) -> str:
        """Where requests go, for titles and the audit log: ``aws:prod/eu-west-1`` or
        ``aws:default/us-east-1 via http://127.0.0.1:5000`` (the endpoint redacted: no user
        info, no secret query value)."""
        base = f"aws:{self.profile or 'default'}/{self.region}"
        return f"{base} via {redact_url(self.endpoint_url)}" if self.endpoint_url else base

    def dynamodb(self, *, max_attempts: int | None = None) -> DynamoDBClient:
        return self._client(
            "dynamodb",
            max_attempts,
            lambda config: self._boto.client(
                "dynamodb", endpoint_url=self.endpoint_url, config=config
            ),
        )

    def kinesis(self, *, max_attempts: int | None = None) -> KinesisClient:
        return self._client(
            "kinesis",
            max_attempts,
            lambda config: self._boto.client(
                "kinesis", endpoint_url=self.endpoint_url, config=config
            ),
        )

    def cloudwatch(self, *, max_attempts: int | None = None) -> CloudWatchClient:
        return self._client(
            "cloudwatch",
            max_attempts,
            lambda config: self._boto.client(
                "cloudwatch", endpoint_url=self.endpoint_url, config=config
            ),
        )

    def autoscaling(self, *, max_attempts: int | None = None) -> ApplicationAutoScalingClient:
        """Application Auto Scaling's client; ``max_attempts`` gives it a retry budget of its
        own (a separate client)."""
        return self._client(
            "application-autoscaling",
            max_attempts,
            lambda config: self._boto.client(
                "application-autoscaling", endpoint_url=self.endpoint_url, config=config
            ),
        )

    def sts(self, *, max_attempts: int | None = None) -> STSClient:
        return self._client(
            "sts",
            max_attempts,
            lambda config: self._boto.client("sts", endpoint_url=self.endpoint_url, config=config),
        )

    def cloudformation(self, *, max_attempts: int | None = None) -> CloudFormationClient:
        return self._client(
            "cloudformation",
            max_attempts,
            lambda config: self._boto.client(
                "cloudformation", endpoint_url=self.endpoint_url, config=config
            ),
        )

    def s3(self, *, max_attempts: int | None = None) -> S3Client:
        """S3's client (path-style addressing with an endpoint URL: a moto server or
        LocalStack has no bucket subdomains)."""
        return self._client(
            "s3",
            max_attempts,
            lambda config: self._boto.client(
                "s3",
                endpoint_url=self.endpoint_url,
                config=config.merge(Config(s3={"addressing_style": "path"}))
                if self.endpoint_url
                else config,
            ),
        )

    def events(self, *, max_attempts: int | None = None) -> EventBridgeClient:
        return self._client(
            "events",
            max_attempts,
            lambda config: self._boto.client(
                "events", endpoint_url=self.endpoint_url, config=config
            ),
        )

    def scheduler(self, *, max_attempts: int | None = None) -> EventBridgeSchedulerClient:
        return self._client(
            "scheduler",
            max_attempts,
            lambda config: self._boto.client(
                "scheduler", endpoint_url=self.endpoint_url, config=config
            ),
        )

    def _client(
        self,
        service: Service | DeployService,
        max_attempts: int | None,
        make: Callable[[Config], C],
    ) -> C:
        """The client for ``service`` and retry budget, made by ``make`` (given the config) on
        first use."""
        key = (service, max_attempts)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                config = self.config
                metrics = service == "cloudwatch"
                if max_attempts is None:
                    max_attempts = self.metrics_max_attempts if metrics else self.max_attempts
                config = config.merge(
                    Config(
                        retries={"mode": "standard", "total_max_attempts": max_attempts},
                        read_timeout=(
                            self.metrics_read_timeout
                            if metrics
                            else min(IDENTITY_READ_TIMEOUT, self.read_timeout)
                            if service == "sts"
                            else self.read_timeout
                        ),
                    )
                )
                try:
                    client = make(config)
                except BotoCoreError as error:
                    raise map_error(error, f"{service}:client") from error
                self._clients[key] = client
            # the key names the service, and each service's client is made by its accessor
            return cast(C, client)

    def identity(self) -> str:
        """The caller's ARN (``sts:GetCallerIdentity``) for the audit log; ``"unknown"`` when
        it cannot be read (no credentials, no permission, endpoint down)."""
        if self._identity is None:
            try:
                with calling("sts:GetCallerIdentity"):
                    sts = self.sts(max_attempts=IDENTITY_MAX_ATTEMPTS)
                    arn = sts.get_caller_identity().get("Arn")
            except BackendError:
                return "unknown"
            self._identity = arn if isinstance(arn, str) and arn else "unknown"
        return self._identity


def _profile_in_use(session: boto3.session.Session) -> str | None:
    """The profile the chain picked (``AWS_PROFILE`` or ``default``), if any is configured."""
    try:
        name = session.profile_name
    except BotoCoreError:  # pragma: no cover - defensive
        return None
    return name if isinstance(name, str) else None
