"""The tests' real redis-server (session_counter/servers/redis_server.py): without it the test
skips, or fails where SESSION_COUNTER_REQUIRE_SERVICES=1 (CI)."""

import functools

from session_counter.servers import redis_server
from session_counter.servers.redis_server import RedisServer  # noqa: F401 (for the tests)

from .services import require_service

running_redis = functools.partial(redis_server.running_redis, require=require_service)
