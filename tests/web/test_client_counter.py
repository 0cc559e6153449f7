"""The per-client counter: semantics, isolation between clients, response formats."""

import re

import pytest

JSON = {"Accept": "application/json"}
HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def page_counter(client):
    """Read this client's counter off the page, where a person (and a browser test) reads it."""
    html = client.get("/").get_data(as_text=True)
    return int(re.search(r'data-testid="session-counter">(-?\d+)<', html).group(1))


def test_new_client_starts_at_zero(client):
    assert page_counter(client) == 0


@pytest.mark.parametrize("steps, expected", [
    (["inc"], 1),
    (["inc", "inc", "inc"], 3),
    (["dec"], -1),
    (["inc", "inc", "dec"], 1),
    (["inc", "inc", "reset"], 0),
    (["inc", "reset", "inc"], 1),
])
def test_inc_dec_reset(client, steps, expected):
    for step in steps:
        answer = client.post(f"/{step}", headers=JSON)
        assert answer.status_code == 200
    assert answer.json["counter"] == expected
    assert page_counter(client) == expected


def test_clients_are_isolated(app):
    alice, bob, carol = app.test_client(), app.test_client(), app.test_client()
    for _ in range(3):
        alice.post("/inc")
    bob.post("/dec")
    assert [page_counter(c) for c in (alice, bob, carol)] == [3, -1, 0]
    bob.post("/reset")
    alice.post("/inc")
    assert [page_counter(c) for c in (alice, bob, carol)] == [4, 0, 0]


def test_plain_text_answer_as_in_the_classic_example(client):
    answer = client.post("/inc")
    assert answer.mimetype == "text/plain"
    assert answer.get_data(as_text=True) == "counter is 1\n"


def test_json_answer_says_who_served_it(client):
    body = client.post("/inc", headers=JSON).json
    assert body["counter"] == 1 and isinstance(body["pid"], int) and body["thread"]


def test_form_post_redirects_back_with_a_flash(client):
    answer = client.post("/inc", headers=HTML)
    assert answer.status_code == 302 and answer.location == "/"
    page = client.get("/").get_data(as_text=True)
    assert "counter is 1" in page and 'data-testid="flashes"' in page
    # a flashed message is shown once
    assert 'data-testid="flashes"' not in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/inc", "/dec", "/reset"])
def test_get_never_changes_state(client, path):
    client.post("/inc")
    client.post("/inc")
    answer = client.get(path)
    assert answer.status_code == 200
    assert f'action="{path}"' in answer.get_data(as_text=True)  # offers the button
    assert page_counter(client) == 2


def test_head_never_changes_state(client):
    client.post("/inc")
    assert client.head("/inc").status_code == 200
    assert page_counter(client) == 1


def test_page_shows_every_strategy_and_who_served_it(client, app):
    from session_counter.strategies import get_strategies

    html = client.get("/").get_data(as_text=True)
    for name in get_strategies(app):
        assert f'data-testid="shared-{name}"' in html
    assert 'data-testid="pid"' in html and 'data-testid="thread"' in html


def test_session_cookie_flags(client, app):
    cookie = client.post("/inc").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    sid = re.search(r"session=([^;]+)", cookie).group(1)
    assert len(sid) == 43  # secrets.token_urlsafe(32): 256 bits


def test_secure_cookie_switch(tmp_path):
    from session_counter import create_app

    app = create_app({"SESSION_COOKIE_SECURE": True}, instance_path=str(tmp_path / "i"))
    assert "Secure" in app.test_client().post("/inc").headers["Set-Cookie"]


def test_session_files_are_private(client, app):
    import os
    import stat

    client.post("/inc")
    folder = app.config["SESSION_DIR"]
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    files = os.listdir(folder)
    assert len(files) == 1
    assert stat.S_IMODE(os.stat(os.path.join(folder, files[0])).st_mode) == 0o600


def test_a_read_does_not_rewrite_the_session_file(client, app):
    import os

    client.post("/inc")
    folder = app.config["SESSION_DIR"]
    (name,) = os.listdir(folder)
    before = os.stat(os.path.join(folder, name)).st_mtime_ns
    client.get("/")
    client.get("/shared/sqlite")
    assert os.stat(os.path.join(folder, name)).st_mtime_ns == before
