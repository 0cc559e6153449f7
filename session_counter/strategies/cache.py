"""get-then-set in Flask-Caching's filesystem cache, as the seed's answer does: not atomic."""

import os
import struct

from cachelib.serializers import JSONSerializer
from flask_caching import Cache as FlaskCache

from ..errors import StoreUnavailable
from .base import READ_THEN_WRITE, CounterStrategy
from .namespaces import DEFAULT, forget_file, race_only, scoped

CACHE_FOLDER = "shared-cache"  # in the instance folder


def flask_cache_for(app):
    """Return the app's Flask-Caching cache (made once): a FileSystemCache in the instance folder.

    Set up as the seed's answer sets it up (``CACHE_TYPE`` filesystem, a ``CACHE_DIR``),
    and two settings a counter needs: no expiry (the default of 300 s would quietly
    restart the count) and no threshold (no pruning, no count file rewritten per set);
    and its files hold JSON, not pickles.
    """
    cache = app.extensions.get("shared_counter_cache")
    if cache is None:
        cache = FlaskCache(with_jinja2_ext=False)
        cache.init_app(app, config={
            "CACHE_TYPE": "FileSystemCache",
            "CACHE_DIR": os.path.join(app.instance_path, CACHE_FOLDER),
            "CACHE_DEFAULT_TIMEOUT": 0,
            "CACHE_THRESHOLD": 0,
        })
        # cachelib's files are pickles: whoever can write into the instance folder could
        # make the next read run code. A counter is an int, and JSON holds it.
        with app.app_context():
            cache.cache.serializer = JSONSerializer()
        app.extensions["shared_counter_cache"] = cache
    return cache


class CacheStrategy(CounterStrategy):
    """What both Flask-Caching strategies share: the cache, a key of their own, read and reset."""

    store = "flask-caching"
    loses_count_on = ("a power cut or kernel crash: the last writes, as the cache file is "
                      "never fsynced",)
    technique = READ_THEN_WRITE
    safe_against = frozenset()

    def __init__(self, app):
        """Use the app's Flask-Caching cache; each strategy keeps its number under its name."""
        super().__init__(app)
        self.cache = flask_cache_for(app)
        self.key = f"shared-counter:{self.name}"
        self.folder = os.path.join(app.instance_path, CACHE_FOLDER)
        # Outside the cache folder: says numbers were handed out, so a missing value is a loss.
        self.started = os.path.join(app.instance_path, f"{CACHE_FOLDER}-{self.name}.started")

    def key_in(self, namespace):
        """Return the cache key of this strategy's counter in ``namespace``."""
        return scoped(self.key, namespace)

    def started_in(self, namespace):
        """Return the marker file of this strategy's counter in ``namespace``."""
        return scoped(self.started[:-len(".started")], namespace) + ".started"

    def refuse_a_lost_count(self, namespace=DEFAULT):
        """Raise StoreUnavailable when the value's file is damaged, or gone after being kept.

        Checked on the file itself, before cachelib reads it: cachelib's get() answers None
        for a damaged file (counting on would start again from 1) and deletes one whose
        junk header reads as an expiry in the past.
        """
        path = self.cache.cache._get_filename(self.key_in(namespace))
        try:
            with open(path, "rb") as f:
                raw = f.read(32)
        except FileNotFoundError:
            if os.path.exists(self.started_in(namespace)):
                raise StoreUnavailable(
                    f"the shared cache's file for {self.name} ({path}) is gone after numbers "
                    "were handed out: counting on from 0 would hand them out again. POST "
                    f"/shared/{self.name}/reset starts it again from 0, deliberately.") from None
            return
        except OSError as error:
            raise StoreUnavailable(f"cannot read the shared cache file {path}: "
                                   f"{error.strerror}") from error
        if not holds_a_count(raw):
            raise StoreUnavailable(
                f"the shared cache's file for {self.name} ({path}) is damaged (it holds "
                f"{raw[:20]!r}, not a count): counting on from 0 would hand out numbers "
                f"again. POST /shared/{self.name}/reset starts it again from 0, deliberately.")

    def current(self, namespace=DEFAULT):
        """Return the cached value (0 when never set); refuse a damaged or lost one."""
        self.refuse_a_lost_count(namespace)
        value = self.cache.get(self.key_in(namespace))
        return value if isinstance(value, int) else 0

    def reset(self, namespace=DEFAULT):
        """Store 0 (also over a damaged or missing file)."""
        self._write(0, namespace)

    def forget(self, namespace):
        """Delete a race's value and its marker."""
        self.cache.delete(self.key_in(race_only(namespace)))
        forget_file(self.started_in(namespace))

    def _write(self, value, namespace):
        if not self.cache.set(self.key_in(namespace), value):
            raise StoreUnavailable(f"could not write the shared cache in {self.folder}")
        self.mark_started(namespace)

    def mark_started(self, namespace=DEFAULT):
        """Record (once) that this counter has a value, so losing its file is noticed."""
        started = self.started_in(namespace)
        if not os.path.exists(started):
            try:
                open(started, "a").close()
            except OSError as error:
                raise StoreUnavailable(f"cannot write {started}: "
                                       f"{error.strerror}") from error


def holds_a_count(raw):
    """Whether ``raw`` is what cachelib writes for our counter: no expiry, then a JSON int."""
    return (len(raw) > 4 and struct.unpack("I", raw[:4])[0] == 0
            and raw[4:].isdigit())


class Cache(CacheStrategy):
    """Every process sees the same cache, but two can read the same value and both write."""

    name = "cache"
    description = ("cache.get() then cache.set(value + 1) with Flask-Caching's filesystem "
                   "cache: shared by all processes, but the read and the write are separate "
                   "steps.")

    def increment(self, namespace=DEFAULT):
        """Read, add one, write back: the race is between the get and the set."""
        value = self.mark_read(self.current(namespace)) + 1
        self.widen_race_window()
        self._write(value, namespace)
        return self.mark_wrote(value)
