"""Sessions in memcached (SESSION_STORE=memcached) on a real memcached: stored, locked, faults.

The tests marked `memcached` need a memcached; the others check what happens without one.
Eviction under memory pressure: test_memcached_eviction.py.
"""

import os
import signal
import subprocess
import sys
import threading

import pytest
import requests

from session_counter import create_app
from session_counter.clients.memcached import connect
from session_counter.servers.harness import (
    PROJECT_ROOT,
    clean_environ,
    free_port,
    running_booted_server,
    wait_for_workers,
)
from session_counter.sessions.base import SessionLockTimeout
from session_counter.sessions.memcached_store import MemcachedSessionLocks
from session_counter.startup_checks import StartupError

from ..memcached_server import running_memcached
from ..store_faults import wait_until

JSON = {"Accept": "application/json"}


def memcached_app(make_app, url, **config):
    """An app whose sessions live in the memcached at ``url``."""
    return make_app({"TESTING": True, "SESSION_STORE": "memcached", "MEMCACHED_URL": url,
                     **config})


def session_id(client):
    """Return the session id in a Flask test client's cookie jar."""
    return client.get_cookie("session").value


def inc(client):
    """POST /inc as JSON; return the answer."""
    return client.post("/inc", headers=JSON)


@pytest.mark.memcached
def test_sessions_live_in_memcached_not_on_disk(make_app, memcached_url, memcached_server):
    app = memcached_app(make_app, memcached_url)
    client = app.test_client()
    assert [inc(client).json["counter"] for _ in range(3)] == [1, 2, 3]
    raw = memcached_server.client()
    try:
        assert raw.get(f"session:{session_id(client)}") == b"\x82\xaa_permanent\xc3\xa7counter\x03"
        # the lifetime (31 days) is memcached's expiry: the meta command's t flag says it
        ttl = int(raw.raw_command(f"mg session:{session_id(client)} t", b"\r\n").split(b"t")[-1])
        # over 30 days memcached takes an absolute Unix time, which it turns into its own
        # whole-second clock: the TTL it reports can read 2 s over (seen once in a full run)
        assert 31 * 24 * 3600 - 60 < ttl <= 31 * 24 * 3600 + 5
        assert raw.get(f"lock:session:{session_id(client)}") is None  # given back
    finally:
        raw.close()
    assert os.listdir(app.config["SESSION_DIR"]) == []
    assert client.get("/healthz").json["session_store"] == "memcached"
    assert client.get("/healthz").json["session_lock"] is True


@pytest.mark.memcached
@pytest.mark.parametrize("garbage", [b"\x00\xff not msgpack", b"[1, 2, 3]", b"\x93\x01\x02\x03"])
def test_damaged_session_in_memcached_starts_fresh(make_app, memcached_url, memcached_server,
                                                    garbage, caplog):
    client = memcached_app(make_app, memcached_url).test_client()
    inc(client)
    sid = session_id(client)
    raw = memcached_server.client()
    raw.set(f"session:{sid}", garbage)
    raw.close()
    answer = inc(client)
    assert answer.status_code == 200 and answer.json["counter"] == 1
    assert session_id(client) != sid
    assert "in memcached cannot be decoded as a session" in caplog.text


