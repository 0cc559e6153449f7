"""memcached as users meet it: start-up checks, a lost count refused, a dead server is a 503."""

import contextlib
import signal

import pytest

from session_counter.servers.harness import free_port
from session_counter.startup_checks import StartupError

from ..memcached_server import running_memcached

JSON = {"Accept": "application/json"}
MEMCACHED_STRATEGIES = ("memcached_get_set", "memcached", "memcached_cas")


@pytest.fixture
def memcached_app(make_app, tmp_path):
    """Build an app whose memcached strategies count in the memcached at ``url``."""

    def build(url):
        return make_app({"TESTING": True, "MEMCACHED_URL": url},
                        instance_path=str(tmp_path / "instance"))

    return build


@pytest.mark.memcached
@pytest.mark.parametrize("name", MEMCACHED_STRATEGIES)
def test_a_counter_memcached_lacks_is_refused_until_reset(memcached_app, memcached_url, name):
    """A missing key is never counted from 0: it may be a restart that lost the count."""
    client = memcached_app(memcached_url).test_client()
    for answer in (client.post(f"/shared/{name}/inc", headers=JSON),
                   client.get(f"/shared/{name}", headers=JSON)):
        assert answer.status_code == 503
        assert f"holds no {name} counter" in answer.json["message"]
        assert f"POST /shared/{name}/reset" in answer.json["message"]
    page = client.get("/")
    assert page.status_code == 200
    assert f'data-testid="shared-{name}">unavailable<' in page.get_data(as_text=True)
    client.post(f"/shared/{name}/reset")
    assert client.post(f"/shared/{name}/inc", headers=JSON).json["value"] == 1


@pytest.mark.memcached
def test_api_says_memcached_keeps_nothing_across_a_restart(memcached_app, memcached_url):
    listed = {s["name"]: s for s in
              memcached_app(memcached_url).test_client().get("/api/strategies").json}
    for name in MEMCACHED_STRATEGIES:
        assert listed[name]["store"] == "memcached"
        assert "a restart of memcached" in listed[name]["loses_count_on"][0]
    assert [listed[name]["technique"] for name in MEMCACHED_STRATEGIES] == [
        "read-then-write", "atomic", "compare-and-swap"]


@pytest.mark.memcached
def test_a_value_that_is_not_a_number_is_a_503(memcached_app, memcached_url, memcached_server):
    client = memcached_app(memcached_url).test_client()
    with contextlib.closing(memcached_server.client()) as raw:
        raw.set("session-counter:shared:memcached_cas", b"seven")
    answer = client.post("/shared/memcached_cas/inc", headers=JSON)
    assert answer.status_code == 503 and "not a number" in answer.json["message"]


def test_unreachable_memcached_at_start_up_names_url_and_fix(memcached_app):
    url = f"memcached://127.0.0.1:{free_port()}"
    with pytest.raises(StartupError) as error:
        memcached_app(url)
    message = error.value.message
    assert f"Cannot reach memcached at {url} (" in message
    assert "Fix: start memcached" in message and "SESSION_COUNTER_MEMCACHED_URL" in message


@pytest.mark.parametrize("url", ["redis://127.0.0.1:11211", "memcached://", "127.0.0.1:11211",
                                 "memcached://127.0.0.1:port"])
def test_a_value_that_is_not_a_memcached_url_is_refused(memcached_app, url):
    with pytest.raises(StartupError, match="is not a memcached URL"):
        memcached_app(url)


def test_a_memcached_url_that_is_not_text_is_refused_by_its_type(memcached_app):
    with pytest.raises(StartupError, match="MEMCACHED_URL=11211 in the test config cannot "
                                           "be used: expected a string"):
        memcached_app(11211)


@pytest.mark.memcached
@pytest.mark.parametrize("name", MEMCACHED_STRATEGIES)
def test_memcached_killed_is_503_then_refuses_the_lost_count_until_reset(memcached_app, tmp_path,
                                                                         name):
    """Lost at run time: 503, never 500. Back again: the next request is answered, and
    since the restart emptied memcached it refuses to count from 1 again until a reset."""
    with running_memcached(tmp_path / "memcached") as server:
        client = memcached_app(server.url).test_client()
        client.post(f"/shared/{name}/reset")
        assert [client.post(f"/shared/{name}/inc", headers=JSON).json["value"]
                for _ in range(3)] == [1, 2, 3]

        server.stop(signal.SIGKILL)
        for answer in (client.post(f"/shared/{name}/inc", headers=JSON),
                       client.get(f"/shared/{name}", headers=JSON),
                       client.post(f"/shared/{name}/reset", headers=JSON)):
            assert answer.status_code == 503
            assert f"memcached at {server.url} failed while" in answer.json["message"]
        assert client.get("/").status_code == 200

        server.start()  # same port, empty
        answer = client.post(f"/shared/{name}/inc", headers=JSON)
        assert answer.status_code == 503 and "it restarted" in answer.json["message"]
        assert client.post(f"/shared/{name}/reset", headers=JSON).status_code == 200
        assert client.post(f"/shared/{name}/inc", headers=JSON).json["value"] == 1
