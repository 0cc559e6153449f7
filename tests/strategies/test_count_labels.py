"""Every strategy says what can make it lose its count, on the page and in the API."""

import pytest

from session_counter import create_app
from session_counter.strategies import STRATEGY_CLASSES, get_strategies
from session_counter.strategies.postgres import durability_losses
from session_counter.strategies.redis_store import persistence_losses

from ..redis_server import running_redis


@pytest.mark.parametrize("cls", STRATEGY_CLASSES, ids=lambda cls: cls.name)
def test_every_strategy_says_what_loses_its_count(cls):
    """None is the base class's default: a strategy that has not said."""
    assert isinstance(cls.loses_count_on, (tuple, property)), cls.loses_count_on


def test_page_and_api_show_what_loses_each_count(client, app):
    listed = {s["name"]: s for s in client.get("/api/strategies").json}
    page = client.get("/").get_data(as_text=True)
    for name, strategy in get_strategies(app).items():
        losses = strategy.loses_count_on
        assert listed[name]["loses_count_on"] == list(losses)
        if losses:
            assert losses[0].replace("'", "&#39;") in page
    assert "a restart of its worker process" in listed["thread_lock"]["loses_count_on"][0]
    assert "a restart of the server" in listed["manager"]["loses_count_on"][0]


@pytest.mark.parametrize("config, says", [
    ({"appendonly": "yes", "appendfsync": "always", "save": ""}, None),
    ({"appendonly": "yes", "appendfsync": "everysec", "save": ""}, "appendfsync everysec"),
    ({"appendonly": "no", "appendfsync": "everysec", "save": "3600 1"}, "RDB snapshot"),
    ({"appendonly": "no", "appendfsync": "everysec", "save": ""}, "memory only"),
])
def test_what_a_redis_configuration_loses(config, says):
    losses = persistence_losses(config)
    assert (losses == ()) if says is None else (says in losses[0])


@pytest.mark.redis
@pytest.mark.parametrize("persistent", [True, False], ids=["aof-always", "no-persistence"])
def test_the_redis_label_is_what_the_running_redis_keeps(tmp_path, persistent):
    """Asked of the real redis-server: --appendonly yes --appendfsync always keeps the
    count; --save '' --appendonly no says a restart loses it."""
    with running_redis(tmp_path / "redis", persistent=persistent) as server:
        app = create_app({"TESTING": True, "REDIS_URL": server.url},
                         instance_path=str(tmp_path / "instance"))
        listed = {s["name"]: s for s in app.test_client().get("/api/strategies").json}
    losses = listed["redis"]["loses_count_on"]
    if persistent:
        assert losses == []
    else:
        assert len(losses) == 1 and "a restart of Redis" in losses[0]
        assert "memory only" in losses[0]


@pytest.mark.parametrize("settings, says", [
    ({"fsync": "on", "synchronous_commit": "on"}, None),
    ({"fsync": "on", "synchronous_commit": "off"}, "the last commits"),
    ({"fsync": "off", "synchronous_commit": "on"}, "fsync is off"),
])
def test_what_a_postgresql_configuration_loses(settings, says):
    losses = durability_losses(settings)
    assert (losses == ()) if says is None else (says in losses[0])


@pytest.mark.postgres
def test_the_postgresql_label_is_what_the_running_server_keeps(tmp_path, postgres_url):
    """Asked of the real PostgreSQL: the test server runs with fsync=off (for speed), and
    the label says what that costs."""
    app = create_app({"TESTING": True, "POSTGRES_URL": postgres_url},
                     instance_path=str(tmp_path / "instance"))
    listed = app.test_client().get("/api/strategies").json
    postgres = [s["loses_count_on"] for s in listed if s["store"] == "postgresql"]
    assert len(postgres) == 4
    for losses in postgres:
        assert len(losses) == 1 and "fsync is off" in losses[0]
