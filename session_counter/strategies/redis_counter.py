"""INCR in Redis: one atomic command on a server every machine can reach."""

from .base import ATOMIC, MACHINES, PROCESSES, THREADS
from .namespaces import DEFAULT
from .redis_store import RedisStrategy


class RedisCounter(RedisStrategy):
    """Redis runs one command at a time, so INCR adds one and reads it in one step."""

    name = "redis"
    description = ("INCR in Redis: the server adds one and returns the new value in one "
                   "command, for every thread, process and machine that shares the Redis.")
    safe_against = frozenset({THREADS, PROCESSES, MACHINES})
    technique = ATOMIC

    def __init__(self, app):
        """Keep the key of the first Redis strategy, so a running deployment keeps its count."""
        super().__init__(app)
        self.key = "session-counter:shared"

    def increment(self, namespace=DEFAULT):
        """Add one and return the new value; no window between read and write to widen.

        An INCR whose answer was lost is not sent again (see redis_sessions.connect): its
        number, if it ran, is used up like that of a request cut off mid-way.
        """
        return self.mark_atomic(int(self._run(
            "handing out the next number", self.client.incr, self.key_in(namespace),
            if_ran="if so, its number is used up and never handed out")))
