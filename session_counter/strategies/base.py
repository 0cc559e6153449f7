"""What a shared-counter strategy is: one interface, and what it is safe against."""

import time
from abc import ABC, abstractmethod

THREADS = "threads"
PROCESSES = "processes"
MACHINES = "machines"
SCOPES = (THREADS, PROCESSES, MACHINES)


class CounterStrategy(ABC):
    """A shared counter: ``increment`` hands out the next number, atomically or not.

    Subclasses set ``name`` (the URL segment), ``description`` (one sentence for the
    page) and ``safe_against`` (the scopes within which no two callers can get the
    same number: threads of one process, processes of one machine, machines).
    """

    name: str
    description: str
    safe_against: frozenset = frozenset()
    #: Where the number lives: "process" (a module global: every worker process has its
    #: own copy), "instance" (a file or process of one server) or "global" (a store
    #: every instance shares). The race lab reads it to know how to reset and read back.
    state_lives_in: str = "instance"
    #: When available() can be False: what the strategy needs, said to the user.
    requires: str = ""

    def __init__(self, app):
        """Read what the strategy needs from app.config; open nothing yet."""
        self.race_window = float(app.config.get("RACE_WINDOW", 0.0))

    @classmethod
    def available(cls, app):
        """Tell whether this strategy can run with this app's configuration."""
        return True

    @abstractmethod
    def increment(self):
        """Add one and return the number this caller gets."""

    @abstractmethod
    def current(self):
        """Return the stored value without changing it."""

    @abstractmethod
    def reset(self):
        """Set the counter back to 0."""

    def widen_race_window(self):
        """Pause between read and write when RACE_WINDOW is set (the race lab's --window).

        With a window of 0 nothing happens and the code is exactly the question's.
        ``time.sleep`` is looked up at call time so gevent's patched sleep yields.
        """
        if self.race_window > 0:
            time.sleep(self.race_window)

    def describe(self):
        """Return the JSON description used by /api/strategies and the page."""
        return {
            "name": self.name,
            "description": self.description,
            "safe_against": [scope for scope in SCOPES if scope in self.safe_against],
            "state_lives_in": self.state_lives_in,
        }
