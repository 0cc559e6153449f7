"""A real memcached on a free 127.0.0.1 port for the tests: no mock of memcached anywhere.

Without memcached the memcached tests skip, unless SESSION_COUNTER_REQUIRE_SERVICES=1
(CI), where a missing memcached is a failure.
"""

import contextlib
import os
import shutil

from pymemcache.client.base import Client

from .harness import free_port
from .process import ServerProcess, require_program

MEMCACHED = shutil.which("memcached")


def require_memcached(require=require_program):
    """Raise ProgramMissing (or call ``require``: the tests skip) if the program is missing."""
    require(MEMCACHED, "memcached is not installed (Debian: apt-get install memcached)")


class MemcachedServer(ServerProcess):
    """One memcached process: memory only, so a restart starts it empty."""

    name = "memcached"

    def __init__(self, folder, memory=("-m", "64")):
        """Log into ``folder``; listen on a free loopback port; ``memory``: its memory options.

        A tiny memory (``-m 1``: scripts/memcached_eviction.py) makes it evict.
        """
        super().__init__(folder, free_port())
        self.memory = list(memory)

    @property
    def url(self):
        """The memcached:// URL the app is given."""
        return f"memcached://127.0.0.1:{self.port}"

    def command(self):
        """Return the memcached command line (TCP on loopback only, no UDP)."""
        # memcached refuses to run as root unless told which user to become
        user = ["-u", "nobody"] if os.geteuid() == 0 else []
        return [MEMCACHED, "-l", "127.0.0.1", "-p", str(self.port), "-U", "0", *self.memory,
                *user]

    def ping(self):
        """Return once memcached answers version (OSError until then)."""
        with contextlib.closing(self.client()) as client:
            client.version()

    def client(self):
        """Return a client of this server (for the test's own checks)."""
        self.count_use()
        return Client(("127.0.0.1", self.port), connect_timeout=1, timeout=5,
                      default_noreply=False)

    def flush(self):
        """Empty memcached, so each test starts from nothing."""
        with contextlib.closing(self.client()) as client:
            client.flush_all()


@contextlib.contextmanager
def running_memcached(folder, require=require_program, **options):
    """A memcached of its own for one test (``options``: MemcachedServer's); stopped after."""
    require_memcached(require)
    server = MemcachedServer(folder, **options).start()
    try:
        yield server
    finally:
        server.stop()
