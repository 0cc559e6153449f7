"""A multiprocessing.Manager server holding the counter: the classic suggestion.

Every worker process of one server talks to the same manager process over a Unix
socket, so the count is shared and the manager's lock makes it atomic; a second
machine cannot reach it. The first worker that needs the manager starts it (under a
file lock, so only one does); the others connect to it. The manager is its own small
program (``manager_process.py``), so it inherits none of the
server's sockets, and it exits when the server that started it is gone.
"""

import fcntl
import hashlib
import hmac
import os
import subprocess
import sys
import threading
import time
from multiprocessing.managers import BaseManager

from ..errors import StoreUnavailable
from .base import ATOMIC, PROCESSES, THREADS, CounterStrategy


class CounterManager(BaseManager):
    """The client side of the manager: knows the name of the shared object only."""


CounterManager.register("shared_count")

STARTUP_TIMEOUT = 10.0


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
        self.watch_pid = server_pid()  # create_app runs in the long-lived server process
        self._proxy = None
        self._pid = None
        self._guard = threading.Lock()

    def _connect(self):
        manager = CounterManager(address=self.address, authkey=self.authkey)
        manager.connect()
        return manager.shared_count()

    def _start_or_connect(self):
        """Connect to the running manager, starting it first if nobody has."""
        try:
            return self._connect()
        except (ConnectionError, FileNotFoundError):
            pass
        with open(self.start_lock_path, "a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                return self._connect()
            except (ConnectionError, FileNotFoundError):
                self._spawn_manager()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            try:
                return self._connect()
            except (ConnectionError, FileNotFoundError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def _spawn_manager(self):
        """Start the manager program, detached from this process's sockets and stdin."""
        env = dict(os.environ, COUNTER_MANAGER_ADDRESS=self.address.encode().hex(),
                   COUNTER_MANAGER_AUTHKEY=self.authkey.hex(),
                   COUNTER_MANAGER_WATCH_PID=str(self.watch_pid))
        package_root = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
        subprocess.Popen([sys.executable, "-m", "session_counter.strategies.manager_process"],
                         env=env, stdin=subprocess.DEVNULL, close_fds=True)

    def _call(self, method):
        with self._guard:
            if self._proxy is None or self._pid != os.getpid():
                try:
                    self._proxy = self._start_or_connect()
                except OSError as error:
                    raise StoreUnavailable(f"cannot reach the counter manager: {error}") from error
                self._pid = os.getpid()
            proxy = self._proxy
        try:
            return getattr(proxy, method)()
        except (OSError, EOFError) as error:
            self._proxy = None  # reconnect (or restart the manager) next time
            raise StoreUnavailable(f"the counter manager went away: {error}") from error

    def increment(self):
        """Ask the manager for the next number."""
        return self._call("inc")

    def current(self):
        """Ask the manager for the value."""
        return self._call("get")

    def reset(self):
        """Ask the manager to store 0."""
        self._call("reset")

