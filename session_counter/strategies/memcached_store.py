"""What the memcached strategies share: the client, the key, and a lost count refused.

memcached keeps everything in memory: a restart (or an eviction) loses the counter.
``incr`` on a missing key fails, and the usual repair, ``add`` the key back at 0 and
``incr`` again, is atomic but would silently hand out 1, 2, 3... a second time. So a
missing counter is refused (503, saying why) until someone resets it on purpose:
a reset is the only thing that creates the key.
"""

from ..clients.memcached import call_memcached, client_for
from ..errors import StoreUnavailable
from .base import CounterStrategy
from .namespaces import DEFAULT, race_only, scoped


class CounterLost(StoreUnavailable):
    """memcached holds no counter: it restarted, evicted it, or it was never reset."""


class MemcachedStrategy(CounterStrategy):
    """A counter kept under one memcached key, as decimal digits (what ``incr`` needs)."""

    store = "memcached"
    state_lives_in = "global"  # one number in memcached, for every instance
    requires = "memcached: set SESSION_COUNTER_MEMCACHED_URL (the race lab: --memcached-url)"
    needs_setting = "MEMCACHED_URL"
    loses_count_on = ("a restart of memcached (or an eviction): it keeps the count in memory "
                      "only, and the counter then answers 503 until it is reset",)

    def __init__(self, app):
        """Share the app's memcached client (and its pool); the key is the strategy's name."""
        super().__init__(app)
        self.url = app.config["MEMCACHED_URL"]
        self.client = client_for(app)
        self.key = f"session-counter:shared:{self.name}"

    def _run(self, doing, method, *args, **kwargs):
        return call_memcached(self.url, doing, method, *args, **kwargs)

    def lost(self):
        """Return the 503 for a counter that is not in memcached."""
        return CounterLost(
            f"memcached at {self.url} holds no {self.name} counter: it restarted (memcached "
            "keeps nothing on disk), evicted it, or it was never started. Numbers already "
            "handed out would be handed out again, so none is. Reset it "
            f"(POST /shared/{self.name}/reset) to start again from 0.")

    def key_in(self, namespace):
        """Return the key of this strategy's counter in ``namespace``."""
        return scoped(self.key, namespace)

    def parse(self, raw, namespace=DEFAULT):
        """Return the stored number; a missing key is a lost counter, not a zero."""
        if raw is None:
            raise self.lost()
        try:
            return int(raw)
        except ValueError:
            raise StoreUnavailable(f"memcached at {self.url} holds {raw[:40]!r} under "
                                   f"{self.key_in(namespace)}, not a number; reset the "
                                   "counter") from None

    def current(self, namespace=DEFAULT):
        """Return the stored value (503 when memcached has lost it)."""
        return self.parse(self._run("reading the shared counter", self.client.get,
                                    self.key_in(namespace)), namespace)

    def reset(self, namespace=DEFAULT):
        """Store 0: the one way a counter starts (again); a race's starts with the race."""
        key = self.key_in(namespace)
        if not self._run("resetting the shared counter", self.client.set, key, b"0"):
            raise StoreUnavailable(f"memcached at {self.url} refused to store {key}")

    def forget(self, namespace):
        """Delete a race's key."""
        self._run("dropping a race's counter", self.client.delete,
                  self.key_in(race_only(namespace)))
