"""Per-client sessions in memcached: Flask-Session's memcached interface, locked and checked.

With ``SESSION_STORE=memcached`` every instance pointed at one memcached reads and
writes the same sessions, and the per-session lock is a memcached item, so it holds
across machines too, but memcached is a cache: under memory pressure it evicts the
least recently used items, sessions included, and that client starts again at 1. A
memcached that cannot be reached answers 503; pymemcache reconnects once it is back.

The lock is ``add`` (store only if absent) with a lease: exactly one request of a
client holds it on every process and machine of this memcached, as long as the lock
item lives. Three things end it early: its lease running out (a request longer than
LOCK_LEASE), a restart of memcached (every item goes), and eviction of the lock item
itself (the newest item, so LRU takes it last, but memcached promises nothing). It is
given back by compare-and-delete (``gets``, then ``cas`` with a past expiry), so a
request whose lease ran out never deletes the lock another request holds now.
"""

import logging
import socket

from flask_session.memcached import MemcachedSessionInterface
from pymemcache.exceptions import MemcacheError, MemcacheUnexpectedCloseError

from ..clients.memcached import call_memcached, client_for, unavailable
from ..errors import StoreUnavailable
from .base import LockingSessionMixin, SessionLockTimeout, lock_token
from .codec import MsgpackOnlySerializer, decode_session
from .file_lock import pauses
from .ids import log_name

log = logging.getLogger(__name__)

# A session lock expires this long after it was taken (whole seconds: memcached's unit),
# so a request killed while holding it blocks its client for this long at most.
LOCK_LEASE = 30


def answer_lost(error):
    """Tell whether a failed call may have run in memcached anyway (its answer was lost)."""
    return isinstance(error, (socket.timeout, MemcacheUnexpectedCloseError))


class MemcachedSessionLocks:
    """Per-session locks in memcached: one client's requests take turns on every machine."""

    def __init__(self, client, timeout, lease=LOCK_LEASE, url=""):
        """Wait at most ``timeout`` seconds for a lock; a held lock expires after ``lease``."""
        self.client = client
        self.timeout = timeout
        self.lease = int(lease)
        self.url = url

    def acquire(self, key):
        """Lock the session stored under ``key``; return a handle with release()."""
        token = lock_token().encode()
        for _ in pauses(self.timeout):
            try:
                taken = self.client.add(f"lock:{key}", token, expire=self.lease, noreply=False)
            except (MemcacheError, OSError) as error:
                if answer_lost(error):  # the add may have run: take back what may be ours
                    self.give_back(key, token, held=False)
                raise unavailable(self.url, error, "locking this session") from error
            if taken:
                return _MemcachedLockHandle(self, key, token)
        raise SessionLockTimeout.after(self.timeout)

    def give_back(self, key, token, held=True):
        """Delete the lock of ``key`` if it still holds ``token``; tell whether it did.

        memcached has no delete-if-equal: ``gets`` reads the value with its cas id, and
        ``cas`` with a past expiry removes the item only if nobody wrote it since.
        ``held``: the lock was ours, so finding it gone or another's is worth a warning.
        Never raises: a lock that cannot be given back expires after its lease.
        """
        try:
            value, cas_id = self.client.gets(f"lock:{key}")
            if value != token:
                if held:
                    log.warning("the lock of %s ended before its request finished (its "
                                "lease of %d s ran out, or memcached evicted or lost it)",
                                log_name(key), self.lease)
                return False
            return bool(self.client.cas(f"lock:{key}", b"", cas_id, expire=-1, noreply=False))
        except (MemcacheError, OSError) as error:
            log.warning("could not release the lock of %s (%s); it expires by itself",
                        log_name(key), str(error) or type(error).__name__)
            return False


class _MemcachedLockHandle:
    """A held memcached lock; release() is safe to call more than once and never raises."""

    def __init__(self, locks, key, token):
        self._locks, self._key, self._token = locks, key, token

    def release(self):
        """Give the lock back (only if it is still ours); if memcached is gone, it expires."""
        locks, self._locks = self._locks, None
        if locks is not None:
            locks.give_back(self._key, self._token)


class MemcachedSessionStore(LockingSessionMixin, MemcachedSessionInterface):
    """Flask-Session's memcached interface: failures are 503, damaged data a fresh session."""

    def __init__(self, app, client, url):
        """Set up Flask-Session's interface, then swap in a serializer that never unpickles."""
        super().__init__(app, client=client)
        self.serializer = MsgpackOnlySerializer()
        self.url = url

    def _retrieve_session_data(self, store_id):
        """Load a session; an evicted one is None, data that does not decode a fresh one."""
        raw = call_memcached(self.url, "loading this session", self.client.get, store_id)
        if not raw:
            return None
        return decode_session(raw, f"{log_name(store_id)} in memcached")

    def _upsert_session(self, session_lifetime, session, store_id):
        """Save a session with its lifetime as the memcached expiry; a refusal is a 503."""
        seconds = int(session_lifetime.total_seconds())
        stored = call_memcached(self.url, "saving this session", self.client.set, store_id,
                                self.serializer.encode(session),
                                expire=self._get_memcache_timeout(seconds), noreply=False)
        if not stored:
            raise StoreUnavailable("memcached refused to store this session; nothing was "
                                   "changed. Try again.")

    def _delete_session(self, store_id):
        """Delete a session."""
        call_memcached(self.url, "deleting this session", self.client.delete, store_id,
                       noreply=False)


def make_memcached_interface(app):
    """Build the memcached session interface (and its locks) from app.config."""
    url = app.config["MEMCACHED_URL"]
    interface = MemcachedSessionStore(app, client_for(app), url)
    if app.config["SESSION_LOCK"]:
        interface.locks = MemcachedSessionLocks(interface.client,
                                                app.config["SESSION_LOCK_TIMEOUT"], url=url)
    return interface
