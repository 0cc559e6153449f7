"""The question's code: a module-global object whose counter every request increments."""

from .base import READ_THEN_WRITE, READ_WRITE, WRITE_RETURN, CounterStrategy
from .namespaces import DEFAULT, ProcessTable, race_only


class Counter:
    """Exactly the object from the question."""

    def __init__(self):
        self.param = 0

    def inc(self, steps=None):
        """Increment and return: the question's two lines, exactly, unless ``steps`` is given."""
        if steps is None:
            self.param += 1
            return self.param
        return self.inc_in_steps(steps)

    def inc_in_steps(self, steps):
        """``self.param += 1`` in the steps CPython runs it in (load, add, store), then return.

        ``steps`` (the strategy) marks the read and the write for a trace and widens one
        gap: READ_WRITE between the load and the store (lost updates), WRITE_RETURN between
        the store and the return, which re-reads the shared value (duplicates and gaps).
        """
        value = steps.mark_read(self.param)
        steps.widen_race_window(READ_WRITE)
        self.param = steps.mark_wrote(value + 1)
        steps.widen_race_window(WRITE_RETURN)
        return self.param


# One per process: threads share it, worker processes each have their own copy.
counter = Counter()
# A race's own object, the same class, as global as the table's (one per process too).
counters = ProcessTable(Counter, default=counter)


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
    window_gap = WRITE_RETURN
    counters = counters

    def __init__(self, app):
        """Let this process's table of race counters ask the app which races are live."""
        super().__init__(app)
        self.counters.serve(app)

    def steps(self):
        """Return self when the increment must run in visible steps (a window or a trace)."""
        return self if self.race_window > 0 or self.tracing() else None

    def increment(self, namespace=DEFAULT):
        """Run the question's code (in steps when widened or traced)."""
        return self.counters.get(namespace).inc(self.steps())

    def current(self, namespace=DEFAULT):
        """Return this process's copy of the value."""
        return self.counters.get(namespace).param

    def reset(self, namespace=DEFAULT):
        """Reset this process's copy (other workers keep theirs)."""
        self.counters.get(namespace).param = 0

    def forget(self, namespace):
        """Drop this process's copy of a race's counter (others drop theirs when full)."""
        self.counters.forget(race_only(namespace))
