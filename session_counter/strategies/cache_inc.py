"""The cache's own inc(): one call that looks atomic, and is get-then-set on the filesystem."""

from ..errors import StoreUnavailable
from .cache import CacheStrategy
from .namespaces import DEFAULT


class CacheInc(CacheStrategy):
    """One call, the same race: cachelib's FileSystemCache.inc is get(), then set()."""

    name = "cache_inc"
    description = ("cache.cache.inc(): one call that looks atomic, but on Flask-Caching's "
                   "filesystem backend it is cachelib's get() then set(), the same race "
                   "as cache.")

    def increment(self, namespace=DEFAULT):
        """Call the backend's inc (Flask-Caching's Cache itself has no inc() to proxy it).

        There is no window to widen: the read and the write are inside the library.
        """
        # The read and the write are inside cachelib's inc(): the trace can only mark its
        # start as the read (value unseen) and its end as the write.
        self.refuse_a_lost_count(namespace)  # before cachelib's get() reads damage as "unset"
        self.mark_read(None)
        value = self.cache.cache.inc(self.key_in(namespace))
        if value is None:  # cachelib's answer when the set failed
            raise StoreUnavailable(f"could not write the shared cache in {self.folder}")
        self.mark_started(namespace)
        return self.mark_wrote(value)
