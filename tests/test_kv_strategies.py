"""The Redis and memcached strategies, each technique, on real servers: exact outcomes."""

import contextlib

import pytest

from session_counter import create_app
from session_counter.strategies import (COMPARE_AND_SWAP, READ_THEN_WRITE, STRATEGY_CLASSES,
                                        THREADS, get_strategies)

from .counting import check_round_trip, hand_out_from_threads


JSON = {"Accept": "application/json"}
KV = {cls.name: cls for cls in STRATEGY_CLASSES if cls.store in ("redis", "memcached")}
SAFE = [name for name, cls in KV.items() if THREADS in cls.safe_against]
UNSAFE = [name for name, cls in KV.items() if cls.technique == READ_THEN_WRITE]
CAS = [name for name, cls in KV.items() if cls.technique == COMPARE_AND_SWAP]


def kv_app(tmp_path, redis_url, memcached_url, window=0.0):
    """An app whose Redis and memcached strategies use the test session's servers."""
    return create_app({"TESTING": True, "REDIS_URL": redis_url, "MEMCACHED_URL": memcached_url,
                       "RACE_WINDOW": window}, instance_path=str(tmp_path / "instance"))


@pytest.fixture
def app(tmp_path, redis_url, memcached_url):
    """The Redis and memcached strategies with no race window: the code as written."""
    return kv_app(tmp_path, redis_url, memcached_url)


@pytest.fixture
def windowed(tmp_path, redis_url, memcached_url):
    """The same with 2 ms between read and write, so that simultaneous callers overlap."""
    return kv_app(tmp_path, redis_url, memcached_url, window=0.002)


def test_kv_strategies_are_the_matrix_rows():
    assert {(cls.store, cls.technique) for cls in KV.values()} == {
        ("redis", "read-then-write"), ("redis", "atomic"), ("redis", "compare-and-swap"),
        ("memcached", "read-then-write"), ("memcached", "atomic"),
        ("memcached", "compare-and-swap")}


@pytest.mark.redis
@pytest.mark.memcached
@pytest.mark.parametrize("name", KV)
def test_inc_read_reset_round_trip(client, name):
    check_round_trip(client, name)


@pytest.mark.redis
@pytest.mark.memcached
@pytest.mark.parametrize("name", KV)
def test_each_strategy_keeps_its_own_number(client, name):
    for other in KV:
        client.post(f"/shared/{other}/reset")
    client.post(f"/shared/{name}/inc")
    values = {other: client.get(f"/shared/{other}", headers=JSON).json["value"] for other in KV}
    assert values == {other: int(other == name) for other in KV}


@pytest.mark.parametrize("name", KV)
def test_kv_strategies_only_with_their_url(tmp_path, name):
    plain = create_app({"TESTING": True}, instance_path=str(tmp_path / "plain"))
    answer = plain.test_client().post(f"/shared/{name}/inc", headers=JSON)
    assert answer.status_code == 404 and name not in answer.json["valid"]


@pytest.mark.redis
@pytest.mark.memcached
@pytest.mark.parametrize("name", SAFE)
def test_safe_ones_hand_out_each_number_once_from_threads(windowed, name):
    """8 threads x 25 increments, 2 ms between read and write: exactly 1..200."""
    strategy = get_strategies(windowed)[name]
    strategy.reset()
    assert sorted(hand_out_from_threads(strategy, threads=8, each=25)) == list(range(1, 201))
    assert strategy.current() == 200


@pytest.mark.redis
@pytest.mark.memcached
@pytest.mark.parametrize("name", UNSAFE)
def test_read_then_write_ones_lose_updates_from_threads(windowed, name):
    """8 threads that all read before any writes: the same number handed out, updates lost."""
    strategy = get_strategies(windowed)[name]
    strategy.reset()
    handed_out = hand_out_from_threads(strategy, threads=8, each=5)
    assert len(handed_out) == 40
    assert len(set(handed_out)) < 40  # duplicates
    assert strategy.current() < 40  # lost updates


@contextlib.contextmanager
def server_counts_swaps(name, redis_server, memcached_server):
    """Yield a dict filled, on exit, with what the server counted: swaps won and lost.

    memcached counts cas hits (stored) and badval (refused: someone wrote first); Redis
    counts EXEC calls, each one swap attempt, won or dropped by WATCH.
    """
    def read():
        if name.startswith("memcached"):
            with contextlib.closing(memcached_server.client()) as client:
                stats = client.stats()
            return {"won": stats[b"cas_hits"], "lost": stats[b"cas_badval"]}
        with redis_server.client() as client:
            return {"attempts": client.info("commandstats").get("cmdstat_exec",
                                                                {"calls": 0})["calls"]}

    before, counted = read(), {}
    yield counted
    counted.update({key: value - before[key] for key, value in read().items()})


@pytest.mark.redis
@pytest.mark.memcached
@pytest.mark.parametrize("name", CAS)
def test_swap_retries_counted_by_the_app_match_the_server(windowed, name, redis_server,
                                                          memcached_server):
    """Every lost swap is counted once: the app's total agrees with the server's own stats."""
    strategy = get_strategies(windowed)[name]
    strategy.reset()
    with server_counts_swaps(name, redis_server, memcached_server) as counted:
        handed_out = hand_out_from_threads(strategy, threads=8, each=10)
    assert sorted(handed_out) == list(range(1, 81))
    assert strategy.retries > 0  # 8 threads, 2 ms windows: contention is certain
    if name.startswith("memcached"):
        assert counted == {"won": 80, "lost": strategy.retries}
    else:
        assert counted == {"attempts": 80 + strategy.retries}


@pytest.mark.redis
@pytest.mark.memcached
@pytest.mark.parametrize("name", CAS)
def test_inc_answers_its_retries(client, name):
    client.post(f"/shared/{name}/reset")
    body = client.post(f"/shared/{name}/inc", headers=JSON).json
    assert (body["value"], body["retries"]) == (1, 0)
