"""Cross-site requests, secrets and error pages."""

import os
import stat

import pytest

from session_counter import create_app
from session_counter.startup_checks import StartupError


@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"},
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site", "Origin": "http://sub.localhost"},
])
@pytest.mark.parametrize("path", ["/inc", "/dec", "/reset", "/shared/sqlite/inc",
                                  "/shared/sqlite/reset"])
def test_cross_site_posts_are_refused(client, headers, path):
    client.post("/inc")
    client.post("/shared/sqlite/inc")
    answer = client.post(path, headers=headers)
    assert answer.status_code == 403
    assert client.get("/shared/sqlite").get_data(as_text=True) == "1\n"
    assert client.post("/inc", headers={"Accept": "application/json"}).json["counter"] == 2


@pytest.mark.parametrize("headers", [
    {},  # curl
    {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"},  # the page's own form
    {"Sec-Fetch-Site": "none"},  # typed in the address bar
])
def test_same_origin_and_non_browser_posts_work(client, headers):
    assert client.post("/inc", headers=headers).status_code == 200


def test_trusted_origin_is_allowed(tmp_path):
    app = create_app({"TRUSTED_ORIGINS": ["https://counter.example"]},
                     instance_path=str(tmp_path / "i"))
    answer = app.test_client().post("/inc", headers={"Origin": "https://counter.example"})
    assert answer.status_code == 200


def test_refusal_is_json_for_json_clients(client):
    answer = client.post("/inc", headers={"Origin": "http://evil.example",
                                          "Accept": "application/json"})
    assert answer.status_code == 403 and "Cross-site" in answer.json["message"]


def test_generated_secret_key_is_private_and_stable(tmp_path):
    first = create_app({}, instance_path=str(tmp_path / "i"))
    path = tmp_path / "i" / "secret_key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    second = create_app({}, instance_path=str(tmp_path / "i"))
    assert first.secret_key == second.secret_key and len(first.secret_key) == 64


def test_configured_secret_key_is_used_and_not_written(tmp_path):
    app = create_app({"SECRET_KEY": "from-config"}, instance_path=str(tmp_path / "i"))
    assert app.secret_key == "from-config"
    assert not (tmp_path / "i" / "secret_key").exists()


def test_environment_configures_the_app(tmp_path, monkeypatch):
    monkeypatch.setenv("SESSION_COUNTER_SECRET_KEY", "from-env")
    monkeypatch.setenv("SESSION_COUNTER_SESSION_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("SESSION_COUNTER_SESSION_LOCK", "false")
    app = create_app(instance_path=str(tmp_path / "i"))
    assert app.secret_key == "from-env"
    assert app.config["SESSION_DIR"] == str(tmp_path / "elsewhere")
    assert app.config["SESSION_LOCK"] is False
    app.test_client().post("/inc")
    assert len(os.listdir(tmp_path / "elsewhere")) == 1


def test_instance_config_file_is_read(tmp_path):
    folder = tmp_path / "i"
    folder.mkdir()
    (folder / "config.py").write_text("SECRET_KEY = 'from-file'\n")
    assert create_app(instance_path=str(folder)).secret_key == "from-file"


@pytest.mark.parametrize("method, path, status", [
    ("get", "/no/such/page", 404),
    ("put", "/inc", 405),
    ("delete", "/shared/sqlite", 405),
])
@pytest.mark.parametrize("accept, marker", [
    ("application/json", '"status":'),
    ("text/html", "<!doctype html>"),
    ("*/*", ": "),
])
def test_error_pages_are_the_apps_own(client, method, path, status, accept, marker):
    answer = getattr(client, method)(path, headers={"Accept": accept})
    assert answer.status_code == status
    body = answer.get_data(as_text=True)
    assert marker in body and "Traceback" not in body


def test_405_says_which_methods_are_allowed(client):
    answer = client.put("/inc", headers={"Accept": "application/json"})
    assert answer.status_code == 405
    assert set(answer.headers["Allow"].split(", ")) >= {"GET", "POST"}


def test_negotiated_answers_vary_on_accept(client):
    assert "Accept" in client.post("/inc").headers.get("Vary", "")
    assert "Accept" not in client.get("/healthz").headers.get("Vary", "")


# Trusted origins: a set of exact origins, honoured by both browser generations.

TRUSTED = "https://app.example.com"


@pytest.fixture
def trusting_client(tmp_path, monkeypatch):
    """A client of an app that trusts TRUSTED, set as the environment sets it (text)."""
    for key in list(os.environ):
        if key.startswith("SESSION_COUNTER_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("SESSION_COUNTER_TRUSTED_ORIGINS", TRUSTED + ", http://127.0.0.1:8000")
    return create_app(instance_path=str(tmp_path / "i")).test_client()


@pytest.mark.parametrize("origin", ["https://app.example.co", "https://app.example",
                                    "https://app", "app.example.com", "",
                                    "https://app.example.com.evil.example"])
@pytest.mark.parametrize("fetch_site", [None, "same-site", "cross-site"])
def test_an_origin_that_is_only_part_of_a_trusted_one_is_refused(trusting_client, origin,
                                                                  fetch_site):
    headers = {"Origin": origin, "Accept": "application/json"}
    if fetch_site:
        headers["Sec-Fetch-Site"] = fetch_site
    assert trusting_client.post("/inc", headers=headers).status_code == 403
    answer = trusting_client.post("/inc", headers={"Accept": "application/json"})
    assert answer.json["counter"] == 1  # the refused post changed nothing


@pytest.mark.parametrize("fetch_site", [
    None,  # an older browser: Origin only
    "same-origin",  # the page itself, behind a proxy that changes the Host
    "same-site",  # a current browser, a page on a sibling subdomain
    "cross-site",  # a current browser, a page on another site the operator trusts
])
@pytest.mark.parametrize("origin", [TRUSTED, "http://127.0.0.1:8000"])
def test_a_trusted_origin_may_post_from_both_browser_generations(trusting_client, origin,
                                                                 fetch_site):
    headers = {"Origin": origin, "Accept": "application/json"}
    if fetch_site:
        headers["Sec-Fetch-Site"] = fetch_site
    answer = trusting_client.post("/inc", headers=headers)
    assert answer.status_code == 200 and answer.json["counter"] == 1


@pytest.mark.parametrize("fetch_site", ["same-site", "cross-site"])
def test_a_current_browser_without_origin_is_still_refused(trusting_client, fetch_site):
    assert trusting_client.post("/inc", headers={"Sec-Fetch-Site": fetch_site}).status_code == 403


@pytest.mark.parametrize("value", ["https://app.example.com/", "*", "null", "app.example.com",
                                   "ftp://app.example.com", "https://user@app.example.com",
                                   "https://app.example.com?x", "https://*.example.com",
                                   "https://app.example.com:99999"])
def test_a_trusted_origin_of_another_shape_is_refused_at_start_up(tmp_path, monkeypatch, value):
    monkeypatch.setenv("SESSION_COUNTER_TRUSTED_ORIGINS", f"{TRUSTED},{value}")
    with pytest.raises(StartupError) as refused:
        create_app(instance_path=str(tmp_path / "i"))
    message = refused.value.message
    assert message.startswith("SESSION_COUNTER_TRUSTED_ORIGINS=") and "is not an origin" in message


def test_trusted_origins_from_the_instance_config_are_exact(tmp_path):
    folder = tmp_path / "i"
    folder.mkdir()
    (folder / "config.py").write_text(f"TRUSTED_ORIGINS = [{TRUSTED!r}]\n")
    client = create_app(instance_path=str(folder)).test_client()
    assert client.post("/inc", headers={"Origin": TRUSTED,
                                        "Sec-Fetch-Site": "same-site"}).status_code == 200
    assert client.post("/inc", headers={"Origin": TRUSTED[:-1]}).status_code == 403
