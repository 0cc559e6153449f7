"""Browser fixtures: Debian's Chromium for pytest-playwright, gunicorn with several workers.

Without Chromium the browser tests skip, unless SESSION_COUNTER_REQUIRE_SERVICES=1 (CI),
where a missing browser is a failure.
"""

import os

import pytest

from session_counter.servers.chromium import CHROMIUM, chromium_launch_options
from session_counter.servers.harness import running_booted_server

from .browser import WORKERS


def require_chromium():
    """Skip when Chromium is missing; fail instead when CI requires it."""
    if os.access(CHROMIUM, os.X_OK):
        return
    message = f"{CHROMIUM} not found (apt-get install chromium)"
    if os.environ.get("SESSION_COUNTER_REQUIRE_SERVICES") == "1":
        pytest.fail(message + "; SESSION_COUNTER_REQUIRE_SERVICES=1 requires it")
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Launch Debian's Chromium instead of Playwright's download."""
    require_chromium()
    return {**browser_type_launch_args, **chromium_launch_options()}


@pytest.fixture(scope="module")
def server():
    """The app under gunicorn with several workers, shared by one test module."""
    with running_booted_server("gunicorn", workers=WORKERS) as server:
        yield server


@pytest.fixture
def person(new_context, server):
    """Open a new person: a fresh browser context (own cookies) on the app's page."""

    def open_person(**context_options):
        page = new_context(**context_options).new_page()
        page.goto(server.url + "/")
        return page

    return open_person
