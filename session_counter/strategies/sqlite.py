"""One atomic UPDATE ... RETURNING in SQLite: the embedded default, safe across processes.

Also what every SQLite strategy shares (``SQLiteStrategy``): one database in the instance
folder, one row per strategy, a connection per thread, errors answered with 503.
"""

import os
import sqlite3
import threading
import time

from ..errors import StoreUnavailable
from .base import ATOMIC, PROCESSES, THREADS, CounterStrategy
from .namespaces import DEFAULT, race_only, scoped

# One row per SQLite strategy ('shared' is the `sqlite` strategy's, named before the others);
# a race's rows are named row@race-<id> (namespaces.scoped), made by its reset.
SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO counters (name, value)
    VALUES ('shared', 0), ('sqlite_read_write', 0), ('sqlite_cas', 0);
"""


class SQLiteStrategy(CounterStrategy):
    """A counter in a row of the SQLite database: its connections, reads and reset."""

    store = "sqlite"
    loses_count_on = ("a power cut or kernel crash: the last commits since the WAL was "
                      "synced (synchronous=NORMAL)",)
    row: str  # this strategy's row of the counters table

    def __init__(self, app):
        """Remember the database path; connections are opened per thread."""
        super().__init__(app)
        self.path = app.config["DATABASE"]
        self._local = threading.local()
        self._prepared = False

    def connection(self):
        """Return this thread's connection (opened lazily, reopened after a fork)."""
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():
            if not self._prepared:  # once per process: covers a file start-up could not prepare
                prepare_database(self.path)
                self._prepared = True
            conn = open_database(self.path)
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def run(self, work):
        """Return ``work(connection)``, run in one transaction; 503 if the database fails."""
        try:
            conn = self.connection()
            with conn:  # commits, or rolls back on error
                return work(conn)
        except sqlite3.Error as error:
            # Open anew next time: a connection made while the file was not writable
            # stays read-only for good.
            broken, self._local.conn = getattr(self._local, "conn", None), None
            if broken is not None:
                broken.close()
            raise StoreUnavailable(f"the SQLite counter at {self.path} failed: {error}") from error

    def row_in(self, namespace):
        """Return the name of this strategy's row in ``namespace``."""
        return scoped(self.row, namespace)

    def missing_row(self, namespace):
        """Return the 503 of a race whose row is not there (its start could not make it).

        Counting on would write nowhere and hand out 1 again and again.
        """
        return StoreUnavailable(f"{self.name}: no counter row {self.row_in(namespace)!r} "
                                f"in {self.path}; reset it first")

    def read(self, conn, namespace=DEFAULT):
        """Return the row's value (0 if the row is missing)."""
        row = conn.execute("SELECT value FROM counters WHERE name = ?",
                           (self.row_in(namespace),)).fetchone()
        return row[0] if row else 0

    def current(self, namespace=DEFAULT):
        """Return the stored value."""
        return self.run(lambda conn: self.read(conn, namespace))

    def reset(self, namespace=DEFAULT):
        """Store 0 (a race's row is made here)."""
        self.run(lambda conn: conn.execute(
            "INSERT INTO counters (name, value) VALUES (?, 0) "
            "ON CONFLICT (name) DO UPDATE SET value = 0", (self.row_in(namespace),)))

    def forget(self, namespace):
        """Delete a race's row."""
        self.run(lambda conn: conn.execute("DELETE FROM counters WHERE name = ?",
                                           (self.row_in(race_only(namespace)),)))


class SQLite(SQLiteStrategy):
    """The database serialises writers, so increment-and-read is one indivisible step."""

    name = "sqlite"
    row = "shared"
    description = ("UPDATE counters SET value = value + 1 RETURNING value: one statement "
                   "the database runs atomically, in a file every process opens (WAL).")
    safe_against = frozenset({THREADS, PROCESSES})
    technique = ATOMIC

    def increment(self, namespace=DEFAULT):
        """Add one and return the new value, in one statement."""
        rows = self.run(lambda conn: conn.execute(
            "UPDATE counters SET value = value + 1 WHERE name = ? RETURNING value",
            (self.row_in(namespace),)).fetchall())  # step to the end before the commit
        if not rows:
            raise self.missing_row(namespace)
        return self.mark_atomic(rows[0][0])


def open_database(path):
    """Open this thread's connection to the counter database (prepared at start-up).

    ``synchronous=NORMAL`` in WAL mode still survives a crash of the app (the WAL is
    written before the answer); only a power cut can lose the last few increments.
    """
    conn = sqlite3.connect(path, timeout=30)
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def prepare_database(path, patience=10.0):
    """Create the table and switch the file to WAL (kept in the file), once, at start-up.

    Switching to WAL needs the database to itself and fails at once with "database is
    locked" (the busy timeout does not apply) when several processes open a new file
    together, as gunicorn's workers do: so look first, and retry for a while.
    """
    conn = sqlite3.connect(path, timeout=30)
    try:
        deadline = time.monotonic() + patience
        while conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            if time.monotonic() > deadline:
                raise sqlite3.OperationalError(f"could not switch {path} to WAL mode")
            try:
                conn.execute("PRAGMA journal_mode=WAL")
            except sqlite3.OperationalError as error:
                if "locked" not in str(error):
                    raise
                time.sleep(0.01)
        conn.executescript(SCHEMA)
    finally:
        conn.close()
