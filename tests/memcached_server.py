"""The tests' real memcached (session_counter/servers/memcached_server.py): without it the test
skips, or fails where SESSION_COUNTER_REQUIRE_SERVICES=1 (CI)."""

import functools

from session_counter.servers import memcached_server
from session_counter.servers.memcached_server import MemcachedServer  # noqa: F401 (for the tests)

from .services import require_service

running_memcached = functools.partial(memcached_server.running_memcached, require=require_service)
