"""Real servers the tests need: skip when one is missing, fail where services are required."""

import os

import pytest


def require_service(found, message):
    """Skip the calling test unless ``found``; with SESSION_COUNTER_REQUIRE_SERVICES=1, fail it."""
    if found:
        return
    if os.environ.get("SESSION_COUNTER_REQUIRE_SERVICES") == "1":
        pytest.fail(message + "; SESSION_COUNTER_REQUIRE_SERVICES=1 requires it")
    pytest.skip(message)
