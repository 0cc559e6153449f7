"""Compare-and-swap in SQLite: UPDATE ... WHERE value = :old, and read again if it lost."""

import functools

from .base import COMPARE_AND_SWAP, PROCESSES, THREADS
from .namespaces import DEFAULT
from .sqlite import SQLiteStrategy


class SQLiteCAS(SQLiteStrategy):
    """The write only lands if nobody wrote since the read; a loser reads again and retries."""

    name = "sqlite_cas"
    row = "sqlite_cas"
    description = ("SELECT value, then UPDATE counters SET value = :old + 1 WHERE value = :old; "
                   "no row changed means someone else won: read again and retry.")
    safe_against = frozenset({THREADS, PROCESSES})
    technique = COMPARE_AND_SWAP

    def increment(self, namespace=DEFAULT):
        """Retry the swap until it lands; the base class counts the retries."""
        return self.retry_until_swapped(functools.partial(self._swap_once, namespace))

    def _swap_once(self, namespace=DEFAULT):
        """Read, then write old + 1 only if the value is still old; None if it was not."""
        old = self.mark_read(self.current(namespace))
        self.widen_race_window()
        swapped = self.run(lambda conn: conn.execute(
            "UPDATE counters SET value = :new WHERE name = :name AND value = :old",
            {"new": old + 1, "name": self.row_in(namespace), "old": old}).rowcount)
        if swapped == 1:
            return self.mark_wrote(old + 1)
        if old == 0 and not self.run(lambda conn: conn.execute(  # lost, or no row to swap?
                "SELECT 1 FROM counters WHERE name = ?", (self.row_in(namespace),)).fetchone()):
            raise self.missing_row(namespace)  # else 10,000 swaps that can never land
        return None
