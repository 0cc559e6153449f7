"""Traces of one increment: asked for by a header, marked by every strategy, measured."""

import threading
import time

import pytest

from session_counter.strategies import STRATEGY_CLASSES, get_strategies
from session_counter.strategies.trace import (
    FIELDS,
    TRACE_HEADER,
    mark_atomic,
    mark_read,
    mark_wrote,
    recording,
    tracing,
)

TRACED = {"Accept": "application/json", TRACE_HEADER: "1"}


def test_marks_outside_a_recording_record_nothing_and_pass_the_value_through():
    assert not tracing()
    assert mark_read(4) == 4 and mark_wrote(5) == 5 and mark_atomic(6) == 6


def test_a_recording_keeps_the_read_and_the_write_with_their_times():
    with recording() as trace:
        assert tracing()
        mark_read(4)
        mark_wrote(5)
    assert not tracing()
    got = trace.as_dict()
    assert set(got) == set(FIELDS)
    assert (got["read_value"], got["wrote_value"]) == (4, 5)
    assert got["read_at"] <= got["wrote_at"] <= got["answered_at"] <= time.monotonic()


def test_an_atomic_step_is_one_point():
    with recording() as trace:
        mark_atomic(7)
    got = trace.as_dict()
    assert got["read_at"] == got["wrote_at"]
    assert (got["read_value"], got["wrote_value"]) == (6, 7)


def test_no_header_no_trace(client):
    answer = client.post("/shared/naive_global/inc", headers={"Accept": "application/json"})
    assert answer.json["value"] == 1 and "trace" not in answer.json
    answer = client.post("/inc", headers={"Accept": "application/json"})
    assert answer.json["counter"] == 1 and "trace" not in answer.json


def test_the_per_client_inc_reports_its_trace(client):
    client.post("/inc", headers={"Accept": "application/json"})
    answer = client.post("/inc", headers=TRACED).json
    trace = answer["trace"]
    assert (trace["read_value"], trace["wrote_value"], answer["counter"]) == (1, 2, 2)
    assert trace["pid"] == answer["pid"] and trace["thread"] == answer["thread"]
    assert trace["read_at"] <= trace["wrote_at"] <= trace["answered_at"]


def assert_traced(answer, name):
    """A traced answer: every field, times in order, the write is the number handed out."""
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.json
    trace = body["trace"]
    assert set(trace) == set(FIELDS), name
    assert trace["read_at"] <= trace["wrote_at"] <= trace["answered_at"], (name, trace)
    assert trace["wrote_value"] == body["value"], (name, trace)
    assert trace["pid"] == body["pid"] and trace["thread"] == body["thread"]
    return trace


@pytest.mark.redis
@pytest.mark.memcached
@pytest.mark.postgres
def test_every_strategy_reports_a_trace(make_app, redis_url, memcached_url, postgres_url):
    """All of STRATEGY_CLASSES, each on its real store: read 1 (after one increment), wrote 2."""
    app = make_app({"TESTING": True, "REDIS_URL": redis_url, "MEMCACHED_URL": memcached_url,
                    "POSTGRES_URL": postgres_url})
    strategies = get_strategies(app)
    assert set(strategies) == {cls.name for cls in STRATEGY_CLASSES}
    client = app.test_client()
    for name in strategies:
        client.post(f"/shared/{name}/reset", headers={"Accept": "application/json"})
        client.post(f"/shared/{name}/inc", headers={"Accept": "application/json"})
        trace = assert_traced(client.post(f"/shared/{name}/inc", headers=TRACED), name)
        # cache_inc's read is inside cachelib: its value is not seen (None), its time is
        if name != "cache_inc":
            assert (trace["read_value"], trace["wrote_value"]) == (1, 2), (name, trace)
        if strategies[name].technique == "atomic":
            assert trace["read_at"] == trace["wrote_at"], name


def race_two(app, name, gap):
    """Send two traced increments from two threads; return their JSON answers by read time.

    Read-write: both start at once, so each reads inside the other's window. Write-return:
    the second starts once the first has written (the stored value moved), so it reads
    inside the first one's window. Conditions, not a head start: a loaded machine may
    delay either thread by more than any fixed pause.
    """
    answers, strategy = [None, None], get_strategies(app)[name]
    start = threading.Barrier(2 if gap == "read-write" else 1)

    def one(i):
        start.wait(timeout=30)
        answers[i] = app.test_client().post(f"/shared/{name}/inc", headers=TRACED).json

    threads = [threading.Thread(target=one, args=(i,)) for i in range(2)]
    threads[0].start()
    if gap == "write-return":
        deadline = time.monotonic() + 30
        while strategy.current() == 0:
            assert time.monotonic() < deadline, "the first increment never wrote"
            time.sleep(0.001)
    threads[1].start()
    for t in threads:
        t.join(timeout=30)
    return sorted(answers, key=lambda a: a["trace"]["read_at"])


@pytest.mark.parametrize("name", ["naive_global", "sqlite_read_write"])
def test_a_read_write_window_measures_a_lost_update(make_app, name):
    """Both read 0, both write 1: the textbook lost update, in the measured times."""
    app = make_app({"TESTING": True, "RACE_WINDOW": 0.4, "RACE_WINDOW_AT": "read-write"})
    get_strategies(app)[name].reset()
    first, second = race_two(app, name, "read-write")
    a, b = first["trace"], second["trace"]
    assert (a["read_value"], b["read_value"]) == (0, 0)
    assert (a["wrote_value"], b["wrote_value"]) == (1, 1)
    # both read before either wrote (which of them wrote first is the scheduler's choice)
    assert a["read_at"] <= b["read_at"] < min(a["wrote_at"], b["wrote_at"])
    assert (first["value"], second["value"]) == (1, 1)
    assert get_strategies(app)[name].current() == 1


def test_a_write_return_window_measures_a_duplicate_and_a_gap(make_app):
    """naive_global: A writes 1, B reads 1 and writes 2, both return 2; 1 is never handed out."""
    app = make_app({"TESTING": True, "RACE_WINDOW": 0.4, "RACE_WINDOW_AT": "write-return"})
    get_strategies(app)["naive_global"].reset()
    first, second = race_two(app, "naive_global", "write-return")
    a, b = first["trace"], second["trace"]
    assert (a["read_value"], a["wrote_value"], b["read_value"], b["wrote_value"]) == (0, 1, 1, 2)
    assert a["wrote_at"] < b["read_at"] < b["wrote_at"] < a["answered_at"]
    assert (first["value"], second["value"]) == (2, 2)


def test_a_write_return_window_leaves_a_store_strategy_alone(make_app):
    """sqlite_read_write returns what it wrote: nothing re-reads, the gap is not in its code."""
    app = make_app({"TESTING": True, "RACE_WINDOW": 0.4, "RACE_WINDOW_AT": "write-return"})
    get_strategies(app)["sqlite_read_write"].reset()
    first, second = race_two(app, "sqlite_read_write", "write-return")
    assert (first["value"], second["value"]) == (1, 2)
