"""Bad input gets a clear answer and loses nothing: cookies, session files, folders."""

import contextlib
import gc
import os
import pickle
import struct

import pytest

from session_counter import create_app
from session_counter.sessions.file_store import HEADER
from session_counter.startup_checks import StartupError

from .readonly import read_only
from .session_files import age_session_file, file_bytes, write_session_file

JSON = {"Accept": "application/json"}


def counter(client):
    """Return this client's counter without changing it (the inc then dec round trip)."""
    client.post("/inc", headers=JSON)
    return client.post("/dec", headers=JSON).json["counter"]


def session_file(app):
    """Return the path of the only session file."""
    folder = app.config["SESSION_DIR"]
    (name,) = os.listdir(folder)
    return os.path.join(folder, name)


@pytest.mark.parametrize("cookie", [
    "garbage",
    "x" * 4000,  # oversized
    "A" * 43,  # the right shape, but no such session
    "../../etc/passwd",
    "\u00e9\u00e8 with spaces; and=semicolons",
    "",
])
def test_bad_cookie_starts_a_fresh_session(client, cookie):
    client.set_cookie("session", cookie)
    answer = client.post("/inc", headers=JSON)
    assert answer.status_code == 200 and answer.json["counter"] == 1
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("content", [
    b"",  # empty
    b"SCm1\x00",  # cut inside the header
    file_bytes({"counter": 5})[:HEADER.size],  # header only
    file_bytes({"counter": 5})[:-1],  # body cut short
    file_bytes({"counter": 5})[:HEADER.size] + b"\xc1" * 11,  # not msgpack at all
    file_bytes(["a", "list"]),  # msgpack of the wrong type
    file_bytes({"counter": 5}).replace(b"SCm1", b"XXm1"),  # not our magic
    struct.pack("I", 0) + pickle.dumps({"counter": 5}),  # cachelib's pickle: an old version
])
def test_damaged_session_file_is_an_empty_session_and_logged(client, app, content, caplog):
    client.post("/inc")
    with open(session_file(app), "wb") as f:
        f.write(content)
    answer = client.post("/inc", headers=JSON)
    assert answer.status_code == 200 and answer.json["counter"] == 1
    assert "session file" in caplog.text


@pytest.mark.parametrize("value", ["seven", 2.5, None, [1], True])
def test_non_integer_counter_counts_as_zero_and_is_logged(client, app, value, caplog):
    client.post("/inc")
    write_session_file(session_file(app), {"_permanent": True, "counter": value})
    assert client.post("/inc", headers=JSON).json["counter"] == 1
    assert "non-integer counter" in caplog.text


def test_expired_session_starts_fresh(client, app):
    client.post("/inc")
    age_session_file(session_file(app), 10)
    assert client.post("/inc", headers=JSON).json["counter"] == 1


@pytest.mark.read_only
@pytest.mark.parametrize("what", ["instance", "sessions", "database"])
def test_unwritable_place_is_reported_at_start_up(tmp_path, what):
    instance = tmp_path / "instance"
    create_app({}, instance_path=str(instance))  # a first start makes everything
    target = {"instance": instance, "sessions": instance / "sessions",
              "database": instance}[what]
    if what == "instance":
        instance = tmp_path / "fresh"
        instance.mkdir()
        target = instance
        config = {}
    elif what == "sessions":
        config = {"SESSION_DIR": "sessions"}
    else:
        config = {}
        os.remove(instance / "counters.sqlite")
    with read_only(target), pytest.raises(StartupError) as error:
        create_app(config, instance_path=str(instance))
    message = error.value.message
    assert str(target) in message and "Fix:" in message


@pytest.mark.read_only
def test_unwritable_session_folder_at_run_time_is_503_and_resets_nothing(client, app):
    for _ in range(3):
        client.post("/inc")
    with read_only(app.config["SESSION_DIR"]):
        answer = client.post("/inc", headers=JSON)
        assert answer.status_code == 503
        assert "could not save the session" in answer.json["message"]
        html = client.post("/inc", headers={"Accept": "text/html"})
        assert html.status_code == 503 and "Nothing was changed" in html.get_data(as_text=True)
    assert client.post("/inc", headers=JSON).json["counter"] == 4


def test_unreadable_session_file_is_503_not_a_reset(client, app):
    client.post("/inc")
    path = session_file(app)
    os.rename(path, path + ".moved")
    os.mkdir(path)  # reading a folder fails with an OSError that is not "not found"
    try:
        answer = client.post("/inc", headers=JSON)
        assert answer.status_code == 503 and "cannot read session file" in answer.json["message"]
    finally:
        os.rmdir(path)
        os.rename(path + ".moved", path)
    assert client.post("/inc", headers=JSON).json["counter"] == 2


STORE_FILES = {
    "sqlite": ["", "counters.sqlite", "counters.sqlite-wal", "counters.sqlite-shm"],
    "file_lock": ["file_lock_counter.txt"],
    "cache": ["shared-cache"],
    "cache_inc": ["shared-cache"],
}


@pytest.mark.read_only
@pytest.mark.parametrize("name", list(STORE_FILES))
def test_unwritable_shared_store_is_503_and_loses_nothing(tmp_path, name):
    instance = str(tmp_path / "instance")
    create_app({}, instance_path=instance).test_client().post(f"/shared/{name}/inc")
    # Close the first app's SQLite connection now: finalized later by the garbage
    # collector, while its WAL files are immutable, it dies of SIGBUS (the test order
    # decides when the collector runs).
    gc.collect()
    client = create_app({}, instance_path=instance).test_client()  # fresh connections
    with contextlib.ExitStack() as stack:
        for part in STORE_FILES[name]:
            if os.path.exists(os.path.join(instance, part)):  # WAL files come and go
                stack.enter_context(read_only(os.path.join(instance, part)))
        answer = client.post(f"/shared/{name}/inc", headers=JSON)
        assert answer.status_code == 503, answer.get_data(as_text=True)
        assert "Traceback" not in answer.json["message"]
    assert client.post(f"/shared/{name}/inc", headers=JSON).json["value"] == 2


@pytest.mark.read_only
def test_failed_save_page_does_not_show_the_change_it_did_not_keep(client, app):
    client.post("/inc")
    with read_only(app.config["SESSION_DIR"]):
        page = client.post("/inc", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "Nothing was changed" in page and "counter is 2" not in page


def test_unexpected_session_error_is_the_apps_own_503_page_in_html(client, app):
    client.post("/inc")
    cache = app.session_interface.cache
    cache.get = cache.get_held = lambda *args: 1 / 0  # a bug in the store (either read)
    try:
        answer = client.post("/inc", headers={"Accept": "text/html"})
    finally:
        del cache.get, cache.get_held
    assert answer.status_code == 503
    assert "<!doctype html>" in answer.get_data(as_text=True)
    assert client.post("/inc", headers=JSON).json["counter"] == 2
