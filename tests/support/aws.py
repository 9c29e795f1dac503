"""Helpers for tests (and benchmarks) that run capcon against the moto server, often through
the fault proxy: resources to create, and client limits small enough that a fault ends fast.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from capcon.core.backends.aws.session import AwsSession

#: The region of the fixtures in tests/conftest.py.
REGION = "us-east-1"
KEY = {"AttributeName": "pk", "KeyType": "HASH"}
ATTR = {"AttributeName": "pk", "AttributeType": "S"}


def create_table(ddb: Any, name: str, read: int = 5, write: int = 5) -> None:
    """A provisioned table with a string hash key."""
    ddb.create_table(
        TableName=name,
        KeySchema=[KEY],
        AttributeDefinitions=[ATTR],
        ProvisionedThroughput={"ReadCapacityUnits": read, "WriteCapacityUnits": write},
    )


@contextmanager
def quick_aws(
    *, read_timeout: float = 1.0, connect_timeout: float = 1.0, max_attempts: int = 2
) -> Iterator[None]:
    """Every :class:`AwsSession` made in the block uses these limits, whatever its caller
    passes (only the ones its constructor takes), so a slow answer or a retried fault costs
    a test a second, not the product's control-plane budget.  Not thread-safe to nest."""
    original = AwsSession.__init__
    accepted = inspect.signature(original).parameters
    wanted = {
        "read_timeout": read_timeout,
        "connect_timeout": connect_timeout,
        "max_attempts": max_attempts,
    }
    forced = {k: v for k, v in wanted.items() if k in accepted}
    # the session's limits were renamed: say so rather than let fault tests wait minutes
    assert forced, f"AwsSession takes none of {sorted(wanted)}: update quick_aws"

    def init(self: AwsSession, *args: Any, **kwargs: Any) -> None:
        kwargs.update(forced)
        original(self, *args, **kwargs)

    AwsSession.__init__ = init  # type: ignore[method-assign]
    try:
        yield
    finally:
        AwsSession.__init__ = original  # type: ignore[method-assign]


def warm_up(moto_url: str) -> None:
    """One call to each service capcon uses, straight to moto with its default timeouts: moto
    loads a service's backend on its first request (seconds for Application Auto Scaling on
    a busy machine), which a test with a short read timeout must not pay."""
    import boto3

    def client(service: str) -> Any:
        return boto3.client(  # type: ignore[call-overload]
            service, endpoint_url=moto_url, region_name=REGION
        )

    client("dynamodb").list_tables()
    client("kinesis").list_streams()
    client("application-autoscaling").describe_scalable_targets(ServiceNamespace="dynamodb")
    client("application-autoscaling").describe_scaling_policies(ServiceNamespace="dynamodb")
    client("cloudwatch").list_metrics(Namespace="AWS/DynamoDB")
    client("sts").get_caller_identity()


def create_state_table(ddb: Any, name: str) -> None:
    """A deployed engine's state table as capcon's template declares it (``pk``/``sk``
    strings, on demand)."""
    ddb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
