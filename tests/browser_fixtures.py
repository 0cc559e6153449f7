"""Real Chromium and real servers for the browser tests (and scripts/screenshots.py).

Playwright's own browser download does not work here, so pytest-playwright is pointed
at Debian's Chromium. Without it the browser tests skip, unless
SESSION_COUNTER_REQUIRE_SERVICES=1 (CI), where a missing browser is a failure.
"""

import contextlib
import http.server
import os
import threading

import pytest

from session_counter.harness import running_server, wait_for_workers

CHROMIUM = os.environ.get("SESSION_COUNTER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
WORKERS = 3
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}


def chromium_launch_options():
    """Return Playwright launch options for Debian's headless Chromium."""
    return {"executable_path": CHROMIUM, "headless": True, "args": CHROMIUM_ARGS}


def require_chromium():
    """Skip when Chromium is missing; fail instead when CI requires it."""
    if os.access(CHROMIUM, os.X_OK):
        return
    message = f"{CHROMIUM} not found (apt-get install chromium)"
    if os.environ.get("SESSION_COUNTER_REQUIRE_SERVICES") == "1":
        pytest.fail(message + "; SESSION_COUNTER_REQUIRE_SERVICES=1 requires it")
    pytest.skip(message)


@contextlib.contextmanager
def gunicorn_server(workers=WORKERS, **options):
    """Run the app under gunicorn with ``workers`` processes, every one of them booted."""
    with running_server("gunicorn", workers=workers, **options) as server:
        pids = wait_for_workers(server, workers)
        assert len(pids) == workers, f"only {len(pids)} of {workers} workers answered"
        yield server


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Launch Debian's Chromium instead of Playwright's download."""
    require_chromium()
    return {**browser_type_launch_args, **chromium_launch_options()}


@pytest.fixture(scope="module")
def server():
    """The app under gunicorn with several workers, shared by one test module."""
    with gunicorn_server() as server:
        yield server


@pytest.fixture
def person(new_context, server):
    """Open a new person: a fresh browser context (own cookies) on the app's page."""

    def open_person(**context_options):
        page = new_context(**context_options).new_page()
        page.goto(server.url + "/")
        return page

    return open_person


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


class PageErrors:
    """Console errors, uncaught exceptions and failed requests seen by one page."""

    def __init__(self, page):
        self.messages = []
        page.on("console", self.on_console)
        page.on("pageerror", lambda error: self.messages.append(f"pageerror: {error}"))
        page.on("requestfailed", lambda request: self.messages.append(
            f"request failed: {request.method} {request.url} {request.failure}"))

    def on_console(self, message):
        """Keep console messages of type error."""
        if message.type == "error":
            self.messages.append(f"console: {message.text} at {message.location}")


class SecondOrigin:
    """A tiny site on another 127.0.0.1 port serving one page with a form to the app."""

    def __init__(self, html, host="127.0.0.1"):
        body = html.encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://{host}:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
