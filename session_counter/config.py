"""Configuration: defaults, then instance/config.py, then SESSION_COUNTER_* variables."""

import difflib
import os
import secrets
from datetime import timedelta

from flask import Config

from . import setting_types as types
from .startup_checks import StartupError

ENV_PREFIX = "SESSION_COUNTER"

#: Every setting the app reads, with its default. Any of them can be overridden by
#: ``instance/config.py`` or by an environment variable ``SESSION_COUNTER_<NAME>``;
#: each value is coerced to the setting's type (TYPES, or the default's type) or the
#: app refuses to start, naming the setting.
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
    # Longest wait for a lock before a 503: a client's session lock, its session file,
    # the file_lock strategy's counter file.
    "SESSION_LOCK_TIMEOUT": 10.0,
    # Expired session files are deleted without cron: a process sweeps after this many
    # new sessions, or this many seconds after its last sweep (at the end of a request
    # that used a session), examining at most SESSION_SWEEP_BATCH files, found by an
    # expiry index in instance/session-expiry.sqlite (0: no sweeps, no index).
    "SESSION_SWEEP_EVERY": 100,
    "SESSION_SWEEP_SECONDS": 60.0,
    "SESSION_SWEEP_BATCH": 1000,
    # Sweep in a thread of the worker, after the request that made it due has answered
    # (one sweep per process at a time). False: inside that request, which then waits for
    # it (the old way, kept so the bench can measure both side by side).
    "SESSION_SWEEP_IN_BACKGROUND": True,
    # New sessions are refused (503) while the session folder's disk has less free;
    # existing sessions keep working. 0 turns the check off.
    "MIN_FREE_BYTES": 64 * 1024 * 1024,
    # Pause (seconds) inside an increment, to widen the race window: where is RACE_WINDOW_AT.
    "RACE_WINDOW": 0.0,
    # Which gap RACE_WINDOW opens: "read-write" (between a strategy's read and its write:
    # lost updates), "write-return" (between the write and the return that re-reads the
    # shared value: duplicates and gaps; only naive_global and thread_lock re-read), or
    # "" for each strategy's own (naive_global and thread_lock: write-return; others:
    # read-write).
    "RACE_WINDOW_AT": "",
    # Races from the page count in counters of their own (race/registry.py): at most this
    # many run at once (the next start gets 429), each for at most RACE_LIFETIME seconds.
    "RACE_MAX_LIVE": 8,
    "RACE_LIFETIME": 300.0,
    # Origins, besides the app's own, whose pages may POST here: exact origins
    # (scheme://host[:port]), a list in instance/config.py, comma-separated in the
    # environment. A request from one is allowed whatever Sec-Fetch-Site says.
    "TRUSTED_ORIGINS": [],
    # Where per-client sessions live: filesystem, redis, memcached (needs MEMCACHED_URL;
    # evicts under memory pressure), cookie (Flask's signed cookie) or dict (one process's
    # memory). Unset: redis when REDIS_URL is set, else filesystem.
    "SESSION_STORE": None,
    # When set (redis://host:port/db), sessions and the `redis` strategy use Redis.
    "REDIS_URL": None,
    # When set (memcached://host:port), the memcached strategies count in that memcached
    # (and SESSION_STORE=memcached keeps sessions there).
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


#: Types that a setting's default does not say (None, or a narrower type than str).
TYPES = {
    "SECRET_KEY": types.optional_text,
    "REDIS_URL": types.optional_text,
    "SESSION_STORE": types.optional_choice("filesystem", "redis", "memcached", "cookie",
                                           "dict"),
    "MEMCACHED_URL": types.optional_text,
    "POSTGRES_URL": types.optional_text,
    "PERMANENT_SESSION_LIFETIME": types.duration,
    "SESSION_LOCK_TIMEOUT": types.seconds,
    "RACE_WINDOW": types.seconds,
    "RACE_WINDOW_AT": types.one_of("", "read-write", "write-return"),
    "RACE_MAX_LIVE": types.within(types.integer, 1, 64),
    "RACE_LIFETIME": types.within(types.seconds, 1, 86400),
    "TRUSTED_ORIGINS": types.origins,
    "SESSION_COOKIE_SAMESITE": types.one_of("Lax", "Strict"),
    "MIN_FREE_BYTES": types.integer,  # free disk below which new sessions are refused
}
#: The parser of a setting whose type its default says.
TYPE_OF_DEFAULT = {bool: types.boolean, int: types.integer, float: types.seconds,
                   str: types.text, type(None): types.optional_text}
