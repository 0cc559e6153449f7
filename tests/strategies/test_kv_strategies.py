"""The Redis and memcached strategies, each technique, on real servers: exact outcomes."""

import contextlib
import json

import pytest

from session_counter import create_app
from session_counter.strategies import (
    COMPARE_AND_SWAP,
    READ_THEN_WRITE,
    STRATEGY_CLASSES,
    THREADS,
    get_strategies,
)

from ..counting import check_round_trip, hand_out_from_threads

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


def race(runner, *args):
    """Run `flask race --json ARGS` on the KV strategies; return the results by strategy."""
    result = runner.invoke(args=["race", "--json", "--clients", "100", "--window", "0.001",
                                 *[arg for name in KV for arg in ("--strategy", name)], *args])
    assert result.exit_code == 0, result.output
    return {item["strategy"]: item["summary"] for item in json.loads(result.output)["results"]}


def check_matrix(by_name):
    """Read-then-write loses updates or duplicates; atomic and compare-and-swap: exactly 1..100."""
    assert set(by_name) == set(KV)
    for name, summary in by_name.items():
        if name in UNSAFE:
            assert summary["duplicates"] > 0 or summary["lost_updates"] > 0, (name, summary)
        else:
            assert summary["exact_rounds"] == 1 and summary["lost_updates"] == 0, (name, summary)
            assert summary["distinct"] == summary["answers"] == 100, (name, summary)


@pytest.mark.redis
@pytest.mark.memcached
@pytest.mark.server
@pytest.mark.slow
def test_race_lab_on_gunicorn_4_processes(runner, redis_url, memcached_url):
    """`--server gunicorn --workers 4 --window 0.001`: the column decides, not the store."""
    check_matrix(race(runner, "--server", "gunicorn", "--workers", "4",
                      "--redis-url", redis_url, "--memcached-url", memcached_url))


@pytest.mark.redis
@pytest.mark.memcached
@pytest.mark.server
@pytest.mark.slow
def test_race_lab_on_two_instances(runner, redis_url, memcached_url):
    """Two instances (as two machines), 2 processes each, one Redis and one memcached."""
    by_name = race(runner, "--server", "gunicorn", "--workers", "2", "--instances", "2",
                   "--redis-url", redis_url, "--memcached-url", memcached_url)
    check_matrix(by_name)
    for name in KV:  # the lab spreads the clients over both instances' processes
        assert len(by_name[name]["pids"]) >= 2
