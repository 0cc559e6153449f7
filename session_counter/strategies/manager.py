"""A multiprocessing.Manager server holding the counter: the classic suggestion.

Every worker process of one server talks to the same manager process over a Unix
socket, so the count is shared and the manager's lock makes it atomic; a second
machine cannot reach it. The first worker that needs the manager starts it (holding a
file lock until the manager accepts connections, so only one does); the others connect
to it. The manager is its own small program (``manager_process.py``), so it inherits
none of the server's sockets, and it exits when the server that started it is gone.

The count lives in the manager's memory only. If the manager dies while its server
runs, a new one would hand out 1, 2, 3... again: instead every call answers 503 with
the reason until an explicit reset (``manager_record.py`` remembers which manager this
server started). A restart of the whole server starts at 0, as the label says.
"""

import hashlib
import hmac
import multiprocessing
import os
import pickle
import subprocess
import sys
import threading
import time
from multiprocessing.managers import BaseManager, RemoteError

from ..errors import StoreUnavailable
from .base import ATOMIC, PROCESSES, THREADS, CounterStrategy
from .manager_record import (
    process_identity,
    read_record,
    same_server_life,
    start_lock,
    write_record,
)
from .namespaces import DEFAULT, race_only


class CounterManager(BaseManager):
    """The client side of the manager: knows the name of the shared object only."""


CounterManager.register("shared_count")

STARTUP_TIMEOUT = 10.0

# Nobody listens at the address: the manager is not started yet, or it died.
NOBODY_LISTENS = (ConnectionRefusedError, FileNotFoundError)
# Whatever talking to a manager process can raise: the socket, the handshake (a manager
# started with another key), the remote call, the pickled answer.
MANAGER_ERRORS = (OSError, EOFError, multiprocessing.ProcessError, RemoteError,
                  pickle.UnpicklingError, AttributeError)


class ManagerLost(StoreUnavailable):
    """This server's manager died: its count is gone, and only a reset may start anew."""


def error_text(error):
    """Return a short text for a manager error (some carry no message of their own)."""
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def manager_lost(pid):
    """Return the 503 for this server's manager found dead: why, and how to start anew."""
    return ManagerLost(
        f"the counter manager (pid {pid}) died, and the count it kept in memory died with "
        "it: a new manager would hand out 1, 2, 3... again, numbers already handed out. "
        "POST /shared/manager/reset starts it again from 0, deliberately.")


def unreachable(error):
    """Return the 503 for a manager that could not be reached, saying why."""
    if isinstance(error, multiprocessing.AuthenticationError):
        return StoreUnavailable(
            "the counter manager refused this app's key: a manager started by an app with "
            "another SECRET_KEY holds this instance folder's address; stop that app or give "
            f"both the same key ({error_text(error)})")
    return StoreUnavailable(f"cannot reach the counter manager: {error_text(error)}")


def server_pid():
    """Return the pid whose life the manager follows: gunicorn's master, else this process."""
    if "gunicorn" in sys.modules and os.getppid() > 1:
        return os.getppid()
    return os.getpid()


def running_under_gevent():
    """Tell whether gevent has patched the socket module (gunicorn's gevent worker)."""
    if "gevent" not in sys.modules:
        return False
    from gevent import monkey

    return monkey.is_module_patched("socket")


