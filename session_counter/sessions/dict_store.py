"""The seed's fourth answer, built as it describes: sessions in a module-global dict.

A random session id travels in the cookie; this process's dict maps it to the
session's data and expiry. Each dict operation is atomic under the GIL, and that is
all the thread safety there is: no lock spans a request's read and write. Another
worker process, another machine, or a restart has its own (empty) dict, so a client
whose request lands there starts again at 0.
"""

import threading
import time

from flask_session.base import ServerSideSessionInterface

from .base import LockingSessionMixin

# id -> (expires at, time.monotonic(); the session's data): this process's sessions.
SESSIONS = {}
# The size guard: at most this many sessions; the oldest go first beyond it.
MAX_SESSIONS = 10_000
_sweep_lock = threading.Lock()  # one sweeper at a time; readers and writers never wait


class DictSessionInterface(LockingSessionMixin, ServerSideSessionInterface):
    """Flask-Session's server-side interface over SESSIONS (this process's memory)."""

    session_store = "dict"

    def __init__(self, app, sessions=SESSIONS, max_sessions=MAX_SESSIONS):
        """Keep sessions in ``sessions`` (the module's dict), at most ``max_sessions``."""
        super().__init__(app)
        self.sessions = sessions
        self.max_sessions = max_sessions

    def _retrieve_session_data(self, store_id):
        """Return the session's data (a copy), or None if unknown or expired."""
        found = self.sessions.get(store_id)
        if found is None:
            return None
        expires, data = found
        if expires <= time.monotonic():
            self.sessions.pop(store_id, None)
            return None
        return dict(data)

    def _upsert_session(self, session_lifetime, session, store_id):
        """Store a copy of the session: the last writer's copy wins, as in any store."""
        if store_id not in self.sessions and len(self.sessions) >= self.max_sessions:
            self._make_room()
        expires = time.monotonic() + session_lifetime.total_seconds()
        self.sessions[store_id] = (expires, dict(session))

    def _delete_session(self, store_id):
        """Forget a session."""
        self.sessions.pop(store_id, None)

    def _make_room(self):
        """Drop expired sessions; if the dict is still full, the oldest written one."""
        with _sweep_lock:
            now = time.monotonic()
            for key, (expires, _) in list(self.sessions.items()):
                if expires <= now:
                    self.sessions.pop(key, None)
            while len(self.sessions) >= self.max_sessions:
                try:
                    self.sessions.pop(next(iter(self.sessions)))
                except (StopIteration, KeyError, RuntimeError):  # emptied meanwhile
                    break


def make_dict_interface(app):
    """Build the dict session interface; it never locks (no lock was in the answer)."""
    return DictSessionInterface(app)
