"""Sessions on this machine's disk, as Flask-Session's cachelib interface sees them.

The pieces are the file store (file_store.py), one flock per session (file_lock.py),
the sweep of expired files (sweep.py) and its index (expiry.py); this module wires
them from the config.
"""

import os

from flask import g
from flask_session.cachelib import CacheLibSessionInterface

from .base import LockingSessionMixin
from .expiry import ExpiryIndex
from .file_lock import SessionFileLocks
from .file_store import SessionFileStore
from .sweep import SessionSweeper, sweep_lock_path


class FileSessionInterface(LockingSessionMixin, CacheLibSessionInterface):
    """Flask-Session's cachelib interface over SessionFileStore, checking every write.

    With the lock, the request holds its session file open and locked from the read
    to the write (SessionFileLocks): both go through that one descriptor.
    """

    def _retrieve_session_data(self, store_id):
        """Read the session: from the file this request holds, else open it (no lock)."""
        held = held_file(store_id)
        return self.cache.get(store_id) if held is None else self.cache.get_held(held)

    def _upsert_session(self, session_lifetime, session, store_id):
        """Write the session file; the store raises StoreUnavailable if it could not."""
        held = held_file(store_id)
        if held is None:  # no lock, or a new session (its id was made this request)
            self.cache.set(store_id, dict(session), timeout=session_lifetime)
        else:
            self.cache.set_held(held, dict(session), timeout=session_lifetime)


def held_file(store_id):
    """Return the session file of ``store_id`` if this request holds it locked, else None."""
    held = g.get("session_lock")
    return held if held is not None and held.key == store_id and held.fd is not None else None


def make_file_interface(app):
    """Build the filesystem session interface from app.config."""
    config = app.config
    index = None
    if config["SESSION_SWEEP_BATCH"] > 0:
        index = ExpiryIndex(os.path.join(app.instance_path, "session-expiry.sqlite"))
    sweeper = SessionSweeper(config["SESSION_DIR"], sweep_lock_path(app), index=index,
                             every=config["SESSION_SWEEP_EVERY"],
                             seconds=config["SESSION_SWEEP_SECONDS"],
                             batch=config["SESSION_SWEEP_BATCH"],
                             background=config["SESSION_SWEEP_IN_BACKGROUND"])
    cache = SessionFileStore(config["SESSION_DIR"],
                             default_timeout=config["PERMANENT_SESSION_LIFETIME"],
                             wait_timeout=config["SESSION_LOCK_TIMEOUT"],
                             min_free_bytes=config["MIN_FREE_BYTES"],
                             on_new_session=sweeper.note_new_session)
    interface = FileSessionInterface(app, client=cache)
    if config["SESSION_LOCK"]:
        interface.locks = SessionFileLocks(cache, config["SESSION_LOCK_TIMEOUT"])
    interface.sweeper = sweeper if config["SESSION_SWEEP_BATCH"] > 0 else None
    return interface
