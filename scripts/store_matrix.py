"""Print the store-by-technique matrix, measured: every strategy raced with real stores.

    .venv/bin/python scripts/store_matrix.py [race lab options]

Starts a redis-server, a memcached and a PostgreSQL of its own on free 127.0.0.1 ports
in a temporary folder (session_counter/servers/, as the tests do: Debian's
redis-server, memcached and postgresql packages), runs
``flask --app session_counter race --markdown`` with their three URLs and the options
given (default: ``--server gunicorn --workers 4 --window 0.001``), prints the Markdown
matrix, and stops the stores.
"""

import contextlib
import os
import subprocess
import sys
import tempfile

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, PROJECT_ROOT)

from session_counter.servers.memcached_server import running_memcached  # noqa: E402
from session_counter.servers.postgres_server import running_postgres  # noqa: E402
from session_counter.servers.redis_server import running_redis  # noqa: E402

DEFAULT_OPTIONS = ["--server", "gunicorn", "--workers", "4", "--window", "0.001"]


def main(options):
    """Start the three stores, race every strategy with them, print the matrix."""
    with tempfile.TemporaryDirectory() as folder, contextlib.ExitStack() as stores:
        redis = stores.enter_context(running_redis(os.path.join(folder, "redis")))
        memcached = stores.enter_context(running_memcached(os.path.join(folder, "memcached")))
        postgres = stores.enter_context(running_postgres())
        command = [sys.executable, "-m", "flask", "--app", "session_counter", "race",
                   "--markdown", "--redis-url", redis.url, "--memcached-url", memcached.url,
                   "--postgres-url", postgres.url, *(options or DEFAULT_OPTIONS)]
        return subprocess.run(command, cwd=PROJECT_ROOT).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
