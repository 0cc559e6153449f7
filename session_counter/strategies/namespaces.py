"""Counter namespaces: the table's counters (DEFAULT) and one set per race, kept apart.

A race from the page counts in a namespace of its own, named by its race id (issued by
race/registry.py, checked before any strategy sees it), so it never moves the counters the
table shows, nor another race's. Every strategy keeps a namespace's counter where it keeps
its own (a Redis key, a row, a file...), under ``scoped(name, namespace)``; the technique,
and so the safety, is the same in every namespace.
"""

import os
import re
import threading

from ..errors import StoreUnavailable

DEFAULT = ""  # the table's counters: the names and keys they always had
RACE_HEADER = "X-Race-Id"  # a request counts in a race's counters when it names the race
# A race id: 32 lowercase hex digits (secrets.token_hex(16)). Checked before it names a
# key, a row, a file or a sequence, so it can never reach outside its own name.
RACE_ID = re.compile(r"[0-9a-f]{32}")


def is_race_id(text):
    """Tell whether ``text`` has the form of a race id (not whether it was issued)."""
    return isinstance(text, str) and RACE_ID.fullmatch(text) is not None


def scoped(name, namespace, separator="@race-"):
    """Return ``name`` for the table's counter, ``name@race-<id>`` for a race's counter
    (``separator`` for names that allow no ``@``, such as a PostgreSQL sequence's)."""
    if namespace == DEFAULT:
        return name
    if not is_race_id(namespace):  # a bug upstream: never let it name a store's key
        raise ValueError(f"not a race id: {namespace!r}")
    return f"{name}{separator}{namespace}"


def race_only(namespace):
    """Return ``namespace`` if it is a race's; refuse the table's (never dropped) and junk."""
    if not is_race_id(namespace):
        raise ValueError(f"only a race's counters are dropped, not {namespace!r}")
    return namespace


def forget_file(path):
    """Delete a race's counter file; one already gone is fine, any other failure a 503."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as error:
        raise StoreUnavailable(f"cannot delete {path}: {error.strerror}") from error


def live_races(app):
    """Return the set of race ids the app's registry says are live (None if it has none)."""
    registry = app.extensions.get("race_registry")
    return None if registry is None else registry.live_ids()


class ProcessTable:
    """One object per namespace in this process's memory (a module global per race).

    The table's object is made once and kept; a race's is made on first use. At most
    ``limit`` races are kept: past that, the ones ``live()`` no longer names are dropped
    (other processes of the server drop theirs the same way, when they next need room).
    """

    def __init__(self, make, default=None, limit=64):
        """``make()`` returns a fresh object (a counter at 0); ``default`` is the table's."""
        self._make, self.limit = make, limit
        self.default = make() if default is None else default
        self._races = {}
        self._guard = threading.Lock()
        self.live = lambda: None  # the registry's live race ids (a set), or None if unknown

    def serve(self, app):
        """Ask ``app``'s registry which races are live; keep room for all of them."""
        self.live = lambda: live_races(app)
        self.limit = max(self.limit, 2 * app.config.get("RACE_MAX_LIVE", 8))

    def get(self, namespace):
        """Return the namespace's object, making a fresh one for a race seen first here."""
        if namespace == DEFAULT:
            return self.default
        found = self._races.get(namespace)
        if found is None:
            with self._guard:
                found = self._races.get(namespace)
                if found is None:
                    self._make_room()
                    found = self._races[namespace] = self._make()
        return found

    def _make_room(self):
        """Drop ended races' objects when the table is full; the oldest first if need be."""
        if len(self._races) < self.limit:
            return
        live = self.live()
        for namespace in list(self._races):
            if live is None or namespace not in live:
                del self._races[namespace]
                if live is None:  # nothing to ask: drop the oldest only
                    return

    def forget(self, namespace):
        """Drop a race's object in this process (the table's is never dropped)."""
        if namespace != DEFAULT:
            with self._guard:
                self._races.pop(namespace, None)

    def races(self):
        """Return the race ids that have an object in this process."""
        return set(self._races)
