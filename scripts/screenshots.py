"""Take the README's screenshots in Debian's headless Chromium, against gunicorn (3 workers).

    .venv/bin/python scripts/screenshots.py [--out docs] [--clients 30]

Writes page-desktop.png (1280 wide), page-phone.png (375 wide), both full page, and
race-result.png (the race panel after a race of every strategy).
"""

import argparse
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
from session_counter.servers.harness import running_booted_server  # noqa: E402

WORKERS = 3


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


def main(argv=None):
    """Start the app, take the three screenshots, print where they went."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(PROJECT_ROOT, "docs"))
    parser.add_argument("--clients", type=int, default=30,
                        help="simultaneous requests per strategy (table and race)")
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= 500:
        parser.error("--clients must be from 1 to 500 (the race panel's range)")
    if not os.access(CHROMIUM, os.X_OK):
        parser.error(f"{CHROMIUM} not found: apt-get install chromium")
    os.makedirs(args.out, exist_ok=True)
    shots = {name: os.path.join(args.out, name)
             for name in ("page-desktop.png", "page-phone.png", "race-result.png")}

    with running_booted_server("gunicorn", workers=WORKERS) as server, \
            sync_playwright() as playwright:
        give_out_numbers(server.url, args.clients)
        browser = playwright.chromium.launch(**chromium_launch_options())
        open_page(browser, server.url, DESKTOP).screenshot(
            path=shots["page-desktop.png"], full_page=True)
        open_page(browser, server.url, PHONE, is_mobile=True, has_touch=True).screenshot(
            path=shots["page-phone.png"], full_page=True)
        page = open_page(browser, server.url, DESKTOP, clicks=0)
        run_race_panel(page, args.clients).screenshot(path=shots["race-result.png"])
        browser.close()
    for path in shots.values():
        print(os.path.relpath(path, PROJECT_ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
