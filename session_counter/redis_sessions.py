"""Per-client sessions in Redis: Flask-Session's Redis interface, locked and checked.

With ``SESSION_COUNTER_REDIS_URL`` set, every instance of the app (every machine) reads
and writes the same sessions, and the per-session lock is a Redis lock, so it holds
across machines too. A Redis that cannot be reached answers 503, and redis-py opens
new connections by itself once Redis is back.
"""

import logging
import os
import socket
import uuid
from urllib.parse import urlsplit

import redis
from flask_session.redis import RedisSessionInterface
from redis.backoff import ExponentialBackoff
from redis.exceptions import LockError, RedisError
from redis.retry import Retry

from .errors import StoreUnavailable
from .session_lock import SessionLockTimeout
from .session_codec import MsgpackOnlySerializer, decode_session
from .sessions import LockingSessionMixin

log = logging.getLogger(__name__)

# A dead Redis must not hang requests: connect and read fail within these many seconds.
CONNECT_TIMEOUT = 1.0
SOCKET_TIMEOUT = 2.0
# A session lock expires this long after it was taken, so a request killed while
# holding it (a crashed worker, a lost machine) blocks its client for this long at most.
LOCK_LEASE = 30.0


def connect(url):
    """Return a redis.Redis for ``url`` that fails fast and reconnects by itself.

    One retry after a short pause: after Redis restarts, each pooled connection fails
    once and is reopened. redis-py's default (10 retries, up to 1 s apart) would keep
    a request waiting several seconds before its 503. Flask-Session's own retry_query
    decorator sits on the abstract methods only, so it never wraps the Redis calls.
    """
    return redis.Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT,
                                socket_timeout=SOCKET_TIMEOUT,
                                # only a refused or dropped connection is retried: a command
                                # that timed out may have run, and INCR must not run twice
                                retry=Retry(ExponentialBackoff(cap=0.1, base=0.02), 1,
                                            supported_errors=(redis.exceptions.ConnectionError,)))


def client_for(app):
    """Return the app's one Redis client; sessions and the `redis` strategy share its pool."""
    client = app.extensions.get("redis_client")
    if client is None:
        client = app.extensions["redis_client"] = connect(app.config["REDIS_URL"])
    return client


def redacted(url):
    """Return ``url`` with any password replaced by ***, for messages and logs."""
    url = str(url)
    try:
        password = urlsplit(url).password
    except ValueError:  # not even a URL: hide whatever stands before an @
        return url if "@" not in url else "***@" + url.rsplit("@", 1)[1]
    return url if password is None else url.replace(f":{password}@", ":***@", 1)


def call_redis(url, doing, method, *args, **kwargs):
    """Run one Redis call; a Redis failure becomes the 503 that says what was being done."""
    try:
        return method(*args, **kwargs)
    except RedisError as error:
        raise unavailable(url, error, doing) from error


def unavailable(url, error, doing):
    """Return the StoreUnavailable (503) for a Redis call that failed while ``doing``."""
    timed_out = isinstance(error, redis.exceptions.TimeoutError)
    outcome = "the change may or may not be made" if timed_out else "nothing was changed"
    return StoreUnavailable(f"Redis at {redacted(url)} failed while {doing} "
                            f"({error}); {outcome}. Try again when Redis is back.")


class RedisSessionLocks:
    """Per-session locks in Redis: one client's requests take turns on every machine."""

    def __init__(self, client, timeout, lease=LOCK_LEASE, url=""):
        """Wait at most ``timeout`` seconds for a lock; a held lock expires after ``lease``."""
        self.client = client
        self.timeout = timeout
        self.lease = lease
        self.url = url

    @staticmethod
    def token():
        """Return a new lock value that says who holds the lock: host, pid, then random."""
        return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"

    def acquire(self, key):
        """Lock the session stored under ``key``; return a handle with release()."""
        lock = self.client.lock(f"lock:{key}", timeout=self.lease, sleep=0.005,
                                blocking_timeout=self.timeout, thread_local=False)
        try:
            acquired = lock.acquire(token=self.token())
        except RedisError as error:
            raise unavailable(self.url, error, "locking this session") from error
        if not acquired:
            raise SessionLockTimeout(
                f"this session has been busy for {self.timeout:g} s "
                "(other requests of the same client hold it); try again")
        return _RedisLockHandle(lock)


class _RedisLockHandle:
    """A held Redis lock; release() is safe to call more than once and never raises."""

    def __init__(self, lock):
        self._lock = lock

    def release(self):
        """Give the lock back; if Redis is gone, the lease frees it later."""
        lock, self._lock = self._lock, None
        if lock is None:
            return
        try:
            lock.release()
        except LockError:
            log.warning("a session lock expired before its request finished (lease %g s)",
                        lock.timeout)
        except RedisError as error:
            log.warning("could not release a session lock (%s); it expires by itself", error)


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
        return decode_session(raw, f"session {store_id} in Redis")

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
