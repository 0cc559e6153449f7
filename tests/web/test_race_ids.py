"""Race ids: issued by the server, bounded, expiring; forged or stale ones a clear 4xx that
touches no counter (the table's least of all)."""

import os

import pytest

from session_counter.race.registry import registry_of
from session_counter.strategies import get_strategies

JSON = {"Accept": "application/json"}
SHOWN = ("sqlite", "file_lock", "naive_global", "cache")  # one per kind of in-process store


def start(client):
    """POST /api/race/start; return the answer."""
    return client.post("/api/race/start", headers=JSON)


def table(client):
    """Return the table's counters, as the page's API reads them."""
    return {name: client.get(f"/shared/{name}", headers=JSON).json["value"] for name in SHOWN}


def files(app):
    """Return every file under the instance folder but the registry (made when first asked)."""
    return {os.path.join(folder, name) for folder, _, names in os.walk(app.instance_path)
            for name in names if not name.startswith("races.sqlite")}


@pytest.fixture
def clock(app):
    """Drive the registry's clock by hand: the test says when time passes."""
    now = [1_000_000.0]
    registry_of(app).clock = lambda: now[0]
    return now


def test_a_start_issues_a_fresh_id_with_its_counters(client):
    first, second = start(client), start(client)
    assert first.status_code == second.status_code == 201
    assert first.json["race"] != second.json["race"]
    assert len(first.json["race"]) == 32 and first.json["header"] == "X-Race-Id"
    assert first.json["expires_in"] == 300.0 and first.json["unavailable"] == {}


