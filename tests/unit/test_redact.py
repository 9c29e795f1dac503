"""redact_url: endpoint URLs without user info or secret query values, never an exception."""

from __future__ import annotations

import string
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from capcon.core.redact import MALFORMED, redact_optional, redact_text, redact_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://u:p@host", "http://***@host"),
        ("http://user:s3cr3t@127.0.0.1:5000/", "http://***@127.0.0.1:5000/"),
        ("http://user@host:80", "http://***@host:80"),
        ("https://u:p%40ss@[::1]:4566/x", "https://***@[::1]:4566/x"),
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
        ("https://dynamodb.eu-west-1.amazonaws.com", "https://dynamodb.eu-west-1.amazonaws.com"),
        ("http://h/?region=eu&token=abc", "http://h/?region=eu&token=***"),
        (
            "http://h/p?X-Amz-Signature=ff&X-Amz-Credential=AK%2F1&x=1",
            "http://h/p?X-Amz-Signature=***&X-Amz-Credential=***&x=1",
        ),
        (
            "http://h/?api_key=1&Secret=2&password=3",
            "http://h/?api_key=***&Secret=***&password=***",
        ),
        ("http://h/?a=1&b=2", "http://h/?a=1&b=2"),
        ("http://h/#frag", "http://h/"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1",
        "http://u:p@[::1",
        "http://u:p@host:notaport",
        "http://u:p@:99999",
        "u:p@host:5000",
        "http://u:12/p@host",
    ],
)
def test_malformed_urls_are_named_not_shown(url: str) -> None:
    assert redact_url(url) == MALFORMED
    assert "p@" not in redact_url(url)


def test_optional_and_text() -> None:
    assert redact_optional(None) is None
    assert redact_optional("") == ""
    assert redact_optional("http://a:b@h") == "http://***@h"
    said = 'Could not connect to the endpoint URL: "http://user:pw@127.0.0.1:1/"'
    assert redact_text(said) == 'Could not connect to the endpoint URL: "http://***@127.0.0.1:1/"'
    assert redact_text("no url here") == "no url here"


# RFC 3986 userinfo: unreserved, sub-delims and percent-encodings (":" separates the password).
_UNRESERVED = string.ascii_letters + string.digits + "-._~"
_SUB_DELIMS = "!$&'()*+,;="
_user = st.text(_UNRESERVED + _SUB_DELIMS, min_size=1, max_size=12)
_password = st.text(_UNRESERVED + _SUB_DELIMS + ":", min_size=4, max_size=24)
_host = st.sampled_from(["127.0.0.1", "localhost", "[::1]", "moto.example.com"])
_port = st.one_of(st.none(), st.integers(min_value=1, max_value=65535))
_rest = st.sampled_from(["", "/", "/path", "/?region=eu", "/x?token=abc"])


@given(
    scheme=st.sampled_from(["http", "https"]),
    user=_user,
    password=_password,
    host=_host,
    port=_port,
    rest=_rest,
)
def test_the_password_never_shows(
    scheme: str, user: str, password: str, host: str, port: int | None, rest: str
) -> None:
    netloc = f"{host}:{port}" if port is not None else host
    url = f"{scheme}://{user}:{password}@{netloc}{rest}"
    shown = redact_url(url)
    parts = urlsplit(shown)
    assert parts.password is None and parts.username == "***"
    assert f"{user}:{password}" not in shown
    if password not in f"{scheme}://{netloc}{rest}":  # (a password "1" is in host 127.0.0.1)
        assert password not in shown
    # as botocore quotes it
    assert redact_text(f'Could not connect to "{url}"') == f'Could not connect to "{shown}"'


@given(st.text(max_size=60))
def test_any_text_is_answered(text: str) -> None:
    assert isinstance(redact_url(text), str)
    assert isinstance(redact_text(text), str)
