"""One atomic UPDATE ... RETURNING in PostgreSQL: safe across threads, processes, machines.

Also what every PostgreSQL strategy shares (``PostgresStrategy``): the app's connections,
one row per strategy in ``session_counter_counters``, failures answered with 503.
"""

from ..errors import StoreUnavailable
from .base import ATOMIC, MACHINES, PROCESSES, THREADS, CounterStrategy, Remembered

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

    def current(self):
        """Return the stored value."""
        with self.connection("reading the shared counter", changes=False) as conn:
            return read_row(conn, self.name)

    def reset(self):
        """Store 0."""
        with self.connection("resetting the shared counter") as conn:
            conn.execute(f"UPDATE {TABLE} SET value = 0 WHERE name = %s", (self.name,))


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

    def increment(self):
        """Add one and return the new value, in one statement (its own transaction)."""
        with self.connection("handing out the next number") as conn:
            return self.mark_atomic(conn.execute(
                f"UPDATE {TABLE} SET value = value + 1 WHERE name = %s RETURNING value",
                (self.name,)).fetchone()[0])
