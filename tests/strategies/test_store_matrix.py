"""The store is not the fix: every strategy of the matrix raced at once, exact outcomes.

One run of the race lab over every strategy, with a real Redis, memcached and
PostgreSQL: the label each strategy declares (what it is safe against) must be exactly
what 100 simultaneous clients find. Read-then-write loses on every store; the column
(technique), not the row (store), decides.
"""

import json

import pytest

from session_counter.strategies import (
    COMPARE_AND_SWAP,
    MACHINES,
    PROCESSES,
    READ_THEN_WRITE,
    STRATEGY_CLASSES,
)

EVERY = {cls.name: cls for cls in STRATEGY_CLASSES}
# The issue's table: (store, technique) -> the strategies in that cell.
MATRIX = {
    ("process", "read-then-write"): {"naive_global"},
    ("process", "lock"): {"thread_lock"},
    ("flask-caching", "read-then-write"): {"cache", "cache_inc"},
    ("file", "lock"): {"file_lock"},
    ("manager", "atomic"): {"manager"},
    ("sqlite", "read-then-write"): {"sqlite_read_write"},
    ("sqlite", "atomic"): {"sqlite"},
    ("sqlite", "compare-and-swap"): {"sqlite_cas"},
    ("postgresql", "read-then-write"): {"postgres_read_write"},
    ("postgresql", "lock"): {"postgres_for_update"},
    ("postgresql", "atomic"): {"postgres", "postgres_sequence"},
    ("redis", "read-then-write"): {"redis_get_set"},
    ("redis", "atomic"): {"redis"},
    ("redis", "compare-and-swap"): {"redis_watch"},
    ("memcached", "read-then-write"): {"memcached_get_set"},
    ("memcached", "atomic"): {"memcached"},
    ("memcached", "compare-and-swap"): {"memcached_cas"},
}


def raced_with_every_store(test):
    """Mark a test that races real servers with a real Redis, memcached and PostgreSQL."""
    for mark in (pytest.mark.server, pytest.mark.slow, pytest.mark.redis,
                 pytest.mark.memcached, pytest.mark.postgres):
        test = mark(test)
    return test


@pytest.fixture
def store_urls(redis_url, memcached_url, postgres_url):
    """The race lab's options giving the servers all three external stores."""
    return ["--redis-url", redis_url, "--memcached-url", memcached_url,
            "--postgres-url", postgres_url]


def race_every_strategy(runner, *args):
    """Run `flask race --json` over every strategy; return {strategy: summary}."""
    result = runner.invoke(args=["race", "--json", "--clients", "100", "--window", "0.001",
                                 *args])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["skipped"] == []  # every strategy of the matrix was raced
    return {item["strategy"]: item["summary"] for item in report["results"]}


def exactly_1_to_100(summary):
    """Tell whether a round handed out exactly 1..100, and the final value counts all 100."""
    return (summary["exact_rounds"] == summary["rounds"] == 1 and summary["lost_updates"] == 0
            and summary["distinct"] == summary["answers"] == 100)


def test_the_strategies_are_the_issues_matrix():
    cells = {}
    for cls in STRATEGY_CLASSES:
        cells.setdefault((cls.store, cls.technique), set()).add(cls.name)
    assert cells == MATRIX


@raced_with_every_store
def test_four_gunicorn_processes_the_label_says_it_all(runner, store_urls):
    """`--server gunicorn --workers 4 --window 0.001`, 100 clients: every strategy labelled
    `processes` hands out exactly 1..100; every other one (every read-then-write among
    them) hands out duplicates or loses updates."""
    by_name = race_every_strategy(runner, "--server", "gunicorn", "--workers", "4", *store_urls)
    assert set(by_name) == set(EVERY)
    for name, cls in EVERY.items():
        summary = by_name[name]
        if PROCESSES in cls.safe_against:
            assert exactly_1_to_100(summary), (name, summary)
            assert len(summary["pids"]) == 4, (name, summary["pids"])  # all four took part
        else:
            assert summary["duplicates"] > 0 or summary["lost_updates"] > 0, (name, summary)
        if cls.technique == READ_THEN_WRITE:
            assert not exactly_1_to_100(summary), (name, summary)
        if cls.technique == COMPARE_AND_SWAP:  # 100 clients at once: contention, made visible
            assert summary["retries"] > 0, (name, summary)
        else:
            assert summary["retries"] is None, (name, summary)


@raced_with_every_store
def test_two_instances_only_machines_is_enough(runner, store_urls):
    """`--instances 2` (as two machines, 2 processes each): every strategy labelled
    `machines` hands out exactly 1..100 across both; the SQLite, file and Manager ones,
    safe within one machine, each count on their own and hand out numbers twice."""
    by_name = race_every_strategy(runner, "--server", "gunicorn", "--workers", "2",
                                  "--instances", "2", *store_urls)
    assert set(by_name) == set(EVERY)
    for name, cls in EVERY.items():
        summary = by_name[name]
        if MACHINES in cls.safe_against:
            assert exactly_1_to_100(summary), (name, summary)
        else:
            assert summary["duplicates"] > 0, (name, summary)
    one_machine = [name for name, cls in EVERY.items()
                   if PROCESSES in cls.safe_against and MACHINES not in cls.safe_against]
    assert {EVERY[name].store for name in one_machine} == {"sqlite", "file", "manager"}
