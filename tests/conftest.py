"""Shared fixtures: a moto server on 127.0.0.1 (a real HTTP endpoint) with fake credentials.

Nothing here can reach real AWS: credentials are fake, ``~/.aws`` is replaced by empty files,
instance metadata is disabled, and every client is pointed at the local endpoint.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from hypothesis import settings
from moto.server import ThreadedMotoServer

# CI runs the property tests with a fixed derivation of examples, so a landing never depends on
# the draw; on a developer's machine they keep exploring (and print a reproducer on failure).
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

REGION = "us-east-1"

#: Variables that could send a client anywhere but the test endpoint, or read real credentials.
AWS_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_KINESIS",
    "AWS_ENDPOINT_URL_CLOUDWATCH",
    "AWS_ENDPOINT_URL_STS",
    "AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_RETRY_MODE",
    "AWS_MAX_ATTEMPTS",
    "AWS_CA_BUNDLE",
)


#: When every simulated account of the tests starts: the demo's traffic and its auto scaling
#: follow the time of day, so a test must not depend on when it runs.
SIM_START = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def pinned_sim_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("capcon.tui.bootstrap.sim_start", lambda: SIM_START)


@pytest.fixture(autouse=True)
def private_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets empty config and state folders: a developer's own config.toml (read
    by every session now), themes or audit log never change a result or get written to."""
    root = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(root / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(root / "state"))


@pytest.fixture(scope="module")
def aws_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Fake credentials and region; ``~/.aws`` replaced by empty files; no instance metadata."""
    home = tmp_path_factory.mktemp("aws-home")
    (home / "credentials").write_text("")
    (home / "config").write_text("")
    with pytest.MonkeyPatch.context() as mp:
        for name in AWS_VARIABLES:
            mp.delenv(name, raising=False)
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        mp.setenv("AWS_DEFAULT_REGION", REGION)
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "credentials"))
        mp.setenv("AWS_CONFIG_FILE", str(home / "config"))
        mp.setenv("AWS_EC2_METADATA_DISABLED", "true")
        yield home


@pytest.fixture(scope="module")
def moto_url(aws_env: Path) -> Iterator[str]:
    """One moto server for the module, on 127.0.0.1 and a free port, logging nothing."""
    werkzeug = logging.getLogger("werkzeug")
    was_disabled = werkzeug.disabled
    werkzeug.disabled = True
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        werkzeug.disabled = was_disabled


@pytest.fixture
def url(moto_url: str) -> str:
    """The moto server, emptied."""
    requests.post(f"{moto_url}/moto-api/reset", timeout=10).raise_for_status()
    return moto_url


@pytest.fixture
def raw(url: str) -> Callable[[str], Any]:
    """Plain boto3 clients on the moto server (what a user's own scripts would do)."""
    config = Config(max_pool_connections=32, retries={"mode": "standard", "max_attempts": 3})

    def make(service: str) -> Any:
        return boto3.client(  # type: ignore[call-overload]
            service, endpoint_url=url, region_name=REGION, config=config
        )

    return make
