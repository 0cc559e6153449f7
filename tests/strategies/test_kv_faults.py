"""Redis and memcached killed mid-run under the safe strategies: no number handed out twice.

Increments run in rounds of simultaneous clients against gunicorn (2 processes, 1 ms
between read and write so the compare-and-swap ones really contend) while the store is
SIGKILLed and started again. Redis keeps its count (append-only file, fsync always);
memcached keeps nothing, so its counters refuse to count until someone resets them.
"""

import signal

import pytest
import requests

from session_counter.servers.harness import running_server

from ..memcached_server import running_memcached
from ..redis_server import running_redis
from ..store_faults import (
    IncrementRun,
    assert_each_number_once,
    break_and_repair,
    first_rounds,
    handed_out,
    post_inc,
    statuses,
    stored_value,
)

pytestmark = [pytest.mark.server, pytest.mark.slow]

CLIENTS = 10


@pytest.mark.redis
def test_redis_watch_killed_mid_run_hands_out_no_number_twice(tmp_path):
    """Before, while down (503s, never 500) and after Redis is back: each number once."""
    with running_redis(tmp_path / "redis", persistent=True) as redis_server, \
            running_server("gunicorn", workers=2, config={
                "REDIS_URL": redis_server.url, "RACE_WINDOW": 0.001}) as server:
        requests.post(f"{server.url}/shared/redis_watch/reset", timeout=30).raise_for_status()
        with IncrementRun(server.url, "redis_watch", clients=CLIENTS) as run:
            break_and_repair(run, lambda: redis_server.stop(signal.SIGKILL), redis_server.start,
                             after="done")
        stored = stored_value(server.url, "redis_watch")

    assert statuses(first_rounds(run)) == {200}
    assert statuses(run.answers("down")) == {503}
    assert statuses(run.answers()) <= {200, 503}  # never a 500, never a dropped connection
    assert statuses(run.answers("back", "done")) == {200}
    failed = [a for a in run.answers() if a.status != 200]
    assert_each_number_once(run.answers(), stored, lost_in_flight=len(failed))
    # the count survived the crash: nothing after it starts again below what came before
    assert min(handed_out(run.answers("back"))) > max(handed_out(run.answers("before")))


@pytest.mark.memcached
@pytest.mark.parametrize("name", ["memcached", "memcached_cas"])
def test_memcached_killed_mid_run_refuses_until_reset_then_counts_again(tmp_path, name):
    """Down: 503s. Back but empty: 503 'it restarted', never 1 again on its own. Reset:
    1, 2, 3... deliberately. Before the reset no number was handed out twice."""
    with running_memcached(tmp_path / "memcached") as memcached_server, \
            running_server("gunicorn", workers=2, config={
                "MEMCACHED_URL": memcached_server.url, "RACE_WINDOW": 0.001}) as server:
        requests.post(f"{server.url}/shared/{name}/reset", timeout=30).raise_for_status()
        with IncrementRun(server.url, name, clients=CLIENTS) as run:
            break_and_repair(run, lambda: memcached_server.stop(signal.SIGKILL),
                             memcached_server.start, after="refused")
            refusal = post_inc(server.url, name)
            run.phase("refused:end", after_rounds=1)
            run.phase("resetting", after_rounds=1)
            requests.post(f"{server.url}/shared/{name}/reset", timeout=30).raise_for_status()
            run.phase("counting", after_rounds=1)
            run.phase("done", after_rounds=2)
        stored = stored_value(server.url, name)

    before_reset = run.answers("before", "breaking", "down", "down:end", "repairing", "back",
                               "refused")
    assert statuses(first_rounds(run)) == {200}
    assert statuses(run.answers("down", "back", "refused")) == {503}
    assert statuses(run.answers()) <= {200, 503}
    assert refusal[0] == 503 and "it restarted" in refusal[2]
    failed = [a for a in before_reset if a.status != 200]
    assert_each_number_once(before_reset, max(handed_out(before_reset)),
                            lost_in_flight=len(failed))
    assert statuses(run.answers("counting", "done")) == {200}
    # refused increments used up nothing: after the reset, exactly 1..stored
    assert_each_number_once(run.answers("refused:end", "resetting", "counting", "done"), stored)
