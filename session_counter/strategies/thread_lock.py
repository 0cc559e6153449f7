"""The question's object behind a threading.Lock: right across threads, not processes."""

import threading

from .base import LOCK, THREADS, WRITE_RETURN, CounterStrategy
from .naive_global import Counter, NaiveGlobal
from .namespaces import DEFAULT, ProcessTable

counter = Counter()
counters = ProcessTable(Counter, default=counter)  # a race's own object, per process too


class ThreadLock(CounterStrategy):
    """Safe across the threads of one process; each worker process counts alone."""

    name = "thread_lock"
    description = ("The same global object behind a threading.Lock: no thread race, "
                   "but each worker process still has its own counter.")
    safe_against = frozenset({THREADS})
    store = "process"
    technique = LOCK
    state_lives_in = "process"
    loses_count_on = ("a restart of its worker process: the count is in that process's "
                      "memory, and each worker has its own",)
    window_gap = WRITE_RETURN
    steps = NaiveGlobal.steps
    forget = NaiveGlobal.forget
    counters = counters

    def __init__(self, app):
        """Make the lock when the app is built, in the worker that will use it.

        gunicorn's gevent worker patches threading after the master has imported this
        module; a real lock held across a gevent yield (RACE_WINDOW) deadlocks the worker.
        """
        super().__init__(app)
        self.lock = threading.Lock()  # one lock for every namespace: as safe, never less
        self.counters.serve(app)

    def increment(self, namespace=DEFAULT):
        """Increment and read under the lock, so no two threads see the same number."""
        with self.lock:
            return self.counters.get(namespace).inc(self.steps())

    def current(self, namespace=DEFAULT):
        """Return this process's value."""
        with self.lock:
            return self.counters.get(namespace).param

    def reset(self, namespace=DEFAULT):
        """Reset this process's value."""
        with self.lock:
            self.counters.get(namespace).param = 0
