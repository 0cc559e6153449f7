"""Expired session files go without cron, a bounded batch at a time; a full disk refuses
new sessions."""

import fcntl
import os
import pickle
import struct
import threading
import time

import pytest
from flask.testing import FlaskClient

from session_counter.sessions.sweep import sweep_lock_path

from ..session_files import age_session_file

JSON = {"Accept": "application/json"}


@pytest.fixture
def sweep_app(make_app):
    """Build an app on a fresh instance folder with settings on top of the defaults."""
    return lambda instance_path=None, **config: make_app({"TESTING": True, **config},
                                                         instance_path=instance_path)


def session_files(app):
    """Return the set of session file names."""
    return set(os.listdir(app.config["SESSION_DIR"]))


def new_session(app):
    """Start one new client (POST /inc without a cookie); return its file name."""
    before = session_files(app)
    assert app.test_client().post("/inc", headers=JSON).json["counter"] == 1
    (name,) = session_files(app) - before
    return name


def test_300_expired_sessions_are_gone_within_100_new_sessions(sweep_app):
    """Lifetime 2 s: 300 sessions expire; new clients alone (no cron) delete them all."""
    app = sweep_app(PERMANENT_SESSION_LIFETIME=2, SESSION_SWEEP_SECONDS=3600)
    expired = {new_session(app) for _ in range(300)}
    # the new clients below live an hour: on a slow machine the loop may outlast 2 s, and
    # a fresh session that expired meanwhile would rightly be swept too
    app.config["PERMANENT_SESSION_LIFETIME"] = 3600
    time.sleep(3)
    fresh = set()
    while expired & session_files(app):
        assert len(fresh) < 100, "300 expired files outlived 100 new sessions"
        fresh.add(new_session(app))
        assert app.session_interface.sweeper.join(30)  # a sweep it started is over
    assert session_files(app) == fresh  # only the expired ones went


def test_a_sweep_is_due_after_some_seconds_without_new_sessions(sweep_app):
    app = sweep_app(PERMANENT_SESSION_LIFETIME=1, SESSION_SWEEP_SECONDS=2)
    clients = [app.test_client() for _ in range(5)]
    for client in clients:
        client.post("/inc")
    assert session_files(app)  # (a slow machine may have swept some already)
    time.sleep(3)
    assert clients[0].get("/").status_code == 200  # a read: no new session, a sweep due
    assert app.session_interface.sweeper.join(30)
    assert session_files(app) == set()


def test_the_index_finds_expired_files_however_many_are_stored(sweep_app, tmp_path):
    """400 files, a batch of 50: the 100 expired ones go in 3 sweeps (walking, 80 sweeps)."""
    instance, rarely = str(tmp_path / "shared"), {"SESSION_SWEEP_EVERY": 10_000}
    app = sweep_app(instance, SESSION_SWEEP_BATCH=50, **rarely)
    live = {new_session(app) for _ in range(300)}
    short = sweep_app(instance, PERMANENT_SESSION_LIFETIME=1, **rarely)  # same folder
    expired = {new_session(short) for _ in range(100)}
    time.sleep(2.5)
    assert session_files(app) == live | expired
    sweeper = app.session_interface.sweeper
    results = [sweeper.sweep() for _ in range(3)]
    assert all(sum(result) <= 50 for result in results)  # never more than a batch
    assert session_files(app) == live
    assert sum(result[0] for result in results) == 100


def test_the_walk_finds_files_the_index_does_not_know_a_tenth_of_a_batch_at_a_time(sweep_app):
    app = sweep_app(SESSION_SWEEP_BATCH=50, SESSION_SWEEP_EVERY=10_000)
    folder = app.config["SESSION_DIR"]
    for n in range(12):  # an older version's files: not in the index
        with open(os.path.join(folder, f"{n:064x}"), "wb") as f:
            f.write(struct.pack("I", 0) + pickle.dumps({"counter": n}))
    sweeper = app.session_interface.sweeper
    assert [sweeper.sweep() for _ in range(3)] == [(0, 5, 0), (0, 5, 0), (0, 2, 0)]
    assert session_files(app) == set()


