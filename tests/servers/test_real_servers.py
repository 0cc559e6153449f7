"""Real servers on 127.0.0.1: 100 simultaneous clients under gunicorn with 4 processes."""

import collections
import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest

from session_counter.race.simultaneous import fire_simultaneously
from session_counter.servers.harness import (
    PROJECT_ROOT,
    clean_environ,
    free_port,
    running_booted_server,
)
from session_counter.strategies import PROCESSES, STRATEGY_CLASSES

from ..stalls import frozen

pytestmark = [pytest.mark.server, pytest.mark.slow]

# Kept on this machine: the Redis and memcached ones need their server (tests/test_kv_*).
PROCESS_SAFE = [cls.name for cls in STRATEGY_CLASSES
                if PROCESSES in cls.safe_against and cls.state_lives_in != "global"]
CLIENTS = 100


@pytest.fixture(scope="module")
def gunicorn4():
    """The app under gunicorn with 4 sync worker processes, for this module."""
    with running_booted_server("gunicorn", workers=4) as server:
        yield server


@pytest.mark.parametrize("name", PROCESS_SAFE)
def test_process_safe_strategy_hands_out_exactly_1_to_100(gunicorn4, name):
    answers = fire_simultaneously([gunicorn4.url], f"/shared/{name}/inc", CLIENTS)
    assert [a.error for a in answers if a.error] == []
    assert sorted(a.value for a in answers) == list(range(1, CLIENTS + 1))


def test_naive_global_duplicates_numbers_across_processes(gunicorn4):
    """Every worker has its own global: numbers repeat as soon as two workers answer."""
    answers = []
    for _ in range(5):  # bounded: stop once two processes have answered
        answers += fire_simultaneously([gunicorn4.url], "/shared/naive_global/inc", CLIENTS)
        if len({a.pid for a in answers}) >= 2:
            break
    assert all(a.status == 200 for a in answers)
    by_value = collections.defaultdict(set)
    for a in answers:
        by_value[a.value].add(a.pid)
    duplicated_across_processes = [v for v, pids in by_value.items() if len(pids) >= 2]
    assert len({a.pid for a in answers}) >= 2
    assert duplicated_across_processes, "two processes handed out the same number"
    assert len(by_value) < len(answers)


def test_one_client_keeps_its_counter_across_worker_processes(gunicorn4):
    """The session is on disk, so whichever worker answers knows this client."""
    import requests

    with requests.Session() as browser:
        def post():
            return browser.post(gunicorn4.url + "/inc", headers={"Accept": "application/json"},
                                timeout=30).json()

        seen = [post() for _ in range(20)]
        # the kernel may give one idle worker every connection: freeze the one that
        # answered last, so the next 20 (the 21st first) are answered by other processes
        last = seen[-1]["pid"]
        with frozen([last]):
            seen += [post() for _ in range(20)]
    assert [s["counter"] for s in seen] == list(range(1, 41))
    assert last not in {s["pid"] for s in seen[20:]}
    assert {s["pid"] for s in seen} <= gunicorn4.pids and len(gunicorn4.pids) == 4


def test_run_py_serves_with_gunicorn_workers(tmp_path):
    """`python run.py --workers 2` starts gunicorn and prints the URL to open."""
    port = free_port()
    env = dict(clean_environ(), SESSION_COUNTER_INSTANCE_PATH=str(tmp_path / "instance"))
    process = subprocess.Popen([sys.executable, "run.py", "--workers", "2", "--port", str(port)],
                               cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        first_line = process.stdout.readline()
        assert f"open http://127.0.0.1:{port}/" in first_line and "gunicorn" in first_line
        deadline = time.monotonic() + 60  # bounded; a loaded machine starts it slowly
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/strategies") as r:
                    assert "sqlite" in [s["name"] for s in json.load(r)]
                    break
            except OSError:
                assert time.monotonic() < deadline, "run.py did not answer"
                time.sleep(0.1)
    finally:
        os.killpg(process.pid, 15)
        process.wait(10)


def test_run_py_refuses_an_unwritable_instance_folder(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    env = dict(clean_environ(), SESSION_COUNTER_INSTANCE_PATH=str(blocker / "instance"))
    done = subprocess.run([sys.executable, "run.py"], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=30)
    assert done.returncode != 0
    assert "cannot start" in done.stderr and str(blocker / "instance") in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("setting, store", [("REDIS_URL", "Redis"),
                                            ("MEMCACHED_URL", "memcached"),
                                            ("POSTGRES_URL", "PostgreSQL")])
def test_run_py_refuses_to_start_without_its_store(tmp_path, setting, store):
    """A configured store that does not answer stops run.py with the URL and the fix."""
    url = f"{store.lower()}://127.0.0.1:{free_port()}"
    env = dict(clean_environ(), SESSION_COUNTER_INSTANCE_PATH=str(tmp_path),
               **{f"SESSION_COUNTER_{setting}": url})
    done = subprocess.run([sys.executable, "run.py", "--port", str(free_port())], env=env,
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert f"session-counter cannot start: Cannot reach {store} at {url}" in done.stderr
    assert f"Fix: start {store}" in done.stderr and "Traceback" not in done.stderr


def test_flask_cli_refuses_an_unwritable_instance_folder(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    env = dict(clean_environ(), SESSION_COUNTER_INSTANCE_PATH=str(blocker / "instance"))
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "session_counter",
                           "sessions", "prune"], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=30)
    assert done.returncode != 0
    assert str(blocker / "instance") in done.stderr and "Fix:" in done.stderr
