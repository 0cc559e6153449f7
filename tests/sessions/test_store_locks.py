"""The session locks that live in a shared store (Redis, memcached): one test, every store."""

import pytest

from session_counter.clients.memcached import connect as connect_memcached
from session_counter.clients.redis import connect as connect_redis
from session_counter.sessions.base import SessionLockTimeout
from session_counter.sessions.memcached_store import MemcachedSessionLocks
from session_counter.sessions.redis_store import RedisSessionLocks


@pytest.fixture(params=[pytest.param("redis", marks=pytest.mark.redis),
                        pytest.param("memcached", marks=pytest.mark.memcached)])
def make_locks(request):
    """Build that store's session locks on the test session's server (emptied)."""
    if request.param == "redis":
        client = connect_redis(request.getfixturevalue("redis_url"))
        return lambda **options: RedisSessionLocks(client, **options)
    client = connect_memcached(request.getfixturevalue("memcached_url"))
    return lambda **options: MemcachedSessionLocks(client, **options)


def test_session_lock_excludes_and_times_out(make_locks):
    locks = make_locks(timeout=0.2)
    held = locks.acquire("session:a")
    with pytest.raises(SessionLockTimeout):
        locks.acquire("session:a")
    locks.acquire("session:b").release()  # other sessions never wait
    held.release()
    held.release()  # twice is harmless
    locks.acquire("session:a").release()
