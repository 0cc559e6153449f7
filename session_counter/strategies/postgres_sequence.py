"""nextval() of a PostgreSQL sequence: unique everywhere, but not gapless.

A sequence never hands out a number twice, whatever the threads, processes or
machines. It is not transactional: a number taken by a transaction that rolls back,
or by a request whose answer never arrives, is gone for good, a gap. "Safe" here
means unique, which is what the race lab checks; a count of requests it is not.
"""

from .base import ATOMIC, MACHINES, PROCESSES, THREADS
from .namespaces import DEFAULT, race_only, scoped
from .postgres import PostgresStrategy

SEQUENCE = "session_counter_sequence"


def sequence_in(namespace):
    """Return the sequence of ``namespace``: a race has its own, made by its reset."""
    return scoped(SEQUENCE, namespace, "_race_")  # 62 characters: within PostgreSQL's 63


def statement(template, sequence):
    """Return ``template`` with {} as the quoted sequence name (psycopg, imported when used)."""
    from psycopg import sql

    return sql.SQL(template).format(sql.Identifier(sequence))


class PostgresSequence(PostgresStrategy):
    """The sequence hands out each number once; a rolled-back number is burnt, not reused."""

    name = "postgres_sequence"
    description = ("SELECT nextval('sequence'): each number once, on every machine; a number "
                   "taken by a transaction that rolls back is skipped, never handed out again.")
    safe_against = frozenset({THREADS, PROCESSES, MACHINES})
    technique = ATOMIC

    def increment(self, namespace=DEFAULT):
        """Take the sequence's next number."""
        with self.connection("handing out the next number") as conn:
            return self.mark_atomic(conn.execute("SELECT nextval(%s)",
                                                 (sequence_in(namespace),)).fetchone()[0])

    def current(self, namespace=DEFAULT):
        """Return the last number handed out (0 after a reset)."""
        with self.connection("reading the shared counter", changes=False) as conn:
            return conn.execute(statement(
                "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM {}",
                sequence_in(namespace))).fetchone()[0]

    def reset(self, namespace=DEFAULT):
        """Make the next number 1 again (a race's sequence is made here)."""
        sequence = sequence_in(namespace)
        with self.connection("resetting the shared counter") as conn:
            if namespace != DEFAULT:
                conn.execute(statement("CREATE SEQUENCE IF NOT EXISTS {}", sequence))
            conn.execute("SELECT setval(%s, 1, false)", (sequence,))

    def forget(self, namespace):
        """Drop a race's sequence."""
        with self.connection("dropping a race's counter") as conn:
            conn.execute(statement("DROP SEQUENCE IF EXISTS {}",
                                   sequence_in(race_only(namespace))))
