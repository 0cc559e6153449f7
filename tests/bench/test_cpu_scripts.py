"""scripts/hook_costs.py and scripts/inc_cpu_inprocess.py: tiny real runs, and bad options.

No speed is asserted: the tables' rows and their arithmetic are.
"""

import os
import re
import subprocess
import sys

import pytest

from session_counter.servers.harness import PROJECT_ROOT


def run_script(name, *args):
    """Run one of the scripts; return the finished process (text output)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SESSION_COUNTER_")}
    return subprocess.run([sys.executable, os.path.join(PROJECT_ROOT, "scripts", name), *args],
                          capture_output=True, text=True, timeout=120, env=env)


def table_rows(output):
    """Return the Markdown table rows of ``output`` as lists of cells."""
    return [[cell.strip() for cell in line.strip("|").split("|")]
            for line in output.splitlines() if line.startswith("| ") and "---" not in line]


def test_hook_costs_measures_every_hook_of_both_routes():
    done = run_script("hook_costs.py", "--requests", "20", "--rounds", "1")
    assert done.returncode == 0, done.stderr
    rows = {(row[0]) for row in table_rows(done.stdout)}
    for hook in ("raise_session_error", "refuse_cross_site_writes", "note_request_start",
                 "add_vary_accept"):
        assert f"without {hook}" in rows
    assert "without finish_session" in rows  # the bare route only: /inc needs it (its lock)
    assert "no hook at all but finish_session" in rows
    every, without_vary = (next(r for r in table_rows(done.stdout) if r[0] == name)
                           for name in ("every hook", "without add_vary_accept"))
    assert float(without_vary[3]) == pytest.approx(float(every[1]) - float(without_vary[1]),
                                                   abs=0.11)


def test_inc_cpu_inprocess_measures_each_checkout_and_store():
    done = run_script("inc_cpu_inprocess.py", "--requests", "20", "--rounds", "1",
                      "--tree", f"again={PROJECT_ROOT}")
    assert done.returncode == 0, done.stderr
    rows = {row[0]: row for row in table_rows(done.stdout)}
    assert set(rows) == {"checkout", "this checkout", "again"}
    for label in ("this checkout", "again"):
        files, cookie = (float(re.match(r"[\d.]+", cell).group()) for cell in rows[label][1:3])
        ratio = float(re.match(r"[\d.]+", rows[label][4]).group())
        assert files > 0 and cookie > 0 and ratio > 0


@pytest.mark.parametrize("script, args", [
    ("hook_costs.py", ["--rounds", "0"]),
    ("inc_cpu_inprocess.py", ["--tree", "nolabel"]),
    ("inc_cpu_inprocess.py", ["--tree", "x=/no/such/folder"]),
])
def test_bad_options_are_usage_errors(script, args):
    done = run_script(script, *args)
    assert done.returncode == 2 and "error:" in done.stderr
    assert "Traceback" not in done.stderr
