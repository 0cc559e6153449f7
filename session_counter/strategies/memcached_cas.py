"""gets/cas in memcached: read with a version, write only if nobody wrote since, else retry."""

import functools

from .base import COMPARE_AND_SWAP, MACHINES, PROCESSES, THREADS
from .memcached_store import MemcachedStrategy
from .namespaces import DEFAULT


class MemcachedCAS(MemcachedStrategy):
    """cas stores only if the item's version is still the one gets returned."""

    name = "memcached_cas"
    description = ("gets the value and its version, then cas(value + 1, version): memcached "
                   "refuses the write if anyone wrote in between, and the client tries again.")
    safe_against = frozenset({THREADS, PROCESSES, MACHINES})
    technique = COMPARE_AND_SWAP

    def increment(self, namespace=DEFAULT):
        """Read and try to write value + 1 until no one else wrote in between."""
        return self.retry_until_swapped(functools.partial(self._attempt, namespace))

    def _attempt(self, namespace=DEFAULT):
        """One gets and one cas: the new number, or None when another client wrote first."""
        key = self.key_in(namespace)
        raw, version = self._run("reading the shared counter", self.client.gets, key)
        value = self.mark_read(self.parse(raw, namespace)) + 1
        self.widen_race_window()
        stored = self._run("storing the next number", self.client.cas, key,
                           str(value).encode(), version)
        if stored is None:  # NOT_FOUND: the key vanished (a restart, an eviction)
            raise self.lost()
        return self.mark_wrote(value) if stored else None
