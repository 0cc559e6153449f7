"""The race lab: its CLI against every server model, its reading of final values, its API."""

import json

import pytest

from session_counter.race.reading import final_from_reads, stale_note, state_scope
from session_counter.race.simultaneous import Answer
from session_counter.strategies import PROCESSES, STRATEGY_CLASSES

PROCESS_SAFE = {cls.name for cls in STRATEGY_CLASSES if PROCESSES in cls.safe_against}
JSON = {"Accept": "application/json"}


def race(runner, *args):
    """Run `flask race --json ARGS` and return its JSON, by strategy."""
    result = runner.invoke(args=["race", "--json", *args])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    return report, {item["strategy"]: item for item in report["results"]}


def exact(item):
    """Tell whether every round handed out exactly 1..N and stored N."""
    summary = item["summary"]
    return summary["exact_rounds"] == summary["rounds"] and summary["lost_updates"] == 0


def duplicated(item):
    """Return how many duplicates the strategy's rounds handed out."""
    return item["summary"]["duplicates"]


# What each server model determines, on small N. A "window" makes the thread race certain.
MODELS = {
    "dev-single": ["--server", "dev-single", "--clients", "20"],
    "dev": ["--server", "dev", "--clients", "20", "--window", "0.01"],
    "dev-processes": ["--server", "dev-processes", "--clients", "20"],
    "gunicorn": ["--server", "gunicorn", "--workers", "4", "--clients", "100"],
    "gthread": ["--server", "gthread", "--workers", "2", "--threads", "2", "--clients", "20"],
    "gevent": ["--server", "gevent", "--clients", "20", "--window", "0.01"],
    "waitress": ["--server", "waitress", "--clients", "20"],
}


@pytest.mark.server
@pytest.mark.slow
@pytest.mark.parametrize("model", MODELS)
def test_lab_under_every_server_model(runner, model):
    report, by_name = race(runner, *MODELS[model])
    assert report["settings"]["server"] == model
    for name in PROCESS_SAFE & by_name.keys():
        assert exact(by_name[name]), (name, by_name[name]["summary"])
    if model == "dev-single":  # one request at a time: nothing races
        assert all(exact(item) for item in by_name.values())
    if model in ("dev", "gevent"):  # the window lets another request in mid-increment
        assert duplicated(by_name["naive_global"]) > 0
        assert exact(by_name["thread_lock"])
    if model == "gunicorn":  # four processes, four copies of the global
        naive = by_name["naive_global"]
        assert duplicated(naive) > 0 and len(naive["summary"]["pids"]) >= 2
    if model == "dev-processes":  # every request forks from a parent that never counted
        for name in ("naive_global", "thread_lock"):
            assert by_name[name]["rounds"][0]["duplicated_values"] == [1]
            assert by_name[name]["rounds"][0]["final_value"] is None
    if model == "waitress":  # one process, a lock is enough
        assert exact(by_name["thread_lock"])
    if model == "gevent":
        assert "manager" not in by_name
        assert {"strategy": "manager", "reason": "needs a server model other than gevent "
                "(multiprocessing cannot use patched sockets)"} in report["skipped"]


@pytest.mark.server
def test_instances_each_keep_their_own_sqlite(runner):
    """Two instances, as two machines: sqlite is safe within each, not across them."""
    report, by_name = race(runner, "--server", "dev-single", "--instances", "2",
                           "--clients", "20", "--strategy", "sqlite")
    sqlite = by_name["sqlite"]["rounds"][0]
    assert sorted(sqlite["duplicated_values"]) == list(range(1, 11))
    assert sqlite["final_value"] == 20 and sqlite["lost_updates"] == 0
    assert "the sum of 2 instances' own counters" in " ".join(by_name["sqlite"]["notes"])


@pytest.mark.server
@pytest.mark.redis
def test_instances_sharing_redis_hand_out_each_number_once(runner, redis_url):
    report, by_name = race(runner, "--server", "dev", "--instances", "2", "--clients", "20",
                           "--redis-url", redis_url, "--strategy", "redis")
    assert exact(by_name["redis"])
    assert report["settings"]["redis"] is True


@pytest.mark.server
@pytest.mark.slow
def test_rounds_on_gunicorn_start_from_a_fresh_server(runner):
    report, by_name = race(runner, "--server", "gunicorn", "--workers", "2", "--clients", "20",
                           "--rounds", "2", "--strategy", "thread_lock", "--strategy", "sqlite")
    assert "fresh server for every round" in " ".join(report["notes"])
    for item in by_name["thread_lock"]["rounds"]:  # each copy counted from 0 again
        assert item["final_value"] == 20 and min(item["duplicated_values"] or [1]) == 1
    assert exact(by_name["sqlite"])


