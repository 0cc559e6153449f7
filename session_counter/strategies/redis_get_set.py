"""GET, then SET, in Redis: a store every machine shares, used the unsafe way."""

from .base import READ_THEN_WRITE
from .namespaces import DEFAULT
from .redis_store import RedisStrategy


class RedisGetSet(RedisStrategy):
    """Two clients can both GET 5 and both SET 6: the store is shared, the step is not."""

    name = "redis_get_set"
    description = ("GET then SET value + 1 in Redis: shared by every machine, but the read "
                   "and the write are two commands, and another client fits between.")
    safe_against = frozenset()
    technique = READ_THEN_WRITE

    def increment(self, namespace=DEFAULT):
        """Read, add one, write back: the race is between the GET and the SET."""
        value = self.mark_read(self.current(namespace)) + 1
        self.widen_race_window()
        self._run("storing the next number", self.client.set, self.key_in(namespace), value)
        return self.mark_wrote(value)
