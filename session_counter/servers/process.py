"""A store's server program (redis-server, memcached, PostgreSQL): started, stopped, restarted.

The tests and scripts/store_matrix.py run real stores through here, never a mock.
"""

import contextlib
import os
import signal
import subprocess
import time


class ProgramMissing(RuntimeError):
    """A server program (redis-server, memcached, PostgreSQL) is not installed."""


def require_program(found, message):
    """Raise ProgramMissing with ``message`` unless ``found`` (the tests skip instead)."""
    if not found:
        raise ProgramMissing(message)


class ServerProcess:
    """A server program on a fixed port, logging into its folder; stop() and start() again.

    Subclasses give ``name``, ``command()`` and ``ping()`` (which raises OSError, or a
    subclass of it, until the server answers).
    """

    name = "server"
    uses = 0  # of this kind of server: starts and clients (the tests check their markers)

    def __init__(self, folder, port):
        """Log into ``folder``; listen on ``port`` (kept across restarts)."""
        self.folder = str(folder)
        os.makedirs(self.folder, exist_ok=True)
        self.port = port
        self.process = None
        self.log_path = os.path.join(self.folder, f"{self.name}.log")

    def start(self, timeout=10.0):
        """Start the server and return once it answers."""
        self.count_use()
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=subprocess.STDOUT,
                                            **self.popen_options())
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}: "
                                   f"{self.log()[-2000:]}")
            try:
                self.ping()
                return self
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise
                time.sleep(0.02)

    def popen_options(self):
        """Return extra arguments for Popen (e.g. the user to run as)."""
        return {}

    def stop(self, sig=signal.SIGTERM):
        """Stop the server (SIGKILL: a crash, without a chance to write anything)."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(sig)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    @classmethod
    def count_use(cls):
        """Count one use of this kind of server, for the marker check in conftest."""
        cls.uses += 1

    def log(self):
        """Return what the server wrote to its log."""
        with contextlib.suppress(FileNotFoundError), \
                open(self.log_path, errors="replace") as f:
            return f.read()
        return ""
