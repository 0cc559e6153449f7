"""PostgreSQL strategies on a real PostgreSQL: each technique, start-up, loss and return."""

import contextlib
import json
import threading
import time

import pytest

from session_counter.clients.postgres import connections_for
from session_counter.servers.harness import free_port
from session_counter.startup_checks import StartupError
from session_counter.strategies import STRATEGY_CLASSES, THREADS, get_strategies

from ..counting import check_round_trip, hand_out_from_threads
from ..postgres_server import PASSWORD, running_postgres

JSON = {"Accept": "application/json"}
POSTGRES = {cls.name: cls for cls in STRATEGY_CLASSES if cls.store == "postgresql"}
SAFE = [name for name, cls in POSTGRES.items() if THREADS in cls.safe_against]


def postgres_app(make_app, url, window=0.0):
    """An app whose PostgreSQL strategies count in the PostgreSQL at ``url``."""
    return make_app({"TESTING": True, "POSTGRES_URL": url, "RACE_WINDOW": window})


def test_postgres_strategies_are_the_matrix_row():
    assert {name: (cls.technique, sorted(cls.safe_against)) for name, cls in POSTGRES.items()} == {
        "postgres_read_write": ("read-then-write", []),
        "postgres_for_update": ("lock", ["machines", "processes", "threads"]),
        "postgres": ("atomic", ["machines", "processes", "threads"]),
        "postgres_sequence": ("atomic", ["machines", "processes", "threads"]),
    }


@pytest.mark.parametrize("name", POSTGRES)
def test_offered_only_with_a_postgres_url(make_app, name):
    plain = make_app({"TESTING": True})
    answer = plain.test_client().post(f"/shared/{name}/inc", headers=JSON)
    assert answer.status_code == 404 and name not in answer.json["valid"]


@pytest.mark.postgres
@pytest.mark.parametrize("name", POSTGRES)
def test_inc_read_reset_round_trip(make_app, postgres_url, name):
    check_round_trip(postgres_app(make_app, postgres_url).test_client(), name)


@pytest.mark.postgres
def test_each_strategy_keeps_its_own_number(make_app, postgres_url):
    client = postgres_app(make_app, postgres_url).test_client()
    for times, name in enumerate(POSTGRES, start=1):
        for _ in range(times):
            client.post(f"/shared/{name}/inc")
    assert [client.get(f"/shared/{name}", headers=JSON).json["value"] for name in POSTGRES] == [
        1, 2, 3, 4]
    listed = {s["name"]: s for s in client.get("/api/strategies").json}
    assert {listed[name]["store"] for name in POSTGRES} == {"postgresql"}


@pytest.mark.postgres
@pytest.mark.parametrize("name", SAFE)
def test_safe_ones_hand_out_each_number_once_from_threads(make_app, postgres_url, name):
    """8 threads x 25 increments, 2 ms between read and write: exactly 1..200."""
    strategy = get_strategies(postgres_app(make_app, postgres_url, window=0.002))[name]
    assert sorted(hand_out_from_threads(strategy, threads=8, each=25)) == list(range(1, 201))
    assert strategy.current() == 200


@pytest.mark.postgres
def test_read_then_write_in_a_transaction_still_loses_updates(make_app, postgres_url):
    """READ COMMITTED: the second writer waits for the first, then overwrites its number."""
    strategy = get_strategies(postgres_app(make_app, postgres_url, window=0.002))[
        "postgres_read_write"]
    handed_out = hand_out_from_threads(strategy, threads=8, each=10)
    assert len(set(handed_out)) < 80 and strategy.current() < 80


@pytest.mark.postgres
def test_a_rolled_back_transaction_burns_a_sequence_number(make_app, postgres_url,
                                                           postgres_server):
    """Unique, not gapless: a number taken in a transaction that rolls back is never reused."""
    client = postgres_app(make_app, postgres_url).test_client()
    assert client.post("/shared/postgres_sequence/inc", headers=JSON).json["value"] == 1
    with contextlib.closing(postgres_server.connect()) as other:  # another part of the app
        with contextlib.suppress(RuntimeError), other.transaction():
            taken = other.execute("SELECT nextval('session_counter_sequence')").fetchone()[0]
            raise RuntimeError("the work this number was for failed: roll back")
    assert taken == 2
    assert other.closed
    following = [client.post("/shared/postgres_sequence/inc", headers=JSON).json["value"]
                 for _ in range(2)]
    assert following == [3, 4]  # 2 is burnt: a gap, and still no number twice
    assert client.get("/shared/postgres_sequence", headers=JSON).json["value"] == 4


def test_a_postgres_that_does_not_answer_stops_the_app_with_the_url_and_fix(make_app):
    url = f"postgresql://counter:{PASSWORD}@127.0.0.1:{free_port()}/postgres"
    with pytest.raises(StartupError) as caught:
        postgres_app(make_app, url)
    message = caught.value.message
    assert message.startswith("Cannot reach PostgreSQL at postgresql://counter:***@127.0.0.1:")
    assert PASSWORD not in message and "Fix: start PostgreSQL" in message


