"""Sessions on this machine's disk, as Flask-Session's cachelib interface sees them.

The pieces are the file store (file_store.py), one flock per session (file_lock.py),
the sweep of expired files (sweep.py) and its index (expiry.py); this module wires
them from the config.
"""

import os

from flask_session.cachelib import CacheLibSessionInterface

from .base import LockingSessionMixin
from .expiry import ExpiryIndex
from .file_lock import FileSessionLocks, lock_folder
from .file_store import SessionFileStore
from .sweep import SessionSweeper, sweep_lock_path


class FileSessionInterface(LockingSessionMixin, CacheLibSessionInterface):
    """Flask-Session's cachelib interface over SessionFileStore, checking every write."""

    def may_exist(self, store_id):
        """Lock only sessions that have a file: a made-up cookie leaves no lock file behind.

        A client's cookie arrives only after its session file was written, so a
        missing file means a new session, which needs no lock.
        """
        return os.path.exists(self.cache.path_for(store_id))

    def _upsert_session(self, session_lifetime, session, store_id):
        """Write the session file; the store raises StoreUnavailable if it could not."""
        self.cache.set(store_id, dict(session), timeout=session_lifetime)


def make_file_interface(app):
    """Build the filesystem session interface from app.config."""
    config = app.config
    locks = None
    if config["SESSION_LOCK"]:
        locks = FileSessionLocks(lock_folder(app), config["SESSION_LOCK_TIMEOUT"])
    index = None
    if config["SESSION_SWEEP_BATCH"] > 0:
        index = ExpiryIndex(os.path.join(app.instance_path, "session-expiry.sqlite"))
    sweeper = SessionSweeper(config["SESSION_DIR"], sweep_lock_path(app), locks=locks,
                             index=index, every=config["SESSION_SWEEP_EVERY"],
                             seconds=config["SESSION_SWEEP_SECONDS"],
                             batch=config["SESSION_SWEEP_BATCH"],
                             background=config["SESSION_SWEEP_IN_BACKGROUND"])
    cache = SessionFileStore(config["SESSION_DIR"],
                             default_timeout=config["PERMANENT_SESSION_LIFETIME"],
                             wait_timeout=config["SESSION_LOCK_TIMEOUT"],
                             min_free_bytes=config["MIN_FREE_BYTES"],
                             on_new_session=sweeper.note_new_session)
    interface = FileSessionInterface(app, client=cache)
    interface.locks = locks
    interface.sweeper = sweeper if config["SESSION_SWEEP_BATCH"] > 0 else None
    return interface
