"""The tests' real PostgreSQL (session_counter/servers/postgres_server.py): without it the test
skips, or fails where SESSION_COUNTER_REQUIRE_SERVICES=1 (CI)."""

import functools

from session_counter.servers import postgres_server
from session_counter.servers.postgres_server import PASSWORD, PostgresServer  # noqa: F401 (for the tests)

from .services import require_service

running_postgres = functools.partial(postgres_server.running_postgres, require=require_service)
