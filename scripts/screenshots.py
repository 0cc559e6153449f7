"""Take the screenshots in docs/ in Debian's headless Chromium.

    .venv/bin/python scripts/screenshots.py [--out docs] [--clients 30] [--only NAME ...]

Against gunicorn (3 workers): page-desktop.png (1280 wide), page-phone.png (375 wide),
both full page, race-result.png (the race panel after a race of every strategy) and
race-by-process.png (naive_global's numbers grouped by the process that handed them out).
Against one gthread process of 4 threads with a 20 ms window between naive_global's read
and write: race-timeline.png (its race's timeline) and race-story.png (a duplicate's
story, at its second event). Prints what each race judged, to describe the pictures by.
"""

import argparse
import json
import os
import sys

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, PROJECT_ROOT)

import requests  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from session_counter.race.simultaneous import fire_simultaneously  # noqa: E402
from session_counter.servers.chromium import (  # noqa: E402
    CHROMIUM,
    DESKTOP,
    PHONE,
    chromium_launch_options,
    run_race_panel,
)
from session_counter.servers.harness import running_booted_server, running_server  # noqa: E402

WORKERS = 3
SHOTS = ("page-desktop.png", "page-phone.png", "race-result.png", "race-by-process.png",
         "race-timeline.png", "race-story.png")
TIMELINE_CLIENTS = 8  # few enough that every bar's label is readable
# one process, 4 threads, a pause between naive_global's read and write: duplicates
TIMELINE_SERVER = {"workers": 1, "threads": 4,
                   "config": {"RACE_WINDOW": 0.02, "RACE_WINDOW_AT": "read-write"}}


def give_out_numbers(url, clients):
    """Hand out ``clients`` numbers per shared strategy, all at once, so the table has values."""
    names = [s["name"] for s in requests.get(url + "/api/strategies", timeout=10).json()]
    for name in names:
        fire_simultaneously([url], f"/shared/{name}/inc", clients)


def open_page(browser, url, viewport, clicks=3, **context_options):
    """Open the page as a new visitor and click inc ``clicks`` times."""
    page = browser.new_context(viewport=viewport, **context_options).new_page()
    page.goto(url + "/")
    for _ in range(clicks):
        with page.expect_navigation():
            page.locator("#mine").get_by_role("button", name="inc", exact=True).click()
    return page


def gunicorn_shots(browser, shots, wanted, clients):
    """The page and the race panel against gunicorn with several worker processes."""
    with running_booted_server("gunicorn", workers=WORKERS) as server:
        give_out_numbers(server.url, clients)
        if "page-desktop.png" in wanted:
            open_page(browser, server.url, DESKTOP).screenshot(
                path=shots["page-desktop.png"], full_page=True)
        if "page-phone.png" in wanted:
            open_page(browser, server.url, PHONE, is_mobile=True, has_touch=True).screenshot(
                path=shots["page-phone.png"], full_page=True)
        if "race-result.png" in wanted:
            page = open_page(browser, server.url, DESKTOP, clicks=0)
            race_and_report(page, clients, None)[0].screenshot(path=shots["race-result.png"])
        if "race-by-process.png" in wanted:
            page = open_page(browser, server.url, DESKTOP, clicks=0)
            panel, _ = race_and_report(page, clients, {"naive_global"})
            panel.get_by_test_id("race-by-process-naive_global").screenshot(
                path=shots["race-by-process.png"])


def race_and_report(page, clients, only):
    """Race ``only`` from the panel; print each verdict; return the panel and the analyses."""
    analyses = {}

    def keep(response):
        if response.url.endswith("/api/race/analyse") and response.ok:
            analyses[json.loads(response.request.post_data)["strategy"]] = response

    page.on("response", keep)
    panel = run_race_panel(page, clients, only=only)
    results = {name: response.json() for name, response in analyses.items()}
    for name, result in sorted(results.items()):
        pids = sorted({t["pid"] for t in result.get("trace") or []})
        print(f"  {name}: {result['verdict']} (processes {pids})")
    return panel, results


def timeline_shots(browser, shots, wanted):
    """Race naive_global on one threaded process; shoot its timeline, then a story."""
    with running_server("gthread", **TIMELINE_SERVER) as server:
        page = browser.new_context(viewport=DESKTOP).new_page()
        page.goto(server.url + "/")
        panel, results = race_and_report(page, TIMELINE_CLIENTS, {"naive_global"})
        result = panel.get_by_test_id("race-result-naive_global")
        if "race-timeline.png" in wanted:
            result.get_by_test_id("race-timeline").screenshot(path=shots["race-timeline.png"])
        if "race-story.png" in wanted:
            bars = result.locator(".race-bar-button")
            if not bars.count():
                raise SystemExit("no duplicate this time, so no story: run it again")
            bars.first.click()
            page.mouse.move(0, 0)  # no hover colour in the picture
            result.get_by_role("button", name="next event").click()
            story = result.get_by_test_id("race-explain-text").inner_text()
            print(f"  story: {story}")
            print(f"  step: {result.get_by_test_id('race-explain-step').inner_text()}")
            result.locator(".race-timeline-wrap").screenshot(path=shots["race-story.png"])
        page.close()


def main(argv=None):
    """Start the app, take the screenshots, print where they went."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(PROJECT_ROOT, "docs"))
    parser.add_argument("--clients", type=int, default=30,
                        help="simultaneous requests per strategy (table and race)")
    parser.add_argument("--only", action="append", choices=SHOTS,
                        help="take only this picture (repeatable); default: all")
    args = parser.parse_args(argv)
    wanted = args.only or SHOTS
    if not 1 <= args.clients <= 500:
        parser.error("--clients must be from 1 to 500 (the race panel's range)")
    if not os.access(CHROMIUM, os.X_OK):
        parser.error(f"{CHROMIUM} not found: apt-get install chromium")
    os.makedirs(args.out, exist_ok=True)
    shots = {name: os.path.join(args.out, name) for name in SHOTS}

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**chromium_launch_options())
        if set(wanted) & set(SHOTS[:4]):
            gunicorn_shots(browser, shots, wanted, args.clients)
        if set(wanted) & set(SHOTS[4:]):
            timeline_shots(browser, shots, wanted)
        browser.close()
    for name in wanted:
        print(os.path.relpath(shots[name], PROJECT_ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
