"""What the Redis strategies share: the app's client, a key per strategy, read and reset."""

from ..redis_sessions import call_redis, client_for
from .base import CounterStrategy


class RedisStrategy(CounterStrategy):
    """A counter kept under one Redis key, as a number Redis can INCR."""

    store = "redis"
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
        self.key = f"session-counter:shared:{self.name}"

    def _run(self, doing, method, *args, if_ran=""):
        return call_redis(self.url, doing, method, *args, if_ran=if_ran)

    @staticmethod
    def parse(raw):
        """Return the stored number (0 when unset or not a number)."""
        return int(raw) if raw is not None and raw.strip().lstrip(b"-").isdigit() else 0

    def current(self):
        """Return the stored value (0 when unset or not a number)."""
        return self.parse(self._run("reading the shared counter", self.client.get, self.key))

    def reset(self):
        """Store 0."""
        self._run("resetting the shared counter", self.client.set, self.key, 0)
