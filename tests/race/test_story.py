"""The story of a race, from traces: hand-made ones, the page's API, and real servers."""

import json

import pytest

from session_counter.race.story import stories


def trace(value, read, read_at, wrote, wrote_at, answered_at, pid=812, thread="t"):
    """A hand-made trace; times in seconds on one monotonic clock."""
    return {"value": value, "read_at": read_at, "read_value": read, "wrote_at": wrote_at,
            "wrote_value": wrote, "answered_at": answered_at, "pid": pid, "thread": thread}


def test_the_textbook_lost_update_told_in_order():
    """Clients 2 and 3 both read 4 and both write 5; client 1 ran alone before them."""
    traces = [trace(4, 3, 100.0000, 4, 100.0001, 100.0002),
              trace(5, 4, 100.0008, 5, 100.0012, 100.0014),
              trace(5, 4, 100.0009, 5, 100.0013, 100.0015, pid=813)]
    told = stories(traces)
    expected = ("1. client 2 read 4 (pid 812, t=+0.8 ms); "
                "2. client 3 read 4 (pid 813, t=+0.9 ms); "
                "3. client 2 wrote 5 (t=+1.2 ms); "
                "4. client 3 wrote 5 (t=+1.3 ms); "
                "5. client 2 answered 5 (t=+1.4 ms); "
                "6. client 3 answered 5 (t=+1.5 ms); ")
    assert told["lost_update"]["text"] == expected + (
        "both read 4, so the second write (5) overwrote the first (5) instead of adding to "
        "it: one increment lost; both answered 5: one number handed out twice.")
    assert told["duplicate"]["text"] == expected + (
        "both read 4 and both wrote 5; both answered 5: one number handed out twice, "
        "one increment lost.")
    assert told["lost_update"]["clients"] == [2, 3] and told["duplicate"]["value"] == 5
    assert [e["client"] for e in told["duplicate"]["events"]] == [2, 3, 2, 3, 2, 3]


def test_a_duplicate_from_the_re_read_after_the_write():
    """naive_global's write-return gap: 1 wrote 1, 2 read 1 wrote 2, both return 2."""
    traces = [trace(2, 0, 0.0, 1, 0.001, 0.010), trace(2, 1, 0.002, 2, 0.003, 0.011)]
    told = stories(traces)
    assert told["lost_update"] is None
    assert told["duplicate"]["text"] == (
        "1. client 1 read 0 (pid 812, t=+0.0 ms); 2. client 1 wrote 1 (t=+1.0 ms); "
        "3. client 2 read 1 (pid 812, t=+2.0 ms); 4. client 2 wrote 2 (t=+3.0 ms); "
        "5. client 1 answered 2 (t=+10.0 ms); 6. client 2 answered 2 (t=+11.0 ms); "
        "they wrote 1 and 2, and each answer re-read the shared value after both writes; "
        "both answered 2: one number handed out twice.")


def test_atomic_steps_tell_no_story():
    traces = [trace(1, 0, 0.001, 1, 0.001, 0.002), trace(2, 1, 0.0015, 2, 0.0015, 0.003)]
    assert stories(traces) == {"duplicate": None, "lost_update": None}


def test_the_page_gets_the_same_stories_from_the_api(client):
    traces = [trace(5, 4, 100.0008, 5, 100.0012, 100.0014),
              trace(5, 4, 100.0009, 5, 100.0013, 100.0015)]
    answers = [{"status": 200, "value": t["value"], "pid": t["pid"], "thread": t["thread"],
                "trace": {k: v for k, v in t.items() if k != "value"}} for t in traces]
    got = client.post("/api/race/analyse", json={"strategy": "naive_global",
                                                 "answers": answers, "final_value": 5})
    assert got.status_code == 200, got.json
    assert got.json["stories"] == stories(traces)
    assert got.json["trace"] == traces
    bad = [{**answers[0], "trace": {"read_at": "soon"}}]
    got = client.post("/api/race/analyse", json={"strategy": "naive_global", "answers": bad},
                      headers={"Accept": "application/json"})
    assert got.status_code == 400 and "answers[0].trace.read_at" in got.json["message"]


def race(runner, *args):
    result = runner.invoke(args=["race", "--json", "--trace", "--server", "dev", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["results"][0]["rounds"][0]


@pytest.mark.server
def test_a_read_write_window_on_one_threaded_process_loses_updates(runner):
    """Five threads all read 0 in the window, all write 1, all answer 1: exact outcome."""
    got = race(runner, "--strategy", "naive_global", "--clients", "5", "--window", "0.5",
               "--window-at", "read-write")
    assert sorted(t["value"] for t in got["trace"]) == [1] * 5
    assert (got["final_value"], got["lost_updates"], got["duplicates"]) == (1, 4, 4)
    assert {t["read_value"] for t in got["trace"]} == {0}
    assert {t["wrote_value"] for t in got["trace"]} == {1}
    assert max(t["read_at"] for t in got["trace"]) < min(t["wrote_at"] for t in got["trace"])
    assert got["stories"]["lost_update"]["text"].endswith(
        "one increment lost; both answered 1: one number handed out twice.")


@pytest.mark.server
def test_a_write_return_window_on_one_threaded_process_duplicates_and_gaps(runner):
    """Each thread reads and writes in turn (1..5), then all return the last: 5, five times."""
    got = race(runner, "--strategy", "naive_global", "--clients", "5", "--window", "0.5",
               "--window-at", "write-return")
    assert [t["value"] for t in got["trace"]] == [5] * 5
    assert (got["final_value"], got["lost_updates"], got["duplicates"], got["gaps"]) == \
        (5, 0, 4, 4)
    assert sorted(t["wrote_value"] for t in got["trace"]) == [1, 2, 3, 4, 5]
    assert got["stories"]["lost_update"] is None
    assert "re-read the shared value" in got["stories"]["duplicate"]["text"]
