"""The PostgreSQL client (psycopg 3): connections of one process, failing fast, 503 on failure.

Each thread (or greenlet) takes an idle connection of this process, or opens one, and
gives it back when its transaction is over. A connection the server closed (PostgreSQL
restarted) is noticed before use and replaced, so once PostgreSQL is back the next
request works; a connection that failed mid-request is closed, never reused.
"""

import contextlib
import os
import select
import sys
import threading
from urllib.parse import urlsplit

import psycopg

from ..errors import StoreUnavailable
from . import redacted

SCHEMES = ("postgresql", "postgres")
APPLICATION_NAME = "session-counter"  # what pg_stat_activity shows for these connections
# A dead PostgreSQL must not hang requests: connecting fails within this many seconds.
CONNECT_TIMEOUT = 2
# A statement that runs (or waits for a lock) this long is cancelled by PostgreSQL itself:
# a clean error, and nothing changed. The same 10 s as every other wait of the app.
STATEMENT_TIMEOUT = 10
# A PostgreSQL that accepted the connection but does not answer at all (stopped, hung,
# its machine gone) cannot cancel anything: the client gives up after this many seconds.
# Longer than STATEMENT_TIMEOUT, so a server that is merely slow answers first.
READ_TIMEOUT = 12
KEEP_IDLE = 8  # idle connections one process keeps for the next requests
# Connections one process uses at once; more requests wait for one (a 503 after
# BUSY_TIMEOUT), so 100 greenlets of a gevent worker do not open 100 connections
# (PostgreSQL's default max_connections is 100, for every client together).
MAX_IN_USE = 16
BUSY_TIMEOUT = 10.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS session_counter_counters (
    name text PRIMARY KEY, value bigint NOT NULL);
INSERT INTO session_counter_counters (name, value)
    VALUES ('postgres_read_write', 0), ('postgres_for_update', 0), ('postgres', 0)
    ON CONFLICT (name) DO NOTHING;
CREATE SEQUENCE IF NOT EXISTS session_counter_sequence;
"""
SCHEMA_LOCK = 0x5C0C  # advisory lock: workers starting together create the schema once


def check_url(url):
    """Raise ValueError unless ``url`` is a postgresql:// URL naming a host."""
    if not isinstance(url, str):
        raise ValueError(f"expected postgresql://user:password@host:port/dbname, "
                         f"got {type(url).__name__}")
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise ValueError("expected postgresql://user:password@host:port/dbname")
    parts.port  # noqa: B018 (raises ValueError for a port that is not a number)


def wait_cooperatively_under_gevent():
    """Make psycopg wait through gevent's select when this process is gevent-patched.

    psycopg picks its wait function once, at import; gunicorn's master imports it (the
    start-up check) before a gevent worker patches select, so the worker would wait in
    C, blocking every greenlet: one holding a row lock (FOR UPDATE) while another waits
    for it would then hang the whole worker.
    """
    from psycopg import waiting

    monkey = sys.modules.get("gevent.monkey")
    if monkey is not None and monkey.is_module_patched("select") and \
            waiting.wait is not waiting.wait_select:
        waiting.wait = waiting.wait_select


class NoAnswer(psycopg.OperationalError):
    """PostgreSQL accepted the connection but sent no answer within READ_TIMEOUT."""


class BoundedConnection(psycopg.Connection):
    """A psycopg connection whose every wait for the server ends after READ_TIMEOUT.

    psycopg waits for an answer without a deadline; a server that is stopped (SIGSTOP),
    hung, or cut off without a reset would hold the request forever. TCP keepalives do
    not help against a stopped process: its kernel still answers them.
    """

    def wait(self, gen, interval=0.1, timeout=None):
        """Wait for the server as psycopg does, but never longer than READ_TIMEOUT."""
        limit = READ_TIMEOUT if timeout is None else min(timeout, READ_TIMEOUT)
        try:
            return super().wait(gen, interval=interval, timeout=limit)
        except psycopg.errors._WaitTimeout as error:  # psycopg's own, private: pinned 3.3
            raise NoAnswer(f"no answer within {limit:g} s: connected, but silent: "
                           "stopped or hung") from error


