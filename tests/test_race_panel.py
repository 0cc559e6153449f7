"""The page's race panel in a real Chromium, against gunicorn with several workers."""

import pytest

from .browser_fixtures import (  # noqa: F401 (fixtures)
    PHONE, PageErrors, browser_type_launch_args, server)
from session_counter.strategies import PROCESSES, STRATEGY_CLASSES

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.slow]

PROCESS_SAFE = {cls.name for cls in STRATEGY_CLASSES if PROCESSES in cls.safe_against}
CLIENTS = 40


def run_panel(page, clients, only=None):
    """Set N (and the strategies), click race, wait for every result; return the panel."""
    panel = page.get_by_test_id("race-panel")
    boxes = panel.get_by_role("checkbox")
    for box in boxes.all():
        box.set_checked(only is None or box.get_attribute("value") in only)
    panel.get_by_role("spinbutton").fill(str(clients))
    panel.get_by_test_id("race-run").click()
    chosen = len(only) if only else boxes.count()
    page.wait_for_function(
        "n => document.querySelectorAll(\"[data-testid^='race-result-'][data-exact]\").length"
        " >= n", arg=chosen, timeout=60_000)
    return panel


def test_the_panel_draws_each_strategys_numbers_and_verdict(new_context, server):
    page = new_context().new_page()
    errors = PageErrors(page)
    page.goto(server.url + "/")
    panel = run_panel(page, CLIENTS)
    names = [box.get_attribute("value") for box in panel.get_by_role("checkbox").all()]
    for name in PROCESS_SAFE & set(names):
        result = panel.get_by_test_id(f"race-result-{name}")
        assert result.get_attribute("data-exact") == "true"
        assert panel.get_by_test_id(f"race-verdict-{name}").inner_text() == \
            f"exactly 1..{CLIENTS}"
        assert result.locator(".race-box").count() == CLIENTS
        assert result.locator(".race-box.dup, .race-box.gap").count() == 0
    # Three worker processes answer, each with its own copy of the global.
    naive = panel.get_by_test_id("race-result-naive_global")
    assert naive.get_attribute("data-exact") == "false"
    assert "duplicate" in panel.get_by_test_id("race-verdict-naive_global").inner_text()
    assert naive.locator(".race-box.dup").count() > 0
    assert errors.messages == []


def test_the_panel_fits_a_phone_and_refuses_a_bad_n(new_context, server):
    page = new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    page.goto(server.url + "/")
    panel = page.get_by_test_id("race-panel")
    panel.get_by_role("spinbutton").fill("501")
    panel.get_by_test_id("race-run").click()
    assert "from 1 to 500" in panel.get_by_test_id("race-status").inner_text()
    assert panel.locator("[data-testid^='race-result-']").count() == 0
    run_panel(page, 10, only={"sqlite"})
    assert panel.get_by_test_id("race-result-sqlite").get_attribute("data-exact") == "true"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px phone"
