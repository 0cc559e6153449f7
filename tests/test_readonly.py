"""The read-only tests run everywhere: chattr as root, chmod as another user, and as an
unprivileged user where chattr cannot stop root. Here both root paths run, the second
forced (SESSION_COUNTER_READ_ONLY_AS_NOBODY=1)."""

import os
import re
import subprocess
import sys

import pytest

from . import readonly
from .readonly import read_only

THIS = "tests/test_readonly.py"


@pytest.mark.read_only
def test_a_read_only_folder_refuses_this_process(tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    with read_only(folder), pytest.raises(PermissionError):
        (folder / "new").write_text("refused")
    (folder / "new").write_text("writable again")
    assert os.geteuid() != 0 or readonly.way() == "chattr"  # root only where chattr works


def test_the_unprivileged_run_is_another_user_and_hands_back_each_outcome():
    refused = f"{THIS}::test_a_read_only_folder_refuses_this_process"
    outcome = readonly.run_unprivileged([refused])[refused]
    assert outcome["outcome"] == "passed", outcome["text"]
    assert outcome["uid"] == readonly.unprivileged_ids()[0] != 0
    missing = readonly.run_unprivileged([f"{THIS}::no_such_test"])[f"{THIS}::no_such_test"]
    assert missing["outcome"] == "failed" and "no outcome" in missing["text"]  # no pass


def pytest_in_a_subprocess(tmp_path, *args, **env):
    """Run pytest on this project as a separate run (own temp folder); return its output."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", f"--basetemp={tmp_path / 'run'}", *args],
        cwd=readonly.PROJECT_ROOT, env=dict(os.environ, **env), capture_output=True,
        text=True, timeout=600)
    return done.returncode, done.stdout + done.stderr


@pytest.mark.server
@pytest.mark.slow
def test_every_read_only_test_passes_the_way_taken_where_chattr_is_refused(tmp_path):
    """Forced here: as root, every read_only test runs (and passes) as nobody."""
    code, output = pytest_in_a_subprocess(
        tmp_path, "-m", "read_only", **{readonly.FORCE_AS_NOBODY: "1"})
    assert code == 0, output[-5000:]
    way = "chmod (not root)" if os.geteuid() else "tests marked read_only run as nobody"
    assert f"read-only folders: {way}" in output
    # exit 0 and nothing skipped: every selected test passed (one run, one collection;
    # a separate --collect-only to count them cost a second collection of the suite)
    passed = re.search(r"\b(\d+) passed\b", output)
    assert passed and int(passed.group(1)) >= 10 and "skipped" not in output, output[-3000:]
