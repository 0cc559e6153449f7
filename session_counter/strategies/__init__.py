"""The registry of shared-counter strategies: routes, race lab and benchmarks read it.

Adding a strategy is one new module and one line in STRATEGY_CLASSES.
"""

from .base import (
    ATOMIC,
    COMPARE_AND_SWAP,
    LOCK,
    MACHINES,
    PROCESSES,
    READ_THEN_WRITE,
    SCOPES,
    STORES,
    TECHNIQUES,
    THREADS,
    CounterStrategy,
)
from .cache import Cache
from .cache_inc import CacheInc
from .file_lock import FileLock
from .manager import Manager
from .memcached_cas import MemcachedCAS
from .memcached_get_set import MemcachedGetSet
from .memcached_incr import MemcachedIncr
from .naive_global import NaiveGlobal
from .postgres import Postgres
from .postgres_for_update import PostgresForUpdate
from .postgres_read_write import PostgresReadWrite
from .postgres_sequence import PostgresSequence
from .redis_counter import RedisCounter
from .redis_get_set import RedisGetSet
from .redis_watch import RedisWatch
from .sqlite import SQLite
from .sqlite_cas import SQLiteCAS
from .sqlite_read_write import SQLiteReadWrite
from .thread_lock import ThreadLock

# In the order of the matrix: store by store (rows), each from read-then-write to
# compare-and-swap (columns). One line per store.
STRATEGY_CLASSES = (NaiveGlobal, ThreadLock,
                    Cache, CacheInc,
                    FileLock,
                    Manager,
                    SQLiteReadWrite, SQLite, SQLiteCAS,
                    PostgresReadWrite, PostgresForUpdate, Postgres, PostgresSequence,
                    RedisGetSet, RedisCounter, RedisWatch,
                    MemcachedGetSet, MemcachedIncr, MemcachedCAS)

__all__ = ["CounterStrategy", "STRATEGY_CLASSES", "SCOPES", "THREADS", "PROCESSES",
           "MACHINES", "STORES", "TECHNIQUES", "READ_THEN_WRITE", "LOCK", "ATOMIC",
           "COMPARE_AND_SWAP", "init_app", "get_strategies"]


def init_app(app):
    """Create one instance of every strategy this configuration can run."""
    app.extensions["counter_strategies"] = {
        cls.name: cls(app) for cls in STRATEGY_CLASSES if cls.available(app)
    }


def get_strategies(app):
    """Return {name: strategy} for this app."""
    return app.extensions["counter_strategies"]
