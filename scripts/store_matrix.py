"""Print the store-by-technique matrix, measured: every strategy raced with real stores.

    .venv/bin/python scripts/store_matrix.py [race lab options]

The race lab options are those of ``flask --app session_counter race --help``; --help
and a bad option answer at once, before any store is started.

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

import click

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, PROJECT_ROOT)

from session_counter.race.cli import race_command  # noqa: E402
from session_counter.servers.memcached_server import running_memcached  # noqa: E402
from session_counter.servers.postgres_server import running_postgres  # noqa: E402
from session_counter.servers.redis_server import running_redis  # noqa: E402

PROGRAM = "scripts/store_matrix.py"

DEFAULT_OPTIONS = ["--server", "gunicorn", "--workers", "4", "--window", "0.001"]


def print_help():
    """Print this script's usage, then the race lab options it passes on."""
    ctx = click.Context(race_command, info_name=PROGRAM)
    formatter = ctx.make_formatter()
    race_command.format_options(ctx, formatter)
    options = formatter.getvalue().replace("Options:", "Race lab options:", 1)
    print(__doc__.strip() + "\n\n" + options.lstrip())


def refuse_bad_options(options):
    """Return an exit code (2) for options the race lab would refuse, else None."""
    try:
        race_command.make_context(PROGRAM, list(options))
    except click.ClickException as error:
        error.show()
        return error.exit_code
    return None


def main(options):
    """Start the three stores, race every strategy with them, print the matrix."""
    if "-h" in options or "--help" in options:
        print_help()
        return 0
    refused = refuse_bad_options(options)
    if refused is not None:
        return refused
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
