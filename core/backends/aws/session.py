"""An AWS session from the standard boto3 chain, with capcon's client settings.

Credentials and region come from where every AWS tool looks for them: ``--profile`` /
``AWS_PROFILE``, ``AWS_ACCESS_KEY_ID`` …, ``~/.aws/config`` and ``~/.aws/credentials``, SSO,
instance and container roles.  ``--endpoint-url`` points every client at one endpoint (a moto
server, LocalStack).  Clients retry in botocore's ``standard`` mode (its default is still
``legacy``) with bounded timeouts, so a dead endpoint fails in seconds, not minutes.
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
    from types_boto3_cloudwatch.client import CloudWatchClient
    from types_boto3_dynamodb.client import DynamoDBClient
    from types_boto3_kinesis.client import KinesisClient
    from types_boto3_sts.client import STSClient

C = TypeVar("C")

#: The region used with ``--endpoint-url`` when nothing else names one (moto, LocalStack).
ENDPOINT_DEFAULT_REGION = "us-east-1"

Service = Literal["dynamodb", "kinesis", "cloudwatch", "application-autoscaling", "sts"]
#: The services capcon talks to (boto3 client names).
SERVICES: tuple[Service, ...] = get_args(Service)


class AwsSession:
    """Credentials, region, endpoint and one boto3 client per service (created on first use,
    shared by threads: boto3 clients are thread-safe, sessions are not).

    ``max_attempts`` counts every attempt, the first included (as ``AWS_MAX_ATTEMPTS`` and the
    AWS CLI do; botocore's ``retries["max_attempts"]`` would count retries only): 5 means one
    request and up to 4 retries, 1 means no retry.
    """

    def __init__(
        self,
        profile: str | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        *,
        max_attempts: int = 5,
        connect_timeout: float = 5,
        read_timeout: float = 20,
        max_pool_connections: int = 16,
    ) -> None:
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
        self._clients: dict[tuple[Service, int | None], object] = {}
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

    def _client(self, service: Service, max_attempts: int | None, make: Callable[[Config], C]) -> C:
        """The client for ``service`` and retry budget, made by ``make`` (given the config) on
        first use."""
        key = (service, max_attempts)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                config = self.config
                if max_attempts is not None:
                    config = config.merge(
                        Config(retries={"mode": "standard", "total_max_attempts": max_attempts})
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
                    arn = self.sts().get_caller_identity().get("Arn")
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
