"""SELECT, then UPDATE SET value = %s in one READ COMMITTED transaction: still a lost update."""

from .base import READ_THEN_WRITE
from .namespaces import DEFAULT
from .postgres import TABLE, PostgresStrategy, read_row


class PostgresReadWrite(PostgresStrategy):
    """A transaction at PostgreSQL's default isolation does not lock what it only read."""

    name = "postgres_read_write"
    description = ("SELECT value, then UPDATE counters SET value = %s, in one transaction at "
                   "READ COMMITTED (the default): the second writer waits, then overwrites.")
    safe_against = frozenset()
    technique = READ_THEN_WRITE

    def increment(self, namespace=DEFAULT):
        """Read, add one, write back inside a transaction; the SELECT takes no lock."""
        row = self.row_in(namespace)
        with self.connection("handing out the next number") as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
            value = self.mark_read(read_row(conn, row)) + 1
            self.widen_race_window()
            updated = conn.execute(f"UPDATE {TABLE} SET value = %s WHERE name = %s",
                                   (value, row)).rowcount
        if not updated:  # no row: it wrote nowhere, and would hand out 1 again and again
            raise self.missing_row(namespace)
        return self.mark_wrote(value)  # the write counts once committed
