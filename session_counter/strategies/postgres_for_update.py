"""SELECT ... FOR UPDATE, then UPDATE: a row lock held from the read to the commit."""

from .base import LOCK, MACHINES, PROCESSES, THREADS
from .namespaces import DEFAULT
from .postgres import TABLE, PostgresStrategy, read_row


class PostgresForUpdate(PostgresStrategy):
    """The read locks the row, so every other caller waits until this one commits."""

    name = "postgres_for_update"
    description = ("SELECT value ... FOR UPDATE, then UPDATE SET value = %s, in one "
                   "transaction: the row stays locked from the read to the commit.")
    safe_against = frozenset({THREADS, PROCESSES, MACHINES})
    technique = LOCK

    def increment(self, namespace=DEFAULT):
        """Lock the row by reading it, write the next value, commit (which unlocks)."""
        row = self.row_in(namespace)
        with self.connection("handing out the next number") as conn, conn.transaction():
            value = self.mark_read(read_row(conn, row, lock="FOR UPDATE")) + 1
            self.widen_race_window()
            updated = conn.execute(f"UPDATE {TABLE} SET value = %s WHERE name = %s",
                                   (value, row)).rowcount
        if not updated:  # no row: it wrote nowhere, and would hand out 1 again and again
            raise self.missing_row(namespace)
        return self.mark_wrote(value)  # the write counts once committed
