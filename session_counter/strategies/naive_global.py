"""The question's code: a module-global object whose counter every request increments."""

from .base import READ_THEN_WRITE, CounterStrategy


class Counter:
    """Exactly the object from the question."""

    def __init__(self):
        self.param = 0

    def inc(self, pause=lambda: None):
        """Increment and return; ``pause`` widens the race window (a no-op by default)."""
        self.param += 1
        pause()
        return self.param


# One per process: threads share it, worker processes each have their own copy.
counter = Counter()


class NaiveGlobal(CounterStrategy):
    """Unsafe everywhere: a read-modify-write on a module global, with no lock."""

    name = "naive_global"
    description = ("A module global, incremented with self.param += 1: threads race on "
                   "it and every worker process has its own copy.")
    safe_against = frozenset()
    store = "process"
    technique = READ_THEN_WRITE
    state_lives_in = "process"
    loses_count_on = ("a restart of its worker process: the count is in that process's "
                      "memory, and each worker has its own",)

    def increment(self):
        """Run the question's code."""
        return counter.inc(self.widen_race_window)

    def current(self):
        """Return this process's copy of the value."""
        return counter.param

    def reset(self):
        """Reset this process's copy (other workers keep theirs)."""
        counter.param = 0
