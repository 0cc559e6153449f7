"""The per-session lock: one client's simultaneous requests take turns, nobody else waits."""

import contextlib
import fcntl
import os

import pytest

from session_counter import create_app
from session_counter.race.lab import request_json
from session_counter.race.session_stores import simultaneous_round, start_session
from session_counter.race.simultaneous import fire_simultaneously
from session_counter.servers.harness import running_server
from session_counter.sessions.ids import hashed_key

from ..readonly import read_only

JSON = {"Accept": "application/json"}
CLIENTS = 50


@pytest.fixture
def locked_app(make_app, tmp_path):
    """An app whose session lock gives up after 0.2 s, so a held lock answers 503 quickly.

    Not TESTING: an unexpected error is answered with the app's 500 page, as in production.
    """
    return make_app({"TESTING": False, "SESSION_LOCK_TIMEOUT": 0.2},
                    instance_path=str(tmp_path / "instance"))


def session_id(client):
    """Return the session id in the client's cookie jar."""
    return client.get_cookie("session").value


def lock_path(app, sid):
    """Return the file whose flock is the session's lock: the session file itself."""
    interface = app.session_interface
    return interface.cache.path_for(interface._get_store_id(sid))


@contextlib.contextmanager
def holding(path):
    """Hold a session's lock from this test, as a slow request of that client would."""
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def is_free(path):
    """Tell whether nobody holds the lock of the session file at ``path`` right now."""
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def started_client(app):
    """A client whose session exists (counter 1); return (client, session id)."""
    client = app.test_client()
    assert client.post("/inc", headers=JSON).json["counter"] == 1
    return client, session_id(client)


def test_a_held_session_answers_503_after_the_timeout_and_changes_nothing(locked_app):
    client, sid = started_client(locked_app)
    with holding(lock_path(locked_app, sid)):
        busy = client.post("/inc", headers=JSON)
        text = client.post("/inc", headers={"Accept": "text/plain"})
    assert busy.status_code == 503
    assert "this session has been busy for 0.2 s" in busy.json["message"]
    assert "try again" in busy.json["message"]
    assert text.status_code == 503 and "busy" in text.get_data(as_text=True)
    assert client.post("/inc", headers=JSON).json["counter"] == 2


def test_a_held_session_never_blocks_other_clients(locked_app):
    client, sid = started_client(locked_app)
    other, _ = started_client(locked_app)
    with holding(lock_path(locked_app, sid)):
        assert other.post("/inc", headers=JSON).json["counter"] == 2
        assert locked_app.test_client().post("/inc", headers=JSON).json["counter"] == 1
        assert other.get("/").status_code == 200


@pytest.mark.parametrize("method, path, status", [
    ("GET", "/healthz", 200),
    ("GET", "/shared/sqlite", 200),
    ("POST", "/shared/sqlite/inc", 200),
    ("GET", "/api/strategies", 200),
    ("POST", "/api/race/analyse", 200),
    ("GET", "/static/style.css", 200),
    ("GET", "/no-such-page", 404),
    ("DELETE", "/healthz", 405),
])
def test_requests_that_never_use_the_session_do_not_wait_for_its_lock(locked_app, method,
                                                                      path, status):
    client, sid = started_client(locked_app)
    body = {"strategy": "sqlite", "answers": [{"status": 200, "value": 1, "pid": 1,
                                                "thread": "t"}], "final_value": 1,
            "wall_time": 0.1} if path == "/api/race/analyse" else None
    with holding(lock_path(locked_app, sid)):
        answer = client.open(path, method=method, json=body, headers=JSON)
        busy = client.post("/inc", headers=JSON)
    assert answer.status_code == status  # not the 503 of a session busy for 0.2 s
    assert busy.status_code == 503  # the session itself was held all along
    assert client.post("/inc", headers=JSON).json["counter"] == 2


def test_a_view_that_is_not_marked_cannot_change_the_session(locked_app, caplog):
    """A view without @uses_session gets a session that is never saved, and it is logged."""
    from flask import session

    locked_app.add_url_rule("/sneaky", "sneaky",
                            lambda: session.update(counter=99) or "changed", methods=["POST"])
    client, sid = started_client(locked_app)
    assert client.post("/sneaky").status_code == 200
    assert "sneaky changed the session without @uses_session" in caplog.text
    assert client.post("/inc", headers=JSON).json["counter"] == 2


def make_cross_site(app, client, sid):
    """A POST another site's page made the browser send."""
    return client.post("/inc", headers={**JSON, "Origin": "http://evil.example"})


