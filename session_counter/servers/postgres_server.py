"""A real PostgreSQL on a free 127.0.0.1 port for the tests: no mock of PostgreSQL anywhere.

Debian's server programs (``/usr/lib/postgresql/<version>/bin``) run in a temporary
folder as an unprivileged user (PostgreSQL refuses root: as root the tests run it as
the ``postgres`` user the package creates). A password is required over TCP, so the
URL the app gets carries one, as a real deployment's does. Without PostgreSQL the
PostgreSQL tests skip, unless SESSION_COUNTER_REQUIRE_SERVICES=1 (CI), where it fails.
"""

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time

import psycopg

from .harness import free_port
from .process import ServerProcess, require_program

USER, PASSWORD = "counter", "s3cret-pw"


def find_bin_dir():
    """Return the newest /usr/lib/postgresql/<version>/bin holding initdb, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda path: int(path.split("/")[4]) if path.split("/")[4].isdigit()
                   else 0)
    return os.path.dirname(found[-1]) if found else None


BIN_DIR = find_bin_dir()


def require_postgres(require=require_program):
    """Raise ProgramMissing (or call ``require``: the tests skip) if the program is missing."""
    require(BIN_DIR, "PostgreSQL is not installed (Debian: apt-get install postgresql)")


def run_as():
    """Return Popen's user/group arguments: the `postgres` user when we are root, else none."""
    if os.geteuid() != 0:
        return {}
    entry = pwd.getpwnam("postgres")
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def make_cluster(folder):
    """Create a database cluster in ``folder``/data owned by the user that will run it."""
    password_file = os.path.join(folder, "password")
    with open(password_file, "w") as f:
        f.write(PASSWORD)
    subprocess.run([os.path.join(BIN_DIR, "initdb"), "-D", os.path.join(folder, "data"),
                    "-U", USER, f"--pwfile={password_file}", "--auth-local=trust",
                    "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync"],
                   check=True, capture_output=True, timeout=120, **run_as())


class PostgresServer(ServerProcess):
    """One postgres process on its own cluster; it keeps its port across stop() and start()."""

    name = "postgres"

    def __init__(self, folder):
        """Use (and own) ``folder``: a fresh cluster is made in it."""
        super().__init__(folder, free_port())
        owner = run_as()
        if owner:
            os.chown(self.folder, owner["user"], owner["group"])
        make_cluster(self.folder)

    @property
    def url(self):
        """The postgresql:// URL the app is given (with the password, as in production)."""
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/postgres"

    def command(self):
        """Return the postgres command line: loopback TCP only, no Unix socket, no fsync."""
        return [os.path.join(BIN_DIR, "postgres"), "-D", os.path.join(self.folder, "data"),
                "-p", str(self.port), "-c", "listen_addresses=127.0.0.1",
                "-c", "unix_socket_directories=", "-c", "fsync=off",
                "-c", "max_connections=100", "-c", "shared_buffers=16MB"]  # 100: the default

    def stop(self, sig=signal.SIGINT):
        """Stop postgres: SIGINT is a fast shutdown; SIGKILL a crash (recovered from the WAL)."""
        super().stop(sig)  # SIGTERM would wait until every client has disconnected

    def popen_options(self):
        """Run postgres as its own user when we are root."""
        return run_as()

    def start(self, timeout=30.0):
        """Start postgres and return once it accepts connections.

        After a SIGKILL the old server's backends take a moment to notice and exit;
        until then a new postgres refuses to start (its shared memory is still in use).
        """
        deadline = time.monotonic() + timeout
        while True:
            try:
                return super().start(max(1.0, deadline - time.monotonic()))
            except RuntimeError:
                if "still in use" not in self.log() or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def ping(self):
        """Return once PostgreSQL accepts a connection (ConnectionError until then)."""
        try:
            with contextlib.closing(self.connect()):
                pass
        except psycopg.OperationalError as error:
            raise ConnectionError(str(error)) from error

    def connect(self):
        """Return an autocommit connection of the test's own."""
        self.count_use()
        return psycopg.connect(self.url, connect_timeout=2, autocommit=True)

    def empty(self):
        """Drop what the app created, and end apps' connections: each test starts from nothing."""
        with contextlib.closing(self.connect()) as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE application_name = 'session-counter'")
            conn.execute("DROP TABLE IF EXISTS session_counter_counters")
            conn.execute("DROP SEQUENCE IF EXISTS session_counter_sequence")


@contextlib.contextmanager
def running_postgres(require=require_program):
    """A PostgreSQL of its own in a temporary folder; stopped and deleted on the way out.

    Not under pytest's tmp_path: that folder is private to root, and the server runs
    as another user.
    """
    require_postgres(require)
    folder = tempfile.mkdtemp(prefix="session-counter-postgres-")
    try:
        server = PostgresServer(folder).start()
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
