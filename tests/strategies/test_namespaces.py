"""Every strategy counts a race apart from the table: its own counter, made at the start,
dropped at the finish, whatever the store. Parametrized over the registry of strategies, so
a new strategy (or a new store) cannot skip it."""

import os
import sqlite3
import threading

import pytest

from session_counter.errors import StoreUnavailable
from session_counter.strategies import STRATEGY_CLASSES, get_strategies
from session_counter.strategies.namespaces import ProcessTable, race_only, scoped
from session_counter.strategies.postgres_sequence import sequence_in

JSON = {"Accept": "application/json"}
# The external stores: the fixture giving its URL, the setting, the marker.
EXTERNAL = {"redis": ("redis_url", "REDIS_URL", pytest.mark.redis),
            "memcached": ("memcached_url", "MEMCACHED_URL", pytest.mark.memcached),
            "postgresql": ("postgres_url", "POSTGRES_URL", pytest.mark.postgres)}


def every_strategy():
    """One param per strategy of the registry, marked with the store it needs."""
    params = []
    for cls in STRATEGY_CLASSES:
        marks = [EXTERNAL[cls.store][2]] if cls.store in EXTERNAL else []
        params.append(pytest.param(cls, marks=marks, id=cls.name))
    return params


@pytest.fixture
def app_for(request, make_app):
    """Build an app that offers ``cls``, with a real store when it needs one."""
    def build(cls, **config):
        if cls.store in EXTERNAL:
            fixture, setting, _ = EXTERNAL[cls.store]
            config[setting] = request.getfixturevalue(fixture)
        app = make_app({"TESTING": True, **config})
        assert cls.name in get_strategies(app), f"{cls.name} is not offered: give it its store"
        return app
    return build


def residue(strategy, race):
    """Tell whether the store still holds anything of ``race``'s counter (looked at directly)."""
    store = strategy.store
    if store == "process":
        return race in strategy.counters.races()
    if store == "flask-caching":
        return (os.path.exists(strategy.cache.cache._get_filename(strategy.key_in(race)))
                or os.path.exists(strategy.started_in(race)))
    if store == "file":
        return os.path.exists(strategy.path_in(race))
    if store == "manager":
        return race in strategy._call("namespaces")
    if store == "sqlite":
        with sqlite3.connect(strategy.path) as conn:
            return conn.execute("SELECT count(*) FROM counters WHERE name = ?",
                                (strategy.row_in(race),)).fetchone()[0] == 1
    if store == "postgresql":
        with strategy.connection("looking", changes=False) as conn:
            if strategy.name == "postgres_sequence":
                return conn.execute("SELECT to_regclass(%s) IS NOT NULL",
                                    (sequence_in(race),)).fetchone()[0]
            return conn.execute("SELECT count(*) FROM session_counter_counters WHERE name = %s",
                                (strategy.row_in(race),)).fetchone()[0] == 1
    if store == "redis":
        return strategy.client.exists(strategy.key_in(race)) == 1
    if store == "memcached":
        return strategy.client.get(strategy.key_in(race)) is not None
    raise AssertionError(f"no way to look into the {store} store: add one here")


def inc(client, name, race=None, times=1):
    """POST /shared/<name>/inc ``times``; return the numbers handed out."""
    headers = {**JSON, **({"X-Race-Id": race} if race else {})}
    got = []
    for _ in range(times):
        answer = client.post(f"/shared/{name}/inc", headers=headers)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        got.append(answer.json["value"])
    return got


def read(client, name, race=None):
    """GET /shared/<name> (a race's counter with ``race``)."""
    answer = client.get(f"/shared/{name}",
                        headers={**JSON, **({"X-Race-Id": race} if race else {})})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.json["value"]


@pytest.mark.parametrize("cls", every_strategy())
def test_a_races_counter_is_its_own_and_goes_with_the_race(cls, app_for):
    app = app_for(cls)
    client, strategy = app.test_client(), get_strategies(app)[cls.name]
    client.post(f"/shared/{cls.name}/reset", headers=JSON)
    assert inc(client, cls.name, times=3) == [1, 2, 3]
    one, two = (client.post("/api/race/start", headers=JSON).json["race"] for _ in range(2))
    assert residue(strategy, one) and residue(strategy, two)  # made at 0 by the start
    assert inc(client, cls.name, one, times=5) == [1, 2, 3, 4, 5]
    assert inc(client, cls.name, two, times=2) == [1, 2]
    assert (read(client, cls.name), read(client, cls.name, one),
            read(client, cls.name, two)) == (3, 5, 2)
    assert inc(client, cls.name) == [4]  # the table's counter goes on where it was
    assert client.post(f"/shared/{cls.name}/reset",
                       headers={**JSON, "X-Race-Id": one}).status_code == 200
    assert (read(client, cls.name), read(client, cls.name, one),
            read(client, cls.name, two)) == (4, 0, 2)
    assert client.post(f"/api/race/{one}/finish", headers=JSON).json["not_dropped"] == {}
    assert not residue(strategy, one) and residue(strategy, two)
    assert (read(client, cls.name), read(client, cls.name, two)) == (4, 2)
    with pytest.raises(ValueError):
        strategy.forget("")  # the table's counter is never dropped
    assert read(client, cls.name) == 4