def make_unknown_strategy(app, client, sid):
    """A POST to a strategy that does not exist."""
    return client.post("/shared/no-such/inc", headers=JSON)


def make_unknown_route(app, client, sid):
    """A POST to no route at all."""
    return client.post("/no-such-page", headers=JSON)


def make_unsaved_session(app, client, sid):
    """The session folder turns read-only: the session loads, its save fails."""
    with read_only(app.config["SESSION_DIR"]):
        return client.post("/inc", headers=JSON)


def make_store_bug(app, client, sid):
    """The session store raising something unexpected while the lock is held."""
    cache = app.session_interface.cache

    def broken_get(*args):
        raise RuntimeError("a bug in the store")

    cache.get_held = broken_get  # the read of a session file the request holds locked
    try:
        return client.post("/inc", headers=JSON)
    finally:
        del cache.get_held


@pytest.mark.parametrize("make_error, status", [
    (make_cross_site, 403), (make_unknown_strategy, 404), (make_unknown_route, 404),
    pytest.param(make_unsaved_session, 503, marks=pytest.mark.read_only),
    (make_store_bug, 503)])
def test_the_lock_is_released_on_every_error_path(locked_app, make_error, status):
    client, sid = started_client(locked_app)
    answer = make_error(locked_app, client, sid)
    assert answer.status_code == status
    assert answer.json["status"] == status  # the app's own error answer, not a bare 500
    assert is_free(lock_path(locked_app, sid))
    follow_up = client.post("/inc", headers=JSON)  # a held lock would make this a 503
    assert follow_up.status_code == 200
    assert session_id(client) == sid


def test_the_lock_is_released_after_a_lock_timeout(locked_app):
    client, sid = started_client(locked_app)
    with holding(lock_path(locked_app, sid)):
        assert client.post("/inc", headers=JSON).status_code == 503
    assert is_free(lock_path(locked_app, sid))
    assert client.post("/inc", headers=JSON).json["counter"] == 2


def test_which_routes_use_the_session_is_remembered_within_a_bound(locked_app, monkeypatch):
    """The @uses_session answer per (host, path, method) is kept for a bounded number of
    routes: a scanner's thousand paths cannot grow it, and the answers stay right."""
    from session_counter.sessions import base

    monkeypatch.setattr(base, "ROUTES_REMEMBERED", 8)
    client, sid = started_client(locked_app)
    for n in range(20):
        assert client.get(f"/no-such-page-{n}").status_code == 404
        assert len(locked_app.extensions["uses_session_by_route"]) <= 8
    with holding(lock_path(locked_app, sid)):  # /inc still locks, /healthz still does not
        assert client.get("/healthz").status_code == 200
        assert client.post("/inc", headers=JSON).status_code == 503
        assert client.get("/inc").status_code == 503
        assert client.delete("/healthz").status_code == 405
    assert client.post("/inc", headers=JSON).json["counter"] == 2


def test_session_lock_off_takes_no_lock(tmp_path):
    app = create_app({"TESTING": True, "SESSION_LOCK": False},
                     instance_path=str(tmp_path / "instance"))
    client, sid = started_client(app)
    assert app.session_interface.locks is None
    assert client.post("/inc", headers=JSON).json["counter"] == 2


# Real servers: simultaneous requests of one client, across threads and processes.

@pytest.mark.server
@pytest.mark.slow
@pytest.mark.parametrize("model, workers, threads", [
    ("dev", 1, 1), ("gunicorn", 4, 1), ("gthread", 2, 4), ("gevent", 2, 1)])
def test_locked_session_counts_every_simultaneous_increment(model, workers, threads):
    with running_server(model, workers=workers, threads=threads,
                        config={"SESSION_LOCK": True}) as server:
        for _ in range(2):
            result = simultaneous_round([server.url], "lock on", CLIENTS, "filesystem")
            assert result.errors == 0
            assert result.duplicates == 0 and result.gaps == 0
            assert result.exact, result.verdict  # answers were exactly 2..51
            assert result.final_value == CLIENTS + 1
            assert result.lost_updates == 0


