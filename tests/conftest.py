"""Shared fixtures: an app with its own instance folder, its test client and CLI runner."""

import pytest

from session_counter import create_app
from session_counter.strategies import get_strategies


@pytest.fixture
def app(tmp_path):
    """An app whose instance folder (sessions, database, secret) is a fresh temp folder."""
    app = create_app({"TESTING": True}, instance_path=str(tmp_path / "instance"))
    for strategy in get_strategies(app).values():
        if strategy.state_lives_in == "process":
            strategy.reset()  # a module global outlives one app; the rest live in tmp_path
    yield app


@pytest.fixture
def client(app):
    """A test client: one cookie jar, like one browser."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A runner for the app's CLI commands."""
    return app.test_cli_runner()


@pytest.fixture(autouse=True)
def redis_marker_is_true(request):
    """Fail a test whose `redis` marker says otherwise than what it used.

    ``-m "not redis"`` must leave out every test that needs a redis-server, and only those.
    """
    from .redis_server import RedisServer

    uses_before = RedisServer.uses
    yield
    used = RedisServer.uses > uses_before or "redis_server" in request.node.fixturenames
    marked = request.node.get_closest_marker("redis") is not None
    if used != marked:
        pytest.fail(f"{request.node.nodeid} {'uses' if used else 'does not use'} a "
                    f"redis-server but {'lacks' if used else 'carries'} the redis marker")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """One real redis-server (no persistence) for the whole test session."""
    from .redis_server import running_redis

    with running_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def redis_url(redis_server):
    """The URL of the test session's Redis, emptied for this test."""
    redis_server.flush()
    return redis_server.url