@pytest.mark.memcached
def test_threads_take_turns_on_one_lock(memcached_url):
    """8 threads x 25 turns on one session's lock: a read-then-write under it loses nothing."""
    locks = MemcachedSessionLocks(connect(memcached_url), timeout=30)
    count, inside, overlaps = [0], [0], []

    def turns():
        for _ in range(25):
            held = locks.acquire("session:shared")
            inside[0] += 1
            overlaps.append(inside[0])
            value = count[0]
            threading.Event().wait(0.0005)  # widen the read-then-write window
            count[0] = value + 1
            inside[0] -= 1
            held.release()

    threads = [threading.Thread(target=turns) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert count[0] == 200 and set(overlaps) == {1}


@pytest.mark.memcached
def test_lock_of_a_crashed_holder_expires(memcached_url):
    """A holder that never releases (a killed worker) blocks only for the lease."""
    MemcachedSessionLocks(connect(memcached_url), timeout=1, lease=1).acquire("session:a")
    waiting = MemcachedSessionLocks(connect(memcached_url), timeout=10)
    waiting.acquire("session:a").release()


@pytest.mark.memcached
def test_a_release_after_the_lease_never_frees_another_holders_lock(memcached_url):
    """Compare-and-delete: the late holder's release leaves the lock its successor holds."""
    late = MemcachedSessionLocks(connect(memcached_url), timeout=1, lease=1)
    held_too_long = late.acquire("session:a")
    successor = MemcachedSessionLocks(connect(memcached_url), timeout=10)
    now_held = successor.acquire("session:a")  # after the lease of 1 s ran out
    held_too_long.release()
    with pytest.raises(SessionLockTimeout):
        MemcachedSessionLocks(connect(memcached_url), timeout=0.2).acquire("session:a")
    now_held.release()
    successor.acquire("session:a").release()


def test_unreachable_memcached_at_start_up_names_url_and_fix(tmp_path):
    url = f"memcached://127.0.0.1:{free_port()}"
    with pytest.raises(StartupError) as error:
        create_app({"SESSION_STORE": "memcached", "MEMCACHED_URL": url},
                   instance_path=str(tmp_path))
    message = error.value.message
    assert f"Cannot reach memcached at {url} (" in message
    assert "Fix: start memcached" in message and "SESSION_COUNTER_SESSION_STORE" in message


def test_run_py_refuses_to_start_on_an_unreachable_memcached_session_store(tmp_path):
    url = f"memcached://127.0.0.1:{free_port()}"
    env = dict(clean_environ(), SESSION_COUNTER_INSTANCE_PATH=str(tmp_path),
               SESSION_COUNTER_SESSION_STORE="memcached", SESSION_COUNTER_MEMCACHED_URL=url)
    done = subprocess.run([sys.executable, "run.py", "--port", str(free_port())], env=env,
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert f"session-counter cannot start: Cannot reach memcached at {url}" in done.stderr
    assert "Fix: start memcached" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.memcached
def test_memcached_killed_is_503_then_the_next_request_works(make_app, tmp_path):
    """Lost at run time: 503 (never 500) saying what failed; back again: the next request
    is answered, in a fresh session, since a restarted memcached is empty."""
    with running_memcached(tmp_path / "memcached") as server:
        app = memcached_app(make_app, server.url, SESSION_LOCK_TIMEOUT=1)
        client, newcomer = app.test_client(), app.test_client()
        assert [inc(client).json["counter"] for _ in range(3)] == [1, 2, 3]
        sid = session_id(client)

        server.stop(signal.SIGKILL)
        down = {"POST /inc": inc(client), "GET /": client.get("/", headers=JSON),
                "POST /inc, no cookie": inc(newcomer)}
        for what, answer in down.items():
            doing = "saving" if "no cookie" in what else "locking"  # no cookie: nothing to lock
            assert answer.status_code == 503, what
            assert answer.json["message"].startswith(
                f"memcached at {server.url} failed while {doing} this session"), answer.json
        assert client.get("/healthz").status_code == 200  # opens no session
        assert newcomer.get_cookie("session") is None  # its 503 handed out no session

        server.start()  # same port, empty
        answer = inc(client)
        assert answer.status_code == 200 and answer.json["counter"] == 1
        assert session_id(client) != sid
        assert inc(client).json["counter"] == 2
        assert inc(newcomer).json["counter"] == 1


@pytest.mark.server
@pytest.mark.memcached
@pytest.mark.slow
def test_memcached_killed_under_gunicorn_answers_503_never_500_then_counts_again(tmp_path):
    """Every worker answers 503 while memcached is down, one that boots meanwhile too
    (it logs the start-up problem instead of halting gunicorn); then they count again."""
    with running_memcached(tmp_path / "memcached") as memcached, \
            running_booted_server("gunicorn", workers=2, config={
                "SESSION_STORE": "memcached", "MEMCACHED_URL": memcached.url,
                "SESSION_LOCK_TIMEOUT": 1}) as server, requests.Session() as browser:
        def post():
            return browser.post(server.url + "/inc", headers=JSON, timeout=30)

        def while_down():
            return [post() for _ in range(6)] + [browser.get(server.url + "/", timeout=30)]

        assert [post().json()["counter"] for _ in range(4)] == [1, 2, 3, 4]
        memcached.stop(signal.SIGKILL)
        down = while_down()
        old_workers = set(wait_for_workers(server, 2))
        os.kill(min(old_workers), signal.SIGKILL)  # its replacement boots without memcached
        wait_until(lambda: len(set(wait_for_workers(server, 2)) - old_workers) == 1)
        down += while_down()
        assert [a.status_code for a in down] == [503] * len(down)
        assert all(f"memcached at {memcached.url} failed while" in a.text for a in down)
        assert f"Cannot reach memcached at {memcached.url}" in server.log()
        memcached.start()
        assert [post().json()["counter"] for _ in range(3)] == [1, 2, 3]  # emptied by the restart
