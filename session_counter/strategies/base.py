"""What a shared-counter strategy is: one interface, what it is safe against, how it works."""

import threading
import time
from abc import ABC, abstractmethod

from ..errors import StoreUnavailable
from . import trace
from .namespaces import DEFAULT

THREADS = "threads"
PROCESSES = "processes"
MACHINES = "machines"
SCOPES = (THREADS, PROCESSES, MACHINES)
# A caller that loses this many swaps in a row gives up (503; nothing handed out):
# a bound, never reached by the lab's hundreds of clients.
MAX_SWAP_RETRIES = 10_000

# The gaps of a read-then-write that the race lab's window can open (RACE_WINDOW_AT).
READ_WRITE = "read-write"  # between the read and the write: two callers read the same value
WRITE_RETURN = "write-return"  # between the write and a return that re-reads the shared value
WINDOW_GAPS = (READ_WRITE, WRITE_RETURN)

# How a strategy hands out a number: the column of the matrix, which decides its safety.
READ_THEN_WRITE = "read-then-write"
LOCK = "lock"
ATOMIC = "atomic"
COMPARE_AND_SWAP = "compare-and-swap"
TECHNIQUES = (READ_THEN_WRITE, LOCK, ATOMIC, COMPARE_AND_SWAP)

# Where the number is kept: the row of the matrix. {id: label}, in the order shown.
STORES = {
    "process": "process memory",
    "flask-caching": "Flask-Caching, filesystem",
    "file": "a file",
    "manager": "Manager process",
    "sqlite": "SQLite",
    "postgresql": "PostgreSQL",
    "redis": "Redis",
    "memcached": "memcached",
}


class Remembered:
    """An answer asked of a store at most every ``keep_for`` seconds, shared by threads.

    For what a store says about itself (its persistence settings): asked when first
    needed, then believed for a while, since a setting can change at run time.
    """

    def __init__(self, ask, keep_for=30.0):
        """``ask()`` returns the answer (and handles its own failures)."""
        self._ask, self.keep_for = ask, keep_for
        self._answer, self._until = None, 0.0
        self._lock = threading.Lock()

    @classmethod
    def shared(cls, app, name, ask):
        """Return the app's Remembered called ``name``, made on first use: every strategy
        of one store shares it (one question to the server, not one per strategy)."""
        remembered = app.extensions.get(name)
        if remembered is None:
            remembered = app.extensions[name] = cls(ask)
        return remembered

    def get(self):
        """Return the answer, asking again when it is older than ``keep_for``."""
        with self._lock:
            if time.monotonic() >= self._until:
                self._answer = self._ask()
                self._until = time.monotonic() + self.keep_for
            return self._answer


class CounterStrategy(ABC):
    """A shared counter: ``increment`` hands out the next number, atomically or not.

    Subclasses set ``name`` (the URL segment), ``description`` (one sentence for the
    page), ``safe_against`` (the scopes within which no two callers can get the
    same number: threads of one process, processes of one machine, machines), ``store``
    (a key of STORES) and ``technique`` (one of TECHNIQUES).
    """

    name: str
    description: str
    safe_against: frozenset = frozenset()
    store: str
    technique: str
    #: Where the number lives: "process" (a module global: every worker process has its
    #: own copy), "instance" (a file or process of one server) or "global" (a store
    #: every instance shares). The race lab reads it to know how to reset and read back.
    state_lives_in: str = "instance"
    #: When available() can be False: what the strategy needs, said to the user.
    requires: str = ""
    #: What can make the store lose its count, after which numbers already handed out
    #: could be handed out again (or are refused until a reset): short phrases, shown on
    #: the page and in /api/strategies. () means it keeps its count through all of them.
    #: Every strategy must say (None is refused by a test): a label must never claim
    #: more than the store keeps.
    loses_count_on: tuple | None = None
    #: The gap RACE_WINDOW opens when RACE_WINDOW_AT does not name one.
    window_gap: str = READ_WRITE

    # The trace API (see trace.py): every increment marks where it reads and writes.
    mark_read = staticmethod(trace.mark_read)
    mark_wrote = staticmethod(trace.mark_wrote)
    mark_atomic = staticmethod(trace.mark_atomic)
    tracing = staticmethod(trace.tracing)

    def __init__(self, app):
        """Read what the strategy needs from app.config; open nothing yet."""
        self.race_window = float(app.config.get("RACE_WINDOW", 0.0))
        self.window_at = app.config.get("RACE_WINDOW_AT") or self.window_gap
        self.retries = 0  # compare-and-swap: lost swaps retried by this process, in all
        self._retries_lock = threading.Lock()
        self._last = threading.local()  # retries of this thread's last increment

    #: The setting naming the store this strategy needs (e.g. "REDIS_URL"); None: none.
    needs_setting: str | None = None

    @classmethod
    def available(cls, app):
        """Tell whether this strategy can run with this app's configuration (its store is set)."""
        return cls.needs_setting is None or bool(app.config.get(cls.needs_setting))

    # Every method takes the namespace of the counter (namespaces.py): DEFAULT is the
    # table's counter, a race id a race's own, kept where the strategy keeps its own.

    @abstractmethod
    def increment(self, namespace=DEFAULT):
        """Add one and return the number this caller gets."""

    @abstractmethod
    def current(self, namespace=DEFAULT):
        """Return the stored value without changing it."""

    @abstractmethod
    def reset(self, namespace=DEFAULT):
        """Set the counter back to 0 (for a race: create it at 0)."""

    @abstractmethod
    def forget(self, namespace):
        """Drop a race's counter from the store (never the table's); a missing one is fine."""

    def widen_race_window(self, gap=READ_WRITE):
        """Pause in ``gap`` when RACE_WINDOW is set and RACE_WINDOW_AT is that gap.

        Strategies call it at each gap their code has (most only between read and write).
        With a window of 0 nothing happens and the code is exactly the question's.
        ``time.sleep`` is looked up at call time so gevent's patched sleep yields.
        """
        if self.race_window > 0 and gap == self.window_at:
            time.sleep(self.race_window)

    def retry_until_swapped(self, attempt):
        """Call ``attempt()`` until it returns a number (None: the swap lost); count retries.

        For compare-and-swap strategies: ``attempt`` reads, then writes only if the
        value is still what it read. Each lost swap is one retry: contention made visible.
        """
        retries = 0
        while (value := attempt()) is None:
            retries += 1
            if retries > MAX_SWAP_RETRIES:
                self._count_retries(retries)
                raise StoreUnavailable(f"{self.name}: lost {retries} swaps in a row; gave up")
        self._last.retries = retries
        self._count_retries(retries)
        return value

    def _count_retries(self, retries):
        """Add to this process's total of retries."""
        if retries:
            with self._retries_lock:
                self.retries += retries

    def last_retries(self):
        """Return how many retries this thread's last increment needed (0 if none yet)."""
        return getattr(self._last, "retries", 0)

    def counts_retries(self):
        """Tell whether this strategy retries lost swaps (and so reports ``retries``)."""
        return self.technique == COMPARE_AND_SWAP

    def describe(self):
        """Return the JSON description used by /api/strategies and the page."""
        return {
            "name": self.name,
            "description": self.description,
            "safe_against": [scope for scope in SCOPES if scope in self.safe_against],
            "state_lives_in": self.state_lives_in,
            "store": self.store,
            "technique": self.technique,
            "loses_count_on": (None if self.loses_count_on is None
                               else list(self.loses_count_on)),
            # Retries counted by the process that answered (each worker has its own count).
            "retries": self.retries if self.counts_retries() else None,
        }
