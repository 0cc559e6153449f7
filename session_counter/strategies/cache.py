"""get-then-set in a shared cache, as people do with Flask-Caching: shared, not atomic."""

import os

from cachelib.file import FileSystemCache

from ..errors import StoreUnavailable
from .base import READ_THEN_WRITE, CounterStrategy

KEY = "shared-counter"


class Cache(CounterStrategy):
    """Every process sees the same cache, but two can read the same value and both write."""

    name = "cache"
    description = ("cache.get() then cache.set(value + 1) in a cachelib FileSystemCache: "
                   "shared by all processes, but the read and the write are separate steps.")
    safe_against = frozenset()
    store = "flask-caching"
    technique = READ_THEN_WRITE

    def __init__(self, app):
        """Keep the cache in the instance folder."""
        super().__init__(app)
        self.folder = os.path.join(app.instance_path, "shared-cache")
        self.cache = FileSystemCache(self.folder, threshold=0, default_timeout=0)

    def increment(self):
        """Read, add one, write back: the race is between the get and the set."""
        value = self._read() + 1
        self.widen_race_window()
        self._write(value)
        return value

    def current(self):
        """Return the cached value (0 when unset)."""
        return self._read()

    def reset(self):
        """Store 0."""
        self._write(0)

    def _read(self):
        value = self.cache.get(KEY)
        return value if isinstance(value, int) else 0

    def _write(self, value):
        if not self.cache.set(KEY, value):
            raise StoreUnavailable(f"could not write the shared cache in {self.folder}")
