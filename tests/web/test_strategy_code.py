"""Each strategy's code card: its increment, from the module itself."""

import html
import re

from session_counter.strategies import STRATEGY_CLASSES
from session_counter.web.strategy_code import increment_source


def test_every_strategy_shows_its_increment():
    for cls in STRATEGY_CLASSES:
        assert "def increment(self" in increment_source(cls), cls.name


def test_the_code_is_the_modules_own():
    naive = next(c for c in STRATEGY_CLASSES if c.name == "naive_global")
    assert "self.param += 1" in increment_source(naive)  # Counter.inc, called by increment
    cas = next(c for c in STRATEGY_CLASSES if c.name == "sqlite_cas")
    assert "UPDATE counters SET value = :new" in increment_source(cas)  # its _swap_once


def test_the_page_and_the_api_serve_it(client):
    page = client.get("/", headers={"Accept": "text/html"}).text
    card = re.search(r'data-testid="code-naive_global".*?</details>', page, re.S).group(0)
    assert "self.param += 1" in html.unescape(card)
    answer = client.get("/api/strategies/sqlite_cas/code")
    assert answer.status_code == 200 and answer.mimetype == "text/plain"
    assert "def increment(self" in answer.text
    assert client.get("/api/strategies/no-such/code").status_code == 404
