"""The session store keeps every live session and prunes expired ones on demand."""

import os
import re
import time
from email.utils import parsedate_to_datetime

from session_counter.sessions.file_store import HEADER, SessionFileStore

from ..session_files import age_session_file

JSON = {"Accept": "application/json"}


def test_prune_deletes_expired_and_damaged_files_only(app, runner):
    clients = [app.test_client() for _ in range(5)]
    for c in clients:
        c.post("/inc")
    folder = app.config["SESSION_DIR"]
    files = sorted(os.path.join(folder, name) for name in os.listdir(folder))
    age_session_file(files[0], 10)
    age_session_file(files[1], 10)
    with open(files[2], "wb") as f:
        f.write(b"\x01")
    result = runner.invoke(args=["sessions", "prune"])
    assert result.exit_code == 0
    assert "Pruned 2 expired and 1 damaged session files" in result.output
    assert "2 live sessions kept" in result.output
    assert sorted(os.listdir(folder)) == sorted(os.path.basename(p) for p in files[3:])


def test_prune_on_an_empty_store(runner):
    result = runner.invoke(args=["sessions", "prune"])
    assert "Pruned 0 expired and 0 damaged" in result.output and result.exit_code == 0


def test_lifetime_is_configurable_and_written_into_each_file(tmp_path):
    from session_counter import create_app

    app = create_app({"PERMANENT_SESSION_LIFETIME": 60}, instance_path=str(tmp_path / "i"))
    client = app.test_client()
    client.post("/inc")
    folder = app.config["SESSION_DIR"]
    (name,) = os.listdir(folder)
    with open(os.path.join(folder, name), "rb") as f:
        _, expires, _ = HEADER.unpack(f.read(HEADER.size))
    assert abs(expires - (time.time() + 60)) < 5
    cookie = client.post("/inc").headers["Set-Cookie"]
    (expires_at,) = re.findall(r"Expires=([^;]+)", cookie)
    # the browser keeps the cookie as long as the server keeps the file: 60 s, not 31 days
    assert abs(parsedate_to_datetime(expires_at).timestamp() - (time.time() + 60)) < 5


def test_no_session_is_dropped_past_cachelibs_default_threshold(app):
    """cachelib's default threshold of 500 deletes live sessions; ours keeps all 1,000."""
    clients = [app.test_client() for _ in range(1000)]
    for number, c in enumerate(clients):
        for _ in range(number % 3 + 1):
            c.post("/inc")
    assert len(os.listdir(app.config["SESSION_DIR"])) == 1000
    for number, c in enumerate(clients):
        assert c.post("/inc", headers=JSON).json["counter"] == number % 3 + 2


def test_a_write_does_not_scan_the_folder(tmp_path, monkeypatch):
    """set() never lists the folder, whatever it holds (O(1) writes)."""
    cache = SessionFileStore(str(tmp_path), default_timeout=60)
    for i in range(50):
        cache.set(f"session:{i}", {"counter": i})
    listed = []
    real_listdir = os.listdir
    monkeypatch.setattr(os, "listdir", lambda *a: listed.append(a) or real_listdir(*a))
    monkeypatch.setattr(os, "scandir", lambda *a: listed.append(a) or real_listdir(*a))
    assert cache.set("session:new", {"counter": 1})
    assert listed == []
    assert cache.get("session:new") == {"counter": 1}


def test_a_made_up_cookie_locks_nothing_and_leaves_no_file_of_its_own(app, client):
    """The lock is the session file's own flock: a cookie naming no file locks nothing.

    Each of these requests starts a new session (one file each); nothing else is made.
    """
    from session_counter.sessions.file_lock import lock_folder

    for n in range(20):
        client.set_cookie("session", f"{n:043d}")
        assert client.post("/inc", headers=JSON).json["counter"] == 1
    assert len(os.listdir(app.config["SESSION_DIR"])) == 20
    assert not os.path.exists(lock_folder(app))


def test_prune_removes_an_older_versions_idle_lock_files(app, runner):
    """Older versions kept a lock file per session; prune deletes those nobody holds."""
    import fcntl

    from session_counter.sessions.file_lock import lock_folder

    folder = lock_folder(app)
    os.makedirs(folder)
    for name in ("a" * 64, "b" * 64, "c" * 64):
        open(os.path.join(folder, name), "w").close()
    fd = os.open(os.path.join(folder, "b" * 64), os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # a worker of the older version holds this one
        assert runner.invoke(args=["sessions", "prune"]).exit_code == 0
    finally:
        os.close(fd)
    assert os.listdir(folder) == ["b" * 64]