@pytest.mark.parametrize("cls", every_strategy())
def test_the_table_never_moves_while_a_race_increments(cls, app_for):
    """The exact table value, read straight from the strategy, before and after a race."""
    app = app_for(cls)
    strategy = get_strategies(app)[cls.name]
    strategy.reset()
    for _ in range(7):
        strategy.increment()
    race = app.test_client().post("/api/race/start", headers=JSON).json["race"]
    got = [strategy.increment(race) for _ in range(20)]
    assert got == list(range(1, 21)) and strategy.current(race) == 20
    assert strategy.current() == 7 and strategy.increment() == 8


def test_a_read_write_window_loses_the_same_update_in_a_race(make_app):
    """naive_global in a race's namespace: both read 0, both write 1, as in the table's."""
    app = make_app({"TESTING": True, "RACE_WINDOW": 0.5, "RACE_WINDOW_AT": "read-write"})
    naive = get_strategies(app)["naive_global"]
    race = app.test_client().post("/api/race/start", headers=JSON).json["race"]
    both_read = threading.Barrier(2)
    got = []

    def one():
        both_read.wait(timeout=10)
        got.append(naive.increment(race))

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert got == [1, 1] and naive.current(race) == 1  # one lost update, one duplicate


def test_a_process_table_keeps_room_for_live_races_only():
    table = ProcessTable(dict, limit=3)
    live = {"a" * 32, "b" * 32}
    table.live = lambda: live
    for race in ("a" * 32, "c" * 32, "b" * 32):
        table.get(race)["n"] = 1
    table.get("d" * 32)  # full: the ended race c goes, the live ones stay
    assert table.races() == {"a" * 32, "b" * 32, "d" * 32}
    assert table.get("a" * 32) == {"n": 1} and table.get("") is table.default
    table.live = lambda: None  # the registry cannot say: the oldest goes, one at a time
    table.get("e" * 32)
    assert table.races() == {"b" * 32, "d" * 32, "e" * 32}


@pytest.mark.parametrize("bad", ["x", "A" * 32, "0" * 31, "0" * 33, "../" * 11,
                                 "0" * 31 + "/", "0" * 31 + "\n", None])
def test_no_key_is_made_of_anything_but_a_race_id(bad):
    with pytest.raises(ValueError):
        scoped("counter", bad)
    with pytest.raises(ValueError):
        race_only(bad)
    assert scoped("counter", "") == "counter"
    with pytest.raises(ValueError):
        race_only("")  # the table's counter is never dropped


@pytest.mark.memcached
def test_a_memcached_race_counter_lost_is_refused_not_restarted(app_for, memcached_url):
    """A race's memcached counter that vanished answers 503, like the table's."""
    cls = next(c for c in STRATEGY_CLASSES if c.name == "memcached")
    app = app_for(cls)
    strategy = get_strategies(app)["memcached"]
    race = app.test_client().post("/api/race/start", headers=JSON).json["race"]
    strategy.client.delete(strategy.key_in(race))
    with pytest.raises(StoreUnavailable):
        strategy.increment(race)


def row_strategies():
    """The strategies that keep a race's counter in a row of a table (SQLite, PostgreSQL)."""
    return [param for param in every_strategy()
            if param.values[0].store in ("sqlite", "postgresql")
            and param.values[0].name != "postgres_sequence"]


@pytest.mark.parametrize("cls", row_strategies())
def test_a_race_row_its_start_could_not_make_is_503_not_1_again(cls, app_for):
    """A race whose row is missing (its reset failed at the start: the store was down)
    answers 503 on every increment: a read-then-write used to write nowhere and hand out
    1, 1, 1 (duplicates the race did not make), a compare-and-swap to lose 10,000 swaps."""
    app = app_for(cls)
    strategy = get_strategies(app)[cls.name]
    race = app.test_client().post("/api/race/start", headers=JSON).json["race"]
    strategy.forget(race)  # as a start whose reset of this strategy failed leaves it
    client = app.test_client()
    for _ in range(3):
        answer = client.post(f"/shared/{cls.name}/inc", headers={**JSON, "X-Race-Id": race})
        assert answer.status_code == 503, answer.get_data(as_text=True)
        assert "no counter row" in answer.json["message"]
    assert not residue(strategy, race)
    if strategy.counts_retries():
        assert strategy.retries == 0


@pytest.mark.memcached
@pytest.mark.parametrize("name", ["memcached_get_set", "memcached_cas"])
def test_junk_under_a_memcached_race_key_is_named_by_that_key(app_for, name):
    """The 503 names the key that holds junk: the race's, not the table's."""
    cls = next(c for c in STRATEGY_CLASSES if c.name == name)
    strategy = get_strategies(app_for(cls))[name]
    race = "0123456789abcdef" * 2  # a well-formed id: the strategy is called directly
    strategy.client.set(strategy.key_in(race), b"junk")
    with pytest.raises(StoreUnavailable, match=f"under {strategy.key_in(race)}, not a number"):
        strategy.increment(race)
