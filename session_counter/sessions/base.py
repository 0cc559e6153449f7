"""What every session store shares: the locking open/save hooks, and their errors.

Each store (file_interface.py over file_store.py, redis_store.py) is Flask-Session's
interface for it plus LockingSessionMixin, which adds what Flask-Session leaves out:
only views marked @uses_session open the session; a write that fails answers 503
instead of pretending to have saved; a cookie that is not a session id starts a fresh
session; and, with ``SESSION_LOCK``, one client's session is locked from load to save.
"""

import logging
import os
import re
import socket
import uuid

from flask import current_app, g, request
from flask.globals import request_ctx
from werkzeug.exceptions import HTTPException

from ..errors import StoreUnavailable, handle_store_unavailable
from .ids import log_name

log = logging.getLogger(__name__)

# Flask-Session makes ids with secrets.token_urlsafe(32): 43 URL-safe characters.
SESSION_ID_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
# How many routes' @uses_session answers are remembered (each a few hundred bytes).
ROUTES_REMEMBERED = 1024


class SessionLockTimeout(Exception):
    """The session stayed locked by other requests for longer than the timeout."""

    @classmethod
    def after(cls, timeout):
        """Return the error of a lock not taken within ``timeout`` s (every store's words)."""
        return cls(f"this session has been busy for {timeout:g} s (other requests of the "
                   "same client hold it); try again")


def lock_token():
    """Return a new session-lock value that says who holds it: host, pid, then random."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"


class LockingSessionMixin:
    """Open/save hooks shared by the file and Redis session interfaces."""

    locks = None  # set by the factory: None, or an object with acquire(key) -> handle

    def may_exist(self, store_id):
        """Tell whether a session may be stored under ``store_id`` (worth locking)."""
        return True

    def log_name(self, sid):
        """Return how logs name the session ``sid``: a short hash, never the id itself."""
        return "a new session" if sid is None else log_name(self._get_store_id(sid))

    def open_session(self, app, request):
        """Lock this client's session (if it has one), then load it; only for views that use it.

        /healthz, /shared/..., the race API, static files and unknown routes never
        touch the session, so they never open it: a slow request of the same client
        holding the lock cannot make them wait.
        """
        if not route_uses_session(app):
            return self.closed_session()
        sid = request.cookies.get(self.get_cookie_name(app))
        if sid is not None and not SESSION_ID_SHAPE.fullmatch(sid):
            log.info("ignoring a session cookie that is not a session id (%d chars)", len(sid))
            request.cookies = request.cookies.copy()  # a fresh session, as if no cookie
            request.cookies.poplist(self.get_cookie_name(app))
            sid = None
        lock = None
        try:
            store_id = None if sid is None else self._get_store_id(sid)
            if store_id is not None and self.locks is not None and self.may_exist(store_id):
                lock = self.locks.acquire(store_id)
            # on g before the load: a file store reads through the file its lock holds
            g.session_lock = lock
            return super().open_session(app, request)
        except (StoreUnavailable, SessionLockTimeout) as error:
            release_unopened(lock)
            g.session_error = StoreUnavailable(str(error))
            return self.closed_session()
        except Exception as error:  # a store bug: no lockout, and the app's own 503 page
            release_unopened(lock)
            log.exception("could not open %s", self.log_name(sid))
            g.session_error = StoreUnavailable(f"could not open this session ({error})")
            return self.closed_session()

    def closed_session(self):
        """Return an empty session that is never saved (not opened, or could not be)."""
        session = self.session_class(sid=None)
        session.unusable = True
        return session

    def save_session(self, app, session, response):
        """Save the session unless it could not be opened or already failed to save."""
        if getattr(session, "unusable", False):
            if session.modified:
                log.error("%s changed the session without @uses_session: not saved",
                          request.endpoint)
            return
        try:
            super().save_session(app, session, response)
        except StoreUnavailable as error:
            # The view already answered as if the change was kept; it was not, so the
            # answer becomes the 503 (here: save_session runs after every error handler).
            session.unusable = True
            session.pop("_flashes", None)  # "counter is N" was not kept: do not show it
            replace_response(response, app.make_response(handle_store_unavailable(error)))


def release_unopened(lock):
    """Release the lock of a session that could not be opened; teardown then skips it.

    Teardown (finish_session) must not touch a session that never opened.
    """
    if lock is not None:
        lock.release()
    g.pop("session_lock", None)


def uses_session(view):
    """Mark a view that reads or writes the client's session: only its requests open it."""
    view.uses_session = True
    return view


def route_uses_session(app):
    """Tell whether this request goes to a view marked @uses_session.

    Flask opens the session before it matches the URL, so match it here (the same
    adapter, the same answer); a 404, 405 or redirect runs no view at all. The answer
    depends only on what the matcher is given, so it is remembered per (host or
    subdomain, path, method, websocket) for ROUTES_REMEMBERED of them at a time.
    """
    adapter = request_ctx.url_adapter
    if adapter is None:  # the request could not be bound (a SERVER_NAME mismatch): no view
        return False
    key = (adapter.server_name, adapter.subdomain, adapter.path_info, adapter.default_method,
           adapter.websocket)
    remembered = app.extensions.setdefault("uses_session_by_route", {})
    answer = remembered.get(key)
    if answer is None:
        answer = match_uses_session(app, adapter)
        if len(remembered) >= ROUTES_REMEMBERED:  # a scanner's many paths: start again
            remembered.clear()
        remembered[key] = answer
    return answer


def match_uses_session(app, adapter):
    """Match the URL with ``adapter``; tell whether its view is marked @uses_session."""
    try:
        rule, _ = adapter.match(return_rule=True)
    except HTTPException:
        return False
    return getattr(app.view_functions.get(rule.endpoint), "uses_session", False)


def replace_response(response, replacement):
    """Turn ``response`` into ``replacement`` in place (status, headers and body)."""
    response.status_code = replacement.status_code
    response.headers.clear()
    response.headers.extend(replacement.headers)
    response.set_data(replacement.get_data())


def raise_session_error():
    """Stop the request with 503 if its session could not be locked or loaded."""
    error = g.pop("session_error", None)
    if error is not None:
        raise error


def finish_session(_exc=None):
    """Release this request's session lock on every path out; then sweep, if one is due.

    The sweep starts after the lock is released (in a thread of its own: sweep.py), and
    only at the end of requests that opened a session: /healthz never starts one.
    """
    if "session_lock" not in g:  # the session was not opened
        return
    lock = g.pop("session_lock")
    if lock is not None:
        lock.release()
    sweeper = getattr(current_app.session_interface, "sweeper", None)
    if sweeper is not None:
        sweeper.maybe_sweep()