@pytest.mark.server
@pytest.mark.slow
def test_a_session_file_replaced_mid_race_still_counts_every_increment():
    """The lock is the session file's flock, and 127 -> 128 makes that file a byte longer.

    A session that grows is written anew and renamed over the file the other requests
    of the race are waiting on. Each try of a waiter opens the file anew, so one rarely
    holds the replaced file at that moment: the tests below force that case.
    """
    with running_server("gunicorn", workers=4, config={"SESSION_LOCK": True}) as server:
        counter, header = start_session(server.url)
        while counter < 120:
            status, data, _ = request_json("POST", server.url + "/inc", headers=header)
            assert status == 200
            counter = data["counter"]
        answers = fire_simultaneously([server.url], "/inc", CLIENTS, headers=header,
                                      timeout=30.0)
        assert [a.error for a in answers if a.status != 200] == []
        assert sorted(a.value for a in answers) == list(range(121, 121 + CLIENTS))
        status, data, _ = request_json("POST", server.url + "/inc", headers=header)
        assert data["counter"] == 121 + CLIENTS


@pytest.fixture
def replaced_while_waiting(tmp_path, monkeypatch):
    """A store and its locks where the first flock try of a waiter finds its file replaced.

    ``replace(store)`` runs between the waiter's open and its flock, as the request that
    held the session would save (renaming a new file into place) and leave.
    """
    from session_counter.sessions import file_lock
    from session_counter.sessions.file_store import SessionFileStore

    def make(replace):
        store = SessionFileStore(str(tmp_path / "sessions"), default_timeout=3600)
        store.set("session:k", {"counter": 127})
        real_try_flock, replaced = file_lock.try_flock, []

        def try_flock(fd, operation=fcntl.LOCK_EX):
            if not replaced:
                replaced.append(True)
                replace(store)  # its own flocks come back here, and go straight through
            return real_try_flock(fd, operation)

        monkeypatch.setattr(file_lock, "try_flock", try_flock)
        return store, file_lock.SessionFileLocks(store, timeout=1)
    return make


def test_a_lock_on_a_file_replaced_meanwhile_is_dropped_for_the_new_file(
        replaced_while_waiting):
    store, locks = replaced_while_waiting(
        lambda store: store.set("session:k", {"counter": 128}))  # grows: renamed in place
    held = locks.acquire("session:k")
    try:  # the replaced file was let go, the new one locked and read
        assert store.get_held(held) == {"counter": 128}
        assert os.fstat(held.fd).st_ino == os.stat(held.path).st_ino
    finally:
        held.release()


def test_a_lock_on_a_file_swept_meanwhile_is_a_new_session(replaced_while_waiting):
    _, locks = replaced_while_waiting(
        lambda store: store.delete("session:k"))  # the sweep deleted it (expired)
    assert locks.acquire("session:k") is None


@pytest.mark.server
@pytest.mark.slow
def test_without_the_lock_simultaneous_increments_are_lost():
    """Bounded: at most 5 rounds of 50; in practice the first round already loses ~20."""
    with running_server("gunicorn", workers=4, config={"SESSION_LOCK": False}) as server:
        losses = []
        for _ in range(5):
            result = simultaneous_round([server.url], "lock off", CLIENTS, "filesystem")
            assert result.errors == 0
            losses.append(result.lost_updates)
            if result.lost_updates > 0:
                break
    assert max(losses) > 0, f"no update was lost in {len(losses)} rounds: {losses}"


@pytest.mark.server
def test_a_lock_held_by_another_process_gives_503_and_other_clients_go_on():
    with running_server("gunicorn", workers=2,
                        config={"SESSION_LOCK_TIMEOUT": 0.3}) as server:
        status, first, headers = request_json("POST", server.url + "/inc")
        cookie = headers["Set-Cookie"].split(";")[0]
        sid = cookie.split("=", 1)[1]
        session_file = os.path.join(server.instance_path, "sessions",
                                    hashed_key("session:" + sid))
        with holding(session_file):
            status, busy, _ = request_json("POST", server.url + "/inc",
                                           headers={"Cookie": cookie})
            assert status == 503 and "busy" in busy["message"]
            status, other, _ = request_json("POST", server.url + "/inc")
            assert status == 200 and other["counter"] == 1
        status, after, _ = request_json("POST", server.url + "/inc", headers={"Cookie": cookie})
        assert status == 200 and after["counter"] == first["counter"] + 1


@pytest.mark.parametrize("path", ["/healthz", "/inc"])
def test_a_request_flask_cannot_route_opens_no_session(make_app, path):
    """An untrusted Host leaves Flask without a URL adapter: a 400, not a 500."""
    app = make_app({"TESTING": False, "TRUSTED_HOSTS": ["app.example"]})
    answer = app.test_client().post(path, base_url="http://other.example", headers=JSON)
    assert answer.status_code == 400
    assert "is not trusted" in answer.json["message"]
