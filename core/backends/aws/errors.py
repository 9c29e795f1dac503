"""botocore's exceptions as capcon's typed errors, each with a message fit for the user.

Every call the adapter makes is made inside :func:`calling` (or maps what it catches with
:func:`map_error`), so no boto exception ever leaves :mod:`capcon.core.backends.aws`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    EndpointConnectionError,
    HTTPClientError,
    NoAuthTokenError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
    SSOError,
    TokenRetrievalError,
    ValidationError,
)
from botocore.parsers import ResponseParserError

from capcon.core.backends.aws.actions import Action
from capcon.core.backends.aws.describe import DescribeError
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
from capcon.core.inflight import IN_FLIGHT, InFlight
from capcon.core.redact import redact_text

#: What botocore lets out when an answer is not what the API's model says: invalid XML
#: (``ResponseParserError``), and, from its parsers, plain Python errors on a body of the wrong
#: shape (``{"Table": 5}``: AttributeError; a missing XML wrapper: KeyError; a non-UTF-8 body:
#: UnicodeDecodeError, a ValueError; a timestamp out of range: RuntimeError).
MALFORMED_ANSWERS: Final[tuple[type[Exception], ...]] = (
    ResponseParserError,
    AttributeError,
    KeyError,
    IndexError,
    TypeError,
    ValueError,
    RuntimeError,
)


class MalformedAnswer(BackendError):
    """An answer that is not what the API returns: HTML or garbage with HTTP 200, a missing
    field, a value of the wrong type.  The request reached a server that answered, so a
    mutation answered so may have been carried out (``maybe_sent``)."""

    maybe_sent = True


IN_USE_CODES = frozenset({"ResourceInUseException", "ResourceInUse", "ConcurrentUpdateException"})
LIMIT_CODES = frozenset({"LimitExceededException", "LimitExceeded"})
VALIDATION_CODES = frozenset(
    {
        "ValidationException",
        "ValidationError",
        "InvalidArgumentException",
        "InvalidParameterValue",
        "InvalidParameterValueException",
        "InvalidParameterCombination",
        "InvalidParameterException",
        "MissingParameter",
        "SerializationException",
    }
)
NOT_FOUND_CODES = frozenset(
    {
        "ResourceNotFoundException",
        "ResourceNotFound",
        "ObjectNotFoundException",
        "TableNotFoundException",
        "IndexNotFoundException",
    }
)
ACCESS_CODES = frozenset(
    {
        "AccessDeniedException",
        "AccessDenied",
        "UnauthorizedOperation",
        "UnauthorizedException",
        "NotAuthorized",
        "FailedResourceAccessException",
    }
)
THROTTLE_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "SlowDown",
        "PriorRequestNotComplete",
    }
)
EXPIRED_CODES = frozenset(
    {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"}
)
BAD_CREDENTIAL_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "InvalidSignatureException",
        "MissingAuthenticationToken",
        "MissingAuthenticationTokenException",
    }
)

NO_CREDENTIALS = (
    "no AWS credentials found: set AWS_PROFILE (or --profile) or run aws configure / aws sso login"
)


def client_error_code(error: ClientError) -> str:
    """The AWS error code of a ``ClientError`` (``""`` if the response had none)."""
    code = error.response.get("Error", {}).get("Code")
    return str(code) if code else ""


def _client_message(error: ClientError) -> str:
    message = error.response.get("Error", {}).get("Message")
    return str(message).strip() if message else ""


def _retries(error: ClientError) -> int:
    meta = error.response.get("ResponseMetadata", {})
    attempts = meta.get("RetryAttempts", 0)
    return int(attempts) if isinstance(attempts, int) else 0


def _endpoint(error: BotoCoreError) -> str:
    kwargs: dict[str, Any] = getattr(error, "kwargs", {}) or {}
    return str(kwargs.get("endpoint_url") or kwargs.get("endpoint") or "the AWS endpoint")


def _tagged(error: BackendError, code: str | None) -> BackendError:
    if code:
        error.aws_code = code
    return error


def map_error(exc: BaseException, action: str, resource: str | None = None) -> BackendError:
    """The typed error for ``exc`` raised while calling ``action`` (an IAM action such as
    ``dynamodb:UpdateTable``) on ``resource`` (a name, for the message)."""
    on = f" on {resource}" if resource else ""
    if isinstance(exc, BackendError):
        return exc
    if isinstance(exc, ClientError):
        return _map_client_error(exc, action, on)
    if isinstance(exc, NoCredentialsError | PartialCredentialsError | NoAuthTokenError):
        return CredentialsMissing(NO_CREDENTIALS)
    if isinstance(exc, ProfileNotFound):
        return CredentialsMissing(f"{exc}: check --profile / AWS_PROFILE, or run aws configure")
    if isinstance(exc, CredentialRetrievalError | TokenRetrievalError | SSOError):
        return CredentialsMissing(
            f"AWS credentials could not be loaded or have expired ({exc}): run aws sso login "
            "or refresh your credentials"
        )
    if isinstance(exc, ConnectionError | HTTPClientError):
        # botocore quotes the URL as given, credentials and all: name it redacted.
        endpoint = redact_text(_endpoint(exc))
        unreachable = EndpointUnreachable(
            f"{action}{on}: endpoint {endpoint} unreachable "
            f"({type(exc).__name__}: {redact_text(str(exc))}); "
            "check the network, --region and --endpoint-url"
        )
        # a connection never made sent nothing; a read timeout or a connection closed
        # mid-answer may have been carried out
        unreachable.maybe_sent = not isinstance(exc, EndpointConnectionError | ConnectTimeoutError)
        unreachable.in_flight = isinstance(exc, ReadTimeoutError)
        return unreachable
    if isinstance(exc, NoRegionError):
        return BackendError(
            "no AWS region set: pass --region, set AWS_REGION or AWS_DEFAULT_REGION, or set "
            "region in your profile"
        )
    if isinstance(exc, ParamValidationError | ValidationError):
        return ValidationFailed(f"{action}{on}: invalid request: {exc}")
    if isinstance(exc, DescribeError):  # capcon's own check of the answer: says it all
        return malformed(action, resource, str(exc))
    if isinstance(exc, ResponseParserError):
        return malformed(action, resource, str(exc))
    # Any other botocore error may quote the endpoint URL too.
    return BackendError(f"{action}{on} failed: {type(exc).__name__}: {redact_text(str(exc))}")


def _map_client_error(exc: ClientError, action: str, on: str) -> BackendError:
    code = client_error_code(exc)
    text = _client_message(exc)
    said = f"{code}: {text}" if text else code
    if code in IN_USE_CODES:
        return _tagged(
            ResourceInUse(
                f"{action}{on} refused: the resource is busy ({said}); wait until it is "
                "ACTIVE again and retry"
            ),
            code,
        )
    if code in LIMIT_CODES:
        return _tagged(LimitExceeded(f"{action}{on} refused: a limit was reached ({said})"), code)
    if code in VALIDATION_CODES:
        return _tagged(ValidationFailed(f"{action}{on} refused as invalid ({said})"), code)
    if code in NOT_FOUND_CODES:
        return _tagged(NotFound(f"{action}{on}: not found ({said})"), code)
    if code in ACCESS_CODES:
        return _tagged(
            AccessDenied(
                f"access denied: your identity needs the IAM permission {action}{on} ({said})"
            ),
            code,
        )
    if code in THROTTLE_CODES:
        retries = _retries(exc)
        after = f" after {retries} retries" if retries else ""
        return _tagged(
            Throttled(
                f"{action}{on}: AWS throttled the request{after} ({said}); try again in a "
                "minute or refresh less often"
            ),
            code,
        )
    if code in EXPIRED_CODES:
        return _tagged(
            CredentialsMissing(
                f"AWS credentials expired ({said}): run aws sso login or refresh your "
                "credentials (AWS_SESSION_TOKEN)"
            ),
            code,
        )
    if code in BAD_CREDENTIAL_CODES:
        return _tagged(
            CredentialsMissing(
                f"AWS did not accept the credentials ({said}): check AWS_PROFILE / "
                "AWS_ACCESS_KEY_ID, or run aws configure / aws sso login"
            ),
            code,
        )
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    detail = said or f"HTTP {status}"
    failed = _tagged(BackendError(f"{action}{on} failed ({detail})"), code or None)
    # a server error may come after the change was made
    failed.maybe_sent = not isinstance(status, int) or status >= 500
    return failed


def malformed(action: str, resource: str | None, detail: str) -> MalformedAnswer:
    """The error for an answer to ``action`` on ``resource`` that is not what AWS sends;
    ``detail`` says what was wrong (shortened, URLs redacted: it may quote the body)."""
    on = f" on {resource}" if resource else ""
    detail = redact_text(detail)
    if len(detail) > 300:
        detail = detail[:300] + "…"
    return MalformedAnswer(
        f"{action}{on}: malformed answer ({detail}); the endpoint (or a proxy in front of it) "
        "did not answer as AWS does: check --endpoint-url, proxies and the region"
    )


@contextmanager
def calling(
    action: Action, resource: str | None = None, *, inflight: InFlight = IN_FLIGHT
) -> Iterator[None]:
    """Every botocore exception raised in the block mapped by :func:`map_error`: the block
    makes ``action``'s requests (one call, or the pages of one listing) on ``resource``.

    The block is registered in ``inflight`` while it runs, so a front end can say what it
    waits for; an endpoint that never answered is said to have been given up on after how
    long (the session's timeouts and retries bound it).  What botocore's parsers let out on
    an answer of the wrong shape (see :data:`MALFORMED_ANSWERS`) is a
    :class:`MalformedAnswer` too, so keep the block to the calls and their pages: checking
    the values is the caller's, with messages of its own."""
    started = inflight.clock()
    try:
        with inflight.track(action, resource):
            yield
    except BackendError:
        raise
    except (ClientError, BotoCoreError) as error:
        mapped = map_error(error, action, resource)
        if isinstance(mapped, EndpointUnreachable):
            waited = inflight.clock() - started
            mapped.message = f"{mapped.message} (gave up after {waited:.0f} s)"
            mapped.args = (mapped.message,)
        raise mapped from error
    except MALFORMED_ANSWERS as error:
        detail = str(error) if isinstance(error, DescribeError | ResponseParserError) else None
        raise malformed(action, resource, detail or f"{type(error).__name__}: {error}") from error
