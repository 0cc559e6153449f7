"""A missing server program skips its tests, except where services are required (CI): fails."""

import pytest

from .services import require_service


def test_a_missing_service_skips_the_test(monkeypatch):
    monkeypatch.delenv("SESSION_COUNTER_REQUIRE_SERVICES", raising=False)
    with pytest.raises(pytest.skip.Exception, match="memcached is not installed"):
        require_service(None, "memcached is not installed")


def test_a_missing_service_fails_the_test_when_services_are_required(monkeypatch):
    monkeypatch.setenv("SESSION_COUNTER_REQUIRE_SERVICES", "1")
    with pytest.raises(pytest.fail.Exception,
                       match="memcached is not installed; SESSION_COUNTER_REQUIRE_SERVICES=1"):
        require_service(None, "memcached is not installed")


def test_a_service_that_is_there_neither_skips_nor_fails(monkeypatch):
    monkeypatch.setenv("SESSION_COUNTER_REQUIRE_SERVICES", "1")
    assert require_service("/usr/bin/memcached", "memcached is not installed") is None