@pytest.mark.parametrize("url", ["redis://127.0.0.1:5432/0", "postgresql:///nohost",
                                 "postgresql://u:pw@127.0.0.1:port/db"])
def test_a_url_that_is_not_postgresql_stops_the_app(make_app, url):
    with pytest.raises(StartupError) as caught:
        postgres_app(make_app, url)
    assert "is not a PostgreSQL URL" in caught.value.message and ":pw@" not in str(caught.value)


@pytest.mark.postgres
@pytest.mark.slow
def test_postgres_lost_at_run_time_is_503_and_the_next_request_after_it_is_back_works(
        make_app):
    with running_postgres() as server:
        client = postgres_app(make_app, server.url).test_client()
        for name in POSTGRES:
            assert client.post(f"/shared/{name}/inc", headers=JSON).json["value"] == 1
        server.stop()
        for name in POSTGRES:
            for method, path in (("post", f"/shared/{name}/inc"), ("get", f"/shared/{name}")):
                answer = getattr(client, method)(path, headers=JSON)
                assert answer.status_code == 503, (name, answer.get_data(as_text=True))
                message = answer.json["message"]
                assert message.startswith("PostgreSQL at postgresql://counter:***@127.0.0.1")
                assert PASSWORD not in message
        page = client.get("/")
        assert page.status_code == 200  # the page shows the others, these as unavailable
        assert 'data-testid="shared-postgres">unavailable<' in page.get_data(as_text=True)
        server.start()
        for name in POSTGRES:  # the very next request works: no stale connection is reused
            answer = client.post(f"/shared/{name}/inc", headers=JSON)
            assert answer.status_code == 200, (name, answer.get_data(as_text=True))
            assert answer.json["value"] == 2  # the database kept its count across the restart


@pytest.mark.postgres
@pytest.mark.server
@pytest.mark.slow
def test_a_gevent_worker_races_the_row_lock_without_hanging(runner, postgres_url):
    """100 greenlets of one gevent worker, 1 ms inside the row lock: exactly 1..100.

    psycopg must wait through gevent: else a greenlet waiting for the lock blocks the
    whole worker, the one holding the lock included, and every request times out.
    """
    result = runner.invoke(args=["race", "--json", "--server", "gevent", "--window", "0.001",
                                 "--postgres-url", postgres_url,
                                 *[arg for name in POSTGRES for arg in ("--strategy", name)]])
    assert result.exit_code == 0, result.output
    by_name = {item["strategy"]: item["summary"] for item in json.loads(result.output)["results"]}
    for name in SAFE:
        assert by_name[name]["verdict"] == "exactly 1..100", (name, by_name[name])
    assert by_name["postgres_read_write"]["duplicates"] > 0


def connections_open(server):
    """Return how many connections the app has open to PostgreSQL now."""
    with contextlib.closing(server.connect()) as conn:
        return conn.execute("SELECT count(*) FROM pg_stat_activity "
                            "WHERE application_name = 'session-counter'").fetchone()[0]


@pytest.mark.postgres
def test_one_process_uses_at_most_max_in_use_connections(make_app, postgres_url,
                                                         postgres_server, monkeypatch):
    """8 threads inside the row lock for 20 ms each: never more than 3 connections."""
    monkeypatch.setattr("session_counter.clients.postgres.MAX_IN_USE", 3)
    monkeypatch.setattr("session_counter.clients.postgres.KEEP_IDLE", 3)
    strategy = get_strategies(postgres_app(make_app, postgres_url, window=0.02))[
        "postgres_for_update"]
    peak, done = [0], threading.Event()

    def watch():
        while not done.is_set():
            peak[0] = max(peak[0], connections_open(postgres_server))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        handed_out = hand_out_from_threads(strategy, threads=8, each=3)
    finally:
        done.set()
        watcher.join()
    assert sorted(handed_out) == list(range(1, 25))
    assert 1 <= peak[0] <= 3


@pytest.mark.postgres
def test_a_request_that_finds_every_connection_busy_is_a_503(make_app, postgres_url,
                                                             monkeypatch):
    monkeypatch.setattr("session_counter.clients.postgres.MAX_IN_USE", 1)
    monkeypatch.setattr("session_counter.clients.postgres.BUSY_TIMEOUT", 0.05)
    app = postgres_app(make_app, postgres_url, window=0.5)
    holder = threading.Thread(target=get_strategies(app)["postgres_for_update"].increment)
    in_use = connections_for(app)._in_use  # this process's one connection
    holder.start()
    deadline = time.monotonic() + 30  # until the holder has taken it (a condition: a loaded
    while in_use.acquire(blocking=False):  # machine may start the thread late)
        in_use.release()
        assert time.monotonic() < deadline, "the holder never took the connection"
        time.sleep(0.005)
    answer = app.test_client().post("/shared/postgres/inc", headers=JSON)
    holder.join()
    assert answer.status_code == 503
    assert "all 1 connections of this process stayed busy" in answer.json["message"]
    assert "nothing was changed" in answer.json["message"]
    assert app.test_client().post("/shared/postgres/inc", headers=JSON).json["value"] == 1
