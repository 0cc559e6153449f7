"""The race timeline and the story of a duplicate, in a real Chromium (issue 13)."""

import pytest

from session_counter.race.story import duplicate_stories
from session_counter.servers.chromium import DESKTOP, run_race_panel
from session_counter.servers.harness import running_server

from .browser import PageErrors

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.slow]

CLIENTS = 24


@pytest.fixture(scope="module")
def wide_window():
    """One process, 4 threads, a 20 ms window in naive_global's gap: duplicates every race."""
    with running_server("gthread", workers=1, threads=4,
                        config={"RACE_WINDOW": 0.02, "RACE_WINDOW_AT": "write-return"}) as s:
        yield s


def race(page, url):
    """Race naive_global and sqlite from the page; return (panel, naive_global's analysis)."""
    page.goto(url + "/")
    with page.expect_response(lambda r: r.url.endswith("/api/race/analyse")
                              and "naive_global" in (r.request.post_data or "")) as answer:
        panel = run_race_panel(page, CLIENTS, only={"naive_global", "sqlite"})
    return panel, answer.value.json()


def test_the_timeline_draws_every_request_in_its_process_lane(new_context, wide_window):
    page = new_context(viewport=DESKTOP).new_page()
    errors = PageErrors(page)
    panel, result = race(page, wide_window.url)
    for name in ("naive_global", "sqlite"):
        timeline = panel.get_by_test_id(f"race-result-{name}").get_by_test_id("race-timeline")
        bars = timeline.get_by_test_id("race-timeline-request")
        assert bars.count() == CLIENTS
        lanes = timeline.locator(".race-lane")
        threads = {(t["pid"], t["thread"]) for t in result["trace"]} if name == "naive_global" \
            else None
        if threads:
            assert lanes.count() == len(threads)
    naive = panel.get_by_test_id("race-result-naive_global")
    marked = naive.locator("[data-testid='race-timeline-request'][data-marks*='duplicate']")
    dup_clients = [i + 1 for i, t in enumerate(result["trace"])
                   if t["value"] in result["duplicated_values"]]
    assert result["duplicates"] > 0 and marked.count() == len(dup_clients)
    assert sorted(int(c) for c in marked.evaluate_all(
        "bars => bars.map(b => b.dataset.client)")) == dup_clients
    assert "DUP" in marked.first.inner_text()  # marked by text and a dashed border, not colour
    sqlite = panel.get_by_test_id("race-result-sqlite")
    assert sqlite.locator("[data-marks*='duplicate']").count() == 0
    assert errors.messages == []


def test_choosing_a_duplicate_opens_the_terminals_story_and_steps_through_it(new_context,
                                                                             wide_window):
    page = new_context(viewport=DESKTOP, reduced_motion="reduce").new_page()
    panel, result = race(page, wide_window.url)
    naive = panel.get_by_test_id("race-result-naive_global")
    button = naive.locator(".race-bar-button").first
    value = int(button.inner_text().split()[0])
    button.focus()
    page.keyboard.press("Enter")
    explain = naive.get_by_test_id("race-explain")
    assert explain.is_visible()
    told = duplicate_stories(result["trace"], [value])[str(value)]  # the terminal's telling
    times = [t["value"] for t in result["trace"]].count(value)
    assert explain.locator("h4").inner_text() == f"Number {value}, handed out " + (
        f"{times} times: the first two to answer" if times > 2 else "twice")
    assert explain.get_by_test_id("race-explain-text").inner_text() == told["text"]
    step = explain.get_by_test_id("race-explain-step")
    assert step.inner_text() == f"Event 1 of {len(told['events'])}: {told['events'][0]['text']}"
    explain.get_by_role("button", name="next event").focus()
    page.keyboard.press("Enter")
    assert step.inner_text() == f"Event 2 of {len(told['events'])}: {told['events'][1]['text']}"
    current = naive.locator(".race-bar.current")
    assert current.count() == 1
    assert int(current.get_attribute("data-client")) == told["events"][1]["client"]
    assert page.evaluate("getComputedStyle(document.querySelector('.race-bar'))"
                         ".transitionDuration") == "0s"  # reduced motion: nothing moves


# The pointer stays on the bar it clicked: this also checks a hovered bar's label (it was
# dark on the buttons' dark hover colour, failing whenever the story left the pointer there).
# The glossary and the verdict's words are open, and the numbers grouped by process drawn.
@pytest.mark.parametrize("width", [1280, 375])
def test_no_axe_violation_with_the_timeline_and_a_story_open(new_context, wide_window, width):
    from .test_accessibility import scroll_width, violations

    page = new_context(viewport={"width": width, "height": 900}).new_page()
    panel, _ = race(page, wide_window.url)
    naive = panel.get_by_test_id("race-result-naive_global")
    for opened in (panel.get_by_test_id("race-glossary"), naive.locator("details.race-terms")):
        opened.locator("summary").click()  # the verdict words, open, are judged too
        assert opened.get_attribute("open") is not None
    naive.locator(".race-bar-button").first.click()
    assert violations(page) == []
    assert scroll_width(page) <= width  # the timeline never makes the page scroll sideways
