"""Per-client sessions in Redis: Flask-Session's Redis interface, locked and checked.

With ``SESSION_COUNTER_REDIS_URL`` set, every instance of the app (every machine) reads
and writes the same sessions, and the per-session lock is a Redis lock, so it holds
across machines too. A Redis that cannot be reached answers 503, and redis-py opens
new connections by itself once Redis is back.
"""

import logging

from flask_session.redis import RedisSessionInterface
from redis.exceptions import LockError, RedisError

from ..clients.redis import call_redis, client_for, may_have_run, unavailable
from .base import LockingSessionMixin, SessionLockTimeout, lock_token
from .codec import MsgpackOnlySerializer, decode_session
from .ids import log_name

log = logging.getLogger(__name__)

# A session lock expires this long after it was taken, so a request killed while
# holding it (a crashed worker, a lost machine) blocks its client for this long at most.
LOCK_LEASE = 30.0


class RedisSessionLocks:
    """Per-session locks in Redis: one client's requests take turns on every machine."""

    def __init__(self, client, timeout, lease=LOCK_LEASE, url=""):
        """Wait at most ``timeout`` seconds for a lock; a held lock expires after ``lease``."""
        self.client = client
        self.timeout = timeout
        self.lease = lease
        self.url = url

    def acquire(self, key):
        """Lock the session stored under ``key``; return a handle with release()."""
        lock = self.client.lock(f"lock:{key}", timeout=self.lease, sleep=0.005,
                                blocking_timeout=self.timeout, thread_local=False)
        token = lock_token()
        try:
            acquired = lock.acquire(token=token)
        except RedisError as error:
            if may_have_run(error) and not self._give_back(lock, token, key):
                raise unavailable(self.url, error, "locking this session",
                                  f"the lock may stay taken until its lease ends "
                                  f"({self.lease:g} s)") from error
            raise unavailable(self.url, error, "locking this session") from error
        if not acquired:
            raise SessionLockTimeout.after(self.timeout)
        return _RedisLockHandle(lock, key)

    @staticmethod
    def _give_back(lock, token, key):
        """Delete the lock if a SET NX whose answer was lost took it; tell if it is free.

        Without this, the client's next requests would find the lock taken (by itself)
        and wait for the lease to run out.
        """
        try:
            lock.do_release(token.encode())
        except LockError:
            return True  # not ours: the lost SET did not take it
        except RedisError as error:
            log.warning("could not give back the lock of %s whose answer was lost (%s)",
                        log_name(key), error)
            return False
        return True


class _RedisLockHandle:
    """A held Redis lock; release() is safe to call more than once and never raises."""

    def __init__(self, lock, key):
        self._lock = lock
        self._key = key

    def release(self):
        """Give the lock back; if Redis is gone, the lease frees it later."""
        lock, self._lock = self._lock, None
        if lock is None:
            return
        try:
            lock.release()
        except LockError:
            log.warning("the lock of %s expired before its request finished (lease %g s)",
                        log_name(self._key), lock.timeout)
        except RedisError as error:
            log.warning("could not release the lock of %s (%s); it expires by itself",
                        log_name(self._key), error)


class RedisSessionStore(LockingSessionMixin, RedisSessionInterface):
    """Flask-Session's Redis interface: Redis failures are 503, damaged data a fresh session."""

    def __init__(self, *args, **kwargs):
        """Set up Flask-Session's interface, then swap in a serializer that never unpickles."""
        super().__init__(*args, **kwargs)
        self.serializer = MsgpackOnlySerializer()

    def _call(self, doing, method, *args, **kwargs):
        return call_redis(self.url, doing, method, *args, **kwargs)

    def _retrieve_session_data(self, store_id):
        """Load a session; data that does not decode to a dict starts a fresh session."""
        raw = self._call("loading this session", self.client.get, store_id)
        if not raw:
            return None
        return decode_session(raw, f"{log_name(store_id)} in Redis")

    def _upsert_session(self, session_lifetime, session, store_id):
        """Save a session with its lifetime as the Redis expiry."""
        self._call("saving this session", super()._upsert_session,
                   session_lifetime, session, store_id)

    def _delete_session(self, store_id):
        """Delete a session."""
        self._call("deleting this session", super()._delete_session, store_id)


def make_redis_interface(app):
    """Build the Redis session interface (and its locks) from app.config."""
    url = app.config["REDIS_URL"]
    interface = RedisSessionStore(app, client=client_for(app))
    interface.url = url
    if app.config["SESSION_LOCK"]:
        interface.locks = RedisSessionLocks(interface.client, app.config["SESSION_LOCK_TIMEOUT"],
                                            url=url)
    return interface