def test_past_the_limit_a_start_gets_429_until_a_race_finishes(make_app):
    app = make_app({"TESTING": True, "RACE_MAX_LIVE": 2})
    client = app.test_client()
    races = [start(client).json["race"] for _ in range(2)]
    refused = start(client)
    assert refused.status_code == 429
    assert "2 races are running on this server" in refused.json["message"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 301
    assert refused.json["retry_after"] == int(refused.headers["Retry-After"])
    assert registry_of(app).live_ids() == set(races)  # the refused start left nothing
    assert client.post(f"/api/race/{races[0]}/finish", headers=JSON).status_code == 200
    assert start(client).status_code == 201


def test_an_expired_race_is_gone_and_so_are_its_counters(app, client, clock):
    sqlite, file_lock = (get_strategies(app)[n] for n in ("sqlite", "file_lock"))
    race = start(client).json["race"]
    headers = {**JSON, "X-Race-Id": race}
    assert client.post("/shared/file_lock/inc", headers=headers).json["value"] == 1
    assert client.post("/shared/sqlite/inc", headers=headers).json["value"] == 1
    clock[0] += 300  # its lifetime is over
    answer = client.post("/shared/sqlite/inc", headers=headers)
    assert answer.status_code == 410 and "has ended" in answer.json["message"]
    assert os.path.exists(file_lock.path_in(race))  # kept GRACE seconds, for late writes
    clock[0] += registry_of(app).grace
    start(client)  # the next start sweeps the ended races
    assert not os.path.exists(file_lock.path_in(race))
    assert sqlite.current(race) == 0 and not any("@race-" + race in path for path in files(app))
    assert client.post("/shared/sqlite/inc", headers=headers).status_code == 404  # row gone


def test_an_expired_race_frees_its_place(make_app):
    app = make_app({"TESTING": True, "RACE_MAX_LIVE": 1})
    now = [5_000.0]
    registry_of(app).clock = lambda: now[0]
    client = app.test_client()
    start(client)
    assert start(client).status_code == 429
    now[0] += 300
    assert start(client).status_code == 201


def test_a_finished_race_drops_its_counters_at_once(app, client):
    file_lock = get_strategies(app)["file_lock"]
    race = start(client).json["race"]
    client.post("/shared/file_lock/inc", headers={**JSON, "X-Race-Id": race})
    assert os.path.exists(file_lock.path_in(race))
    finished = client.post(f"/api/race/{race}/finish", headers=JSON)
    assert finished.status_code == 200 and finished.json == {
        "race": race, "finished": True, "not_dropped": {}}
    assert not os.path.exists(file_lock.path_in(race))
    again = client.post(f"/api/race/{race}/finish", headers=JSON)
    assert again.status_code == 410


FORGED = {
    "garbage": ("not-a-race", 400),
    "too long": ("a" * 5000, 400),
    "upper case": ("A" * 32, 400),
    "path traversal": ("../../../../etc/passwd", 400),
    "a file name": ("file_lock_counter.txt", 400),
    "one digit short": ("0" * 31, 400),
    "never issued": ("0123456789abcdef" * 2, 404),
}


@pytest.mark.parametrize("route", ["inc", "reset", "read"])
@pytest.mark.parametrize("what", list(FORGED))
def test_a_forged_race_id_is_a_clear_4xx_and_touches_nothing(app, client, route, what):
    race, status = FORGED[what]
    for name in SHOWN:
        client.post(f"/shared/{name}/reset", headers=JSON)
        client.post(f"/shared/{name}/inc", headers=JSON)
    before, on_disk = table(client), files(app)
    for name in SHOWN:
        headers = {**JSON, "X-Race-Id": race}
        answer = (client.get(f"/shared/{name}", headers=headers) if route == "read"
                  else client.post(f"/shared/{name}/{route}", headers=headers))
        assert answer.status_code == status, answer.get_data(as_text=True)
        assert answer.json["status"] == status and answer.json["message"]
    assert table(client) == before == dict.fromkeys(SHOWN, 1)
    assert files(app) == on_disk


@pytest.mark.parametrize("what", list(FORGED))
def test_finishing_a_forged_race_is_a_clear_4xx(client, what):
    race, status = FORGED[what]
    if "/" in race:  # a slash never reaches the route: no such URL
        status = 404
    answer = client.post(f"/api/race/{race}/finish", headers=JSON)
    assert answer.status_code == status and answer.json["status"] == status


def test_an_expired_id_is_410_then_404_and_touches_nothing(app, client, clock):
    race = start(client).json["race"]
    client.post("/shared/sqlite/inc", headers=JSON)
    clock[0] += 301
    before = table(client)
    for route in ("inc", "reset"):
        answer = client.post(f"/shared/sqlite/{route}", headers={**JSON, "X-Race-Id": race})
        assert answer.status_code == 410, answer.get_data(as_text=True)
    clock[0] += registry_of(app).grace
    start(client)
    answer = client.post("/shared/sqlite/inc", headers={**JSON, "X-Race-Id": race})
    assert answer.status_code == 404
    assert table(client) == before


def test_a_cross_site_start_is_refused(client):
    answer = client.post("/api/race/start", headers={**JSON, "Origin": "http://evil.example"})
    assert answer.status_code == 403


def test_checks_from_a_new_thread_each_reuse_one_connection(app, client, monkeypatch):
    # The dev server gives each request a thread of its own, gevent a greenlet: a
    # connection per thread was one opened (and its schema run) per race request.
    import sqlite3
    import threading

    race = start(client).json["race"]
    opened = []
    connect = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: opened.append(a) or connect(*a, **k))
    answers = []
    for _ in range(20):  # one after another: each finds the last one's connection idle
        thread = threading.Thread(target=lambda: answers.append(
            client.application.test_client().post(
                "/shared/sqlite/inc", headers={**JSON, "X-Race-Id": race}).json["value"]))
        thread.start()
        thread.join()
    assert answers == list(range(1, 21))
    assert [path for path, *_ in opened if str(path).endswith("races.sqlite")] == []


def test_a_damaged_registry_is_503_for_races_only_until_its_file_is_deleted(app, client):
    """Junk in instance/races.sqlite: every race request 503 naming it, the table untouched;
    no repair of its own (docs/faults.md): once the file is deleted, races start again."""
    race = start(client).json["race"]
    before = table(client)
    path = registry_of(app).path
    with open(path, "r+b") as f:
        f.write(b"junk" * 1024)
    refused = start(client)
    assert refused.status_code == 503 and "race registry" in refused.json["message"]
    inc = client.post("/shared/sqlite/inc", headers={**JSON, "X-Race-Id": race})
    assert inc.status_code == 503 and "race registry" in inc.json["message"]
    assert client.post("/shared/sqlite/inc", headers=JSON).json["value"] == before["sqlite"] + 1
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    again = start(client)
    assert again.status_code == 201, again.json