class Manager(CounterStrategy):
    """Safe across threads and processes of one machine: one process owns the number."""

    name = "manager"
    description = ("A multiprocessing.Manager server owns the number; every worker calls "
                   "its inc() over a Unix socket, one call at a time.")
    safe_against = frozenset({THREADS, PROCESSES})
    store = "manager"
    technique = ATOMIC
    loses_count_on = ("a restart of the server: the count is in the manager process's "
                      "memory (if only the manager dies, the counter answers 503 until reset)",)
    requires = "a server model other than gevent (multiprocessing cannot use patched sockets)"

    @classmethod
    def available(cls, app):
        """Not under gevent: multiprocessing's connections cannot run on patched sockets."""
        return not running_under_gevent()

    def __init__(self, app):
        """Derive the socket address and key from the instance folder and secret key."""
        super().__init__(app)
        digest = hashlib.sha256(app.instance_path.encode()).hexdigest()[:24]
        # An abstract socket: no file to clean up, no path-length limit.
        self.address = f"\0session-counter-{digest}"
        self.authkey = hmac.new(app.config["SECRET_KEY"].encode(), b"manager",
                                "sha256").digest()
        self.start_lock_path = os.path.join(app.instance_path, "manager.lock")
        # which manager this server started (its pid and start time): a later worker
        # that finds it dead knows its count was lost
        self.record_path = os.path.join(app.instance_path, "manager.json")
        self.watch_pid = server_pid()  # create_app runs in the long-lived server process
        self._proxy = None
        self._pid = None
        self._guard = threading.Lock()

    def _connect(self):
        manager = CounterManager(address=self.address, authkey=self.authkey)
        manager.connect()
        return manager.shared_count()

    def _start_or_connect(self, restart=False):
        """Connect to the running manager, starting it first if nobody has.

        A manager that died while its server still runs is not replaced (its numbers
        would be handed out again), unless ``restart`` (an explicit reset) says so.
        """
        try:
            return self._connect()
        except NOBODY_LISTENS:
            pass
        with start_lock(self.start_lock_path, STARTUP_TIMEOUT * 2):
            try:
                return self._connect()
            except NOBODY_LISTENS:
                pass
            record = read_record(self.record_path)
            if not restart and same_server_life(record, self.watch_pid):
                manager = record["manager"]
                if process_identity(manager[0]) == manager:
                    raise StoreUnavailable(f"the counter manager (pid {manager[0]}) runs but "
                                           "does not accept connections; try again")
                raise manager_lost(manager[0])
            # Held until the new manager accepts connections: no second worker spawns one.
            process = self._spawn_manager()
            try:
                write_record(self.record_path, {"server": process_identity(self.watch_pid),
                                                "manager": process_identity(process.pid)})
                return self._wait_for_manager(process)
            except BaseException:
                process.kill()  # unrecorded, or not up: it has handed out nothing
                write_record(self.record_path, record)
                raise

    def _wait_for_manager(self, process):
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            try:
                return self._connect()
            except NOBODY_LISTENS:
                if process.poll() is not None:
                    raise StoreUnavailable("the counter manager exited at start-up with "
                                           f"status {process.returncode}") from None
                if time.monotonic() > deadline:
                    raise StoreUnavailable(f"the counter manager did not start within "
                                           f"{STARTUP_TIMEOUT:g} s") from None
                time.sleep(0.02)

    def _spawn_manager(self):
        """Start the manager program, detached from this process's sockets and stdin."""
        env = dict(os.environ, COUNTER_MANAGER_ADDRESS=self.address.encode().hex(),
                   COUNTER_MANAGER_AUTHKEY=self.authkey.hex(),
                   COUNTER_MANAGER_WATCH_PID=str(self.watch_pid))
        package_root = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
        return subprocess.Popen([sys.executable, "-m",
                                 "session_counter.strategies.manager_process"],
                                env=env, stdin=subprocess.DEVNULL, close_fds=True)

    def _call(self, method, *args, restart=False):
        with self._guard:
            if self._proxy is None or self._pid != os.getpid():
                try:
                    self._proxy = self._start_or_connect(restart)
                except MANAGER_ERRORS as error:
                    raise unreachable(error) from error
                self._pid = os.getpid()
            proxy = self._proxy
        try:
            return getattr(proxy, method)(*args)
        except MANAGER_ERRORS as error:
            self._proxy = None  # connect again next time (or find the manager dead)
            record = read_record(self.record_path)
            if (same_server_life(record, self.watch_pid)
                    and process_identity(record["manager"][0]) != record["manager"]):
                raise manager_lost(record["manager"][0]) from error
            raise StoreUnavailable(f"the counter manager went away: {error_text(error)}") \
                from error

    def increment(self, namespace=DEFAULT):
        """Ask the manager for the next number."""
        # one step, in the manager, under its lock
        return self.mark_atomic(self._call("inc", namespace))

    def current(self, namespace=DEFAULT):
        """Ask the manager for the value."""
        return self._call("get", namespace)

    def reset(self, namespace=DEFAULT):
        """Ask the manager to store 0; a manager that died is replaced, deliberately.

        Only the table's reset replaces a dead manager: a race's must not restart the
        table's count, and its own counter died with the manager.
        """
        if namespace != DEFAULT:
            self._call("reset", namespace)
            return
        try:
            self._call("reset", restart=True)
        except StoreUnavailable:  # a connection to a manager that died: once more, anew
            self._call("reset", restart=True)

    def forget(self, namespace):
        """Ask the manager to drop a race's number."""
        self._call("forget", race_only(namespace))

