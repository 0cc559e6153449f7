"""Refuse to start when a folder or file the app writes to is not writable.

Found at start-up, the problem is one clear message naming the path and the fix;
found at the first request, it would be a 503 for every user.
"""

import logging
import os
import sqlite3
import sys
import tempfile

import click


class StartupError(click.ClickException):
    """A start-up problem, printed as one clear message.

    A ClickException, so ``flask`` and ``run.py`` print just the message and exit 1;
    gunicorn shows it and stops, since its workers cannot boot. ``can_wait`` says a
    gunicorn worker may boot anyway and answer 503 until the problem is fixed.
    """

    can_wait = True


def check_writable_folder(path, what):
    """Create ``path`` if needed and prove a file can be written in it."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as error:
        problem = StartupError(
            f"The {what} {path} is not writable ({error.strerror}). Fix: make it "
            f"writable by this user (chown/chmod), or point the app at another folder "
            f"with SESSION_COUNTER_INSTANCE_PATH or SESSION_COUNTER_SESSION_DIR.")
        # a folder that is there can become writable again; one that cannot even be
        # made stops the worker later (its store cannot be built), so stop it here
        problem.can_wait = os.path.isdir(path)
        raise problem from error


def check_writable_database(path):
    """Create the counter database (or open it) and prove it can be written."""
    from .strategies.sqlite import prepare_database

    try:
        prepare_database(path)
        conn = sqlite3.connect(path, timeout=30)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
        finally:
            conn.close()
    except sqlite3.Error as error:
        raise StartupError(
            f"The counter database {path} is not writable ({error}). Fix: make the file "
            f"and its folder writable by this user, or set SESSION_COUNTER_DATABASE.") from error


def check_redis(url):
    """Prove Redis answers at ``url``, the store of sessions and of the `redis` strategy."""
    from redis.exceptions import RedisError

    from .clients import redacted
    from .clients.redis import connect

    fix = ("Fix: start Redis (redis-server --port 6379), correct SESSION_COUNTER_REDIS_URL "
           "(redis://host:port/db), or unset it to keep sessions on this machine's disk.")
    try:
        client = connect(url)
    except (ValueError, TypeError, AttributeError) as error:
        raise StartupError(f"SESSION_COUNTER_REDIS_URL={redacted(url)} is not a Redis URL "
                           f"({error}). {fix}") from error
    try:
        client.ping()
    except RedisError as error:
        raise StartupError(f"Cannot reach Redis at {redacted(url)} ({error}). {fix}") from error
    finally:
        client.close()


def check_memcached(url):
    """Prove memcached answers at ``url``, the store of the memcached strategies."""
    from pymemcache.exceptions import MemcacheError

    from .clients import redacted
    from .clients.memcached import connect

    fix = ("Fix: start memcached (memcached -l 127.0.0.1 -p 11211), correct "
           "SESSION_COUNTER_MEMCACHED_URL (memcached://host:port), or unset it (and a "
           "SESSION_COUNTER_SESSION_STORE=memcached) to run without memcached.")
    try:
        client = connect(url)
    except ValueError as error:
        raise StartupError(f"SESSION_COUNTER_MEMCACHED_URL={redacted(url)} is not a memcached "
                           f"URL ({error}). {fix}") from error
    try:
        client.version()
    except (MemcacheError, OSError) as error:
        reason = str(error) or type(error).__name__
        raise StartupError(f"Cannot reach memcached at {redacted(url)} ({reason}). "
                           f"{fix}") from error
    finally:
        client.close()


def check_postgres(url):
    """Prove PostgreSQL answers at ``url`` and holds the counters' table and sequence."""
    import psycopg

    from .clients import redacted
    from .clients.postgres import check_url, hide_password, prepare_schema

    fix = ("Fix: start PostgreSQL, correct SESSION_COUNTER_POSTGRES_URL "
           "(postgresql://user:password@host:port/dbname), or unset it to run without the "
           "PostgreSQL strategies.")
    try:
        check_url(url)
    except ValueError as error:
        raise StartupError(f"SESSION_COUNTER_POSTGRES_URL={redacted(url)} is not a PostgreSQL "
                           f"URL ({error}). {fix}") from error
    try:
        prepare_schema(url)
    except psycopg.Error as error:
        reason = hide_password(url, str(error).strip() or type(error).__name__)
        raise StartupError(f"Cannot reach PostgreSQL at {redacted(url)} ({reason}). "
                           f"{fix}") from error


def in_gunicorn_worker():
    """Tell whether this process is a gunicorn worker (run.py checks before gunicorn starts)."""
    return "gunicorn.arbiter" in sys.modules


def run_checks(app):
    """Check every place the app writes to; stop with the first problem found.

    In a gunicorn worker a problem that can pass (a store down, a folder read-only) is
    logged instead: a worker that fails to boot halts the whole server, so a worker
    replaced while Redis is down would take every other worker with it. It answers 503
    until it is fixed. A folder that does not exist and cannot be made stops it anyway.
    """
    checks = [(check_writable_folder, app.instance_path, "instance folder"),
              (check_writable_folder, app.config["SESSION_DIR"], "session folder"),
              (check_writable_database, app.config["DATABASE"])]
    if app.config.get("REDIS_URL"):
        checks.append((check_redis, app.config["REDIS_URL"]))
    if app.config.get("MEMCACHED_URL"):
        checks.append((check_memcached, app.config["MEMCACHED_URL"]))
    if app.config.get("POSTGRES_URL"):
        checks.append((check_postgres, app.config["POSTGRES_URL"]))
    for check, *args in checks:
        try:
            check(*args)
        except StartupError as error:
            if not (in_gunicorn_worker() and error.can_wait):
                raise
            logging.getLogger(__name__).warning("%s Answering 503 until then.", error.message)
