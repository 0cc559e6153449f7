"""A session id is a credential: logs name a session by a short hash of its key, never the id.

Each test makes the app log about one client's session (a damaged value, a non-integer
counter, a store error, a lock that outlived its lease) on the file store, on Redis and
on memcached, then reads every captured line: the raw id is nowhere, the short hash is there.
"""

import logging
import os
import re
import time

import msgspec
import pytest

from session_counter import create_app
from session_counter.clients.memcached import connect as connect_memcached
from session_counter.clients.redis import connect
from session_counter.sessions.ids import hashed_key, log_name
from session_counter.sessions.memcached_store import MemcachedSessionLocks
from session_counter.sessions.redis_store import RedisSessionLocks

from ..session_files import write_session_file

JSON = {"Accept": "application/json"}
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{43}")  # what an id looks like (sessions.SESSION_ID_SHAPE)


@pytest.fixture(params=["file", pytest.param("redis", marks=pytest.mark.redis),
                        pytest.param("memcached", marks=pytest.mark.memcached)])
def store(request, tmp_path):
    """An app on one session store, its client with one session, and a way to plant a value."""
    config = {"TESTING": True}
    if request.param == "redis":
        redis_server = request.getfixturevalue("redis_server")
        config["REDIS_URL"] = request.getfixturevalue("redis_url")
    if request.param == "memcached":
        memcached_server = request.getfixturevalue("memcached_server")
        config.update(SESSION_STORE="memcached",
                      MEMCACHED_URL=request.getfixturevalue("memcached_url"))
    app = create_app(config, instance_path=str(tmp_path / "instance"))
    client = app.test_client()
    assert client.post("/inc", headers=JSON).json["counter"] == 1
    sid = client.get_cookie("session").value

    def plant(raw):
        """Replace the stored session body with ``raw`` bytes."""
        if request.param == "redis":
            with redis_server.client() as r:
                r.set(f"session:{sid}", raw)
        elif request.param == "memcached":
            raw_client = memcached_server.client()
            raw_client.set(f"session:{sid}", raw)
            raw_client.close()
        else:
            path = os.path.join(app.config["SESSION_DIR"], hashed_key(f"session:{sid}"))
            with open(path, "r+b") as f:
                f.write(raw)
                f.truncate()

    return app, client, sid, plant


def assert_named_by_hash_only(caplog, sid, words):
    """The captured log names the session by its hash in a line saying ``words``, never by id."""
    assert sid not in caplog.text
    assert not SESSION_ID.search(caplog.text.replace(hashed_key(f"session:{sid}"), "")), \
        caplog.text
    lines = [r.getMessage() for r in caplog.records if words in r.getMessage()]
    assert lines and all(log_name(f"session:{sid}")[len("session "):] in line
                         for line in lines), caplog.text


def test_the_log_name_is_a_short_prefix_of_the_file_name():
    assert log_name("session:abc") == "session " + hashed_key("session:abc")[:12]


def test_a_non_integer_counter_is_logged_by_hash(store, caplog):
    app, client, sid, plant = store
    caplog.set_level(logging.DEBUG)
    body = msgspec.msgpack.encode({"_permanent": True, "counter": "seven"})
    if app.config["SESSION_STORE"] in ("redis", "memcached"):
        plant(body)
    else:
        write_session_file(os.path.join(app.config["SESSION_DIR"],
                                        hashed_key(f"session:{sid}")),
                           {"_permanent": True, "counter": "seven"})
    assert client.post("/inc", headers=JSON).json["counter"] == 1
    assert_named_by_hash_only(caplog, sid, "non-integer counter")


def test_a_damaged_session_is_logged_by_hash(store, caplog):
    _, client, sid, plant = store
    caplog.set_level(logging.DEBUG)
    plant(b"\xc1" * 40)
    assert client.post("/inc", headers=JSON).json["counter"] == 1
    assert_named_by_hash_only(caplog, sid, "starting a fresh session")


def test_a_session_that_cannot_be_opened_is_logged_by_hash(store, caplog, monkeypatch):
    app, client, sid, _ = store
    caplog.set_level(logging.DEBUG)

    def broken(*args, **kwargs):
        raise RuntimeError("a store bug")

    monkeypatch.setattr(type(app.session_interface), "_retrieve_session_data", broken)
    assert client.post("/inc", headers=JSON).status_code == 503
    assert_named_by_hash_only(caplog, sid, "could not open")


@pytest.mark.redis
def test_a_redis_lock_that_outlived_its_lease_is_logged_by_hash(redis_url, caplog):
    caplog.set_level(logging.DEBUG)
    sid = "A" * 43
    held = RedisSessionLocks(connect(redis_url), timeout=1, lease=0.05).acquire(f"session:{sid}")
    time.sleep(0.2)
    held.release()
    assert_named_by_hash_only(caplog, sid, "expired before its request finished")


@pytest.mark.memcached
def test_a_memcached_lock_that_outlived_its_lease_is_logged_by_hash(memcached_url, caplog):
    caplog.set_level(logging.DEBUG)
    sid = "A" * 43
    locks = MemcachedSessionLocks(connect_memcached(memcached_url), timeout=1, lease=1)
    held = locks.acquire(f"session:{sid}")
    time.sleep(2.1)  # memcached counts whole seconds: a 1 s item is gone within 2 s
    held.release()
    assert_named_by_hash_only(caplog, sid, "ended before its request finished")
