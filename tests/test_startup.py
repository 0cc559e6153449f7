"""What start-up problems really do: under run.py, and under a plain gunicorn command.

`run.py` and `flask` build the app once before serving and stop on any problem. A plain
``gunicorn 'session_counter:create_app()'`` builds it in each worker; there a problem
that can pass (a read-only folder, a store down) is logged and answered with 503, and
one that cannot (a folder that cannot be made, a secret key that cannot be kept) stops
gunicorn with the message.
"""

import os
import stat
import subprocess
import sys
import time

import pytest
import requests
from flask import Flask

from session_counter import create_app
from session_counter.config import ensure_secret_key
from session_counter.servers.harness import PROJECT_ROOT, clean_environ, free_port
from session_counter.startup_checks import StartupError

from .readonly import read_only

JSON = {"Accept": "application/json"}


def plain_gunicorn(instance_path, **settings):
    """Start ``gunicorn -w 2 'session_counter:create_app()'`` as a user would.

    Returns (Popen, url).
    """
    port = free_port()
    env = {**clean_environ(), "PYTHONPATH": PROJECT_ROOT,
           "SESSION_COUNTER_INSTANCE_PATH": str(instance_path),
           **{f"SESSION_COUNTER_{k}": v for k, v in settings.items()}}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "-w", "2",
         "--no-control-socket", "session_counter:create_app()"],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True)
    return process, f"http://127.0.0.1:{port}"


def stop(process):
    """Stop gunicorn and its workers; return everything it printed."""
    if process.poll() is None:
        os.killpg(process.pid, 15)
    output, _ = process.communicate(timeout=20)
    return output


def wait_for(url, process, timeout=60.0):
    """Wait until /healthz answers; fail with gunicorn's output if it exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, stop(process)
        try:
            if requests.get(url + "/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or no worker booted yet
            time.sleep(0.1)
    pytest.fail("gunicorn did not answer: " + stop(process))


@pytest.mark.server
def test_plain_gunicorn_stops_when_the_instance_folder_cannot_be_made(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    process, _ = plain_gunicorn(blocker / "instance")
    try:
        process.wait(30)
    finally:
        output = stop(process)
    assert process.returncode != 0
    assert f"The instance folder {blocker / 'instance'} is not writable" in output
    assert "Worker failed to boot" in output
    assert "Answering 503" not in output  # it would not have: the worker could not run


@pytest.mark.server
@pytest.mark.read_only
def test_plain_gunicorn_with_a_read_only_session_folder_logs_and_answers_503(tmp_path):
    instance = tmp_path / "instance"
    create_app({"TESTING": True}, instance_path=str(instance))  # folders, key, database
    with read_only(instance / "sessions"):
        process, url = plain_gunicorn(instance)
        try:
            wait_for(url, process)
            refused = requests.post(url + "/inc", headers=JSON, timeout=10)
            shared = requests.post(url + "/shared/sqlite/inc", headers=JSON, timeout=10)
        finally:
            output = stop(process)
    assert refused.status_code == 503 and "could not save the session" in refused.json()[
        "message"]
    assert shared.status_code == 200 and shared.json()["value"] == 1
    assert (f"The session folder {instance / 'sessions'} is not writable" in output
            and "Answering 503 until then" in output)


@pytest.mark.read_only
def test_a_secret_key_that_cannot_be_kept_stops_the_app(tmp_path):
    folder = tmp_path / "instance"
    folder.mkdir()
    with read_only(folder):
        with pytest.raises(StartupError) as refused:
            ensure_secret_key(Flask(__name__, instance_path=str(folder)))
    assert refused.value.message.startswith(
        f"Cannot keep a generated secret key in {folder / 'secret_key'}")
    assert "SESSION_COUNTER_SECRET_KEY" in refused.value.message


def test_the_session_folder_is_0700_only_when_the_app_makes_it(tmp_path):
    made = create_app({"TESTING": True}, instance_path=str(tmp_path / "made"))
    assert stat.S_IMODE(os.stat(made.config["SESSION_DIR"]).st_mode) == 0o700
    existing = tmp_path / "existing" / "sessions"
    existing.mkdir(parents=True)
    existing.chmod(0o755)
    app = create_app({"TESTING": True}, instance_path=str(tmp_path / "existing"))
    app.test_client().post("/inc")
    assert stat.S_IMODE(os.stat(existing).st_mode) == 0o755  # left as the operator made it
    (name,) = os.listdir(existing)
    assert stat.S_IMODE(os.stat(existing / name).st_mode) == 0o600  # the files stay private
