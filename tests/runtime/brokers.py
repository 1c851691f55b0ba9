"""Where the runtime tests find Redis, RabbitMQ and PostgreSQL (skipped on a laptop
without them, failing under CI=true)."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

import pytest

from tests.conftest import IN_CI

REDIS_URL = os.environ.get("TAKEDOWN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
AMQP_URL = os.environ.get("TAKEDOWN_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")


def reachable(url: str) -> bool:
    u = urlparse(url)
    try:
        with socket.create_connection((u.hostname or "127.0.0.1", u.port or 0), timeout=1):
            return True
    except OSError:
        return False


def need(what: str, url: str) -> None:
    if reachable(url):
        return
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true ({url})", pytrace=False)
    pytest.skip(f"{what} not available at {url}")
