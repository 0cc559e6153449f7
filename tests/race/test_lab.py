"""The race lab: its CLI against every server model, started servers and --url."""

import json

import pytest

from session_counter.strategies import PROCESSES, STRATEGY_CLASSES

PROCESS_SAFE = {cls.name for cls in STRATEGY_CLASSES if PROCESSES in cls.safe_against}


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
def test_rounds_on_gunicorn_each_count_in_a_race_of_their_own(runner):
    report, by_name = race(runner, "--server", "gunicorn", "--workers", "2", "--clients", "20",
                           "--rounds", "2", "--strategy", "thread_lock", "--strategy", "sqlite")
    assert "a race of its own for every round" in " ".join(report["notes"])
    assert len(report["servers"]) == 1  # no fresh server needed
    assert not by_name["thread_lock"]["inconclusive"]
    for item in by_name["thread_lock"]["rounds"]:  # each copy counted from 0 again
        assert item["final_value"] == 20 and min(item["duplicated_values"] or [1]) == 1
    assert exact(by_name["sqlite"])


@pytest.mark.server
@pytest.mark.slow
def test_rounds_over_instances_start_from_fresh_servers(runner):
    """Two instances, two registries: no race id spans both, so each round gets new servers."""
    report, by_name = race(runner, "--server", "gunicorn", "--workers", "2", "--instances", "2",
                           "--clients", "20", "--rounds", "2", "--strategy", "thread_lock")
    assert "fresh server for every round" in " ".join(report["notes"])
    assert len(report["servers"]) == 4
    for item in by_name["thread_lock"]["rounds"]:
        assert item["final_value"] == 20 and min(item["duplicated_values"] or [1]) == 1


@pytest.mark.server
def test_same_session_lock_on_and_off_side_by_side(runner):
    report, by_name = race(runner, "--same-session", "--server", "dev", "--clients", "20",
                           "--rounds", "2", "--session-store", "filesystem")
    assert report["mode"] == "same-session"
    assert set(by_name) == {"filesystem, lock on", "filesystem, lock off"}
    assert [(r["session_store"], r["session_lock"]) for r in report["results"]] == [
        ("filesystem", True), ("filesystem", False)]
    locked = by_name["filesystem, lock on"]
    assert exact(locked)
    assert [r["final_value"] for r in locked["rounds"]] == [21, 21]
    # why 21 for 20 requests: the note says so
    assert any("already counted 1" in note and "(21 here)" in note for note in report["notes"])


@pytest.mark.server
def test_table_output(runner):
    result = runner.invoke(args=["race", "--server", "dev-single", "--clients", "5",
                                 "--strategy", "sqlite"])
    assert result.exit_code == 0, result.output
    assert "sqlite" in result.output and "exactly 1..5" in result.output
    assert "dev-single (one thread)" in result.output
    assert "skipped" not in result.output


def test_markdown_matrix_with_retries(runner):
    """One thread, one client at a time: sqlite_cas never loses a swap (0 retries)."""
    result = runner.invoke(args=["race", "--server", "dev-single", "--clients", "5",
                                 "--strategy", "sqlite", "--strategy", "sqlite_cas",
                                 "--markdown"])
    assert result.exit_code == 0, result.output
    assert ("| SQLite |  |  | `sqlite` (processes): exactly 1..5 | "
            "`sqlite_cas` (processes): exactly 1..5, 0 retries |") in result.output


def test_markdown_is_not_for_a_session_race(runner):
    result = runner.invoke(args=["race", "--same-session", "--markdown"])
    assert result.exit_code == 2 and "--markdown prints the shared counters' matrix" in (
        result.output)


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


@pytest.mark.server
def test_port_range_keeps_every_server_inside(runner):
    """Two instances, each on a port of a 20-port range; a bad range is refused."""
    from urllib.parse import urlsplit

    from session_counter.servers.harness import free_port

    first = min(free_port(), 65535 - 20)
    report, _ = race(runner, "--server", "dev-single", "--instances", "2", "--clients", "4",
                     "--strategy", "sqlite", "--port-range", f"{first}-{first + 19}")
    ports = [urlsplit(url).port for url in report["servers"]]
    assert len(set(ports)) == 2 and all(first <= p <= first + 19 for p in ports), ports
    result = runner.invoke(args=["race", "--port-range", "80-90"])
    assert result.exit_code == 2 and "1024 <= A <= B <= 65535" in result.output


@pytest.mark.server
@pytest.mark.slow
def test_matrix_races_every_strategy_under_every_server_model(runner):
    """One run, one table: a column per server model, exact outcomes where they are certain."""
    from session_counter.servers import SERVER_MODELS

    result = runner.invoke(args=["race", "--matrix", "--json", "--clients", "10",
                                 "--strategy", "sqlite", "--strategy", "naive_global"])
    assert result.exit_code == 0, result.output
    matrix = json.loads(result.output)
    assert [m.split(" ")[0] for m in matrix["models"]] == list(SERVER_MODELS)
    assert matrix["failed"] == {}
    assert all(cell == "exactly 1..10" for cell in matrix["rows"]["sqlite"].values())
    naive = dict(zip(SERVER_MODELS, matrix["rows"]["naive_global"].values(), strict=True))
    assert naive["dev-single"] == "exactly 1..10"
    assert naive["dev-processes"].startswith("1 distinct: 9 duplicates")  # forks never count
    assert "the whole matrix took" in matrix["caption"]
    result = runner.invoke(args=["race", "--matrix", "--server", "dev"])
    assert result.exit_code == 2 and "not with --server" in result.output


@pytest.mark.server
@pytest.mark.slow
def test_url_races_in_a_race_of_its_own_and_leaves_the_table_alone(runner):
    """Against a shared server the lab counts in its own race: the table keeps its numbers,
    and a per-process counter is conclusive (a new race is 0 in every process)."""
    from session_counter.race.servers import request_json
    from session_counter.race.simultaneous import fire_simultaneously
    from session_counter.servers.harness import running_booted_server

    with running_booted_server("gunicorn", workers=2) as server:
        for _ in range(3):
            request_json("POST", f"{server.url}/shared/sqlite/inc")
        report, by_name = race(runner, "--url", server.url, "--clients", "20", "--rounds", "2",
                               "--strategy", "sqlite", "--strategy", "naive_global")
        assert request_json("GET", f"{server.url}/shared/sqlite")[1]["value"] == 3
        reads = fire_simultaneously([server.url], "/shared/naive_global", 32, method="GET")
        assert {a.value for a in reads if a.status == 200} == {0}
        status, body, _ = request_json("POST", f"{server.url}/api/race/start")
        assert status == 201  # the lab finished its races: no place is left taken
    assert exact(by_name["sqlite"])
    naive = by_name["naive_global"]
    assert not naive["inconclusive"] and [r["final_value"] for r in naive["rounds"]] == [20, 20]
