"""A counter file guarded by an OS file lock (fcntl.flock): safe across processes."""

import fcntl
import os

from ..errors import StoreUnavailable
from ..sessions.file_lock import flock_within
from .base import LOCK, PROCESSES, THREADS, CounterStrategy
from .namespaces import DEFAULT, forget_file, race_only, scoped


class FileLock(CounterStrategy):
    """Read, add one and write back while holding an exclusive lock on the file."""

    name = "file_lock"
    description = ("A number in a file, read and rewritten under fcntl.flock: the lock "
                   "makes every other thread and process wait their turn.")
    safe_against = frozenset({THREADS, PROCESSES})
    store = "file"
    technique = LOCK
    loses_count_on = ("a power cut or kernel crash: the last increments, as the file is "
                      "never fsynced",)

    def __init__(self, app):
        """Keep the counter file in the instance folder."""
        super().__init__(app)
        self.path = os.path.join(app.instance_path, "file_lock_counter.txt")
        # a holder that stopped (SIGSTOP, a hung disk) costs a request this long, then 503
        self.wait_timeout = app.config["SESSION_LOCK_TIMEOUT"]

    def path_in(self, namespace):
        """Return the counter file of ``namespace``: a race's file has its own lock."""
        return scoped(self.path[:-len(".txt")], namespace) + ".txt"

    def _locked(self, update, namespace, damaged_too=False):
        """Apply ``update(old) -> new`` under the lock; return the new value.

        Each call opens its own file description, so flock excludes other threads of
        this process as well as other processes. A file that holds something other than
        a number is damaged: counting on from 0 would hand out numbers again, so only a
        reset (``damaged_too``) goes on.
        """
        path = self.path_in(namespace)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as error:
            raise StoreUnavailable(f"cannot open {path}: {error.strerror}") from error
        try:
            flock_within(fd, fcntl.LOCK_EX, self.wait_timeout, path,
                         what="the counter file")
            raw = os.pread(fd, 32, 0).strip()
            damaged = bool(raw) and not raw.isdigit()
            if damaged and not damaged_too:
                raise StoreUnavailable(
                    f"the counter file {path} is damaged (it holds {raw[:20]!r}, not a "
                    "number): counting on from 0 would hand out numbers again. POST "
                    f"/shared/{self.name}/reset starts it again from 0, deliberately.")
            old = self.mark_read(int(raw) if raw.isdigit() else 0)
            new = update(old)
            if new != old or damaged:
                data = str(new).encode()
                os.pwrite(fd, data.ljust(20), 0)
                self.mark_wrote(new)
            return new
        except OSError as error:
            raise StoreUnavailable(f"cannot update {path}: {error.strerror}") from error
        finally:
            os.close(fd)  # also releases the lock

    def increment(self, namespace=DEFAULT):
        """Add one under the lock."""
        return self._locked(lambda old: old + 1, namespace)

    def current(self, namespace=DEFAULT):
        """Return the stored value (under the lock, so never a half-written number)."""
        return self._locked(lambda old: old, namespace)

    def reset(self, namespace=DEFAULT):
        """Store 0 (also over a damaged file)."""
        self._locked(lambda old: 0, namespace, damaged_too=True)

    def forget(self, namespace):
        """Delete a race's counter file."""
        forget_file(self.path_in(race_only(namespace)))
