"""One atomic UPDATE ... RETURNING in PostgreSQL: safe across threads, processes, machines.

Also what every PostgreSQL strategy shares (``PostgresStrategy``): the app's connections,
one row per strategy in ``session_counter_counters``, failures answered with 503.
"""

from ..errors import StoreUnavailable
from .base import ATOMIC, MACHINES, PROCESSES, THREADS, CounterStrategy, Remembered
from .namespaces import DEFAULT, race_only, scoped

TABLE = "session_counter_counters"


class PostgresStrategy(CounterStrategy):
    """A counter in a row of PostgreSQL, which every instance of the app reaches."""

    store = "postgresql"
    state_lives_in = "global"  # one number in PostgreSQL, for every instance
    requires = "PostgreSQL: set SESSION_COUNTER_POSTGRES_URL (the race lab: --postgres-url)"
    needs_setting = "POSTGRES_URL"

    def __init__(self, app):
        """Share the app's connections to PostgreSQL (psycopg is imported only when used)."""
        from ..clients.postgres import connections_for

        super().__init__(app)
        self.connections = connections_for(app)
        self.durability = Remembered.shared(app, "postgres_durability",
                                            lambda: ask_durability(self))

    @property
    def loses_count_on(self):
        """What this PostgreSQL can lose, from its own settings (fsync, synchronous_commit)."""
        return self.durability.get()

    def connection(self, doing, changes=True):
        """Lend a connection for one request (see clients/postgres.py: Connections)."""
        return self.connections.connection(doing, changes)

    def row_in(self, namespace):
        """Return the name of this strategy's row in ``namespace`` (a race's: name@race-<id>)."""
        return scoped(self.name, namespace)

    def missing_row(self, namespace):
        """Return the 503 of a race whose row is not there (its start could not make it)."""
        return StoreUnavailable(f"{self.name}: no counter row {self.row_in(namespace)!r} "
                                "in PostgreSQL; reset it first")

    def current(self, namespace=DEFAULT):
        """Return the stored value."""
        with self.connection("reading the shared counter", changes=False) as conn:
            return read_row(conn, self.row_in(namespace))

    def reset(self, namespace=DEFAULT):
        """Store 0 (a race's row is made here)."""
        with self.connection("resetting the shared counter") as conn:
            conn.execute(f"INSERT INTO {TABLE} (name, value) VALUES (%s, 0) "
                         "ON CONFLICT (name) DO UPDATE SET value = 0",
                         (self.row_in(namespace),))

    def forget(self, namespace):
        """Delete a race's row."""
        with self.connection("dropping a race's counter") as conn:
            conn.execute(f"DELETE FROM {TABLE} WHERE name = %s",
                         (self.row_in(race_only(namespace)),))


def durability_losses(settings):
    """Say what a PostgreSQL with these settings ({name: setting}) can lose in a crash."""
    if settings.get("fsync") != "on":
        return ("a crash of PostgreSQL or the machine: fsync is off, so the database "
                "itself may be lost",)
    if settings.get("synchronous_commit") == "off":
        return ("a crash of PostgreSQL or the machine: the last commits "
                "(synchronous_commit off)",)
    return ()


def ask_durability(strategy):
    """Ask PostgreSQL for fsync and synchronous_commit; return loses_count_on."""
    try:
        with strategy.connection("asking how PostgreSQL keeps data", changes=False) as conn:
            rows = conn.execute("SELECT name, setting FROM pg_settings "
                                "WHERE name IN ('fsync', 'synchronous_commit')").fetchall()
    except StoreUnavailable as error:
        return ("a crash of PostgreSQL, unless it runs with fsync on and synchronous_commit "
                f"on (could not ask it: {error})",)
    return durability_losses(dict(rows))


def read_row(conn, name, lock=""):
    """Return the value of row ``name`` (0 if missing); ``lock`` may be "FOR UPDATE"."""
    row = conn.execute(f"SELECT value FROM {TABLE} WHERE name = %s {lock}", (name,)).fetchone()
    return row[0] if row else 0


class Postgres(PostgresStrategy):
    """The server adds one and returns the sum in one statement: nothing to interleave."""

    name = "postgres"
    description = ("UPDATE counters SET value = value + 1 RETURNING value: one statement, "
                   "which PostgreSQL runs with the row locked, for every machine.")
    safe_against = frozenset({THREADS, PROCESSES, MACHINES})
    technique = ATOMIC

    def increment(self, namespace=DEFAULT):
        """Add one and return the new value, in one statement (its own transaction)."""
        with self.connection("handing out the next number") as conn:
            row = conn.execute(
                f"UPDATE {TABLE} SET value = value + 1 WHERE name = %s RETURNING value",
                (self.row_in(namespace),)).fetchone()
        if row is None:  # a race whose row its start could not make, or one already dropped
            raise self.missing_row(namespace)
        return self.mark_atomic(row[0])