#: SESSION_COUNTER_* variables that are not settings of the app: read before the app
#: exists (the instance folder) or by the tests only (services required, browsers).
NOT_SETTINGS = {"INSTANCE_PATH", "REQUIRE_SERVICES", "CHROMIUM", "FIREFOX", "MINIBROWSER",
                "WEBKIT_DRIVER", "READ_ONLY_AS_NOBODY", "READ_ONLY_REPORT"}
#: Settings whose value never appears in a message.
SECRET_SETTINGS = {"SECRET_KEY"}


def setting_type(name):
    """Return the parser of setting ``name``: explicit in TYPES, or its default's type."""
    if name in TYPES:
        return TYPES[name]
    try:
        return TYPE_OF_DEFAULT[type(DEFAULTS[name])]
    except KeyError:
        raise TypeError(f"setting {name} has no type: add it to config.TYPES") from None


def setting_names():
    """Return the names of every setting, sorted."""
    return sorted(set(DEFAULTS) | set(TYPES))


def instance_path_from_env():
    """Return the instance folder named by SESSION_COUNTER_INSTANCE_PATH, if any."""
    path = os.environ.get(f"{ENV_PREFIX}_INSTANCE_PATH")
    return os.path.abspath(path) if path else None


def settings_from_env(environ):
    """Return {name: text} of the SESSION_COUNTER_* variables; refuse unknown names.

    A misspelt variable would otherwise be ignored in silence, and the setting it
    meant (a Secure cookie, say) would keep its default.
    """
    found = {}
    for key, value in environ.items():
        if not key.startswith(ENV_PREFIX + "_"):
            continue
        name = key[len(ENV_PREFIX) + 1:]
        if name in NOT_SETTINGS:
            continue
        if name not in DEFAULTS and name not in TYPES:
            close = difflib.get_close_matches(name, setting_names(), n=1)
            hint = f"did you mean {ENV_PREFIX}_{close[0]}? " if close else ""
            raise StartupError(f"{key} is not a setting of session-counter ({hint}settings: "
                               f"{', '.join(setting_names())}). Fix: rename or unset it.")
        found[name] = value
    return found


def coerce_settings(config, sources):
    """Coerce every setting in ``config`` to its type; refuse a value naming the setting.

    ``sources`` maps a name to (what it is called there, where it was set), e.g.
    ("SESSION_COUNTER_SESSION_LOCK", "") or ("SESSION_LOCK", " in instance/config.py").
    """
    for name in setting_names():
        if name not in config:
            continue
        try:
            config[name] = setting_type(name)(config[name])
        except ValueError as error:
            called, where = sources.get(name, (name, " (the default)"))
            shown = "" if name in SECRET_SETTINGS else f"={config[name]!r}"
            raise StartupError(f"{called}{shown}{where} cannot be used: {error}. "
                               f"Fix: correct or unset it.") from None


def load_config(app, test_config=None):
    """Fill app.config from the defaults, the instance config, the environment and tests."""
    app.config.from_mapping(DEFAULTS)
    sources = {}
    if test_config is None:
        from_file = Config(app.config.root_path)
        path = os.path.join(app.config.root_path, "config.py")
        from_file.from_pyfile(path, silent=True)
        app.config.update(from_file)
        sources.update({name: (name, f" in {path}") for name in from_file})
        from_env = settings_from_env(os.environ)
        app.config.update(from_env)
        sources.update({name: (f"{ENV_PREFIX}_{name}", "") for name in from_env})
    else:
        app.config.from_mapping(test_config)
        sources.update({name: (name, " in the test config") for name in test_config})
    coerce_settings(app.config, sources)
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
    try:
        app.config["SECRET_KEY"] = read_or_make_key(path)
    except OSError as error:  # workers that each made up a key would not agree: stop
        raise StartupError(
            f"Cannot keep a generated secret key in {path} ({error.strerror}). Fix: make "
            f"the instance folder writable by this user, or set SESSION_COUNTER_SECRET_KEY "
            f"(the same value for every process).") from error


def read_or_make_key(path):
    """Return the key in ``path``, writing a new one first if there is none."""
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
        return f.read().strip()
