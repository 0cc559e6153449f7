"""Configuration: defaults, then instance/config.py, then SESSION_COUNTER_* variables."""

import os
import secrets
from datetime import timedelta

ENV_PREFIX = "SESSION_COUNTER"

#: Every setting the app reads, with its default. Any of them can be overridden by
#: ``instance/config.py`` or by an environment variable ``SESSION_COUNTER_<NAME>``
#: (values are parsed as JSON when they can be, so ``SESSION_COUNTER_SESSION_LOCK=false``
#: is the boolean False).
DEFAULTS = {
    # Where per-client session files live; relative paths are inside the instance folder.
    "SESSION_DIR": "sessions",
    # The SQLite database of the `sqlite` shared strategy, inside the instance folder.
    "DATABASE": "counters.sqlite",
    # Sessions live this long after their last change (seconds or a timedelta).
    "PERMANENT_SESSION_LIFETIME": timedelta(days=31),
    # Lock one client's session from load to save, so simultaneous requests of one
    # client do not overwrite each other's counter (PHP's session handler does the same).
    "SESSION_LOCK": True,
    # Longest wait for a client's session lock, or for its session file, before a 503.
    "SESSION_LOCK_TIMEOUT": 10.0,
    # Pause between read and write in the unsafe strategies, to widen the race window.
    "RACE_WINDOW": 0.0,
    # Extra origins allowed to POST (besides the app's own), e.g. behind a proxy.
    "TRUSTED_ORIGINS": [],
    # When set (redis://host:port/db), sessions and the `redis` strategy use Redis.
    "REDIS_URL": None,
    # When set (memcached://host:port), the memcached strategies count in that memcached.
    "MEMCACHED_URL": None,
    # When set (postgresql://user:password@host:port/dbname), the PostgreSQL strategies
    # count in that database (psycopg 3).
    "POSTGRES_URL": None,
    # Cookie settings: HttpOnly and SameSite=Lax always; Secure when served over HTTPS.
    "SESSION_COOKIE_SECURE": False,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    # Reads do not rewrite the session file: a session expires
    # PERMANENT_SESSION_LIFETIME after its last change, and a GET costs no disk write.
    "SESSION_REFRESH_EACH_REQUEST": False,
}


def instance_path_from_env():
    """Return the instance folder named by SESSION_COUNTER_INSTANCE_PATH, if any."""
    path = os.environ.get(f"{ENV_PREFIX}_INSTANCE_PATH")
    return os.path.abspath(path) if path else None


def load_config(app, test_config=None):
    """Fill app.config from the defaults, the instance config, the environment and tests."""
    app.config.from_mapping(DEFAULTS)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env(ENV_PREFIX)
    else:
        app.config.from_mapping(test_config)
    lifetime = app.config["PERMANENT_SESSION_LIFETIME"]
    if not isinstance(lifetime, timedelta):
        app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=float(lifetime))
    for key in ("SESSION_DIR", "DATABASE"):
        app.config[key] = os.path.join(app.instance_path, app.config[key])


def ensure_secret_key(app):
    """Use the configured SECRET_KEY, or one kept in the instance folder (mode 0600).

    Every worker process and every restart must agree on the key, so a generated key
    is written once, atomically: the first process links its file into place and any
    other process that loses that race reads the winner's key.
    """
    if app.config.get("SECRET_KEY"):
        return
    path = os.path.join(app.instance_path, "secret_key")
    if not os.path.exists(path):
        tmp = f"{path}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    with open(path) as f:
        app.config["SECRET_KEY"] = f.read().strip()
