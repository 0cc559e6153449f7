"""Each safe strategy's store killed or broken in the middle of simultaneous increments.

Rounds of 20 simultaneous POST /shared/<name>/inc run against a real gunicorn while the
store (a process, a file, a database, a server) is killed or broken, then repaired. No
number is handed out twice, before or after; where a store loses its count, the label
on /api/strategies says so, and the test checks that the label is what happens.
Machinery: tests/store_faults.py.
"""

import fcntl
import os
import signal
import subprocess

import pytest
import requests

from session_counter.servers.harness import running_server

from ..redis_server import running_redis
from ..services import require_service
from ..store_faults import (
    IncrementRun,
    assert_each_number_once,
    break_and_repair,
    first_rounds,
    handed_out,
    kill_9,
    post_inc,
    server_processes,
    statuses,
    stored_value,
    summary,
    wait_until,
)

pytestmark = [pytest.mark.server, pytest.mark.slow]

MANAGER_PROGRAM = "session_counter.strategies.manager_process"


def label(url, name):
    """Return what /api/strategies says loses ``name``'s count."""
    listed = requests.get(f"{url}/api/strategies", timeout=30).json()
    return [s for s in listed if s["name"] == name][0]["loses_count_on"]


def chattr(flag, *paths):
    """Make files immutable (+i) or not (-i): it stops root too, and open descriptors."""
    require_service(os.geteuid() == 0, "chattr +i needs root (the sqlite and file_lock "
                    "stores are broken by making their files immutable)")
    subprocess.run(["chattr", flag, *paths], check=True, capture_output=True)


def refused_and_counted(run, before_repair, after_repair, stored):
    """Assert a store that was refused until a reset: before the reset no number twice;
    after it, exactly 1..stored. Return (numbers before, numbers after)."""
    before = run.answers(*before_repair)
    lost = sum(1 for a in before if a.status != 200)
    first = assert_each_number_once(before, max(handed_out(before)), lost_in_flight=lost)
    second = assert_each_number_once(run.answers(*after_repair), stored)
    return first, second


def test_thread_lock_worker_killed_mid_run_starts_again_at_1_as_its_label_says():
    """thread_lock is safe against threads: one gunicorn worker, 8 threads. Killed, its
    count dies with it; each life of the worker hands out each number once, and the label
    says a restart of the worker loses the count."""
    with running_server("gthread", workers=1, threads=8) as server:
        with IncrementRun(server.url, "thread_lock") as run:
            run.phase("killing", after_rounds=3)
            (old_pid,) = {a.pid for a in first_rounds(run)}
            kill_9(old_pid)
            run.phase("after", after_rounds=3)
            wait_until(lambda: run.done_in("after") >= 3)
        stored = stored_value(server.url, "thread_lock")
        print(f"\nthread_lock, worker killed: {summary(run, stored)}")
        says = label(server.url, "thread_lock")

    old = [a for a in run.answers() if a.pid == old_pid]
    new = [a for a in run.answers() if a.status == 200 and a.pid != old_pid]
    assert statuses(first_rounds(run)) == {200}
    assert statuses(run.answers()) <= {200, 0}  # 0: cut off with the worker
    assert_each_number_once(old, max(handed_out(old)),
                            lost_in_flight=sum(1 for a in run.answers() if a.status == 0))
    assert_each_number_once(new, stored)  # the new worker: exactly 1..stored
    assert min(handed_out(new)) == 1 < max(handed_out(old))  # numbers handed out again...
    assert "a restart of its worker process" in says[0]  # ...as the label says


def test_manager_killed_mid_run_refuses_until_reset_and_never_repeats_a_number():
    with running_server("gunicorn", workers=2) as server:
        with IncrementRun(server.url, "manager") as run:
            (manager,) = wait_until(lambda: server_processes(server, MANAGER_PROGRAM))
            reset = lambda: requests.post(f"{server.url}/shared/manager/reset",  # noqa: E731
                                          timeout=30).raise_for_status()
            refusal = break_and_repair(run, lambda: kill_9(manager), reset,
                                       while_down=lambda: post_inc(server.url, "manager"))
        stored = stored_value(server.url, "manager")
        print(f"\nmanager killed, then reset: {summary(run, stored)}")
        says = label(server.url, "manager")

    assert statuses(first_rounds(run)) == {200}
    assert statuses(run.answers("down", "down:end")) == {503}
    assert statuses(run.answers("back", "after")) == {200}
    refused_and_counted(run, ("before", "breaking", "down", "down:end"),
                        ("repairing", "back", "after"), stored)
    assert refusal[0] == 503 and f"the counter manager (pid {manager}) died" in refusal[2]
    assert "a restart of the server" in says[0]


