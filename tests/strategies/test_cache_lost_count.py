"""The Flask-Caching strategies refuse a damaged or vanished count until a reset."""

import os
import pickle
import struct

import pytest

from session_counter.strategies import get_strategies

JSON = {"Accept": "application/json"}

DAMAGE = {
    # 'garb' read as an expiry is in the past: cachelib's get() deletes the file
    "expired-looking header": b"garbage\n",
    # 'junk' read as an expiry is in the future: cachelib's get() answers None
    "future-looking header": b"junk\n",
    "a pickle": struct.pack("I", 0) + pickle.dumps(5),
    "empty (a power cut after the rename)": b"",
    "an expiry set": struct.pack("I", 1) + b"3",
}


def value_file(app, name):
    """Return the path of cachelib's file holding ``name``'s count."""
    strategy = get_strategies(app)[name]
    return strategy.cache.cache._get_filename(strategy.key)


def inc(client, name):
    answer = client.post(f"/shared/{name}/inc", headers=JSON)
    return answer.status_code, answer.json


@pytest.mark.parametrize("name", ["cache", "cache_inc"])
@pytest.mark.parametrize("damage", [*DAMAGE, "deleted"])
def test_damaged_or_deleted_count_is_refused_until_reset(app, client, name, damage):
    assert [inc(client, name)[1]["value"] for _ in range(3)] == [1, 2, 3]
    path = value_file(app, name)
    if damage == "deleted":
        os.remove(path)
    else:
        with open(path, "wb") as f:
            f.write(DAMAGE[damage])

    for _ in range(2):  # the first look must not clear the damage away
        status, body = inc(client, name)
        assert status == 503, body
        expected = "is gone" if damage == "deleted" else "is damaged"
        assert expected in body["message"] and f"/shared/{name}/reset" in body["message"]
        read = client.get(f"/shared/{name}", headers=JSON)
        assert read.status_code == 503
    assert client.post(f"/shared/{name}/reset", headers=JSON).status_code == 200
    assert [inc(client, name)[1]["value"] for _ in range(2)] == [1, 2]


@pytest.mark.parametrize("name", ["cache", "cache_inc"])
def test_a_counter_never_used_starts_at_one_without_a_reset(client, name):
    assert inc(client, name)[1]["value"] == 1
