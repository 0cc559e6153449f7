"""Servers started by the harness see only the settings their caller passes.

A developer's own SESSION_COUNTER_* variables (a database, trusted origins, a secret)
must never reach a lab or test server, or the lab would count in, and reset, the
developer's real store.
"""

import os

import pytest
import requests

from session_counter.servers.harness import clean_environ, running_server, server_env

DEVELOPER = {
    "SESSION_COUNTER_TRUSTED_ORIGINS": "https://developer.example",
    "SESSION_COUNTER_SECRET_KEY": "the-developer's-secret",
    "SESSION_COUNTER_SESSION_LOCK": "false",
    "FLASK_DEBUG": "1",
}


@pytest.fixture
def developer_env(tmp_path, monkeypatch):
    """A shell with the developer's own settings, the database one in ``tmp_path``."""
    variables = {**DEVELOPER, "SESSION_COUNTER_DATABASE": str(tmp_path / "developer.sqlite"),
                 "SESSION_COUNTER_INSTANCE_PATH": str(tmp_path / "developer-instance")}
    for key, value in variables.items():
        monkeypatch.setenv(key, value)
    return variables


def test_server_env_holds_only_the_callers_settings(developer_env, tmp_path):
    env = server_env(str(tmp_path / "lab"), config={"SESSION_LOCK": True, "REDIS_URL": None,
                                                     "TRUSTED_ORIGINS": ["https://lab.example"]},
                     env={"EXTRA": "1"})
    ours = {k: v for k, v in env.items() if k.startswith(("SESSION_COUNTER_", "FLASK_"))}
    assert ours == {"SESSION_COUNTER_SESSION_LOCK": "true",
                    "SESSION_COUNTER_TRUSTED_ORIGINS": '["https://lab.example"]',
                    "SESSION_COUNTER_INSTANCE_PATH": str(tmp_path / "lab")}
    assert env["EXTRA"] == "1" and env["PATH"] == os.environ["PATH"]
    assert not any(k.startswith(("SESSION_COUNTER_", "FLASK_")) for k in clean_environ())


@pytest.mark.server
def test_a_lab_server_ignores_the_developers_settings(developer_env, tmp_path):
    with running_server("dev", config={"TRUSTED_ORIGINS": "https://lab.example"}) as server:
        post = requests.post(server.url + "/shared/sqlite/inc", timeout=10)
        assert post.status_code == 200 and post.text == "1\n"
        lab = requests.post(server.url + "/inc", headers={"Origin": "https://lab.example"},
                            timeout=10)
        developers = requests.post(server.url + "/inc", timeout=10,
                                   headers={"Origin": "https://developer.example"})
        own_secret = os.path.exists(os.path.join(server.instance_path, "secret_key"))
    assert lab.status_code == 200  # the caller's setting arrived
    assert developers.status_code == 403  # the developer's did not
    assert own_secret  # no SECRET_KEY came in: the server made its own
    assert not os.path.exists(developer_env["SESSION_COUNTER_DATABASE"])
    assert not os.path.exists(developer_env["SESSION_COUNTER_INSTANCE_PATH"])
