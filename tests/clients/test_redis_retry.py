"""A Redis command whose connection drops after it was sent is never run again.

redis-py raises ConnectionError also when the command reached Redis and only the answer
was lost ("Connection closed by server"). A proxy in front of a real redis-server drops
the connection right after forwarding one chosen command: Redis runs it, the app never
hears back. The request answers 503, the command ran once, and the next request works.
"""

import pytest

from session_counter import create_app
from session_counter.strategies import get_strategies

from ..redis_proxy import RedisProxy

JSON = {"Accept": "application/json"}


def is_incr(command):
    """The redis strategy's INCR (redis-py 8 sends it as INCRBY key 1)."""
    return command[0].upper() in (b"INCR", b"INCRBY")


def incrs(proxy):
    """Return how many INCR commands went through ``proxy``."""
    return proxy.count("INCR") + proxy.count("INCRBY")


def is_lock(command):
    """A session lock being taken: SET key token NX PX lease."""
    return command[0].upper() == b"SET" and b"NX" in [a.upper() for a in command[3:]]


@pytest.fixture
def proxy(redis_url, redis_server):
    """A dropping proxy in front of the test session's (emptied) Redis."""
    with RedisProxy(redis_server.port) as proxy:
        yield proxy


def app_through(proxy, tmp_path, **config):
    """An app whose Redis (sessions, locks, the redis strategy) is reached through ``proxy``."""
    return create_app({"TESTING": True, "REDIS_URL": proxy.url, **config},
                      instance_path=str(tmp_path / "instance"))


@pytest.mark.redis
def test_an_incr_whose_answer_is_lost_runs_once_and_answers_503(proxy, redis_server, tmp_path):
    app = app_through(proxy, tmp_path)
    client = app.test_client()
    before = [client.post("/shared/redis/inc", headers=JSON).json["value"] for _ in range(2)]
    proxy.drop_after(is_incr)
    cut = client.post("/shared/redis/inc", headers=JSON)
    after = client.post("/shared/redis/inc", headers=JSON)
    with redis_server.client() as r:
        stored = int(r.get(get_strategies(app)["redis"].key))

    assert before == [1, 2]
    assert len(proxy.dropped) == 1
    assert cut.status_code == 503
    assert "handing out the next number (Connection closed by server.)" in cut.json["message"]
    assert "it may have run" in cut.json["message"]
    # four requests, four INCRs: none ran twice. 3 went to the request whose answer was
    # lost (used up, never handed out); the next request got 4.
    assert incrs(proxy) == 4 == stored
    assert after.status_code == 200 and after.json["value"] == 4


@pytest.mark.redis
def test_a_session_lock_whose_answer_is_lost_does_not_lock_the_client_out(
        proxy, redis_server, tmp_path):
    client = app_through(proxy, tmp_path, SESSION_LOCK_TIMEOUT=1).test_client()
    assert client.post("/inc", headers=JSON).json["counter"] == 1  # a new session: no lock
    locks_before = proxy.count("SET")
    proxy.drop_after(is_lock)
    cut = client.post("/inc", headers=JSON)
    after = [client.post("/inc", headers=JSON) for _ in range(2)]
    with redis_server.client() as r:
        locks_left = list(r.scan_iter("lock:*"))

    assert len(proxy.dropped) == 1
    assert cut.status_code == 503
    assert "locking this session (Connection closed by server.)" in cut.json["message"]
    assert [a.status_code for a in after] == [200, 200]
    assert [a.json["counter"] for a in after] == [2, 3]  # the cut-off request changed nothing
    assert locks_left == []
    # the cut-off request sent its SET NX once; the next two each one lock and one save
    assert proxy.count("SET") - locks_before == 1 + 2 * 2


@pytest.mark.redis
def test_a_connection_closed_before_any_command_is_retried(proxy, redis_server, tmp_path):
    """What provably did not reach Redis (the connection failed while opening) is retried:
    the request is served, and INCR ran once."""
    client = app_through(proxy, tmp_path).test_client()
    proxy.close_next_connections(1)
    answer = client.post("/shared/redis/inc", headers=JSON)
    assert answer.status_code == 200 and answer.json["value"] == 1
    assert incrs(proxy) == 1
    assert proxy.closed_at_once == 1
