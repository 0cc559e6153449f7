"""What a person sees in a real browser (Chromium) against gunicorn with several workers."""

from collections import defaultdict

import pytest

from session_counter.race.simultaneous import fire_simultaneously
from session_counter.servers.chromium import DESKTOP, PHONE, run_race_panel
from session_counter.servers.harness import running_booted_server

from ..stalls import frozen_at_most
from .browser import WORKERS, PageErrors, SecondOrigin

pytestmark = [pytest.mark.browser, pytest.mark.server]

# Loads until pages were served by processes with different counts: each load stops the
# processes already seen (tests/stalls.py), so WORKERS loads reach them all; a load on a
# connection a stopped worker holds (a browser's preconnect) waits FREEZE_AT_MOST seconds.
MAX_RELOADS = 10
FREEZE_AT_MOST = 10


def number(page, testid):
    """Return the integer shown in the element marked ``testid``."""
    return int(page.get_by_test_id(testid).inner_text())


def submit(page, button):
    """Click a form's button and wait for the page the POST leads to."""
    with page.expect_navigation():
        button.click()


def click_mine(page, label):
    """Click inc, dec or reset of this person's own counter."""
    submit(page, page.locator("#mine").get_by_role("button", name=label, exact=True))


def click_shared_inc(page, strategy):
    """Click inc in the row of one shared strategy."""
    row = page.get_by_role("row").filter(has=page.get_by_test_id(f"shared-{strategy}"))
    submit(page, row.get_by_role("button", name="inc", exact=True))


# Two people keeping their own counters through reloads, and both seeing sqlite move, are
# checked in every engine, Chromium included: tests/web/test_engines.py.


# Not a multiple of WORKERS: the processes' own copies cannot all hold the same count.
NAIVE_INCREMENTS = 10


def test_naive_global_disagrees_across_processes(new_context):
    assert NAIVE_INCREMENTS % WORKERS
    # its own server: every process's copy starts at 0
    with running_booted_server("gunicorn", workers=WORKERS) as fresh:
        counts = {}
        for strategy in ("naive_global", "sqlite"):
            answers = fire_simultaneously([fresh.url], f"/shared/{strategy}/inc",
                                          NAIVE_INCREMENTS)
            assert [a.status for a in answers] == [200] * NAIVE_INCREMENTS, answers
            values = defaultdict(list)
            for answer in answers:
                values[answer.pid].append(answer.value)
            counts[strategy] = values
        # sqlite hands out 1..10 once; naive_global counts 1..k separately in each process
        assert sorted(v for vs in counts["sqlite"].values() for v in vs) == list(
            range(1, NAIVE_INCREMENTS + 1))
        for pid, values in counts["naive_global"].items():
            assert sorted(values) == list(range(1, len(values) + 1)), (pid, values)
        own_count = {pid: len(values) for pid, values in counts["naive_global"].items()}

        page = new_context().new_page()
        shown = {}  # pid -> (naive_global, sqlite) as the page showed them
        for _ in range(MAX_RELOADS):
            # the processes already seen are stopped for this load (while one is left), so
            # an unseen one answers: the kernel may give one idle worker every connection
            seen = set(shown) if len(shown) < len(fresh.pids) else set()
            with frozen_at_most(seen, FREEZE_AT_MOST):
                page.goto(fresh.url + "/")
            shown[number(page, "pid")] = (number(page, "shared-naive_global"),
                                          number(page, "shared-sqlite"))
            if len({naive for naive, _ in shown.values()}) >= 2:
                break
    assert shown.keys() <= fresh.pids
    for pid, (naive, sqlite) in shown.items():
        assert naive == own_count.get(pid, 0), (pid, naive, own_count)
        assert sqlite == NAIVE_INCREMENTS, (pid, sqlite)
    assert len({naive for naive, _ in shown.values()}) >= 2, (shown, own_count)


@pytest.mark.parametrize("host, cookie_sent", [
    ("127.0.0.1", True),   # another port of the same host: same site, so the cookie goes
    ("localhost", False),  # another site: SameSite=Lax keeps the cookie back
])
def test_cross_site_form_post_is_refused(person, server, host, cookie_sent):
    page = person()
    click_mine(page, "inc")
    click_mine(page, "inc")
    form = (f'<form method="post" action="{server.url}/inc">'
            f'<button type="submit">win a prize</button></form>')
    with SecondOrigin(form, host=host) as other:
        page.goto(other.url)
        with page.expect_navigation() as refused:
            page.get_by_role("button", name="win a prize").click()
    assert refused.value.url == server.url + "/inc" and refused.value.status == 403
    assert ("cookie" in refused.value.request.all_headers()) is cookie_sent
    assert "Cross-site request refused" in page.get_by_role("main").inner_text()
    page.goto(server.url + "/")
    assert number(page, "session-counter") == 2


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_page_has_no_console_errors(new_context, server, viewport):
    page = new_context(viewport=viewport).new_page()
    errors = PageErrors(page)
    page.goto(server.url + "/")
    for label in ("inc", "inc", "dec", "reset"):
        click_mine(page, label)
    click_shared_inc(page, "sqlite")
    page.goto(server.url + "/inc")  # the GET page explaining the route
    submit(page, page.get_by_role("button", name="inc"))
    assert number(page, "session-counter") == 1
    assert errors.messages == []


def test_usable_at_phone_width(new_context, server):
    page = new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    page.goto(server.url + "/")
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= PHONE["width"], f"page is {width}px wide: horizontal scrolling"
    counter = page.get_by_test_id("session-counter")
    assert counter.is_visible()
    for button in page.get_by_role("button").all():
        box = button.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (
            button.inner_text(), box)
    for label, expected in [("inc", 1), ("inc", 2), ("dec", 1), ("reset", 0)]:
        with page.expect_navigation():
            page.locator("#mine").get_by_role("button", name=label, exact=True).tap()
        assert number(page, "session-counter") == expected
    # the race panel's results (a row of numbered boxes) must wrap, not widen the page
    results = run_race_panel(page, 10, only={"sqlite"})
    assert results.get_by_test_id("race-result-sqlite").get_attribute("data-exact") == "true"
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= PHONE["width"], f"page is {width}px wide after a race"