@pytest.mark.server
def test_same_session_lock_on_and_off_side_by_side(runner):
    report, by_name = race(runner, "--same-session", "--server", "dev", "--clients", "20",
                           "--rounds", "2")
    assert report["mode"] == "same-session"
    assert set(by_name) == {"session lock on", "session lock off"}
    locked = by_name["session lock on"]
    assert exact(locked)
    assert [r["final_value"] for r in locked["rounds"]] == [21, 21]


@pytest.mark.server
def test_table_output(runner):
    result = runner.invoke(args=["race", "--server", "dev-single", "--clients", "5",
                                 "--strategy", "sqlite"])
    assert result.exit_code == 0, result.output
    assert "sqlite" in result.output and "exactly 1..5" in result.output
    assert "dev-single (one thread)" in result.output
    assert "skipped" not in result.output


@pytest.mark.server
def test_url_races_a_running_server(runner):
    from session_counter.servers.harness import running_server

    with running_server("dev") as server:
        report, by_name = race(runner, "--url", server.url, "--clients", "10",
                               "--strategy", "file_lock")
    assert report["settings"]["url"] == server.url
    assert exact(by_name["file_lock"])


@pytest.mark.parametrize("args, message", [
    (["--url", "http://example.com:5000"], "only http:// on 127.0.0.1"),
    (["--url", "http://127.0.0.1:1", "--server", "dev"], "--server configure a server"),
    (["--url", "http://127.0.0.1:1", "--window", "0.1"], "--window configure a server"),
    (["--same-session", "--strategy", "sqlite"], "--strategy does not apply"),
    (["--clients", "0"], "0 is not in the range"),
    (["--strategy", "nope"], "'nope' is not one of"),
    (["--server", "tomcat"], "'tomcat' is not one of"),
])
def test_contradictory_or_bad_options_are_refused(runner, args, message):
    result = runner.invoke(args=["race", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_url_with_no_server_is_a_lab_failure(runner):
    from session_counter.servers.harness import free_port

    result = runner.invoke(args=["race", "--url", f"http://127.0.0.1:{free_port()}",
                                 "--json"])
    assert result.exit_code == 1
    assert "the race lab failed" in result.output and "Traceback" not in result.output


# The final value and staleness, from hand-made answers.

def answer(value, pid, instance="a", status=200):
    """A hand-made Answer."""
    return Answer(status, value, pid, None, instance, None, 0.0)


def test_per_process_final_value_is_the_sum_of_the_copies_that_counted():
    counted = {("a", 1), ("a", 2)}
    reads = [answer(30, 1), answer(20, 2), answer(99, 3), answer(30, 1)]
    assert final_from_reads("process", counted, reads)[0] == 50


def test_per_process_final_value_is_unknown_when_a_copy_was_not_read():
    final, note = final_from_reads("process", {("a", 1), ("a", 2)}, [answer(30, 1)])
    assert final is None and "1 of 2 processes" in note


@pytest.mark.parametrize("scope, expected", [("instance", 15), ("global", 7)])
def test_shared_final_values(scope, expected):
    reads = [answer(7, 1, "a"), answer(8, 5, "b")] if scope == "instance" else [answer(7, 1)]
    assert final_from_reads(scope, set(), reads)[0] == expected


def test_a_process_no_reset_reached_is_reported():
    note = stale_note("process", {("a", 1), ("a", 2)}, {("a", 1)})
    assert "process(es) 2 answered but no reset reached them" in note
    assert stale_note("instance", {("a", 1), ("a", 2)}, {("a", 1)}) is None


@pytest.mark.parametrize("name, scope", [("naive_global", "process"),
                                         ("thread_lock", "process"),
                                         ("sqlite", "instance"), ("manager", "instance")])
def test_state_scope_comes_from_the_strategy(name, scope):
    from session_counter.strategies import STRATEGY_CLASSES

    (cls,) = [c for c in STRATEGY_CLASSES if c.name == name]
    assert state_scope({"name": name, "state_lives_in": cls.state_lives_in}) == scope
    assert state_scope({"name": name}) == "instance"  # an older server: the safe guess


# POST /api/race/analyse: the page's answers, judged by the same code.

def page_answers(values, pid=7):
    """What the page sends for answers that all came back 200."""
    return [{"status": 200, "value": v, "pid": pid, "thread": "t"} for v in values]


def test_api_counts_duplicates_gaps_and_lost_updates(client):
    body = {"strategy": "cache", "answers": page_answers([1, 2, 2, 4]), "final_value": 3,
            "wall_time": 0.5}
    result = client.post("/api/race/analyse", json=body, headers=JSON).json
    assert result["duplicates"] == 1 and result["duplicated_values"] == [2]
    assert result["gaps"] == 1 and result["lost_updates"] == 1
    assert result["exact"] is False
    assert result["verdict"] == "1 duplicate, 1 gap, 1 lost update, 1 process"


def test_api_reads_per_process_copies_and_flags_unreset_processes(client):
    answers = page_answers([1, 2], pid=7) + page_answers([1], pid=8)
    reads = page_answers([2], pid=7) + page_answers([1], pid=8)
    body = {"strategy": "naive_global", "answers": answers, "reads": reads,
            "reset_pids": [7], "wall_time": 0.1}
    result = client.post("/api/race/analyse", json=body, headers=JSON).json
    assert result["final_value"] == 3 and result["scope"] == "process"
    assert result["inconclusive"] is True
    assert result["verdict"].startswith("inconclusive: 1 duplicate")


def test_api_exact_race(client):
    body = {"strategy": "sqlite", "answers": page_answers([3, 1, 2]),
            "reads": page_answers([3]), "reset_pids": [7], "wall_time": 0.1}
    result = client.post("/api/race/analyse", json=body, headers=JSON).json
    assert result["exact"] is True and result["verdict"] == "exactly 1..3"


@pytest.mark.timeout(10)  # a hang guard: the old analysis walked every integer to the maximum
def test_api_counts_gaps_of_huge_values_exactly(client):
    body = {"strategy": "sqlite", "answers": page_answers([1, 10**12, 2**63 - 1]),
            "final_value": 2**63 - 1, "wall_time": 0.1}
    result = client.post("/api/race/analyse", json=body, headers=JSON).json
    assert result["gaps"] == 2**63 - 1 - 3
    assert result["lost_updates"] == 3 - (2**63 - 1)
    assert result["verdict"] == (f"{2**63 - 4} gaps, 2 out of range, "
                                 f"{2**63 - 4} extra updates, 1 process")


GOOD = {"strategy": "sqlite", "answers": page_answers([1]), "final_value": 1, "wall_time": 0}


@pytest.mark.parametrize("body, message", [
    (b"{not json", "must be a JSON object"),
    (b"[1, 2]", "must be a JSON object"),
    (b"[" * 50000 + b"]" * 50000, "must be a JSON object"),
    ({**GOOD, "strategy": "nope"}, "strategy must be one of"),
    ({**GOOD, "strategy": 3}, "strategy must be one of"),
    ({**GOOD, "answers": "1,2"}, "answers must be a list"),
    ({**GOOD, "answers": []}, "at least one answer"),
    ({**GOOD, "answers": page_answers(range(501))}, "at most 500 items"),
    ({**GOOD, "answers": [{"status": "200", "value": 1}]}, "answers[0].status"),
    ({**GOOD, "answers": [{"status": 200, "value": True}]}, "answers[0].value"),
    ({**GOOD, "answers": [{"status": 200, "value": 2**63}]}, "answers[0].value"),
    ({**GOOD, "answers": [{"status": 200, "value": 1, "pid": -1}]}, "answers[0].pid"),
    ({**GOOD, "answers": [7]}, "answers[0] must be an object"),
    ({**GOOD, "final_value": "3"}, "final_value must be"),
    ({**GOOD, "wall_time": "fast"}, "wall_time must be"),
    (b'{"strategy": "sqlite", "answers": [{"status": 200}], "wall_time": NaN}',
     "wall_time must be"),
    ({**GOOD, "reads": {"a": 1}}, "reads must be a list"),
    ({**GOOD, "reset_pids": ["x"]}, "reset_pids must be"),
])
def test_api_refuses_bad_input_with_a_clear_400(client, body, message):
    if isinstance(body, bytes):
        answer_ = client.post("/api/race/analyse", data=body, headers=JSON,
                              content_type="application/json")
    else:
        answer_ = client.post("/api/race/analyse", json=body, headers=JSON)
    assert answer_.status_code == 400
    assert message in answer_.json["message"]


def test_api_refuses_a_huge_body(client):
    answer_ = client.post("/api/race/analyse", data=b"x" * (300 * 1024), headers=JSON)
    assert answer_.status_code == 413
