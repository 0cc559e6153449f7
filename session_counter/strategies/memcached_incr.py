"""incr in memcached: one atomic command on a server every machine can reach."""

from .base import ATOMIC, MACHINES, PROCESSES, THREADS
from .memcached_store import MemcachedStrategy
from .namespaces import DEFAULT


class MemcachedIncr(MemcachedStrategy):
    """memcached adds one and returns the new value in one command, under its item lock."""

    name = "memcached"
    description = ("incr in memcached: the server adds one and returns the new value in one "
                   "command, for every thread, process and machine that shares it.")
    safe_against = frozenset({THREADS, PROCESSES, MACHINES})
    technique = ATOMIC

    def increment(self, namespace=DEFAULT):
        """Add one and return the new value; a missing key (memcached lost it) is refused."""
        value = self._run("handing out the next number", self.client.incr,
                          self.key_in(namespace), 1)
        if value is None:  # incr does not create the key: see memcached_store
            raise self.lost()
        return self.mark_atomic(int(value))
