"""A target where no request finished inside the run: said so in every output, no ratio."""

import json

from session_counter.bench.cli import summarise
from session_counter.bench.load import Sample, Target
from session_counter.bench.report import print_markdown, print_rich

SAFE = ["threads", "processes"]
TARGETS = [Target("bare", "bare", "main", "GET", "/healthz"),
           Target("inc_lock", "/inc", "main", "POST", "/inc"),
           Target("shared_naive_global", "naive", "main", "POST", "/n", safe_against=[]),
           Target("shared_sqlite", "sqlite", "main", "POST", "/s", safe_against=SAFE),
           Target("shared_manager", "/shared/manager/inc", "main", "POST", "/m",
                  safe_against=SAFE),
           Target("sessions_10", "10", "s10", "POST", "/inc", sessions=10),
           Target("sessions_1000", "1000", "s1000", "POST", "/inc", sessions=1000)]


def sample(requests):
    """One 1 s round; 0 requests is wrk's answer when every request was still in flight."""
    return Sample(requests, 0, 1.0, [1.0, 2.0] if requests else [], 0.001 * requests)


def report():
    """A hand-made bench result: the manager and the 1,000-session rows finished nothing."""
    samples = {"bare": [sample(1000)], "inc_lock": [sample(900)],
               "shared_naive_global": [sample(800)], "shared_sqlite": [sample(700)],
               "shared_manager": [sample(0)], "sessions_10": [sample(500)],
               "sessions_1000": [sample(0)]}
    rows, checks = summarise(TARGETS, samples)
    return {"rows": rows, "checks": checks, "contention": [],
            "settings": {"load_generator": "wrk 4.2", "model": "gunicorn", "workers": 2,
                         "connections": 4, "rounds": 1, "duration": 1.0, "contention": None},
            "machine": {"nproc": 2, "cpu": "test", "python": "3", "system": "test",
                        "load_average": [1.0, 1.0, 1.0]}}


def test_json_row_has_no_rate_and_no_ratio():
    rows = {r["key"]: r for r in json.loads(json.dumps(report()))["rows"]}
    manager, most = rows["shared_manager"], rows["sessions_1000"]
    assert manager["none_completed"] is True and manager["requests"] == 0
    assert (manager["req_per_s"], manager["ratio"], manager["round_ratios"]) == (None, None, [None])
    assert manager["cpu_us_per_request"] is None and manager["cpu_ratio"] is None
    assert (most["req_per_s"], most["cost_ratio"], most["ms_per_request"]) == (None, None, None)
    assert rows["shared_sqlite"]["none_completed"] is False
    assert rows["shared_sqlite"]["ratio"] == 0.7  # the measured rows keep their figures


def test_markdown_says_none_completed(capsys):
    print_markdown(report())
    out = capsys.readouterr().out
    (manager,) = [line for line in out.splitlines() if line.startswith("| /shared/manager")]
    cells = [c.strip() for c in manager.strip("|").split("|")]
    assert cells[2:5] == ["none completed", "-", "-"]  # req/s, vs bare, rounds
    (most,) = [line for line in out.splitlines() if line.startswith("| 1,000 |")]
    assert [c.strip() for c in most.strip("|").split("|")][1:4] == ["none completed", "-", "-"]
    assert "none completed: /shared/manager/inc: no request finished" in out
    assert "| 0 |" not in out.replace("| 0 |\n", "")  # only the errors column may be 0
    assert "(sqlite) vs naive_global" in out  # the check picked a row that has a rate


def test_rich_table_says_none_completed(capsys):
    print_rich(report())
    out = capsys.readouterr().out
    (manager,) = [line for line in out.splitlines() if "/shared/manager/inc" in line
                  and "│" in line]
    assert "none completed" in manager and "0.00" not in manager
    assert "none completed: /shared/manager/inc" in out
