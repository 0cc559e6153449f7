"""The bench's machinery on tiny durations: every row there, sane numbers, ratios as measured.

No speed is asserted anywhere: how fast is the bench's output, not a test's.
"""

import json
import os
import shutil

import pytest

from session_counter import create_app
from session_counter.bench import bench_command, fill_sessions
from session_counter.bench_load import LOAD_GENERATORS, Sample, Target, merged_percentile
from session_counter.harness import running_server
from session_counter.strategies import get_strategies

JSON = {"Accept": "application/json"}


def require_wrk():
    """Skip without wrk, or fail when SESSION_COUNTER_REQUIRE_SERVICES=1 (CI)."""
    if shutil.which("wrk"):
        return
    message = "wrk is not installed (Debian: apt-get install wrk)"
    if os.environ.get("SESSION_COUNTER_REQUIRE_SERVICES") == "1":
        pytest.fail(message + "; SESSION_COUNTER_REQUIRE_SERVICES=1 requires it")
    pytest.skip(message)


def test_filled_sessions_are_read_and_saved_by_the_app(app, client):
    """Files written straight to disk are sessions the app loads, increments and keeps."""
    cookies = fill_sessions(app, 3)
    assert len(os.listdir(app.config["SESSION_DIR"])) == 3
    for n, cookie in enumerate(cookies):
        name, sid = cookie.split("=", 1)
        client.set_cookie(name, sid)
        assert client.post("/inc", headers=JSON).json["counter"] == n + 1
        assert client.post("/inc", headers=JSON).json["counter"] == n + 2
    assert len(os.listdir(app.config["SESSION_DIR"])) == 3  # no session was started anew


def test_rounds_merge_by_their_number_of_requests():
    """A round with three times the requests weighs three times as much."""
    fast = Sample(300, 0, 1.0, [1.0] * 1000)
    slow = Sample(100, 0, 1.0, [9.0] * 1000)
    assert merged_percentile([fast, slow], 50) == 1.0
    assert merged_percentile([fast, slow], 74) == 1.0
    assert merged_percentile([fast, slow], 76) == 9.0
    assert merged_percentile([fast, slow], 99) == 9.0


@pytest.mark.server
@pytest.mark.parametrize("generator", ["wrk", "python"])
def test_load_generator_sends_each_connection_its_own_sessions(tmp_path, generator):
    """Every answered request incremented one of the given sessions: none was started anew."""
    if generator == "wrk":
        require_wrk()
    folder = str(tmp_path / "instance")
    app = create_app(instance_path=folder)
    cookies = fill_sessions(app, 6)
    before = sum(range(6))
    with running_server("gunicorn", workers=2, instance_path=folder) as server:
        target = Target("inc", "/inc", "main", "POST", "/inc", cookies)
        sample = LOAD_GENERATORS[generator](server.url, target, 2, 1.0, str(tmp_path))
    cache, prefix = app.session_interface.cache, app.session_interface.key_prefix
    after = sum(cache.get(prefix + cookie.split("=", 1)[1])["counter"] for cookie in cookies)
    assert sample.errors == 0 and sample.requests > 0
    # a request still running when the run ends counts on the server, not in the sample
    assert sample.requests <= after - before <= sample.requests + 2
    assert len(os.listdir(app.config["SESSION_DIR"])) == 6
    assert len(sample.quantiles) == 1000 and sample.quantiles == sorted(sample.quantiles)
    assert 0 < sample.quantiles[0]


@pytest.fixture(params=["files", pytest.param("redis", marks=pytest.mark.redis)])
def redis_option(request):
    """Bench the file store (with scaling rows), or also Redis (without them)."""
    if request.param == "files":
        return [], "5,20"
    return ["--redis-url", request.getfixturevalue("redis_url")], ""


@pytest.mark.server
@pytest.mark.slow
def test_bench_reports_every_row_with_measured_ratios(app, runner, redis_option):
    """The JSON report has every target, numbers > 0, no errors, ratios as quotients."""
    extra, sessions = redis_option
    result = runner.invoke(bench_command, [
        "--load-generator", "python", "--rounds", "2", "--duration", "0.3", "--warmup", "0",
        "--workers", "1", "--connections", "2", "--sessions", sessions, "--json", *extra])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    rows = {row["key"]: row for row in report["rows"]}

    expected = {"bare", "inc_lock", "inc_nolock"}
    expected |= {f"shared_{name}" for name in get_strategies(app)}
    if extra:
        expected |= {"inc_redis", "shared_redis"}
    expected |= {f"sessions_{n}" for n in sessions.split(",") if n}
    assert set(rows) == expected
    for row in rows.values():
        assert row["errors"] == 0 and row["requests"] > 0 and row["req_per_s"] > 0
        assert len(row["round_req_per_s"]) == 2
        assert 0 < row["p50_ms"] <= row["p99_ms"]

    bare = rows["bare"]
    for row in rows.values():
        assert row["cpu_us_per_request"] >= 0  # the server's processes, from /proc
        if row["sessions"] is None:
            assert row["ratio"] == pytest.approx(row["req_per_s"] / bare["req_per_s"])
            if row["cpu_us_per_request"] and bare["cpu_us_per_request"]:
                assert row["cpu_ratio"] == pytest.approx(
                    bare["cpu_us_per_request"] / row["cpu_us_per_request"])
    if sessions:
        fewest, most = rows["sessions_5"], rows["sessions_20"]
        assert fewest["cost_ratio"] == 1.0
        assert most["cost_ratio"] == pytest.approx(fewest["req_per_s"] / most["req_per_s"])
        assert most["ms_per_request"] == pytest.approx(1000 / most["req_per_s"])

    checks = report["checks"]
    assert len(checks) == (3 if sessions else 2)
    for check in checks:
        holds = check["got"] >= check["want"] if check["op"] == ">=" else \
            check["got"] <= check["want"]
        assert check["holds"] == holds
    assert report["settings"]["load_generator"].startswith("Python")
    assert report["machine"]["nproc"] >= 1 and report["machine"]["python"]


@pytest.mark.server
def test_unreachable_redis_is_a_clear_error(runner):
    """A Redis URL nobody answers: the server's own start-up message, no traceback."""
    result = runner.invoke(bench_command, ["--redis-url", "redis://127.0.0.1:1/0",
                                           "--sessions", "", "--load-generator", "python"])
    assert result.exit_code == 1
    assert "Cannot reach Redis at redis://127.0.0.1:1/0" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("args, complaint", [
    (["--sessions", "100,lots"], "comma-separated list of whole numbers"),
    (["--sessions", "0"], "at least 1"),
    (["--model", "nginx"], "nginx"),
    (["--rounds", "0"], "not in the range"),
])
def test_bad_options_are_clear_errors(runner, args, complaint):
    """Bad input: a usage error naming the problem, never a traceback."""
    result = runner.invoke(bench_command, args)
    assert result.exit_code == 2 and complaint in result.output
    assert "Traceback" not in result.output
