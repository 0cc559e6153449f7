"""Make a folder truly read-only for a test, even when the tests run as root.

Root ignores permission bits, so chmod alone proves nothing there. One of three ways,
chosen once per run (``way()``):

- not root: plain chmod is real;
- root where ``chattr +i`` works: the immutable attribute stops root too;
- root where chattr is refused (a container without CAP_LINUX_IMMUTABLE, a file system
  without attributes): the tests marked ``read_only`` run again, all in one pytest, as
  an unprivileged user (``setpriv`` to nobody), where chmod is real; each test's outcome
  there is its outcome here. SESSION_COUNTER_READ_ONLY_AS_NOBODY=1 forces this way.

No way leaves a read-only test skipped: without setpriv or the user it fails in CI.
"""

import contextlib
import functools
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile

import pytest

from .services import require_service

FORCE_AS_NOBODY = "SESSION_COUNTER_READ_ONLY_AS_NOBODY"
REPORT = "SESSION_COUNTER_READ_ONLY_REPORT"  # set in the unprivileged run: outcomes go there
UNPRIVILEGED_USER = "nobody"
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
uses = 0  # calls of read_only(): conftest checks that a test using it carries the marker


def chattr_refusal():
    """Return why ``chattr +i`` fails on a folder of the temp file system, or None if it works."""
    probe = tempfile.mkdtemp(prefix="session-counter-chattr-")
    try:
        done = subprocess.run(["chattr", "+i", probe], capture_output=True, text=True)
        if done.returncode == 0:
            subprocess.run(["chattr", "-i", probe], check=True)
            return None
        return done.stderr.strip() or f"chattr exited with {done.returncode}"
    except FileNotFoundError:
        return "chattr is not installed"
    finally:
        os.rmdir(probe)


@functools.cache
def way():
    """Return how this run makes folders read-only: 'chmod', 'chattr' or 'as-nobody'."""
    if os.geteuid() != 0:
        return "chmod"
    if os.environ.get(FORCE_AS_NOBODY) == "1" or chattr_refusal():
        return "as-nobody"
    return "chattr"


def describe_way():
    """One line for pytest's header: how read-only folders are made in this run."""
    return {"chmod": "read-only folders: chmod (not root)",
            "chattr": "read-only folders: chattr +i (root)",
            "as-nobody": f"read-only folders: tests marked read_only run as "
                         f"{UNPRIVILEGED_USER} via setpriv (root, and "
                         f"{chattr_refusal() or 'forced'})"}[way()]


@contextlib.contextmanager
def read_only(path):
    """Within the block, nobody (root included) can create files in ``path``."""
    global uses
    uses += 1
    if os.geteuid() == 0:
        if way() != "chattr":  # only a test not marked read_only gets here
            pytest.fail(f"cannot make {path} read-only for root here: mark the test "
                        "@pytest.mark.read_only, so it runs as an unprivileged user")
        subprocess.run(["chattr", "+i", str(path)], check=True, capture_output=True)
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(path)], check=True)
    else:
        mode = os.stat(path).st_mode
        os.chmod(path, 0o500)
        try:
            yield
        finally:
            os.chmod(path, mode)


def unprivileged_ids():
    """Return (uid, gid) of the unprivileged user, or None if there is none."""
    try:
        user = pwd.getpwnam(UNPRIVILEGED_USER)
    except KeyError:
        return None
    return user.pw_uid, user.pw_gid


def run_unprivileged(nodeids, extra_env=None):
    """Run pytest on ``nodeids`` as the unprivileged user; return {nodeid: outcome dict}.

    An outcome is {"outcome": "passed" | "failed" | "skipped", "uid": ..., "text": ...},
    the worst of its setup, call and teardown.
    """
    ids = unprivileged_ids()
    require_service(shutil.which("setpriv") and ids,
                    f"setpriv and a user {UNPRIVILEGED_USER!r} are needed to run the read-only "
                    "tests unprivileged where chattr is refused")
    home = tempfile.mkdtemp(prefix="session-counter-unprivileged-")
    try:
        os.chmod(home, 0o700)
        os.chown(home, *ids)
        report = os.path.join(home, "outcomes.jsonl")
        env = dict(os.environ, HOME=home, PYTHONDONTWRITEBYTECODE="1", **(extra_env or {}))
        env[REPORT] = report
        env.pop(FORCE_AS_NOBODY, None)  # the unprivileged run uses chmod, which is real there
        # One capability kept: reading and searching any folder (not writing), so that a
        # Python installed under /root (pyenv) still loads. Writes obey the mode bits.
        command = ["setpriv", f"--reuid={ids[0]}", f"--regid={ids[1]}", "--clear-groups",
                   "--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search", "--",
                   sys.executable, "-m", "pytest", "-q",
                   f"--basetemp={os.path.join(home, 'tmp')}", *nodeids]
        done = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True,
                              text=True, timeout=600)
        outcomes = {}
        if os.path.exists(report):
            with open(report) as f:
                for line in f:
                    entry = json.loads(line)
                    worst = outcomes.setdefault(entry["nodeid"], entry)
                    if worst["outcome"] == "passed" and entry["outcome"] != "passed":
                        outcomes[entry["nodeid"]] = entry
        for nodeid in nodeids:
            outcomes.setdefault(nodeid, {"outcome": "failed", "text": (
                f"no outcome from the unprivileged run (exit {done.returncode}):\n"
                f"{done.stdout[-3000:]}{done.stderr[-3000:]}")})
        return outcomes
    finally:
        shutil.rmtree(home, ignore_errors=True)


def record_outcome(report):
    """In the unprivileged run: append one phase's outcome of a test to the report file."""
    path = os.environ.get(REPORT)
    if not path or (report.when != "call" and report.outcome == "passed"):
        return
    with open(path, "a") as f:
        f.write(json.dumps({"nodeid": report.nodeid, "outcome": report.outcome,
                            "uid": os.geteuid(), "text": report.longreprtext[-5000:]}) + "\n")


def unprivileged_outcome(item):
    """Return ``item``'s outcome in one unprivileged run of every selected read_only test."""
    session = item.session
    if not hasattr(session, "read_only_outcomes"):
        nodeids = [i.nodeid for i in session.items if i.get_closest_marker("read_only")]
        session.read_only_outcomes = run_unprivileged(nodeids)
    return session.read_only_outcomes[item.nodeid]


def run_as_unprivileged_user(item):
    """Stand in for ``item``'s call: its outcome as the unprivileged user becomes its own."""
    outcome = unprivileged_outcome(item)
    if outcome["outcome"] == "skipped":
        require_service(False, f"skipped as {UNPRIVILEGED_USER}: {outcome['text']}")
    if outcome["outcome"] != "passed":
        pytest.fail(f"failed as {UNPRIVILEGED_USER} (setpriv):\n{outcome['text']}",
                    pytrace=False)
