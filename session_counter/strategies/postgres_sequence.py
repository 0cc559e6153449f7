"""nextval() of a PostgreSQL sequence: unique everywhere, but not gapless.

A sequence never hands out a number twice, whatever the threads, processes or
machines. It is not transactional: a number taken by a transaction that rolls back,
or by a request whose answer never arrives, is gone for good, a gap. "Safe" here
means unique, which is what the race lab checks; a count of requests it is not.
"""

from .base import ATOMIC, MACHINES, PROCESSES, THREADS
from .postgres import PostgresStrategy

SEQUENCE = "session_counter_sequence"


class PostgresSequence(PostgresStrategy):
    """The sequence hands out each number once; a rolled-back number is burnt, not reused."""

    name = "postgres_sequence"
    description = ("SELECT nextval('sequence'): each number once, on every machine; a number "
                   "taken by a transaction that rolls back is skipped, never handed out again.")
    safe_against = frozenset({THREADS, PROCESSES, MACHINES})
    technique = ATOMIC

    def increment(self):
        """Take the sequence's next number."""
        with self.connection("handing out the next number") as conn:
            return self.mark_atomic(conn.execute(f"SELECT nextval('{SEQUENCE}')").fetchone()[0])

    def current(self):
        """Return the last number handed out (0 after a reset)."""
        with self.connection("reading the shared counter", changes=False) as conn:
            return conn.execute(f"SELECT CASE WHEN is_called THEN last_value ELSE 0 END "
                                f"FROM {SEQUENCE}").fetchone()[0]

    def reset(self):
        """Make the next number 1 again."""
        with self.connection("resetting the shared counter") as conn:
            conn.execute(f"SELECT setval('{SEQUENCE}', 1, false)")
