"""The page's race panel in a real Chromium, against gunicorn with several workers.

How the page looks at phone width, the panel included, is tests/web/test_browser.py's job.
"""

import pytest

from session_counter.servers.chromium import DESKTOP, run_race_panel
from session_counter.servers.harness import running_server
from session_counter.strategies import PROCESSES, STRATEGY_CLASSES

from .browser import PageErrors

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.slow]

PROCESS_SAFE = {cls.name for cls in STRATEGY_CLASSES if PROCESSES in cls.safe_against}
CLIENTS = 40


def test_the_panel_draws_each_strategys_numbers_and_verdict(new_context, server):
    page = new_context(viewport=DESKTOP).new_page()
    errors = PageErrors(page)
    page.goto(server.url + "/")
    panel = run_race_panel(page, CLIENTS)
    names = [box.get_attribute("value") for box in panel.get_by_role("checkbox").all()]
    assert PROCESS_SAFE & set(names), names
    for name in PROCESS_SAFE & set(names):
        result = panel.get_by_test_id(f"race-result-{name}")
        assert result.get_attribute("data-exact") == "true"
        assert panel.get_by_test_id(f"race-verdict-{name}").inner_text() == \
            f"exactly 1..{CLIENTS}"
        assert result.locator(".race-box > [aria-hidden]").all_inner_texts() == \
            [str(n) for n in range(1, CLIENTS + 1)]
        assert result.locator(".race-box.dup, .race-box.gap").count() == 0
    # Three worker processes answer, each with its own copy of the global.
    naive = panel.get_by_test_id("race-result-naive_global")
    assert naive.get_attribute("data-exact") == "false"
    assert "duplicate" in panel.get_by_test_id("race-verdict-naive_global").inner_text()
    assert naive.locator(".race-box.dup").count() > 0
    assert panel.locator("[data-testid^='race-result-']").count() == len(names)
    # compare-and-swap: the retries its answers carried, summed by the server
    assert " retries (swaps lost to another request" in panel.get_by_test_id(
        "race-result-sqlite_cas").inner_text()
    assert "retries" not in panel.get_by_test_id("race-result-sqlite").inner_text()
    assert errors.messages == []


def test_the_panel_refuses_a_bad_n_then_races(new_context, server):
    page = new_context(viewport=DESKTOP).new_page()
    page.goto(server.url + "/")
    panel = page.get_by_test_id("race-panel")
    panel.get_by_role("spinbutton").fill("501")
    panel.get_by_test_id("race-run").click()
    assert "from 1 to 500" in panel.get_by_test_id("race-status").inner_text()
    assert panel.locator("[data-testid^='race-result-']").count() == 0
    run_race_panel(page, 10, only={"sqlite"})
    assert panel.get_by_test_id("race-result-sqlite").get_attribute("data-exact") == "true"


def test_an_exact_race_on_a_serial_server_reads_exact_this_time_not_safe(new_context):
    """dev-single answers one request at a time: naive_global comes out exact, and is not safe."""
    with running_server("dev-single") as single:
        page = new_context(viewport=DESKTOP).new_page()
        errors = PageErrors(page)
        page.goto(single.url + "/")
        panel = run_race_panel(page, 15, only={"naive_global", "sqlite"})
        assert panel.get_by_test_id("race-verdict-naive_global").inner_text() == "exactly 1..15"
        reading = panel.get_by_test_id("race-reading-naive_global").inner_text()
        assert reading == ("exact this time, not safe: this server answers one request at a "
                           "time, so nothing could interleave; start more workers: "
                           "python run.py --workers 4")
        assert panel.get_by_test_id("race-reading-sqlite").count() == 0
        assert errors.messages == []
