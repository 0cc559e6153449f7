"""Two races at the same time on a real multi-process server: each gets exactly its own
1..N, and the table's counters do not move (issue 13: "sqlite came out 12 duplicates")."""

import sqlite3
import threading
from collections import defaultdict

import pytest
import redis

from session_counter.race.servers import request_json
from session_counter.race.simultaneous import fire_simultaneously
from session_counter.servers.harness import running_booted_server

pytestmark = [pytest.mark.server, pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres,
              pytest.mark.memcached]

WORKERS = 3
N = 40
SAFE = ("sqlite", "sqlite_cas", "file_lock", "manager", "redis", "redis_watch", "postgres",
        "postgres_for_update", "postgres_sequence", "memcached", "memcached_cas")
TABLE_BEFORE = 3  # the table's value of every safe strategy before the races


def race(url, race_id, names, together, got):
    """Fire N simultaneous increments per strategy in ``race_id``, in step with the other race."""
    for name in names:
        together.wait(timeout=60)  # both races' N requests are in flight at once
        got[name] = fire_simultaneously([url], f"/shared/{name}/inc", N, timeout=60,
                                        headers={"X-Race-Id": race_id})


def values_by_pid(answers):
    """Return {pid: sorted numbers that process handed out}; every answer must be a 200."""
    assert all(a.status == 200 for a in answers), [a.status for a in answers][:5]
    by_pid = defaultdict(list)
    for answer in answers:
        by_pid[answer.pid].append(answer.value)
    return {pid: sorted(values) for pid, values in by_pid.items()}


def table(url, names):
    """Return the table's counters: {name: value}, read by GET /shared/<name>."""
    return {name: request_json("GET", f"{url}/shared/{name}")[1]["value"] for name in names}


def test_two_races_at_once_each_get_exactly_their_own_numbers(redis_url, postgres_url,
                                                               memcached_url):
    config = {"REDIS_URL": redis_url, "POSTGRES_URL": postgres_url,
              "MEMCACHED_URL": memcached_url}
    with running_booted_server("gunicorn", workers=WORKERS, config=config) as server:
        url = server.url
        for name in SAFE:  # the table shows 3 everywhere, as a class might have left it
            assert request_json("POST", f"{url}/shared/{name}/reset")[0] == 200
            for _ in range(TABLE_BEFORE):
                assert request_json("POST", f"{url}/shared/{name}/inc")[0] == 200
        assert table(url, SAFE) == dict.fromkeys(SAFE, TABLE_BEFORE)
        races = []
        for _ in range(2):
            status, body, _ = request_json("POST", f"{url}/api/race/start")
            assert status == 201 and body["unavailable"] == {}, body
            races.append(body["race"])
        names = (*SAFE, "naive_global")
        together = threading.Barrier(2)
        got = [{}, {}]
        threads = [threading.Thread(target=race, args=(url, races[i], names, together, got[i]))
                   for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        for answers in got:
            for name in SAFE:
                assert sorted(a.value for a in answers[name]) == list(range(1, N + 1)), name
            # a sync worker answers one request at a time: each process counted its own
            # copy of this race's global 1, 2, 3... whatever the other race did meanwhile
            for pid, values in values_by_pid(answers["naive_global"]).items():
                assert values == list(range(1, len(values) + 1)), (pid, values)
        assert table(url, SAFE) == dict.fromkeys(SAFE, TABLE_BEFORE)
        reads = fire_simultaneously([url], "/shared/naive_global", 32, method="GET")
        assert {a.value for a in reads if a.status == 200} == {0}  # no process's copy moved
        for race_id in races:
            status, body, _ = request_json("POST", f"{url}/api/race/{race_id}/finish")
            assert status == 200 and body["not_dropped"] == {}, body
        # finished: the races' counters are gone from the stores every process shares
        with sqlite3.connect(f"{server.instance_path}/counters.sqlite") as conn:
            assert conn.execute("SELECT count(*) FROM counters WHERE name LIKE '%@race-%'"
                                ).fetchone()[0] == 0
        assert redis.Redis.from_url(redis_url).keys("*@race-*") == []
        assert table(url, SAFE) == dict.fromkeys(SAFE, TABLE_BEFORE)
