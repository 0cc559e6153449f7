"""The bench's machinery on tiny durations: every row there, sane numbers, ratios as measured.

No speed is asserted anywhere: how fast is the bench's output, not a test's.
"""

import json
import os
import shutil

import pytest

from session_counter import create_app
from session_counter.bench.cli import bench_command, summarise
from session_counter.bench.load import (
    LOAD_GENERATORS,
    Sample,
    Target,
    merged_percentile,
)
from session_counter.bench.servers import fill_sessions
from session_counter.servers.harness import running_server
from session_counter.strategies import (
    COMPARE_AND_SWAP,
    STRATEGY_CLASSES,
    get_strategies,
)

from ..services import require_service

JSON = {"Accept": "application/json"}


def require_wrk():
    """Skip without wrk, or fail when SESSION_COUNTER_REQUIRE_SERVICES=1 (CI)."""
    require_service(shutil.which("wrk"), "wrk is not installed (Debian: apt-get install wrk)")


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


def sample(requests, cpu_seconds):
    """One round of one second with ``requests`` answered and the server's CPU time."""
    return Sample(requests, 0, 1.0, [1.0, 2.0], cpu_seconds)


def test_summarise_computes_the_ratios():
    """Rows and checks from hand-made samples, against figures worked out by hand."""
    shared = ["threads", "processes"]
    targets = [Target("bare", "bare", "main", "GET", "/healthz"),
               Target("inc_lock", "inc", "main", "POST", "/inc"),
               Target("shared_naive_global", "naive", "main", "POST", "/n", safe_against=[]),
               Target("shared_sqlite", "sqlite", "main", "POST", "/s", safe_against=shared),
               Target("sessions_100", "100", "s100", "POST", "/inc", sessions=100),
               Target("sessions_1000", "1000", "s1000", "POST", "/inc", sessions=1000)]
    samples = {"bare": [sample(1000, 0.4), sample(3000, 1.2)],
               "inc_lock": [sample(800, 0.4), sample(1500, 0.75)],
               "shared_naive_global": [sample(1000, 0.5), sample(1000, 0.5)],
               "shared_sqlite": [sample(900, 0.54), sample(900, 0.54)],
               "sessions_100": [sample(500, 0.25), sample(500, 0.25)],
               "sessions_1000": [sample(400, 0.24), sample(400, 0.24)]}
    rows, checks = summarise(targets, samples)
    rows = {row["key"]: row for row in rows}
    approx = pytest.approx

    # bare: 4,000 requests in 2 s, 1.6 s of CPU; every other row is measured against it
    assert rows["bare"]["req_per_s"] == 2000 and rows["bare"]["cpu_us_per_request"] == 400
    assert rows["bare"]["ratio"] == 1.0 and rows["bare"]["round_ratios"] == [1.0, 1.0]
    inc = rows["inc_lock"]  # 2,300 in 2 s; 1.15 s of CPU: 500 us each
    assert inc["req_per_s"] == 1150 and inc["ratio"] == approx(0.575)
    assert inc["cpu_us_per_request"] == approx(500) and inc["cpu_ratio"] == approx(0.8)
    assert inc["round_ratios"] == approx([0.8, 0.5])  # 800/1000, 1500/3000
    assert inc["requests"] == 2300 and inc["errors"] == 0
    sqlite = rows["shared_sqlite"]
    assert sqlite["ratio"] == approx(0.45) and sqlite["cpu_ratio"] == approx(400 / 600)
    assert sqlite["round_ratios"] == approx([0.9, 0.3])
    # scaling rows: cost per request relative to the fewest sessions stored
    fewest, most = rows["sessions_100"], rows["sessions_1000"]
    assert fewest["cost_ratio"] == 1.0 and fewest["ms_per_request"] == 2.0
    assert most["ms_per_request"] == 2.5 and most["cost_ratio"] == 1.25
    assert most["cpu_cost_ratio"] == approx(1.2) and most["round_ratios"] == [1.25, 1.25]
    assert "ratio" not in most

    lock, strategy, scaling = checks
    assert (lock["got"], lock["holds"], lock["got_cpu"]) == (approx(0.575), False, approx(0.8))
    assert lock["miss_by"] == approx(0.275 / 0.85)  # wants >= 0.85
    assert "(sqlite)" in strategy["what"]  # the fastest process-safe one: 900/1000
    assert (strategy["got"], strategy["holds"], strategy["miss_by"]) == (approx(0.9), True, None)
    assert strategy["got_cpu"] == approx(500 / 600) and strategy["holds_by_cpu"] is False
    assert (scaling["got"], scaling["holds"]) == (1.25, False)  # wants <= 1.2
    assert scaling["miss_by"] == approx(0.05 / 1.2) and scaling["got_cpu"] == approx(1.2)