def test_sqlite_database_made_read_only_mid_run_hands_out_each_number_once():
    """The database file and its WAL become immutable (writes fail: 503, rolled back),
    then writable again: one exact set 1..stored across the whole run."""
    with running_server("gunicorn", workers=2) as server:
        database = os.path.join(server.instance_path, "counters.sqlite")
        files = (database, database + "-wal")
        try:
            with IncrementRun(server.url, "sqlite") as run:
                break_and_repair(run, lambda: chattr("+i", *files), lambda: chattr("-i", *files))
        finally:
            subprocess.run(["chattr", "-i", *files], capture_output=True)
        stored = stored_value(server.url, "sqlite")
        print(f"\nsqlite read-only, then writable: {summary(run, stored)}")

    assert statuses(first_rounds(run)) == {200}
    assert statuses(run.answers("down", "down:end")) == {503}
    assert statuses(run.answers("back", "after")) == {200}
    assert_each_number_once(run.answers(), stored)  # a failed commit used up nothing


def test_file_lock_counter_file_made_read_only_mid_run_hands_out_each_number_once():
    with running_server("gunicorn", workers=2) as server:
        path = os.path.join(server.instance_path, "file_lock_counter.txt")
        assert post_inc(server.url, "file_lock")[1] == 1  # the file exists from here on
        try:
            with IncrementRun(server.url, "file_lock") as run:
                break_and_repair(run, lambda: chattr("+i", path), lambda: chattr("-i", path))
        finally:
            subprocess.run(["chattr", "-i", path], capture_output=True)
        stored = stored_value(server.url, "file_lock")
        print(f"\nfile_lock read-only, then writable: {summary(run, stored)}")

    assert statuses(run.answers("down", "down:end")) == {503}
    assert statuses(run.answers("back", "after")) == {200}
    answers = run.answers()
    assert_each_number_once(answers, stored, lost_in_flight=1)  # 1: handed out before the run
    assert 1 not in handed_out(answers)


def test_file_lock_counter_file_damaged_mid_run_refuses_until_reset():
    """The file's content replaced by something that is not a number (written under the
    strategy's own lock): counting on from 0 would repeat numbers, so every increment is
    a 503 until a reset."""
    with running_server("gunicorn", workers=2) as server:
        path = os.path.join(server.instance_path, "file_lock_counter.txt")
        assert post_inc(server.url, "file_lock")[1] == 1

        def damage():
            with open(path, "r+b") as f:
                fcntl.flock(f, fcntl.LOCK_EX)
                f.write(b"\x00garbage\x00".ljust(20))

        reset = lambda: requests.post(f"{server.url}/shared/file_lock/reset",  # noqa: E731
                                      timeout=30).raise_for_status()
        with IncrementRun(server.url, "file_lock") as run:
            refusal = break_and_repair(run, damage, reset,
                                       while_down=lambda: post_inc(server.url, "file_lock"))
        stored = stored_value(server.url, "file_lock")
        print(f"\nfile_lock damaged, then reset: {summary(run, stored)}")

    assert statuses(run.answers("down", "down:end")) == {503}
    assert statuses(run.answers("back", "after")) == {200}
    assert refusal[0] == 503 and "is damaged" in refusal[2] and "reset" in refusal[2]
    refused_and_counted(run, ("before", "breaking", "down", "down:end"),
                        ("repairing", "back", "after"), stored)


@pytest.mark.redis
@pytest.mark.parametrize("persistent", [True, False], ids=["aof-always", "no-persistence"])
def test_redis_killed_mid_run(tmp_path, persistent):
    """INCR while Redis is SIGKILLed and started again. With an fsync'ed append-only file:
    one exact set across the crash. Without persistence the count is gone: the numbers
    start again at 1, exactly what the label says."""
    with running_redis(tmp_path / "redis", persistent=persistent) as redis_server, \
            running_server("gunicorn", workers=2,
                           config={"REDIS_URL": redis_server.url}) as server:
        says = label(server.url, "redis")
        with IncrementRun(server.url, "redis") as run:
            break_and_repair(run, lambda: redis_server.stop(signal.SIGKILL), redis_server.start)
        stored = stored_value(server.url, "redis")
        kind = "AOF always" if persistent else "no persistence"
        print(f"\nredis SIGKILLed and restarted ({kind}): {summary(run, stored)}")

    assert statuses(first_rounds(run)) == {200}
    assert statuses(run.answers("down", "down:end")) == {503}
    assert statuses(run.answers()) <= {200, 503}  # never a 500, never a dropped connection
    assert statuses(run.answers("back", "after")) == {200}
    before = run.answers("before", "breaking", "down", "down:end")
    after = run.answers("repairing", "back", "after")
    lost = sum(1 for a in run.answers() if a.status != 200)
    if persistent:
        assert says == []
        assert_each_number_once(run.answers(), stored, lost_in_flight=lost)
        assert min(handed_out(after)) > max(handed_out(before))
    else:
        assert "a restart of Redis" in says[0] and "memory only" in says[0]
        assert_each_number_once(before, max(handed_out(before)), lost_in_flight=lost)
        assert_each_number_once(after, stored)
        assert min(handed_out(after)) == 1  # handed out again, as the label says
