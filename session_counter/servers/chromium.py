"""Debian's headless Chromium, as the browser tests and scripts/screenshots.py launch it,
and how both drive the page's race panel.

Playwright's own browser download does not work here, so Playwright is pointed at
Debian's Chromium (``apt-get install chromium``), or SESSION_COUNTER_CHROMIUM.
"""

import os

CHROMIUM = os.environ.get("SESSION_COUNTER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}


def chromium_launch_options():
    """Return Playwright launch options for Debian's headless Chromium."""
    return {"executable_path": CHROMIUM, "headless": True, "args": CHROMIUM_ARGS}


def run_race_panel(page, clients, only=None):
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