def test_a_target_that_answered_nothing_has_no_ratio():
    """No division by zero: a dead server's row says None, and its check does not hold."""
    targets = [Target("bare", "bare", "main", "GET", "/healthz"),
               Target("inc_lock", "inc", "main", "POST", "/inc")]
    rows, checks = summarise(targets, {"bare": [sample(0, 0.0)], "inc_lock": [sample(10, 0.1)]})
    assert rows[1]["ratio"] is None and rows[1]["round_ratios"] == [None]
    assert checks[0]["holds"] is False and checks[0]["miss_by"] is None


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


@pytest.fixture(params=["files", pytest.param("stores", marks=[pytest.mark.redis,
                                                                pytest.mark.memcached])])
def redis_option(request):
    """Bench the file store (with scaling rows), or also Redis and memcached (without them),
    with bursts of simultaneous clients."""
    if request.param == "files":
        return [], "5,20"
    return ["--redis-url", request.getfixturevalue("redis_url"), "--memcached-url",
            request.getfixturevalue("memcached_url"), "--contention", "6"], ""


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

    expected = {"bare", "inc_lock", "inc_nolock", "new_sweep", "new_sweep_inline", "new_nosweep",
                "inc_cookie", "inc_dict", "inc_seed"}
    expected |= {f"shared_{name}" for name in get_strategies(app)}
    if extra:
        expected |= {"inc_redis", "inc_memcached"}  # sessions in each store server
        expected |= {f"shared_{cls.name}" for cls in STRATEGY_CLASSES
                     if cls.store in ("redis", "memcached")}
    expected |= {f"sessions_{n}" for n in sessions.split(",") if n}
    assert set(rows) == expected
    for row in rows.values():
        assert row["errors"] == 0 and row["requests"] > 0 and row["req_per_s"] > 0
        assert len(row["round_req_per_s"]) == 2
        assert 0 < row["p50_ms"] <= row["p99_ms"]

    for row in rows.values():
        assert row["cpu_us_per_request"] >= 0  # the server's processes, from /proc
        ratios = ["ratio"] if row["sessions"] is None else ["cost_ratio", "ms_per_request"]
        assert all(row[name] > 0 for name in ratios)
    assert rows["bare"]["ratio"] == 1.0  # the formulas: test_summarise_computes_the_ratios
    if sessions:
        assert rows["sessions_5"]["cost_ratio"] == 1.0
    assert len(report["checks"]) == (4 if sessions else 3)
    vs_cookie = next(c for c in report["checks"] if "cookie store" in c["what"])
    assert vs_cookie["got"] == rows["inc_lock"]["req_per_s"] / rows["inc_cookie"]["req_per_s"]
    assert report["settings"]["load_generator"].startswith("Python")
    assert report["machine"]["nproc"] >= 1 and report["machine"]["python"]
    bursts = {row["key"]: row for row in report["contention"]}
    assert set(bursts) == ({key for key in rows if key.startswith("shared_")} if extra else set())
    techniques = {f"shared_{cls.name}": cls.technique for cls in STRATEGY_CLASSES}
    for key, row in bursts.items():  # 2 rounds: 2 bursts of 6
        assert (row["requests"], row["errors"], row["bursts"]) == (12, 0, 2)
        assert 0 < row["burst_ms_median"] <= row["burst_ms_max"]
        # the answers of compare-and-swap strategies say how many swaps they lost
        assert (row["retries"] is None) == (techniques[key] != COMPARE_AND_SWAP)


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
    # a misspelt row was measured silently without it (bare and inc_lock only)
    (["--only", "inc_coookie"], "no row called inc_coookie; rows: bare, inc_lock,"),
    (["--only", "shared_nosuch,inc_cookie"], "no row called shared_nosuch"),
    (["--only", "sessions_500", "--sessions", "100"], "no row called sessions_500"),
])
def test_bad_options_are_clear_errors(runner, args, complaint):
    """Bad input: a usage error naming the problem, never a traceback."""
    result = runner.invoke(bench_command, args)
    assert result.exit_code == 2 and complaint in result.output
    assert "Traceback" not in result.output


