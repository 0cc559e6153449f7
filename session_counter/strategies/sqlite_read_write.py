"""SELECT, then UPDATE SET value = ?: a database, and still a lost update."""

from .base import READ_THEN_WRITE
from .namespaces import DEFAULT
from .sqlite import SQLiteStrategy


class SQLiteReadWrite(SQLiteStrategy):
    """Two statements: two callers can both read 5 and both write 6."""

    name = "sqlite_read_write"
    row = "sqlite_read_write"
    description = ("SELECT value, then UPDATE counters SET value = ? with the value plus one: "
                   "the database is shared, but nothing stops a write in between.")
    safe_against = frozenset()
    technique = READ_THEN_WRITE

    def increment(self, namespace=DEFAULT):
        """Read in one statement, write in the next, as code treating the row like a variable.

        Each statement is its own transaction (Python's sqlite3 opens none for a SELECT),
        so another writer can land between them.
        """
        value = self.mark_read(self.current(namespace)) + 1
        self.widen_race_window()
        updated = self.run(lambda conn: conn.execute(
            "UPDATE counters SET value = ? WHERE name = ?",
            (value, self.row_in(namespace))).rowcount)
        if not updated:
            raise self.missing_row(namespace)
        return self.mark_wrote(value)
