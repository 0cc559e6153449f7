"""A store that accepts connections but never answers (SIGSTOP) costs a bounded wait, then 503.

A stopped server's kernel still accepts connections, takes the bytes and answers TCP
keepalives, so only a deadline in the client ends the wait. Each store is a real server
of the test's own (never the session's), stopped while the app holds a pooled
connection to it, then continued: the request in between answers 503 saying so, the
next one works, and the increment whose answer was lost ran once: a gap, never a
number twice.
"""

import contextlib
import time

import pytest

from session_counter.procfs import children_of

from ..memcached_server import running_memcached
from ..postgres_server import running_postgres
from ..redis_server import running_redis
from ..stalls import answer_within, frozen
from ..store_faults import wait_until

JSON = {"Accept": "application/json"}
# How long the test waits for an answer before calling the request hung: far above
# every client's own limit (PostgreSQL 12 s, Redis and memcached 2 s), so a loaded
# machine cannot fail it, and bounded, so a hang fails the test instead of stalling it.
ANSWER_WITHIN = 60.0

STORES = {  # kind: (setting, strategy, start a server of the test's own, its name in 503s)
    "postgres": ("POSTGRES_URL", "postgres", lambda tmp: running_postgres(), "PostgreSQL"),
    "redis": ("REDIS_URL", "redis", lambda tmp: running_redis(tmp / "redis"), "Redis"),
    "memcached": ("MEMCACHED_URL", "memcached",
                  lambda tmp: running_memcached(tmp / "memcached"), "memcached"),
}


@contextlib.contextmanager
def stopped(server):
    """SIGSTOP ``server``'s process and its children (PostgreSQL's backends); SIGCONT after.

    The parent first, so it starts no new child meanwhile; only processes this test started.
    """
    pid = server.process.pid
    with frozen([pid]), frozen(sorted(children_of(pid))):
        yield


def timed(request):
    """Return a function that runs ``request()`` and returns (its answer, seconds taken)."""
    def run():
        start = time.monotonic()
        return request(), time.monotonic() - start
    return run


@pytest.mark.slow
@pytest.mark.parametrize("kind", [pytest.param(kind, marks=getattr(pytest.mark, kind))
                                  for kind in STORES])
def test_a_stopped_store_answers_503_in_bounded_time_and_the_next_request_works(
        kind, make_app, tmp_path):
    setting, name, running, store = STORES[kind]
    with running(tmp_path) as server:
        app = make_app({"TESTING": True, setting: server.url})
        client = app.test_client()
        assert client.post(f"/shared/{name}/reset").status_code == 200
        first = client.post(f"/shared/{name}/inc", headers=JSON)  # a pooled connection now
        # an app with no connection yet (its start-up check closed its own): connecting,
        # or its first read, is bounded too
        fresh = make_app({"TESTING": True, setting: server.url}).test_client()
        with stopped(server):
            stalled = answer_within(ANSWER_WITHIN, timed(lambda: client.post(
                f"/shared/{name}/inc", headers=JSON)))
            reading = answer_within(ANSWER_WITHIN, timed(lambda: fresh.get(
                f"/shared/{name}", headers=JSON)))
        after = client.post(f"/shared/{name}/inc", headers=JSON)
        # the stalled increment reached the store before it stopped: it runs on SIGCONT
        stored = wait_until(lambda: current(client, name) == 3 or None, timeout=20)

    assert first.status_code == 200 and first.json["value"] == 1
    assert stalled is not None, f"a request to a stopped {store} hung for {ANSWER_WITHIN} s"
    response, seconds = stalled
    assert response.status_code == 503, response.get_data(as_text=True)
    message = response.json["message"]
    assert store in message and "may" in message, message  # it may have run: unsure
    assert reading is not None, f"a first read of a stopped {store} hung"
    assert reading[0].status_code == 503, reading[0].get_data(as_text=True)
    assert store in reading[0].json["message"]
    assert after.status_code == 200, after.get_data(as_text=True)
    # 1, then the stalled increment and this one took 2 and 3 in some order: the stalled
    # one's number is never handed out (a gap), and nothing is handed out twice
    assert after.json["value"] in (2, 3)
    assert stored
    print(f"{kind}: 503 after {seconds:.1f} s, first read 503 after {reading[1]:.1f} s; "
          f"then {after.json['value']}")


def current(client, name):
    """Return the stored value of strategy ``name``."""
    return client.get(f"/shared/{name}", headers=JSON).json["value"]


@pytest.mark.slow
@pytest.mark.postgres
def test_a_statement_waiting_too_long_is_cancelled_by_postgresql_and_changes_nothing(
        make_app, postgres_url, postgres_server):
    """A row lock held elsewhere (a stuck client): PostgreSQL cancels the UPDATE after
    STATEMENT_TIMEOUT, before the client's own READ_TIMEOUT; the cancelled one used up
    no number."""
    from session_counter.clients.postgres import READ_TIMEOUT, STATEMENT_TIMEOUT

    client = make_app({"TESTING": True, "POSTGRES_URL": postgres_url}).test_client()
    assert client.post("/shared/postgres/reset").status_code == 200
    assert client.post("/shared/postgres/inc", headers=JSON).json["value"] == 1
    with contextlib.closing(postgres_server.connect()) as holder:
        holder.execute("BEGIN")
        holder.execute("SELECT value FROM session_counter_counters WHERE name = 'postgres' "
                       "FOR UPDATE")
        waited = answer_within(ANSWER_WITHIN, lambda: client.post("/shared/postgres/inc",
                                                                  headers=JSON))
        holder.execute("ROLLBACK")
    after = client.post("/shared/postgres/inc", headers=JSON)

    assert STATEMENT_TIMEOUT < READ_TIMEOUT
    assert waited is not None, "a request waiting for a row lock hung"
    assert waited.status_code == 503
    assert "statement timeout" in waited.json["message"], waited.json["message"]
    assert after.json["value"] == 2  # the cancelled UPDATE rolled back: no gap
