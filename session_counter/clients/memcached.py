"""The memcached client: one pooled pymemcache client per app, failing fast, 503 on failure."""

import socket
from urllib.parse import urlsplit

from pymemcache.client.base import PooledClient
from pymemcache.exceptions import MemcacheError, MemcacheUnexpectedCloseError

from ..errors import StoreUnavailable
from . import redacted

DEFAULT_PORT = 11211
# A dead memcached must not hang requests: connect and read fail within these many seconds.
CONNECT_TIMEOUT = 1.0
SOCKET_TIMEOUT = 2.0


def parse_memcached_url(url):
    """Return (host, port) of a memcached://host:port URL; ValueError for anything else."""
    if not isinstance(url, str):
        raise ValueError(f"expected memcached://host:port, got {type(url).__name__}")
    parts = urlsplit(url)
    if parts.scheme != "memcached" or not parts.hostname:
        raise ValueError("expected memcached://host:port")
    return parts.hostname, parts.port or DEFAULT_PORT  # .port raises ValueError if bad


def connect(url):
    """Return a thread-safe client for ``url``: pooled connections, reopened after a failure.

    ``default_noreply=False``: pymemcache's default sends set/add without waiting for the
    answer and returns True whatever happened, so a failed write would look like success.
    """
    return PooledClient(parse_memcached_url(url), connect_timeout=CONNECT_TIMEOUT,
                        timeout=SOCKET_TIMEOUT, no_delay=True, default_noreply=False)


def client_for(app):
    """Return the app's one memcached client; every memcached strategy shares its pool."""
    client = app.extensions.get("memcached_client")
    if client is None:
        client = app.extensions["memcached_client"] = connect(app.config["MEMCACHED_URL"])
    return client


def call_memcached(url, doing, method, *args, **kwargs):
    """Run one memcached call; a failure becomes the 503 that says what was being done.

    A failed call closes its connection (pymemcache does), so the next request connects
    anew: once memcached is back, it works without a restart of the app.
    """
    try:
        return method(*args, **kwargs)
    except (MemcacheError, OSError) as error:
        raise unavailable(url, error, doing) from error


def unavailable(url, error, doing):
    """Return the StoreUnavailable (503) for a memcached call that failed while ``doing``."""
    # a timeout or a connection closed mid-answer: the server may have run the command
    unsure = isinstance(error, (socket.timeout, MemcacheUnexpectedCloseError))
    outcome = "the change may or may not be made" if unsure else "nothing was changed"
    reason = str(error) or type(error).__name__
    return StoreUnavailable(f"memcached at {redacted(url)} failed while {doing} "
                            f"({reason}); {outcome}. Try again when memcached is back.")
