"""INCR in Redis: one atomic command on a server every machine can reach."""

from ..redis_sessions import call_redis, client_for
from .base import ATOMIC, MACHINES, PROCESSES, THREADS, CounterStrategy

KEY = "session-counter:shared"


class RedisCounter(CounterStrategy):
    """Redis runs one command at a time, so INCR adds one and reads it in one step."""

    name = "redis"
    description = ("INCR in Redis: the server adds one and returns the new value in one "
                   "command, for every thread, process and machine that shares the Redis.")
    safe_against = frozenset({THREADS, PROCESSES, MACHINES})
    store = "redis"
    technique = ATOMIC
    state_lives_in = "global"  # one number in Redis, for every instance
    requires = "Redis: set SESSION_COUNTER_REDIS_URL (the race lab: --redis-url)"

    @classmethod
    def available(cls, app):
        """Only when SESSION_COUNTER_REDIS_URL names a Redis."""
        return bool(app.config.get("REDIS_URL"))

    def __init__(self, app):
        """Share the app's Redis client (and its connection pool)."""
        super().__init__(app)
        self.url = app.config["REDIS_URL"]
        self.client = client_for(app)

    def _run(self, doing, method, *args):
        return call_redis(self.url, doing, method, *args)

    def increment(self):
        """Add one and return the new value; no window between read and write to widen."""
        return int(self._run("handing out the next number", self.client.incr, KEY))

    def current(self):
        """Return the stored value (0 when unset or not a number)."""
        raw = self._run("reading the shared counter", self.client.get, KEY)
        return int(raw) if raw is not None and raw.strip().lstrip(b"-").isdigit() else 0

    def reset(self):
        """Store 0."""
        self._run("resetting the shared counter", self.client.set, KEY, 0)
