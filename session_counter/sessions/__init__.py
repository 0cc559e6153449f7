"""Per-client sessions: the shared locking interface, then one module per store.

base.py holds what every store shares; file_interface.py keeps sessions on this
machine's disk (file_store.py, file_lock.py, sweep.py), redis_store.py in Redis.
Adding a store is one new module, one line in STORES, and the setting that chooses
it in store_type().
"""

from .base import finish_session, raise_session_error
from .cli import sessions_cli
from .file_interface import make_file_interface
from .redis_store import make_redis_interface

# The session type Flask-Session names each store by, and the function that builds it.
STORES = {"cachelib": make_file_interface, "redis": make_redis_interface}


def store_type(app):
    """Return the session type the config asks for: Redis with a Redis URL, else files."""
    return "redis" if app.config.get("REDIS_URL") else "cachelib"


def init_app(app):
    """Install the session interface, its request hooks and the `sessions` CLI group."""
    app.config["SESSION_TYPE"] = kind = store_type(app)
    app.session_interface = STORES[kind](app)
    app.before_request(raise_session_error)
    app.teardown_request(finish_session)
    app.cli.add_command(sessions_cli)
