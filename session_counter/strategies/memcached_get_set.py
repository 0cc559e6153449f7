"""get, then set, in memcached: a store every machine shares, used the unsafe way."""

from .base import READ_THEN_WRITE
from .memcached_store import MemcachedStrategy
from .namespaces import DEFAULT


class MemcachedGetSet(MemcachedStrategy):
    """Two clients can both get 5 and both set 6: the store is shared, the step is not."""

    name = "memcached_get_set"
    description = ("get then set(value + 1) in memcached: shared by every machine, but the "
                   "read and the write are two commands, and another client fits between.")
    safe_against = frozenset()
    technique = READ_THEN_WRITE

    def increment(self, namespace=DEFAULT):
        """Read, add one, write back: the race is between the get and the set."""
        value = self.mark_read(self.current(namespace)) + 1
        self.widen_race_window()
        self._run("storing the next number", self.client.set, self.key_in(namespace),
                  str(value).encode())
        return self.mark_wrote(value)
