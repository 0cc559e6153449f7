"""Shared fixtures: an app with its own instance folder, its test client and CLI runner."""

import pytest
from flask import Flask
from flask.testing import FlaskClient

from session_counter import create_app
from session_counter.strategies import get_strategies

from . import readonly
from .manager_processes import manager_processes, stop_manager_of, stop_processes
from .stalls import start_stalled_writer


def pytest_report_header():
    """Say how this run makes folders read-only (chmod, chattr, or as an unprivileged user)."""
    return readonly.describe_way()


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """Where root cannot be stopped by chattr, a read_only test's outcome is its outcome
    as an unprivileged user (see tests/readonly.py)."""
    if pyfuncitem.get_closest_marker("read_only") and readonly.way() == "as-nobody":
        readonly.run_as_unprivileged_user(pyfuncitem)
        return True
    return None


def pytest_runtest_logreport(report):
    """In the unprivileged run of the read_only tests, hand each outcome back."""
    readonly.record_outcome(report)


class SweepSettledClient(FlaskClient):
    """The tests' client: it returns once the session sweep its request started (in a thread
    of its own, sessions/sweep.py) is over, so a test that changes a session file next never
    races a sweep it did not ask for. That the request itself does not wait is shown with
    Flask's plain client (tests/sessions/test_sweep.py)."""

    def open(self, *args, **kwargs):
        """Send the request; wait (bounded) for a sweep it started."""
        response = super().open(*args, **kwargs)
        sweeper = getattr(self.application.session_interface, "sweeper", None)
        if sweeper is not None:
            assert sweeper.join(60), "a session sweep still runs after 60 s"
        return response


@pytest.fixture(autouse=True, scope="session")
def test_clients_wait_for_sweeps():
    """Make every app's test_client() a SweepSettledClient, for the whole run."""
    Flask.test_client_class = SweepSettledClient
    yield
    Flask.test_client_class = None


@pytest.fixture
def app(tmp_path):
    """An app whose instance folder (sessions, database, secret) is a fresh temp folder."""
    app = create_app({"TESTING": True}, instance_path=str(tmp_path / "instance"))
    for strategy in get_strategies(app).values():
        if strategy.state_lives_in == "process":
            strategy.reset()  # a module global outlives one app; the rest live in tmp_path
    yield app
    stop_manager_of(app)


@pytest.fixture
def make_app(tmp_path):
    """Build apps like create_app (each in its own folder by default); stop their managers."""
    apps = []

    def make(test_config=None, instance_path=None):
        instance_path = instance_path or str(tmp_path / f"instance-{len(apps)}")
        apps.append(create_app(test_config, instance_path=instance_path))
        return apps[-1]

    yield make
    for app in apps:
        stop_manager_of(app)


@pytest.fixture(autouse=True)
def no_manager_left_running(request):
    """Fail a test that leaves a manager program running (and stop it)."""
    yield
    left = manager_processes()
    if left:
        stop_processes(left)
        pytest.fail(f"{request.node.nodeid} left manager processes {left} running: build "
                    "apps with the app or make_app fixture, which stop them")


@pytest.fixture
def client(app):
    """A test client: one cookie jar, like one browser."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A runner for the app's CLI commands."""
    return app.test_cli_runner()


@pytest.fixture(autouse=True)
def service_markers_are_true(request):
    """Fail a test whose `redis` or `memcached` marker says otherwise than what it used.

    ``-m "not redis"`` must leave out every test that needs a redis-server, and only
    those; the same for memcached and postgres.
    """
    from .memcached_server import MemcachedServer
    from .postgres_server import PostgresServer
    from .redis_server import RedisServer

    kinds = {"redis": (RedisServer, "redis_server", "a redis-server"),
             "memcached": (MemcachedServer, "memcached_server", "a memcached"),
             "postgres": (PostgresServer, "postgres_server", "a PostgreSQL")}
    uses_before = {marker: server.uses for marker, (server, _, _) in kinds.items()}
    yield
    for marker, (server, fixture, what) in kinds.items():
        used = server.uses > uses_before[marker] or fixture in request.node.fixturenames
        check_marker(request, marker, used, what)


def check_marker(request, marker, used, what):
    """Fail the test of ``request`` if it carries ``marker`` and did not use ``what``, or
    the reverse."""
    marked = request.node.get_closest_marker(marker) is not None
    if used != marked:
        pytest.fail(f"{request.node.nodeid} {'uses' if used else 'does not use'} "
                    f"{what} but {'lacks' if used else 'carries'} the {marker} marker")


@pytest.fixture(autouse=True)
def read_only_marker_is_true(request):
    """Fail a test that makes a folder read-only without the read_only marker, or the reverse:
    unmarked, it would neither run unprivileged where root cannot be stopped, nor be
    counted by tests/test_readonly.py."""
    uses_before = readonly.uses
    yield
    if readonly.way() != "as-nobody":  # there the call ran in the unprivileged run
        check_marker(request, "read_only", readonly.uses > uses_before, "read_only()")


def store_fixtures(kind, running, empty):
    """Make the two fixtures of one real store: ``<kind>_server``, one for the whole test
    session (``running(tmp_path_factory)`` starts it), and ``<kind>_url``, its URL after
    ``empty(server)`` for each test."""

    @pytest.fixture(scope="session", name=f"{kind}_server")
    def server(tmp_path_factory):
        with running(tmp_path_factory) as started:
            yield started

    @pytest.fixture(name=f"{kind}_url")
    def url(request):
        started = request.getfixturevalue(f"{kind}_server")
        empty(started)
        return started.url

    server.__doc__ = f"One real {kind} server for the whole test session."
    url.__doc__ = f"The URL of the test session's {kind} server, emptied for this test."
    return server, url


def _running_redis(tmp_path_factory):
    """A redis-server without persistence."""
    from .redis_server import running_redis

    return running_redis(tmp_path_factory.mktemp("redis"))


def _running_memcached(tmp_path_factory):
    """A memcached."""
    from .memcached_server import running_memcached

    return running_memcached(tmp_path_factory.mktemp("memcached"))


def _running_postgres(_tmp_path_factory):
    """A PostgreSQL in a temp folder of its own (it runs as another user)."""
    from .postgres_server import running_postgres

    return running_postgres()


redis_server, redis_url = store_fixtures("redis", _running_redis, lambda s: s.flush())
memcached_server, memcached_url = store_fixtures("memcached", _running_memcached,
                                                 lambda s: s.flush())
postgres_server, postgres_url = store_fixtures("postgres", _running_postgres,
                                               lambda s: s.empty())


@pytest.fixture
def stalled_writer():
    """Start processes that hold a file's flock and stop (SIGSTOP); kill them afterwards."""
    started = []

    def hold(path):
        started.append(start_stalled_writer(path))
        return started[-1]

    yield hold
    for process in started:
        process.kill()
        process.wait(timeout=10)
