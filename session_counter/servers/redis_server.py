"""A real redis-server on a free 127.0.0.1 port for the tests: no mock of Redis anywhere.

Without redis-server the Redis tests skip, unless SESSION_COUNTER_REQUIRE_SERVICES=1
(CI), where a missing redis-server is a failure.
"""

import contextlib
import shutil

import redis

from .harness import free_port
from .process import ServerProcess, require_program

REDIS_SERVER = shutil.which("redis-server")


def require_redis_server(require=require_program):
    """Raise ProgramMissing (or call ``require``: the tests skip) if the program is missing."""
    require(REDIS_SERVER, "redis-server is not installed "
                                  "(Debian: apt-get install redis-server)")


class RedisServer(ServerProcess):
    """One redis-server process; it keeps its port across stop() and start()."""

    name = "redis"

    def __init__(self, folder, persistent=False):
        """Keep data (with ``persistent``: an fsync'ed append-only file) in ``folder``."""
        super().__init__(folder, free_port())
        self.persistent = persistent

    @property
    def url(self):
        """The redis:// URL the app is given."""
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self):
        """Return the redis-server command line."""
        persistence = (["--appendonly", "yes", "--appendfsync", "always"] if self.persistent
                       else ["--appendonly", "no"])
        return [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", *persistence, "--dir", self.folder, "--logfile", self.log_path]

    def ping(self):
        """Return once Redis answers PING (ConnectionError, an OSError, until then)."""
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        try:
            client.ping()
        except redis.exceptions.ConnectionError as error:
            raise OSError(str(error)) from error
        finally:
            client.close()

    def client(self):
        """Return a client of this server (for the test's own checks)."""
        self.count_use()
        return redis.Redis(port=self.port, socket_connect_timeout=1, socket_timeout=5)

    def flush(self):
        """Empty the database, so each test starts from nothing."""
        with self.client() as client:
            client.flushall()


@contextlib.contextmanager
def running_redis(folder, persistent=False, require=require_program):
    """A redis-server of its own for one test; stopped on the way out."""
    require_redis_server(require)
    server = RedisServer(str(folder), persistent=persistent).start()
    try:
        yield server
    finally:
        server.stop()
