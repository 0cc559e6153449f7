"""What the Redis strategies share: the app's client, a key per strategy, read and reset."""

from redis.exceptions import RedisError

from ..clients.redis import call_redis, client_for
from .base import CounterStrategy, Remembered
from .namespaces import DEFAULT, race_only, scoped


def persistence_losses(config):
    """Say what this Redis can lose, from its CONFIG GET appendonly appendfsync save."""
    if config.get("appendonly") == "yes":
        if config.get("appendfsync") == "always":
            return ()
        return (f"a power cut or kernel crash: the last increments not yet fsynced "
                f"(appendonly yes, appendfsync {config.get('appendfsync')})",)
    if config.get("save"):
        return ("a crash or restart of Redis: every increment since its last RDB snapshot "
                f"(save {config['save']!r}, appendonly no)",)
    return ("a restart of Redis: it keeps the count in memory only (no appendonly, no save)",)


def ask_persistence(client):
    """Ask Redis how it persists; return loses_count_on for a counter kept in it."""
    try:
        return persistence_losses(client.config_get("appendonly", "appendfsync", "save"))
    except RedisError as error:
        return ("a restart of Redis, unless it runs with appendonly yes and appendfsync "
                f"always (could not ask it: {type(error).__name__})",)


class RedisStrategy(CounterStrategy):
    """A counter kept under one Redis key, as a number Redis can INCR."""

    store = "redis"
    state_lives_in = "global"  # one number in Redis, for every instance
    requires = "Redis: set SESSION_COUNTER_REDIS_URL (the race lab: --redis-url)"
    needs_setting = "REDIS_URL"

    def __init__(self, app):
        """Share the app's Redis client (and its connection pool)."""
        super().__init__(app)
        self.url = app.config["REDIS_URL"]
        self.client = client_for(app)
        self.key = f"session-counter:shared:{self.name}"
        self.persistence = Remembered.shared(app, "redis_persistence",
                                             lambda: ask_persistence(self.client))

    @property
    def loses_count_on(self):
        """What this Redis can lose, as Redis itself says (CONFIG SET can change it)."""
        return self.persistence.get()

    def _run(self, doing, method, *args, if_ran=""):
        return call_redis(self.url, doing, method, *args, if_ran=if_ran)

    @staticmethod
    def parse(raw):
        """Return the stored number (0 when unset or not a number)."""
        return int(raw) if raw is not None and raw.strip().lstrip(b"-").isdigit() else 0

    def key_in(self, namespace):
        """Return the key of this strategy's counter in ``namespace``."""
        return scoped(self.key, namespace)

    def current(self, namespace=DEFAULT):
        """Return the stored value (0 when unset or not a number)."""
        return self.parse(self._run("reading the shared counter", self.client.get,
                                    self.key_in(namespace)))

    def reset(self, namespace=DEFAULT):
        """Store 0."""
        self._run("resetting the shared counter", self.client.set, self.key_in(namespace), 0)

    def forget(self, namespace):
        """Delete a race's key."""
        self._run("dropping a race's counter", self.client.delete,
                  self.key_in(race_only(namespace)))