def test_one_process_sweeps_at_a_time(sweep_app):
    app = sweep_app()
    name = new_session(app)
    age_session_file(os.path.join(app.config["SESSION_DIR"], name), 10)
    fd = os.open(sweep_lock_path(app), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # another worker is sweeping
        assert app.session_interface.sweeper.sweep() is None
        assert name in session_files(app)
    finally:
        os.close(fd)
    assert app.session_interface.sweeper.sweep() == (1, 0, 0)


def test_a_sweep_keeps_a_file_being_written_and_its_writer_saves_it_anew(sweep_app):
    app = sweep_app()
    client = app.test_client()
    client.post("/inc")
    (name,) = session_files(app)
    path = os.path.join(app.config["SESSION_DIR"], name)
    age_session_file(path, 10)
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # set() is rewriting it this very moment
        assert app.session_interface.sweeper.sweep() == (0, 0, 1)
    finally:
        os.close(fd)
    assert app.session_interface.sweeper.sweep() == (1, 0, 0)
    store, key = app.session_interface.cache, f"session:{client.get_cookie('session').value}"
    store.set(key, {"counter": 7})  # a request that loaded it before the sweep saves it
    assert store.get(key) == {"counter": 7}


def test_the_sweep_deletes_an_older_versions_pickle_files(sweep_app):
    app = sweep_app()
    path = os.path.join(app.config["SESSION_DIR"], "0" * 64)
    with open(path, "wb") as f:
        f.write(struct.pack("I", 0) + pickle.dumps({"counter": 3}))
    assert app.session_interface.sweeper.sweep() == (0, 1, 0)
    assert not os.path.exists(path)


def test_below_the_free_space_floor_new_sessions_get_503_and_old_ones_go_on(sweep_app):
    app = sweep_app(MIN_FREE_BYTES=0)
    old_client = app.test_client()
    old_client.post("/inc")
    statvfs = os.statvfs(app.config["SESSION_DIR"])
    floor = statvfs.f_bavail * statvfs.f_frsize + 10**15  # more than this disk has free
    full = sweep_app(app.instance_path, MIN_FREE_BYTES=floor)  # the same instance folder
    existing = full.test_client()
    existing.set_cookie("session", old_client.get_cookie("session").value)
    assert existing.post("/inc", headers=JSON).json["counter"] == 2
    assert existing.get("/").status_code == 200
    refused = full.test_client().post("/inc", headers=JSON)
    assert refused.status_code == 503
    message = refused.json["message"]
    assert "new sessions are refused" in message and "SESSION_COUNTER_MIN_FREE_BYTES" in message
    assert "Existing sessions keep working" in message
    assert len(session_files(full)) == 1  # nothing written for the refused client
    assert full.test_client().get("/healthz").status_code == 200


@pytest.mark.parametrize("floor", [0, 1])
def test_a_floor_below_the_free_space_refuses_nothing(sweep_app, floor):
    app = sweep_app(MIN_FREE_BYTES=floor)
    assert app.test_client().post("/inc", headers=JSON).json["counter"] == 1


def test_a_broken_index_fails_no_request_and_the_walk_still_sweeps(sweep_app, caplog):
    app = sweep_app()
    os.mkdir(os.path.join(app.instance_path, "session-expiry.sqlite"))  # cannot be opened
    name = new_session(app)  # its INSERT fails: logged, the session is saved all the same
    assert "could not record session file" in caplog.text
    age_session_file(os.path.join(app.config["SESSION_DIR"], name), 10)
    assert app.session_interface.sweeper.sweep() == (1, 0, 0)
    assert "the session expiry index is unavailable" in caplog.text


def test_a_sweep_that_fails_is_logged_and_the_request_answers(sweep_app, monkeypatch, caplog):
    app = sweep_app()
    sweeper = app.session_interface.sweeper

    def broken(now=None):
        raise RuntimeError("a bug in the sweep")

    monkeypatch.setattr(sweeper, "sweep", broken)
    assert app.test_client().post("/inc", headers=JSON).json["counter"] == 1  # sweeps first
    assert sweeper.join(30)
    assert "sweeping the session folder" in caplog.text and "a bug in the sweep" in caplog.text


def slow_sweep(sweeper, monkeypatch):
    """Make ``sweeper``'s sweeps wait for the returned ``release`` event; count them."""
    release, done, calls = threading.Event(), threading.Event(), []

    def sweep(now=None):
        calls.append(threading.current_thread().name)
        release.wait(30)  # bounded: a sweep that never gets released still ends
        done.set()

    monkeypatch.setattr(sweeper, "sweep", sweep)
    return release, done, calls


def test_the_request_that_makes_a_sweep_due_answers_without_waiting_for_it(sweep_app,
                                                                           monkeypatch):
    """The sweep runs after the answer (a thread of the worker): its cost is no request's.
    Before, the request that made it due ran it and answered only once it was over."""
    app = sweep_app(SESSION_SWEEP_EVERY=1)
    app.test_client_class = FlaskClient  # Flask's own: it does not wait for sweeps either
    sweeper = app.session_interface.sweeper
    release, done, calls = slow_sweep(sweeper, monkeypatch)
    client = app.test_client()
    answer = client.post("/inc", headers=JSON)  # a process's first session request: due
    sweeping_when_answered = not done.is_set()
    for _ in range(3):  # each makes a sweep due again: still one at a time
        assert client.post("/inc", headers=JSON).status_code == 200
        assert app.test_client().post("/inc", headers=JSON).status_code == 200
    release.set()
    assert sweeper.join(30)

    assert answer.json["counter"] == 1
    assert sweeping_when_answered, "the request waited for the sweep it made due"
    assert calls == ["session-sweep"]  # one sweep, in its own thread, none started meanwhile
    assert done.is_set()


def test_with_background_off_the_request_runs_the_sweep_itself(sweep_app, monkeypatch):
    app = sweep_app(SESSION_SWEEP_IN_BACKGROUND=False)
    release, done, calls = slow_sweep(app.session_interface.sweeper, monkeypatch)
    release.set()
    assert app.test_client().post("/inc", headers=JSON).status_code == 200
    assert calls == [threading.current_thread().name] and done.is_set()


@pytest.mark.server
def test_a_process_forked_for_one_request_sweeps_before_it_exits(sweep_app, tmp_path):
    """Flask's dev server with processes=N forks a child per request, which exits after
    it: a sweep thread there would die unfinished, so such a child sweeps in the request."""
    import requests

    from session_counter.servers.harness import running_server

    instance = tmp_path / "instance"
    store = sweep_app(str(instance)).session_interface.cache
    for n in range(800):  # indexed, expiring in 1 s: one sweep's worth (< 9/10 of a batch)
        store.set(f"session:old-{n}", {"counter": n}, timeout=1)
    folder = instance / "sessions"
    assert len(os.listdir(folder)) == 800
    time.sleep(2)  # past their lifetime
    with running_server("dev-processes", instance_path=str(instance)) as server:
        requests.post(f"{server.url}/inc", headers=JSON, timeout=60).raise_for_status()
        left = os.listdir(folder)
    assert len(left) == 1  # the new session's; the child swept all 800 before it exited
