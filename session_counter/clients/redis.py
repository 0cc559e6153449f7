"""The Redis client: one per app, failing fast, reconnecting by itself, 503 on failure."""

import redis
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from ..errors import StoreUnavailable
from . import redacted

# A dead Redis must not hang requests: connect and read fail within these many seconds.
CONNECT_TIMEOUT = 1.0
SOCKET_TIMEOUT = 2.0


class ConnectFailed(redis.exceptions.ConnectionError):
    """Opening a connection failed: none of the caller's commands reached Redis yet."""


class _ConnectFailuresMarked:
    """Mixed into redis-py's connection class: a failure while connecting (the socket or
    the HELLO handshake) is raised as ConnectFailed, the one error safe to retry."""

    def connect_check_health(self, *args, **kwargs):
        """Connect as redis-py does; tell connect failures apart from command failures."""
        try:
            return super().connect_check_health(*args, **kwargs)
        except ConnectFailed:
            raise
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as error:
            raise ConnectFailed(*error.args) from error


def connect(url):
    """Return a redis.Redis for ``url`` that fails fast and reconnects by itself.

    Only a connection that failed while opening is retried (once, after a short pause):
    no command was sent on it. A command whose connection broke after it was sent is
    never sent again: redis-py raises the same ConnectionError ("Connection closed by
    server") whether or not Redis ran it, and a second INCR would skip a number, a
    second SET NX would find its own lock and lock the client out. A pooled connection
    whose Redis went away is noticed (and reopened) by the pool before a command is
    sent on it. Flask-Session's own retry_query decorator sits on the abstract methods
    only, so it never wraps the Redis calls.
    """
    pool = redis.ConnectionPool.from_url(
        url, socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=SOCKET_TIMEOUT,
        retry=Retry(ExponentialBackoff(cap=0.1, base=0.02), 1, supported_errors=(ConnectFailed,)))
    base = pool.connection_class
    pool.connection_class = type(base.__name__, (_ConnectFailuresMarked, base), {})
    return redis.Redis(connection_pool=pool)


def may_have_run(error):
    """Tell whether a failed call may have run in Redis anyway (its answer was lost)."""
    return (isinstance(error, (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError))
            and not isinstance(error, ConnectFailed))


def client_for(app):
    """Return the app's one Redis client; sessions and the `redis` strategy share its pool."""
    client = app.extensions.get("redis_client")
    if client is None:
        client = app.extensions["redis_client"] = connect(app.config["REDIS_URL"])
    return client


def call_redis(url, doing, method, *args, if_ran="", **kwargs):
    """Run one Redis call; a Redis failure becomes the 503 that says what was being done."""
    try:
        return method(*args, **kwargs)
    except RedisError as error:
        raise unavailable(url, error, doing, if_ran) from error


def unavailable(url, error, doing, if_ran=""):
    """Return the StoreUnavailable (503) for a Redis call that failed while ``doing``;
    ``if_ran`` says what it means when the call may have run (its answer was lost)."""
    if may_have_run(error):
        outcome = "it may have run, and is not sent again" + (f": {if_ran}" if if_ran else "")
    else:
        outcome = "nothing was changed"
    return StoreUnavailable(f"Redis at {redacted(url)} failed while {doing} "
                            f"({error}); {outcome}. Try again when Redis is back.")
