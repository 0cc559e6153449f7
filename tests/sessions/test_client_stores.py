"""SESSION_STORE picks the per-client store; each counts, names itself, survives bad cookies."""

import time

import pytest
from markupsafe import escape

from session_counter import create_app
from session_counter.sessions import ABOUT, STORES, session_lock
from session_counter.sessions.dict_store import DictSessionInterface
from session_counter.startup_checks import StartupError
from session_counter.web.banner import SESSION_STORES

JSON = {"Accept": "application/json"}
BAD_COOKIES = ["garbage", "x" * 4000, "A" * 43, "eyJjb3VudGVyIjo5OX0.Zz.tampered",
               "\u00e9 with spaces; and=semicolons", ""]


@pytest.fixture(params=["filesystem", "cookie", "dict",
                        pytest.param("redis", marks=pytest.mark.redis),
                        pytest.param("memcached", marks=pytest.mark.memcached)])
def store_app(request, make_app):
    """An app on each store (Redis, memcached: the test session's servers)."""
    config = {"TESTING": True, "SESSION_STORE": request.param}
    if request.param == "redis":
        config["REDIS_URL"] = request.getfixturevalue("redis_url")
    if request.param == "memcached":
        config["MEMCACHED_URL"] = request.getfixturevalue("memcached_url")
    return make_app(config)


def inc(client):
    """POST /inc as JSON; return the answer."""
    return client.post("/inc", headers=JSON)


def test_each_store_counts_per_client_and_names_itself(store_app):
    name = store_app.config["SESSION_STORE"]
    one, other = store_app.test_client(), store_app.test_client()
    assert [inc(one).json["counter"] for _ in range(3)] == [1, 2, 3]
    assert inc(other).json["counter"] == 1
    page = one.get("/").get_data(as_text=True)
    assert f"<code>{name}</code>" in page and all(str(escape(s)) in page for s in ABOUT[name])
    assert str(escape(SESSION_STORES[name])) in page  # the banner names it too
    assert type(store_app.session_interface).__name__ != "NullSessionInterface"
    assert session_lock(store_app) == {"filesystem": True, "redis": True, "memcached": True,
                                       "cookie": None, "dict": False}[name]


@pytest.mark.parametrize("cookie", BAD_COOKIES)
def test_a_bad_cookie_is_a_fresh_session_on_every_store(store_app, cookie):
    client = store_app.test_client()
    client.set_cookie("session", cookie)
    answer = inc(client)
    assert answer.status_code == 200 and answer.json["counter"] == 1
    assert client.get("/").status_code == 200
    assert inc(client).json["counter"] == 2  # the fresh session it was given is kept


def test_a_cookie_session_signed_with_another_key_is_not_believed(make_app, tmp_path):
    """A cookie made by an app with another SECRET_KEY (a forged counter) is ignored."""
    forger = make_app({"TESTING": True, "SESSION_STORE": "cookie", "SECRET_KEY": "other"})
    client = forger.test_client()
    for _ in range(5):
        inc(client)
    app = make_app({"TESTING": True, "SESSION_STORE": "cookie", "SECRET_KEY": "ours"})
    victim = app.test_client()
    victim.set_cookie("session", client.get_cookie("session").value)
    assert inc(victim).json["counter"] == 1


def test_the_cookie_store_keeps_nothing_on_the_server(make_app):
    app = make_app({"TESTING": True, "SESSION_STORE": "cookie"})
    client = app.test_client()
    inc(client)
    inc(client)
    other_process = make_app({"TESTING": True, "SESSION_STORE": "cookie",
                              "SECRET_KEY": app.config["SECRET_KEY"]},
                             instance_path=app.instance_path)
    carried = other_process.test_client()
    carried.set_cookie("session", client.get_cookie("session").value)
    assert inc(carried).json["counter"] == 3  # the state travelled in the cookie


def test_an_unknown_store_is_refused_at_start_up_naming_the_valid_ones(tmp_path):
    with pytest.raises(StartupError) as caught:
        create_app({"SESSION_STORE": "mongodb"}, instance_path=str(tmp_path / "i"))
    assert all(name in str(caught.value) for name in STORES)


@pytest.mark.parametrize("store, setting", [("redis", "REDIS_URL"),
                                            ("memcached", "MEMCACHED_URL")])
def test_a_store_without_its_url_is_refused(tmp_path, store, setting):
    with pytest.raises(StartupError, match=f"SESSION_STORE='{store}' needs "
                                           f"SESSION_COUNTER_{setting}"):
        create_app({"SESSION_STORE": store}, instance_path=str(tmp_path / "i"))


def test_the_dict_store_expires_sessions(make_app):
    app = make_app({"TESTING": True, "SESSION_STORE": "dict", "PERMANENT_SESSION_LIFETIME": 1})
    client = app.test_client()
    inc(client)
    assert inc(client).json["counter"] == 2
    time.sleep(1.1)
    assert inc(client).json["counter"] == 1


def test_the_dict_store_size_guard_drops_the_oldest_session(make_app):
    app = make_app({"TESTING": True, "SESSION_STORE": "dict"})
    app.session_interface = interface = DictSessionInterface(app, sessions={}, max_sessions=3)
    clients = [app.test_client() for _ in range(4)]
    for client in clients:
        inc(client)
    assert len(interface.sessions) == 3
    assert inc(clients[0]).json["counter"] == 1  # the oldest was dropped
    assert inc(clients[3]).json["counter"] == 2


def test_the_dict_store_is_this_processes_only(make_app):
    """Another process (here: another app with its own module dict) never saw the session."""
    app = make_app({"TESTING": True, "SESSION_STORE": "dict"})
    client = app.test_client()
    inc(client)
    other = make_app({"TESTING": True, "SESSION_STORE": "dict"})
    other.session_interface = DictSessionInterface(other, sessions={})
    moved = other.test_client()
    moved.set_cookie("session", client.get_cookie("session").value)
    assert inc(moved).json["counter"] == 1
