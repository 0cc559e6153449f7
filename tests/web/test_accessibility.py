"""WCAG 2.1 AA in the browser: axe-core in Debian's Chromium, keyboard, zoom, motion, names.

axe-core comes bundled in axe-playwright-python (requirements-dev.txt). The page runs on
the threaded dev server with a 1 ms race window, so a race hands out every kind of box:
once, several times (duplicates) and never (gaps).
"""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe

from session_counter.servers.chromium import DESKTOP, PHONE, run_race_panel
from session_counter.servers.harness import running_server

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.slow]

AXE_OPTIONS = {"runOnly": {"type": "tag", "values": [
    "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}, "resultTypes": ["violations"]}
# 200% zoom of a 1280 px window: the page lays out in 640 CSS px, drawn twice as large
ZOOM_200 = {"viewport": {"width": 640, "height": 450}, "device_scale_factor": 2}
VIEWS = {"desktop": {"viewport": DESKTOP}, "zoom-200": ZOOM_200, "phone": {"viewport": PHONE}}
CLIENTS = 30
RACE_TIMEOUT = 60_000  # ms, as run_race_panel waits
WINDOW = 0.001  # seconds naive_global waits inside its increment: duplicates and gaps


@pytest.fixture(scope="module")
def server():
    """The threaded dev server with a race window, for this module."""
    with running_server("dev", config={"RACE_WINDOW": WINDOW}) as server:
        yield server


def violations(page):
    """Return axe-core's violations on the page as readable lines (empty when none)."""
    # colours are judged as drawn: let a result still fading in finish first
    page.evaluate("""() => Promise.all(document.getAnimations()
      .filter(a => a.effect && a.effect.getComputedTiming().endTime !== Infinity)
      .map(a => a.finished))""")
    found = Axe().run(page, options=AXE_OPTIONS).response["violations"]
    return [f"{v['id']} ({v['impact']}): {v['help']}: "
            + ", ".join(" ".join(node["target"]) for node in v["nodes"][:5])
            + (f" and {len(v['nodes']) - 5} more" if len(v["nodes"]) > 5 else "")
            for v in found]


def scroll_width(page):
    """Return how wide the page is drawn, in CSS px (wider than the window: it scrolls)."""
    return page.evaluate("document.scrollingElement.scrollWidth")


def race(page, clients, only=None):
    """Race from the panel (all strategies, or ``only``) and wait for the announced end."""
    panel = run_race_panel(page, clients, only)
    page.wait_for_function("s => s.textContent.startsWith('Done')",
                           arg=panel.get_by_role("status").element_handle())
    return panel


@pytest.mark.parametrize("view", VIEWS, ids=list(VIEWS))
def test_no_axe_violation_nor_scrolling_before_and_after_a_race(new_context, server, view):
    options = VIEWS[view]
    width = options["viewport"]["width"]
    page = new_context(**options).new_page()
    page.goto(server.url + "/")
    assert violations(page) == [], "before a race"
    assert scroll_width(page) <= width, "before a race: horizontal scrolling"
    panel = race(page, CLIENTS)
    kinds = {kind: panel.locator(f".race-results .race-box{css}").count()
             for kind, css in [("once", ":not(.dup):not(.gap)"), ("dup", ".dup"), ("gap", ".gap")]}
    assert all(kinds.values()), f"the race drew no box of some kind: {kinds}"
    assert violations(page) == [], "after a race"
    assert scroll_width(page) <= width, "after a race: horizontal scrolling"


@pytest.mark.parametrize("path", ["/inc", "/no-such-page"])
def test_other_pages_have_no_axe_violation(new_context, server, path):
    page = new_context(viewport=DESKTOP, extra_http_headers={"Accept": "text/html"}).new_page()
    page.goto(server.url + path)
    assert violations(page) == []


def list_items(list_locator):
    """Return the accessible names of a list's items, as Chromium gives them to a screen reader."""
    return re.findall(r"^\s*- listitem: (.*)$", list_locator.aria_snapshot(), re.M)


def test_a_screen_reader_hears_each_box_and_the_verdicts(new_context, server):
    page = new_context(viewport=DESKTOP).new_page()
    page.goto(server.url + "/")
    panel = race(page, CLIENTS, only={"sqlite", "naive_global"})

    sqlite = panel.get_by_role("list", name="numbers sqlite handed out")
    assert list_items(sqlite) == [f"{n}, handed out once" for n in range(1, CLIENTS + 1)]

    naive = panel.get_by_test_id("race-result-naive_global")
    heard = list_items(naive.get_by_role("list", name="numbers naive_global handed out"))
    shown = naive.locator(".race-box").evaluate_all(
        "boxes => boxes.map(b => [b.dataset.value, b.className,"
        " (b.querySelector('sup') || {}).textContent || ''])")
    assert len(heard) == len(shown) > 0
    for name, (value, classes, times) in zip(heard, shown, strict=True):
        if "dup" in classes:
            assert name == f"{value}, handed out {times.lstrip('×')} times"
        elif "gap" in classes:
            assert name == f"{value}, never handed out"
        else:
            assert name == f"{value}, handed out once"
    assert any("times" in name for name in heard) and any("never" in name for name in heard)

    announced = panel.get_by_role("status").inner_text()
    for strategy in ("sqlite", "naive_global"):
        verdict = panel.get_by_test_id(f"race-verdict-{strategy}").inner_text()
        assert f"{strategy}: {verdict}" in announced
    assert panel.get_by_role("status").get_attribute("role") == "status"  # polite live region


def focused(page):
    """Describe the focused element and whether its focus ring shows (3 px or more)."""
    return page.evaluate("""() => {
      const e = document.activeElement, s = getComputedStyle(e);
      return {tag: e.tagName.toLowerCase(), type: e.type || "", value: e.value || "",
              text: e.innerText || "", testid: e.dataset.testid || "",
              ring: s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 3};
    }""")


def tab_to(page, wanted, on_the_way=None, limit=80):
    """Press Tab until ``wanted(element)``; every element on the way must show its focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        element = focused(page)
        assert element["ring"], f"no visible focus on {element}"
        if wanted(element):
            return element
        if on_the_way:
            on_the_way(element)
    raise AssertionError(f"Tab never reached the element after {limit} presses")


def test_keyboard_alone_counts_and_races_with_visible_focus(new_context, server):
    page = new_context(viewport=DESKTOP).new_page()
    page.goto(server.url + "/")
    tab_to(page, lambda e: e["tag"] == "button" and e["text"] == "inc")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_test_id("session-counter").inner_text() == "1"

    def keep_only_sqlite(element):
        if element["type"] == "checkbox" and element["value"] != "sqlite":
            page.keyboard.press("Space")  # uncheck

    tab_to(page, lambda e: e["type"] == "number", on_the_way=keep_only_sqlite)
    page.keyboard.press("Control+A")
    page.keyboard.type("20")
    tab_to(page, lambda e: e["testid"] == "race-run")
    page.keyboard.press("Enter")
    status = page.get_by_role("status")
    page.wait_for_function("s => s.textContent.startsWith('Done')",
                           arg=status.element_handle(), timeout=RACE_TIMEOUT)
    assert status.inner_text() == "Done, 20 requests each. sqlite: exactly 1..20."
    assert focused(page)["testid"] == "race-run", "the focus left the race button"


def motion(page):
    """Return every animation and transition the page's elements have, with their times."""
    return page.evaluate("""() => Array.from(document.querySelectorAll("*")).flatMap(e => {
      const s = getComputedStyle(e), found = [];
      if (s.animationName !== "none") found.push(`${e.className}: animation ${s.animationName}`);
      if (s.transitionDuration.split(",").some(d => parseFloat(d) > 0))
        found.push(`${e.className}: transition ${s.transitionDuration}`);
      return found;
    })""")


@pytest.mark.parametrize("preference", ["no-preference", "reduce"])
def test_reduced_motion_is_respected(new_context, server, preference):
    page = new_context(viewport=DESKTOP, reduced_motion=preference).new_page()
    page.goto(server.url + "/")
    race(page, 5, only={"sqlite"})
    moving = motion(page)
    if preference == "reduce":
        assert moving == []
    else:  # so the check above can fail: the page does move for those who do not mind
        assert any("animation" in m for m in moving) and any("transition" in m for m in moving)
