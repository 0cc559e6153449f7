"""The session file store under faults: short writes, stalled writers, a full disk."""

import os

import pytest

from ..stalls import answer_within

JSON = {"Accept": "application/json"}


def only_session_file(app):
    """Return the path of the only session file."""
    (name,) = os.listdir(app.config["SESSION_DIR"])
    return os.path.join(app.config["SESSION_DIR"], name)


def stored_counter(app, client):
    """Return the counter stored for this client, read straight from its file."""
    sid = client.get_cookie("session").value
    return app.session_interface.cache.get(f"session:{sid}")["counter"]


def short_writes(monkeypatch, times):
    """Make the next ``times`` calls of os.pwrite write half their bytes (a disk filling up)."""
    real_pwrite, left = os.pwrite, [times]

    def pwrite(fd, data, offset):
        if left[0] > 0:
            left[0] -= 1
            return real_pwrite(fd, bytes(data)[:len(data) // 2], offset)
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(os, "pwrite", pwrite)


def test_a_short_rewrite_answers_503_and_the_old_session_survives_whole(client, app,
                                                                       monkeypatch):
    for _ in range(3):
        client.post("/inc", headers=JSON)
    with monkeypatch.context() as patch:
        short_writes(patch, times=1)
        answer = client.post("/inc", headers=JSON)
    assert answer.status_code == 503
    assert "short write" in answer.json["message"]
    assert "Nothing was changed" in answer.json["message"]
    assert stored_counter(app, client) == 3  # the file decodes: the old session, whole
    assert client.post("/inc", headers=JSON).json["counter"] == 4


def test_a_short_write_of_a_new_session_answers_503_and_leaves_no_file(client, app,
                                                                       monkeypatch):
    with monkeypatch.context() as patch:
        short_writes(patch, times=1)
        answer = client.post("/inc", headers=JSON)
    assert answer.status_code == 503 and "short write" in answer.json["message"]
    assert os.listdir(app.config["SESSION_DIR"]) == []  # no temp file, no half a session
    assert client.post("/inc", headers=JSON).json["counter"] == 1


@pytest.fixture
def unlocked_app(make_app):
    """An app without the per-session lock, whose waits end after 0.5 s."""
    return make_app({"TESTING": True, "SESSION_LOCK": False, "SESSION_LOCK_TIMEOUT": 0.5})


def test_a_stopped_writer_holding_the_file_cannot_hang_a_reader(unlocked_app, stalled_writer):
    """With SESSION_LOCK off, only the file's flock guards it: the wait for it is bounded."""
    client = unlocked_app.test_client()
    for _ in range(2):
        client.post("/inc", headers=JSON)
    writer = stalled_writer(only_session_file(unlocked_app))
    answer = answer_within(10, lambda: client.get("/", headers=JSON))
    assert answer is not None, "the request is still waiting for the stopped writer"
    assert answer.status_code == 503
    assert "stayed locked for 0.5 s" in answer.json["message"]
    writer.kill()
    writer.wait(timeout=10)
    assert client.post("/inc", headers=JSON).json["counter"] == 3  # nothing was lost


def test_a_stopped_writer_holding_the_file_cannot_hang_a_write(unlocked_app, stalled_writer):
    """set() waits for its exclusive flock at most SESSION_LOCK_TIMEOUT, then raises (503)."""
    from session_counter.errors import StoreUnavailable

    client = unlocked_app.test_client()
    client.post("/inc", headers=JSON)
    writer = stalled_writer(only_session_file(unlocked_app))
    store = unlocked_app.session_interface.cache
    key = f"session:{client.get_cookie('session').value}"

    def write():
        try:
            return store.set(key, {"counter": 99})
        except StoreUnavailable as error:
            return error

    outcome = answer_within(10, write)
    assert outcome is not None, "the write is still waiting for the stopped writer"
    assert isinstance(outcome, StoreUnavailable) and "stayed locked" in str(outcome)
    writer.kill()
    writer.wait(timeout=10)
    assert store.get(key)["counter"] == 1
