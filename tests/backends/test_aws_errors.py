"""botocore exceptions → capcon's typed errors (no network, no moto)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
    SSOTokenLoadError,
)

from capcon.core.backends.aws.errors import map_error
from capcon.core.errors import (
    AccessDenied,
    BackendError,
    CredentialsMissing,
    EndpointUnreachable,
    LimitExceeded,
    NotFound,
    ResourceInUse,
    Throttled,
    ValidationFailed,
)

URL = "https://dynamodb.eu-west-1.amazonaws.com"


def client_error(code: str, message: str = "AWS says no", status: int = 400) -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status, "RetryAttempts": 4},
    }
    return ClientError(response, "UpdateTable")


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("ResourceInUseException", ResourceInUse),
        ("ConcurrentUpdateException", ResourceInUse),
        ("LimitExceededException", LimitExceeded),
        ("ValidationException", ValidationFailed),
        ("InvalidArgumentException", ValidationFailed),
        ("InvalidParameterValue", ValidationFailed),
        ("ResourceNotFoundException", NotFound),
        ("ObjectNotFoundException", NotFound),
        ("AccessDeniedException", AccessDenied),
        ("AccessDenied", AccessDenied),
        ("UnauthorizedOperation", AccessDenied),
        ("ThrottlingException", Throttled),
        ("Throttling", Throttled),
        ("ProvisionedThroughputExceededException", Throttled),
        ("RequestLimitExceeded", Throttled),
        ("ExpiredToken", CredentialsMissing),
        ("ExpiredTokenException", CredentialsMissing),
        ("UnrecognizedClientException", CredentialsMissing),
        ("InvalidClientTokenId", CredentialsMissing),
    ],
)
def test_client_error_codes(code: str, kind: type[BackendError]) -> None:
    error = map_error(client_error(code), "dynamodb:UpdateTable", "table orders")
    assert type(error) is kind
    assert "AWS says no" in str(error)
    assert error.aws_code == code


def test_access_denied_names_the_iam_action() -> None:
    error = map_error(client_error("AccessDeniedException"), "dynamodb:UpdateTable", "table t")
    assert "IAM permission dynamodb:UpdateTable on table t" in str(error)


def test_throttling_says_how_many_retries() -> None:
    error = map_error(client_error("ThrottlingException"), "cloudwatch:GetMetricData")
    assert "after 4 retries" in str(error)


def test_expired_credentials_say_expired() -> None:
    error = map_error(client_error("ExpiredTokenException"), "sts:GetCallerIdentity")
    assert "expired" in str(error)


def test_unknown_codes_keep_code_and_message() -> None:
    error = map_error(client_error("Teapot", "short and stout", 418), "kinesis:SplitShard")
    assert type(error) is BackendError
    assert "Teapot: short and stout" in str(error)
    assert "kinesis:SplitShard" in str(error)
    bare = map_error(client_error("", "", 503), "kinesis:SplitShard")
    assert "HTTP 503" in str(bare)


@pytest.mark.parametrize(
    "exc",
    [
        NoCredentialsError(),
        PartialCredentialsError(provider="env", cred_var="AWS_SECRET_ACCESS_KEY"),
    ],
)
def test_missing_credentials(exc: Exception) -> None:
    error = map_error(exc, "dynamodb:ListTables")
    assert type(error) is CredentialsMissing
    assert str(error).startswith("no AWS credentials found: set AWS_PROFILE")
    assert "aws configure / aws sso login" in str(error)


@pytest.mark.parametrize(
    "exc",
    [
        CredentialRetrievalError(provider="sso", error_msg="token expired"),
        SSOTokenLoadError(error_msg="expired"),
        ProfileNotFound(profile="prod"),
    ],
)
def test_credentials_that_cannot_be_loaded(exc: Exception) -> None:
    assert type(map_error(exc, "dynamodb:ListTables")) is CredentialsMissing


@pytest.mark.parametrize(
    "exc",
    [
        EndpointConnectionError(endpoint_url=URL),
        ConnectTimeoutError(endpoint_url=URL),
        ReadTimeoutError(endpoint_url=URL),
    ],
)
def test_unreachable_endpoints_are_named(exc: Exception) -> None:
    error = map_error(exc, "dynamodb:ListTables")
    assert type(error) is EndpointUnreachable
    assert URL in str(error)


def test_other_botocore_errors() -> None:
    invalid = map_error(ParamValidationError(report="TargetShardCount < 1"), "kinesis:X")
    assert type(invalid) is ValidationFailed
    assert "TargetShardCount" in str(invalid)
    assert "no AWS region" in str(map_error(NoRegionError(), "dynamodb:ListTables"))
    assert type(map_error(RuntimeError("odd"), "dynamodb:ListTables")) is BackendError
    already = NotFound("x")
    assert map_error(already, "dynamodb:ListTables") is already
