"""No session or counter is ever unpickled: a pickle planted in a store runs no code.

Whoever can write into the Redis, the memcached or the instance folder could otherwise make the next
request that reads the value run anything (Flask-Session 0.8 falls back to pickle.loads;
cachelib's files are pickles). Each test plants a pickle whose loading makes a folder.
"""

import os
import pickle
import struct

import pytest

from session_counter.sessions.file_store import HEADER, MAGIC
from session_counter.sessions.ids import log_name

JSON = {"Accept": "application/json"}


class RunsCode:
    """A pickle of this makes a folder at ``path`` when it is loaded."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (os.mkdir, (self.path,))


def attack(marker):
    """Return the bytes of a pickle that makes the folder ``marker`` when loaded."""
    return pickle.dumps(RunsCode(marker))


def session_id(client):
    """Return the session id in the client's cookie jar."""
    return client.get_cookie("session").value


def only_session_file(app):
    """Return the path of the only session file."""
    (name,) = os.listdir(app.config["SESSION_DIR"])
    return os.path.join(app.config["SESSION_DIR"], name)


@pytest.mark.redis
def test_a_pickle_in_redis_runs_no_code_and_starts_a_fresh_session(make_app, tmp_path,
                                                                    redis_url, redis_server,
                                                                    caplog):
    app = make_app({"TESTING": True, "REDIS_URL": redis_url})
    client = app.test_client()
    assert client.post("/inc", headers=JSON).json["counter"] == 1
    sid = session_id(client)
    marker = tmp_path / "pwned"
    with redis_server.client() as r:
        r.set(f"session:{sid}", attack(marker))
    answer = client.post("/inc", headers=JSON)
    assert not marker.exists(), "the planted pickle ran"
    assert answer.status_code == 200 and answer.json["counter"] == 1  # a fresh session
    assert session_id(client) != sid
    assert f"{log_name('session:' + sid)} in Redis cannot be decoded" in caplog.text


@pytest.mark.memcached
def test_a_pickle_in_memcached_runs_no_code_and_starts_a_fresh_session(
        make_app, tmp_path, memcached_url, memcached_server, caplog):
    app = make_app({"TESTING": True, "SESSION_STORE": "memcached",
                    "MEMCACHED_URL": memcached_url})
    client = app.test_client()
    assert client.post("/inc", headers=JSON).json["counter"] == 1
    sid = session_id(client)
    marker = tmp_path / "pwned"
    raw = memcached_server.client()
    raw.set(f"session:{sid}", attack(marker))
    raw.close()
    answer = client.post("/inc", headers=JSON)
    assert not marker.exists(), "the planted pickle ran"
    assert answer.status_code == 200 and answer.json["counter"] == 1  # a fresh session
    assert session_id(client) != sid
    assert f"{log_name('session:' + sid)} in memcached cannot be decoded" in caplog.text


@pytest.mark.parametrize("layout", ["cachelib", "ours"])
def test_a_pickle_in_a_session_file_runs_no_code_and_starts_a_fresh_session(
        client, app, tmp_path, caplog, layout):
    """Both an old version's layout (cachelib: expiry, pickle) and ours with a pickle body."""
    assert client.post("/inc", headers=JSON).json["counter"] == 1
    marker = tmp_path / "pwned"
    payload = attack(marker)
    with open(only_session_file(app), "wb") as f:
        f.write(struct.pack("I", 0) + payload if layout == "cachelib" else
                HEADER.pack(MAGIC, 0, len(payload)) + payload)
    answer = client.post("/inc", headers=JSON)
    assert not marker.exists(), "the planted pickle ran"
    assert answer.status_code == 200 and answer.json["counter"] == 1
    assert "starting a fresh session" in caplog.text


def test_a_session_file_of_an_older_version_is_a_fresh_session_and_pruned(client, app,
                                                                        runner, caplog):
    """cachelib's pickle files (before this version) read as damaged; prune deletes them."""
    assert client.post("/inc", headers=JSON).json["counter"] == 1
    path = only_session_file(app)
    with open(path, "wb") as f:  # what version 0.1 wrote: cachelib's expiry, then a pickle
        f.write(struct.pack("I", 0) + pickle.dumps({"_permanent": True, "counter": 41}))
    assert client.post("/inc", headers=JSON).json["counter"] == 1
    assert "is damaged or from an older version" in caplog.text
    result = runner.invoke(args=["sessions", "prune"])
    assert "Pruned 0 expired and 1 damaged" in result.output
    assert not os.path.exists(path)


def test_the_shared_cache_strategy_never_unpickles_its_counter(client, app, tmp_path):
    assert client.post("/shared/cache/inc", headers=JSON).json["value"] == 1
    strategy_folder = os.path.join(app.instance_path, "shared-cache")
    (name,) = os.listdir(strategy_folder)
    marker = tmp_path / "pwned"
    with open(os.path.join(strategy_folder, name), "wb") as f:
        f.write(struct.pack("I", 0) + attack(marker))
    answer = client.get("/shared/cache", headers=JSON)
    assert not marker.exists(), "the planted pickle ran"
    # not a count it wrote: refused as damaged (tests/strategies/test_cache_lost_count.py)
    assert answer.status_code == 503 and "is damaged" in answer.json["message"]
