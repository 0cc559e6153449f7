"""Shared counters: one behaviour, checked against every strategy."""

import os
import threading

import pytest

from session_counter.strategies import (
    COMPARE_AND_SWAP,
    SCOPES,
    STORES,
    STRATEGY_CLASSES,
    TECHNIQUES,
    CounterStrategy,
    get_strategies,
)

from ..counting import check_round_trip, hand_out_from_threads
from ..manager_processes import manager_processes, stop_manager_of

JSON = {"Accept": "application/json"}
# Kept on this machine, so every app has them; the Redis and memcached ones need a server.
NAMES = [cls.name for cls in STRATEGY_CLASSES if cls.state_lives_in != "global"]


@pytest.mark.parametrize("name", NAMES)
def test_inc_read_reset_round_trip(client, name):
    check_round_trip(client, name)


@pytest.mark.parametrize("name", NAMES)
def test_json_answer_names_strategy_and_server(app, client, name):
    body = client.post(f"/shared/{name}/inc", headers=JSON).json
    retries = {"retries"} if get_strategies(app)[name].counts_retries() else set()
    assert set(body) == {"strategy", "value", "pid", "thread"} | retries
    assert body["strategy"] == name


@pytest.mark.parametrize("name", NAMES)
def test_get_on_a_changing_route_changes_nothing(client, name):
    client.post(f"/shared/{name}/inc")
    assert client.get(f"/shared/{name}/inc").status_code == 200
    assert client.get(f"/shared/{name}/reset").status_code == 200
    assert client.get(f"/shared/{name}", headers=JSON).json["value"] == 1


@pytest.mark.parametrize("name", [n for n in NAMES
                                  if "threads" in dict((c.name, c.safe_against)
                                                       for c in STRATEGY_CLASSES)[n]])
def test_thread_safe_strategies_hand_out_each_number_once(app, name):
    """200 increments from 8 threads of one process: exactly 1..200."""
    strategy = get_strategies(app)[name]
    handed_out = hand_out_from_threads(strategy, threads=8, each=25)
    assert sorted(handed_out) == list(range(1, 201))
    assert strategy.current() == 200


def test_api_lists_every_strategy_with_its_safety(client, app):
    listed = client.get("/api/strategies").json
    assert [s["name"] for s in listed] == list(get_strategies(app))
    by_name = {s["name"]: s for s in listed}
    assert by_name["naive_global"]["safe_against"] == []
    assert by_name["thread_lock"]["safe_against"] == ["threads"]
    assert by_name["sqlite"]["safe_against"] == ["threads", "processes"]
    for s in listed:
        assert set(s["safe_against"]) <= set(SCOPES) and s["description"]


@pytest.mark.parametrize("headers, check", [
    (JSON, lambda a: a.json["valid"] == NAMES and "nope" in a.json["message"]),
    ({}, lambda a: "valid: ['naive_global'" in a.get_data(as_text=True)),
    ({"Accept": "text/html"}, lambda a: "<code>sqlite</code>" in a.get_data(as_text=True)),
])
def test_unknown_strategy_is_404_listing_valid_names(client, headers, check):
    for method, path in [("get", "/shared/nope"), ("post", "/shared/nope/inc")]:
        answer = getattr(client, method)(path, headers=headers)
        assert answer.status_code == 404
        assert check(answer)


def test_form_post_on_a_shared_counter_redirects_to_the_page(client):
    answer = client.post("/shared/sqlite/inc", headers={"Accept": "text/html"})
    # back to the strategy's row, with a signed receipt of what this click got
    assert answer.status_code == 302
    assert answer.location.startswith("/?click=") and answer.location.endswith("#row-sqlite")
    page = client.get(answer.location).get_data(as_text=True)
    assert 'data-testid="shared-sqlite">1<' in page
    assert 'data-testid="click-value-sqlite">1<' in page
    assert "Set-Cookie" not in answer.headers  # nothing for the session to save


@pytest.mark.parametrize("cls", STRATEGY_CLASSES, ids=lambda cls: cls.name)
def test_every_strategy_names_its_store_and_technique(cls):
    assert cls.store in STORES and cls.technique in TECHNIQUES


def test_api_lists_store_and_technique(client, app):
    by_name = {s["name"]: s for s in client.get("/api/strategies").json}
    assert (by_name["naive_global"]["store"], by_name["naive_global"]["technique"]) == (
        "process", "read-then-write")
    assert (by_name["thread_lock"]["store"], by_name["thread_lock"]["technique"]) == (
        "process", "lock")
    assert (by_name["sqlite"]["store"], by_name["sqlite"]["technique"]) == ("sqlite", "atomic")
    for s in by_name.values():  # only compare-and-swap strategies count retries
        assert (s["retries"] is None) == (s["technique"] != COMPARE_AND_SWAP)


class LosesSwaps(CounterStrategy):
    """A compare-and-swap counter whose first ``losses`` swaps of each increment lose."""

    name, description, store, technique = "loses_swaps", "test", "process", COMPARE_AND_SWAP

    def __init__(self, app, losses):
        super().__init__(app)
        self.losses, self.value = losses, 0

    def increment(self, namespace=""):
        left = [self.losses]

        def attempt():
            left[0] -= 1
            if left[0] >= 0:
                return None  # another caller "won" this round
            self.value += 1
            return self.value

        return self.retry_until_swapped(attempt)

    def current(self, namespace=""):
        return self.value

    def reset(self, namespace=""):
        self.value = 0

    def forget(self, namespace):
        pass  # one test counter, never raced


