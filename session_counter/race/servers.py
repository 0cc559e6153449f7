"""The servers a race runs against: started by the harness (or one --url), and asked JSON."""
from __future__ import annotations

import contextlib
import http.client
import json
from urllib.parse import urlsplit

from ..servers import harness
from .simultaneous import loopback_target

# Models whose worker processes live across requests (dev-processes forks one per request).
LONG_LIVED_WORKERS = ("gunicorn", "gthread", "gevent")
REQUEST_TIMEOUT = 30.0
WORKER_BOOT_TIMEOUT = 60.0  # a loaded machine boots gunicorn workers slowly


class LabError(Exception):
    """The lab itself failed (a server did not start, a reset was refused): exit 1."""


def request_json(method, url, headers=None, timeout=REQUEST_TIMEOUT):
    """Send one request to a loopback server; return (status, JSON body or None, headers)."""
    host, port = loopback_target(url)
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, parts.path or "/",
                     headers={"Accept": "application/json", **(headers or {})})
        response = conn.getresponse()
        body = response.read()
    except (OSError, http.client.HTTPException) as error:
        raise LabError(f"{method} {url} failed: {error}") from error
    finally:
        conn.close()
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    return response.status, data, response.headers


class Servers:
    """The servers a run races against: one --url, or K instances started by the harness."""

    def __init__(self, settings, config):
        self.settings = settings
        self.config = config
        self._stack = None
        self._running = []
        self.started = []  # the URL of every server started, in order

    def urls(self):
        """Return the base URLs of the servers now running (starting them if needed)."""
        if self.settings.url:
            return [self.settings.url.rstrip("/")]
        if not self._running:
            self.start()
        return [server.url for server in self._running]

    def start(self):
        """Start fresh instances (stopping any running ones) and wait for every worker."""
        self.stop()
        s = self.settings
        self._stack = contextlib.ExitStack()
        try:
            self._running = self._stack.enter_context(harness.running_instances(
                s.instances, s.server, workers=s.workers, threads=s.threads,
                config=self.config, port_range=s.port_range))
            self.started += [server.url for server in self._running]
        except (RuntimeError, TimeoutError, OSError) as error:
            self.stop()
            raise LabError(f"the {s.server} server did not start: {error}") from error
        if s.server in LONG_LIVED_WORKERS and s.workers > 1:
            for server in self._running:  # racing fewer processes than asked would mislead
                booted = harness.wait_for_workers(server, s.workers, WORKER_BOOT_TIMEOUT)
                if len(booted) != s.workers:
                    self.stop()
                    raise LabError(f"only {len(booted)} of {s.workers} {s.server} workers "
                                   f"booted within {WORKER_BOOT_TIMEOUT:g} s")

    def stop(self):
        """Stop the servers the lab started (the harness deletes their instance folders)."""
        if self._stack is not None:
            self._stack.close()
        self._stack, self._running = None, []
