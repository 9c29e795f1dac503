"""Endpoint URLs made safe to show: no password, no user name, no secret query value.

``--endpoint-url http://user:pass@host`` must reach botocore as given, but every place that
*names* the endpoint (titles, the status bar, the audit log, error messages) shows
:func:`redact_url` of it instead.  A leaf: standard library only, never raises.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

#: What stands in for a removed secret.
MASK = "***"

#: Shown instead of a URL that cannot be parsed (it may hold a secret we cannot locate).
MALFORMED = "<malformed URL, not shown>"

#: Query keys whose values are secrets (matched case-insensitively, anywhere in the key).
_SECRET_KEY = re.compile(
    r"token|signature|sig$|key|secret|passw|pwd|credential|auth|session|^x-amz-", re.IGNORECASE
)

#: A URL inside free text (an exception message): a scheme, ``://`` and no blank or quote.
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")

#: The user info of a URL inside free text: from ``://`` to the authority's last ``@`` (it may
#: hold quotes, which end :data:`_URL_IN_TEXT`).
_USERINFO_IN_TEXT = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s\"<>]*@")


def _secret_key(key: str) -> bool:
    return _SECRET_KEY.search(key) is not None


def _query(query: str) -> str:
    if not query:
        return query
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(_secret_key(key) for key, _ in pairs):
        return query
    out = []
    for key, value in pairs:
        shown = MASK if _secret_key(key) else value
        out.append(f"{quote(key, safe='')}={quote(shown, safe='*')}")
    return "&".join(out)


def redact_url(url: str) -> str:
    """``url`` with any ``user[:password]@`` replaced by ``***@`` and the values of
    secret-looking query keys (token, signature, key, secret, password, ``X-Amz-*``...) by
    ``***``; :data:`MALFORMED` for text that does not parse as a URL."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return MALFORMED
    if "@" in parts.scheme + parts.path:
        # user info where no authority was parsed ("user:pw@host", a "/" in a password):
        # there is no telling which part is secret.
        return MALFORMED
    netloc = parts.netloc
    if "@" in netloc:
        if host is None:
            return MALFORMED
        shown = f"[{host}]" if ":" in host else host
        if port is not None:
            shown = f"{shown}:{port}"
        netloc = f"{MASK}@{shown}"
    try:
        query = _query(parts.query)
    except ValueError:
        return MALFORMED
    # A fragment is never sent: drop it rather than judge it.
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def redact_optional(url: str | None) -> str | None:
    """:func:`redact_url`, with ``None`` and ``""`` passed through."""
    return redact_url(url) if url else url


def redact_text(text: str) -> str:
    """``text`` with every URL in it (``scheme://...``) passed through :func:`redact_url`,
    for messages that quote an endpoint (botocore's "Could not connect to the endpoint URL")."""
    text = _USERINFO_IN_TEXT.sub(lambda m: f"{m.group(1)}{MASK}@", text)
    return _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)
