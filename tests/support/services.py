"""Reachability of the real services, and the rule that CI may not skip them."""

import os
import socket
from urllib.parse import urlsplit

import pytest

# .ci/run sets this: a test that needs a missing service then fails instead of skipping.
REQUIRE = os.environ.get("PROMKM_REQUIRE_SERVICES") == "1"
POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def reachable(url: str) -> bool:
    """Whether a TCP connection to the URL's host and port succeeds."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=1):
            return True
    except OSError:
        return False


def need(service: str, ok: bool, hint: str) -> None:
    """Skip with a visible reason, or fail when CI requires every service."""
    if ok:
        return
    message = f"{service} is not available: {hint}"
    if REQUIRE:
        pytest.fail(message + " (PROMKM_REQUIRE_SERVICES=1 forbids skipping)")
    pytest.skip(message)
