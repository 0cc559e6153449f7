"""Per-client sessions: the shared locking interface, then one module per store.

base.py holds what every store shares; file_interface.py keeps sessions on this
machine's disk (file_store.py, file_lock.py, sweep.py), redis_store.py in Redis,
memcached_store.py in memcached (which evicts under memory pressure), dict_store.py
in this process's memory, cookie_store.py in the client's cookie.
Adding a store is one new module, one line in STORES and one in ABOUT.
"""

from ..startup_checks import StartupError
from .base import finish_session, raise_session_error
from .cli import sessions_cli
from .cookie_store import make_cookie_interface
from .dict_store import make_dict_interface
from .file_interface import make_file_interface
from .memcached_store import make_memcached_interface
from .redis_store import make_redis_interface

# SESSION_COUNTER_SESSION_STORE's values, and the function that builds each store.
STORES = {"filesystem": make_file_interface, "redis": make_redis_interface,
          "memcached": make_memcached_interface, "cookie": make_cookie_interface,
          "dict": make_dict_interface}
# The setting a store cannot run without.
NEEDS = {"redis": "REDIS_URL", "memcached": "MEMCACHED_URL"}
# Per store: what it keeps and loses, and what the race lab finds (one sentence each).
ABOUT = {
    "filesystem": (
        "One file per client on this machine's disk: it survives restarts and is shared "
        "by every worker process here, but not by another machine.",
        "With the lock, one client's simultaneous requests take turns on this machine, so "
        "nothing is lost on one instance; another instance has its own folder, so a client "
        "whose requests alternate between instances loses its counter."),
    "redis": (
        "One Redis key per client: every process and every machine pointed at this Redis "
        "sees the same session, and it lasts as long as Redis keeps its data.",
        "The lock lives in Redis too, so one client's requests take turns on every "
        "machine and nothing is lost anywhere."),
    "memcached": (
        "One memcached item per client, shared by every process and machine pointed at "
        "this memcached, but memcached is a cache: when its memory is full it evicts the "
        "least recently used sessions, and a restart empties it.",
        "The lock is a memcached item too, so one client's requests take turns on every "
        "machine and the race loses nothing; an evicted session is lost all the same, and "
        "its client starts again at 1."),
    "cookie": (
        "The whole session travels in your signed cookie: nothing is kept on the server, "
        "so any process that knows the SECRET_KEY can read it, and nothing can lock it.",
        "Requests sent one after another carry the latest cookie and lose nothing on any "
        "process, but simultaneous requests each start from the same cookie, and the one "
        "the client keeps last wins."),
    "dict": (
        "A dict in one worker process's memory: another process, another machine or a "
        "restart of this one has never seen your session.",
        "It counts right while one process answers, and a request that lands on another "
        "process finds no session and starts again at 0."),
}


def store_name(app):
    """Return the store the config asks for: the setting, else Redis with a URL, else files."""
    name = app.config.get("SESSION_STORE")
    if name is None:
        return "redis" if app.config.get("REDIS_URL") else "filesystem"
    needed = NEEDS.get(name)
    if needed and not app.config.get(needed):
        problem = StartupError(f"SESSION_STORE={name!r} needs SESSION_COUNTER_{needed}. "
                               f"Fix: set it, or choose another store "
                               f"({', '.join(STORES)}).")
        problem.can_wait = False
        raise problem
    return name


def session_lock(app):
    """Tell whether this app locks a client's session: True/False, None where none can."""
    if app.config["SESSION_STORE"] == "cookie":
        return None
    return app.session_interface.locks is not None


def init_app(app):
    """Install the session interface, its request hooks and the `sessions` CLI group."""
    app.config["SESSION_STORE"] = name = store_name(app)
    app.session_interface = STORES[name](app)
    app.session_interface.session_store = name
    app.before_request(raise_session_error)
    app.teardown_request(finish_session)
    app.cli.add_command(sessions_cli)
