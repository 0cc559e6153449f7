"""WATCH/MULTI/EXEC in Redis: optimistic, the write is dropped if the key changed, then retried."""

import functools

from redis.exceptions import WatchError

from .base import COMPARE_AND_SWAP, MACHINES, PROCESSES, THREADS
from .namespaces import DEFAULT
from .redis_store import RedisStrategy


class RedisWatch(RedisStrategy):
    """EXEC runs the queued SET only if no one wrote the WATCHed key since WATCH."""

    name = "redis_watch"
    description = ("WATCH the key, GET it, then MULTI / SET value + 1 / EXEC: Redis drops the "
                   "transaction if anyone wrote the key in between, and the client tries again.")
    safe_against = frozenset({THREADS, PROCESSES, MACHINES})
    technique = COMPARE_AND_SWAP

    def increment(self, namespace=DEFAULT):
        """Read and try to write value + 1 until no one else wrote in between."""
        return self.retry_until_swapped(functools.partial(self._attempt, namespace))

    def _attempt(self, namespace=DEFAULT):
        """One WATCH, GET, MULTI/SET/EXEC: the new number, or None when EXEC was dropped."""
        return self._run("handing out the next number", self._watch_and_set,
                         self.key_in(namespace),
                         if_ran="if so, its number is used up and never handed out")

    def _watch_and_set(self, key):
        with self.client.pipeline() as pipe:
            try:
                pipe.watch(key)
                value = self.mark_read(self.parse(pipe.get(key))) + 1
                self.widen_race_window()
                pipe.multi()
                pipe.set(key, value)
                pipe.execute()
            except WatchError:
                return None
        return self.mark_wrote(value)