def test_compare_and_swap_retries_are_counted_and_answered(app, client):
    get_strategies(app)["loses_swaps"] = LosesSwaps(app, losses=2)
    first = client.post("/shared/loses_swaps/inc", headers=JSON).json
    second = client.post("/shared/loses_swaps/inc", headers=JSON).json
    assert (first["value"], first["retries"]) == (1, 2)
    assert (second["value"], second["retries"]) == (2, 2)
    listed = {s["name"]: s for s in client.get("/api/strategies").json}
    assert listed["loses_swaps"]["retries"] == 4  # this process's total


def test_a_swap_lost_forever_gives_up_with_503(app, client, monkeypatch):
    monkeypatch.setattr("session_counter.strategies.base.MAX_SWAP_RETRIES", 5)
    get_strategies(app)["loses_swaps"] = LosesSwaps(app, losses=10**9)
    answer = client.post("/shared/loses_swaps/inc", headers=JSON)
    assert answer.status_code == 503 and "lost 6 swaps" in answer.json["message"]
    assert client.get("/shared/loses_swaps", headers=JSON).json["value"] == 0


def test_cache_strategies_use_flask_caching_in_the_instance_folder(app):
    from flask_caching.backends.filesystemcache import FileSystemCache

    from session_counter.strategies.cache import flask_cache_for

    backend = flask_cache_for(app).cache
    assert isinstance(backend, FileSystemCache)
    assert backend._path == f"{app.instance_path}/shared-cache"
    assert backend.default_timeout == 0  # Flask-Caching's 300 s would restart the count
    strategies = get_strategies(app)
    assert strategies["cache"].cache is strategies["cache_inc"].cache  # one cache, two keys
    strategies["cache"].increment()
    assert (strategies["cache_inc"].increment(), strategies["cache"].current()) == (1, 1)


def test_sqlite_strategies_keep_separate_rows(app):
    strategies = get_strategies(app)
    for name, times in (("sqlite", 1), ("sqlite_read_write", 2), ("sqlite_cas", 3)):
        for _ in range(times):
            strategies[name].increment()
    assert [strategies[n].current() for n in ("sqlite", "sqlite_read_write", "sqlite_cas")] == [
        1, 2, 3]


def test_sqlite_cas_retries_are_the_swaps_it_lost(app, monkeypatch):
    """8 threads, a 1 ms window between read and swap: exactly 1..80, and retries counted."""
    strategy = get_strategies(app)["sqlite_cas"]
    monkeypatch.setattr(strategy, "race_window", 0.001)
    retries, lock = [], threading.Lock()
    original = strategy.increment

    def increment():
        value = original()
        with lock:
            retries.append(strategy.last_retries())
        return value

    monkeypatch.setattr(strategy, "increment", increment)
    handed_out = hand_out_from_threads(strategy, threads=8, each=10)
    assert sorted(handed_out) == list(range(1, 81)) and strategy.current() == 80
    # threads reading within one window: all but one lose
    assert sum(retries) == strategy.retries > 0


def test_sqlite_read_then_write_loses_updates_between_threads(app, monkeypatch):
    """The same 8 threads and window without the compare: numbers handed out twice."""
    strategy = get_strategies(app)["sqlite_read_write"]
    monkeypatch.setattr(strategy, "race_window", 0.001)
    handed_out = hand_out_from_threads(strategy, threads=8, each=10)
    assert len(set(handed_out)) < 80 and strategy.current() < 80


def test_rendering_the_page_starts_one_manager_and_its_app_fixture_stops_it(make_app):
    """What conftest's no_manager_left_running sees: the program an in-process app starts."""
    app = make_app()
    assert manager_processes() == []
    assert app.test_client().get("/").status_code == 200
    assert app.test_client().get("/").status_code == 200  # connects to the same one
    (pid,) = manager_processes()
    assert manager_processes(get_strategies(app)["manager"].address) == [pid]
    assert stop_manager_of(app) == [pid]
    assert manager_processes() == [] and not os.path.exists(f"/proc/{pid}")


def test_page_groups_strategies_store_by_technique(client, app):
    """The page's matrix: one row per store, one column per technique, each strategy once."""
    page = client.get("/").get_data(as_text=True)
    matrix = page[page.index('data-testid="strategy-matrix"'):page.index("</table>")]
    headers = list(TECHNIQUES)
    assert all(f'<th scope="col">{t}</th>' in matrix for t in headers)
    for s in get_strategies(app).values():
        assert matrix.count(f'href="#row-{s.name}"') == 1
        row = matrix[matrix.rindex('<th scope="row">', 0, matrix.index(f'#row-{s.name}"')):]
        assert row.startswith(f'<th scope="row">{STORES[s.store]}</th>')
        cells = row[:row.index(f'#row-{s.name}"')].count("<td>")
        assert headers[cells - 1] == s.technique  # in its technique's column
    assert 'data-testid="matrix-naive_global">nothing<' in matrix
    assert 'data-testid="matrix-sqlite">processes<' in matrix
    assert page.index('id="row-sqlite_read_write"') < page.index('id="row-sqlite"') < page.index(
        'id="row-sqlite_cas"')
