"""A real redis-server on a free 127.0.0.1 port for the tests: no mock of Redis anywhere.

Without redis-server the Redis tests skip, unless SESSION_COUNTER_REQUIRE_SERVICES=1
(CI), where a missing redis-server is a failure.
"""

import contextlib
import os
import shutil
import signal
import subprocess
import time

import pytest
import redis

from session_counter.harness import free_port

REDIS_SERVER = shutil.which("redis-server")


def require_redis_server():
    """Skip the calling test without redis-server, or fail it when services are required."""
    if REDIS_SERVER:
        return
    message = "redis-server is not installed (Debian: apt-get install redis-server)"
    if os.environ.get("SESSION_COUNTER_REQUIRE_SERVICES") == "1":
        pytest.fail(message + "; SESSION_COUNTER_REQUIRE_SERVICES=1 requires it")
    pytest.skip(message)


class RedisServer:
    """One redis-server process; it keeps its port across stop() and start()."""

    uses = 0  # of any RedisServer: starts, clients, flushes (conftest checks the marker)

    def __init__(self, folder, persistent=False):
        """Keep data (with ``persistent``: an fsync'ed append-only file) in ``folder``."""
        self.folder = folder
        os.makedirs(folder, exist_ok=True)
        self.persistent = persistent
        self.port = free_port()
        self.process = None

    @property
    def url(self):
        """The redis:// URL the app is given."""
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self):
        """Return the redis-server command line."""
        persistence = (["--appendonly", "yes", "--appendfsync", "always"] if self.persistent
                       else ["--appendonly", "no"])
        return [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", *persistence, "--dir", self.folder,
                "--logfile", os.path.join(self.folder, "redis.log")]

    def start(self, timeout=10.0):
        """Start redis-server and return once it answers PING."""
        RedisServer.uses += 1
        self.process = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}: "
                                   f"{self.log()[-2000:]}")
            try:
                client.ping()
                return self
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise
                time.sleep(0.02)
            finally:
                client.close()

    def stop(self, sig=signal.SIGTERM):
        """Stop redis-server (SIGKILL: a crash, without a chance to write anything)."""
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

    def client(self):
        """Return a client of this server (for the test's own checks)."""
        RedisServer.uses += 1
        return redis.Redis(port=self.port, socket_connect_timeout=1, socket_timeout=5)

    def flush(self):
        """Empty the database, so each test starts from nothing."""
        with self.client() as client:
            client.flushall()

    def log(self):
        """Return what redis-server wrote to its log."""
        with contextlib.suppress(FileNotFoundError), \
                open(os.path.join(self.folder, "redis.log"), errors="replace") as f:
            return f.read()
        return ""


@contextlib.contextmanager
def running_redis(folder, persistent=False):
    """A redis-server of its own for one test; stopped on the way out."""
    require_redis_server()
    server = RedisServer(str(folder), persistent=persistent).start()
    try:
        yield server
    finally:
        server.stop()
