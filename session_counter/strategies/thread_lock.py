"""The question's object behind a threading.Lock: right across threads, not processes."""

import threading

from .base import THREADS, CounterStrategy
from .naive_global import Counter

counter = Counter()
lock = threading.Lock()


class ThreadLock(CounterStrategy):
    """Safe across the threads of one process; each worker process counts alone."""

    name = "thread_lock"
    description = ("The same global object behind a threading.Lock: no thread race, "
                   "but each worker process still has its own counter.")
    safe_against = frozenset({THREADS})

    def increment(self):
        """Increment and read under the lock, so no two threads see the same number."""
        with lock:
            return counter.inc(self.widen_race_window)

    def current(self):
        """Return this process's value."""
        with lock:
            return counter.param

    def reset(self):
        """Reset this process's value."""
        with lock:
            counter.param = 0
