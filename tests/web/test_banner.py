"""The page's banner (web/banner.py) and the shared inc click's receipt (web/click_receipt.py)."""

import html
import re
from urllib.parse import urljoin

import pytest
import requests

from session_counter.servers.harness import running_booted_server, running_server
from session_counter.web.banner import server_model

from ..stalls import frozen

HTML = {"Accept": "text/html"}


@pytest.mark.parametrize("software, served_as, expected", [
    ("gunicorn/23.0.0", "gthread 4 2", ("gthread", 4, 2)),
    ("gunicorn/23.0.0", "gunicorn 3 1", ("gunicorn", 3, 1)),
    ("Werkzeug/3.1.3", "dev 1 1", ("dev", 1, None)),
    ("Werkzeug/3.1.3", "dev-single 1 1", ("dev-single", 1, 1)),
    ("waitress", "waitress 1 8", ("waitress", 1, 8)),
    ("Werkzeug/3.1.3", "gunicorn 4 1", ("dev", None, None)),  # the server disagrees: less
    ("gunicorn/23.0.0", None, ("gunicorn", None, None)),  # plain gunicorn: workers unknown
    ("gunicorn/23.0.0", "gunicorn four 1", ("gunicorn", None, None)),
    ("", None, ("unknown", None, None)),
    ("nginx/1.2", "dev 1 1", ("unknown", None, None)),
])
def test_the_model_is_believed_only_when_the_server_agrees(software, served_as, expected):
    served = server_model({"SERVER_SOFTWARE": software}, served_as)
    assert (served["model"], served["processes"], served["threads"]) == expected


def banner_of(page):
    """Return the banner's text, tags stripped."""
    section = re.search(r'data-testid="server-banner".*?</section>', page, re.S).group(0)
    text = " ".join(re.sub(r"<[^>]+>", " ", section.split(">", 1)[1]).split())
    return re.sub(r" ([;:.])", r"\1", html.unescape(text))


@pytest.mark.server
def test_real_servers_say_what_they_are():
    with running_server("gunicorn", workers=2, config={"RACE_WINDOW": 0.002}) as server:
        text = banner_of(requests.get(server.url + "/", timeout=10).text)
        assert text == ("Served by gunicorn: 2 processes × 1 thread each; race window 2 ms; "
                        "your counter kept in files on this server's disk (one per client).")
    with running_server("dev") as server:
        text = banner_of(requests.get(server.url + "/", timeout=10).text)
        assert text.startswith("Served by dev: 1 process × threads: unknown or one per "
                               "request each; race window 0 ms (the question's code exactly);")


def test_a_click_receipt_shows_what_the_click_got(client):
    client.post("/shared/sqlite/inc", headers=HTML)
    answer = client.post("/shared/sqlite/inc", headers=HTML)
    assert answer.status_code == 302 and answer.location.endswith("#row-sqlite")
    page = client.get(answer.location, headers=HTML).text
    assert re.search(r'data-testid="click-value-sqlite">2<', page)
    assert 'data-testid="click-naive_global"' not in page
    # forged, truncated or foreign tokens show nothing and break nothing
    token = re.search(r"click=([^#&]+)", answer.location).group(1)
    for bad in (token[:-2] + "xx", "x" * 2000, "", "abc.def.ghi"):
        page = client.get("/?click=" + bad, headers=HTML)
        assert page.status_code == 200 and 'data-testid="click-' not in page.text


def test_reset_carries_no_receipt(client):
    answer = client.post("/shared/sqlite/reset", headers=HTML)
    assert "click=" not in answer.location


@pytest.mark.server
def test_under_several_workers_the_click_names_its_own_process():
    """The click is answered by one process and the page it leads to by another: the
    others are frozen (SIGSTOP) for the click, and that one for the page, so it happens
    whichever worker the kernel would have picked."""
    with running_booted_server("gunicorn", workers=3) as server, \
            requests.Session() as browser:
        clicker, *others = sorted(server.pids)
        with frozen(others):
            click = browser.post(server.url + "/shared/sqlite/inc", headers=HTML,
                                 allow_redirects=False, timeout=30)
        assert click.status_code in (302, 303) and "click=" in click.headers["Location"]
        with frozen([clicker]):
            page = browser.get(urljoin(server.url, click.headers["Location"]), headers=HTML,
                               timeout=30).text
    assert re.search(r'data-testid="click-value-sqlite">(\d+)<', page).group(1) == "1"
    assert int(re.search(r'data-testid="click-pid-sqlite">(\d+)<', page).group(1)) == clicker
    served = int(re.search(r'data-testid="pid">(\d+)<', page).group(1))
    assert served in others
    assert "Different processes: both use one counter" in page