def connect(url):
    """Open one connection (autocommit: each strategy says where its transaction is)."""
    check_url(url)
    wait_cooperatively_under_gevent()
    return BoundedConnection.connect(
        url, connect_timeout=CONNECT_TIMEOUT, autocommit=True,
        application_name=APPLICATION_NAME,
        options=f"-c statement_timeout={STATEMENT_TIMEOUT * 1000}")


def prepare_schema(url):
    """Create the counters table, its rows and the sequence, if missing (idempotent)."""
    with contextlib.closing(connect(url)) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        for statement in filter(str.strip, SCHEMA.split(";")):
            conn.execute(statement)


def hide_password(url, text):
    """Return ``text`` with the URL's password (if any) replaced by ***."""
    try:
        password = urlsplit(url).password
    except ValueError:
        return text
    return text.replace(password, "***") if password else text


class Connections:
    """The connections of one process to one PostgreSQL (made again after a fork)."""

    def __init__(self, url):
        """Connect to nothing yet: the first request opens the first connection."""
        self.url = url
        self._idle = []
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._prepared = False
        self._in_use = threading.BoundedSemaphore(MAX_IN_USE)

    def _take(self):
        """Return an idle connection that is still alive, or a new one."""
        with self._lock:
            if self._pid != os.getpid():  # a forked child must not share its parent's sockets
                self._idle, self._pid, self._prepared = [], os.getpid(), False
                self._in_use = threading.BoundedSemaphore(MAX_IN_USE)
            while self._idle:
                conn = self._idle.pop()
                if alive(conn):
                    return conn
                conn.close()
            prepared = self._prepared
        if not prepared:  # once per process: covers a schema start-up could not create
            prepare_schema(self.url)
            self._prepared = True
        return connect(self.url)

    def _give_back(self, conn):
        with self._lock:
            if len(self._idle) < KEEP_IDLE and self._pid == os.getpid():
                self._idle.append(conn)
                return
        conn.close()

    @contextlib.contextmanager
    def connection(self, doing, changes=True):
        """Lend a connection for one request's statements; any failure becomes a 503."""
        in_use = self._in_use
        if not in_use.acquire(timeout=BUSY_TIMEOUT):
            raise unavailable(self.url, psycopg.OperationalError(
                f"all {MAX_IN_USE} connections of this process stayed busy for "
                f"{BUSY_TIMEOUT:g} s"), doing, unsure=False)
        conn = None
        try:
            try:
                conn = self._take()
            except ValueError as error:  # a bad URL that start-up only logged (gunicorn)
                raise psycopg.InterfaceError(f"not a PostgreSQL URL: {error}") from error
            yield conn
        except psycopg.Error as error:
            if conn is not None:
                conn.close()  # its state is unknown now: never reuse it
            unsure = changes and conn is not None  # a statement may have reached the server
            raise unavailable(self.url, error, doing, unsure) from error
        except BaseException:
            if conn is not None:
                conn.close()
            raise
        else:
            self._give_back(conn)
        finally:
            in_use.release()


def alive(conn):
    """Tell whether an idle connection can be used: the server has not closed it.

    An idle connection has nothing to read, so a readable socket means PostgreSQL sent
    its goodbye (a restart, a terminated backend) or the socket is gone: reconnect.
    """
    if conn.closed or conn.broken:
        return False
    try:
        readable, _, _ = select.select([conn.fileno()], [], [], 0)
    except (OSError, ValueError, psycopg.Error):
        return False
    return not readable


def connections_for(app):
    """Return the app's PostgreSQL connections; every PostgreSQL strategy shares them."""
    conns = app.extensions.get("postgres_connections")
    if conns is None:
        conns = app.extensions["postgres_connections"] = Connections(app.config["POSTGRES_URL"])
    return conns


def unavailable(url, error, doing, unsure):
    """Return the StoreUnavailable (503) for a PostgreSQL call that failed while ``doing``."""
    outcome = "the change may or may not be made" if unsure else "nothing was changed"
    reason = hide_password(url, str(error).strip() or type(error).__name__)
    return StoreUnavailable(f"PostgreSQL at {redacted(url)} failed while {doing} "
                            f"({reason}); {outcome}. Try again when PostgreSQL is back.")