def test_contention_row_is_computed_from_the_answers():
    from session_counter.bench.contention import contention_row
    from session_counter.race.model import Answer

    target = Target("shared_x", "/shared/x/inc", "main", "POST", "/shared/x/inc",
                    safe_against=["threads"])
    answers = [Answer(200, 1, 7, "t", "i", None, 0.010, 0),
               Answer(200, 2, 7, "t", "i", None, 0.020, 3),
               Answer(503, None, None, None, "i", None, 0.030)]
    row = contention_row(target, [0.02, 0.04, 0.03], answers)
    assert (row["requests"], row["errors"], row["bursts"]) == (3, 1, 3)
    assert (row["retries"], row["retries_per_request"], row["most_retries"]) == (3, 1.5, 3)
    assert row["burst_ms_median"] == pytest.approx(30.0)
    assert row["burst_ms_max"] == pytest.approx(40.0)


@pytest.mark.server
@pytest.mark.slow
def test_only_and_another_checkout_measure_those_rows_side_by_side(runner):
    """--only keeps the rows named (and bare, inc_lock); --tree adds another checkout's two."""
    from session_counter.servers.harness import PROJECT_ROOT

    result = runner.invoke(bench_command, [
        "--load-generator", "python", "--rounds", "1", "--duration", "0.3", "--warmup", "0",
        "--workers", "1", "--connections", "2", "--sessions", "", "--only", "inc_cookie",
        "--tree", f"same={PROJECT_ROOT}", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    rows = {row["key"]: row for row in report["rows"]}
    assert set(rows) == {"bare", "inc_lock", "inc_cookie", "inc_lock@same", "inc_cookie@same"}
    assert all(row["errors"] == 0 and row["requests"] > 0 for row in rows.values())
    assert report["settings"]["trees"] == {"same": PROJECT_ROOT}
    [check] = [c for c in report["checks"] if c["what"].startswith("[same]")]
    assert check["got"] == rows["inc_lock@same"]["req_per_s"] / rows["inc_cookie@same"]["req_per_s"]
    assert check["got_cpu"] == (rows["inc_cookie@same"]["cpu_us_per_request"]
                                / rows["inc_lock@same"]["cpu_us_per_request"])


@pytest.mark.parametrize("tree, complaint", [
    ("before", "want LABEL=FOLDER"), ("=/tmp", "want LABEL=FOLDER"),
    ("before=/no/such/folder", "is not a checkout of session-counter")])
def test_a_bad_tree_is_a_usage_error(runner, tree, complaint):
    """A --tree that is not LABEL=FOLDER of a checkout: a usage error, nothing started."""
    result = runner.invoke(bench_command, ["--tree", tree])
    assert result.exit_code == 2 and complaint in result.output
    assert "Traceback" not in result.output
