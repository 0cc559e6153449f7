"""The per-client session store: one file per session, never dropped to make room, never pickle.

A file is ``MAGIC``, the expiry time (0 = never) and the body's length, then the
session dict in msgpack (``codec.py``). Anything else, including the cachelib
pickle files of older versions, is a damaged session: read as a fresh session (logged)
and deleted by the next sweep. Nothing is ever counted or pruned on write, so a write
costs the same whatever the number of sessions; expired files go by ``sweep.py``.
"""

import fcntl
import logging
import os
import struct
import tempfile
import time
from datetime import timedelta

from ..errors import StoreUnavailable
from . import codec
from .file_lock import flock_within
from .ids import hashed_key

log = logging.getLogger(__name__)

MAGIC = b"SCm1"  # session-counter, msgpack, layout 1
HEADER = struct.Struct("<4sQI")  # magic, expiry (Unix seconds, 0 = never), body length
TEMP_SUFFIX = ".__wz_cache"  # as cachelib named its temp files, so old leftovers go too


class SessionFileStore:
    """Session files in one folder: created atomically, rewritten in place under flock."""

    def __init__(self, folder, default_timeout, wait_timeout=10.0, min_free_bytes=0,
                 on_new_session=None):
        """Keep sessions in ``folder`` (made mode 0700); each wait ends after ``wait_timeout``.

        New sessions are refused while the disk has less than ``min_free_bytes`` free;
        ``on_new_session(file name, expiry)`` is called after each new session file.
        """
        os.makedirs(folder, mode=0o700, exist_ok=True)
        self.folder = folder
        self.default_timeout = _seconds(default_timeout)
        self.wait_timeout = wait_timeout
        self.min_free_bytes = min_free_bytes
        self.on_new_session = on_new_session

    def path_for(self, key):
        """Return the file of one session key (hashed: a cookie never names a path)."""
        return os.path.join(self.folder, hashed_key(key))

    def encode(self, value, timeout=None):
        """Return the bytes of one session file (header, then the msgpack body)."""
        timeout = self.default_timeout if timeout is None else _seconds(timeout)
        expires = 0 if timeout == 0 else int(time.time()) + timeout
        body = codec.encode(value)
        return HEADER.pack(MAGIC, expires, len(body)) + body

    def get(self, key):
        """Return the stored dict, or None if absent, expired or damaged (logged).

        A file that exists but cannot be read, or stays locked by a stalled writer,
        raises StoreUnavailable: reading it as empty would reset the client's counter.
        """
        path = self.path_for(key)
        try:
            with open(path, "rb") as f:
                flock_within(f.fileno(), fcntl.LOCK_SH, self.wait_timeout, path)
                data = f.read()  # set() rewrites in place under LOCK_EX
        except FileNotFoundError:
            return None
        except OSError as error:
            raise StoreUnavailable(
                f"cannot read session file {path}: {error.strerror}") from error
        return decode_file(data, f"session file {path}")

    def set(self, key, value, timeout=None):
        """Save a session; raise StoreUnavailable (and keep the old one whole) if it cannot be.

        A new session is written to a temp file and renamed into place. An existing one
        is overwritten with one write under an exclusive flock, which costs much less
        than creating and renaming a file on ext4; get() takes a shared flock, so no
        reader sees half a write. A session that grows goes the new-file way, so an
        in-place write never needs a new disk block.
        """
        data = self.encode(value, timeout)
        path = self.path_for(key)
        if not os.access(self.folder, os.W_OK):  # a read-only folder refuses every write
            raise self._unsaved("the folder is not writable")
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            self._create(path, data, new=True)
            return True
        except OSError as error:
            raise self._unsaved(f"cannot open {path}: {error.strerror}") from error
        try:
            flock_within(fd, fcntl.LOCK_EX, self.wait_timeout, path)
            stat = os.fstat(fd)
            if stat.st_nlink == 0 or len(data) > stat.st_size:  # swept meanwhile, or grows
                self._create(path, data, new=stat.st_nlink == 0)
            else:
                self._overwrite(fd, path, data, os.pread(fd, stat.st_size, 0))
            return True
        finally:
            os.close(fd)

    def get_held(self, held):
        """Return the dict in a session file this request holds (SessionFileLocks), as get()."""
        return decode_file(held.data, f"session file {held.path}")

    def set_held(self, held, value, timeout=None):
        """Save a session whose file this request holds locked since it read it: one write.

        As set(), without opening or locking again: the bytes read at open are still
        what is on disk, so they are the ones put back if the write fails. A session that
        grows is written anew and renamed over the held file, which its waiters notice.
        """
        data = self.encode(value, timeout)
        if not os.access(self.folder, os.W_OK):  # a read-only folder refuses every write
            raise self._unsaved("the folder is not writable")
        if len(data) > len(held.data):
            self._create(held.path, data, new=False)
        else:
            self._overwrite(held.fd, held.path, data, held.data)
        return True

    def delete(self, key):
        """Delete a session (gone already is fine)."""
        remove_file(self.path_for(key))
        return True

    def free_bytes(self):
        """Return the bytes an unprivileged process may still write on the folder's disk."""
        stat = os.statvfs(self.folder)
        return stat.f_bavail * stat.f_frsize

    def _create(self, path, data, new):
        """Write ``data`` to a temp file and rename it to ``path`` (all or nothing)."""
        if new and self.min_free_bytes and self.free_bytes() < self.min_free_bytes:
            raise StoreUnavailable(
                f"new sessions are refused: the disk of {self.folder} has "
                f"{self.free_bytes():,} bytes free, less than SESSION_COUNTER_MIN_FREE_BYTES "
                f"({self.min_free_bytes:,}). Existing sessions keep working; free some "
                "space. Nothing was changed.")
        try:
            fd, tmp = tempfile.mkstemp(suffix=TEMP_SUFFIX, dir=self.folder)  # mode 0600
        except OSError as error:
            raise self._unsaved(error.strerror) from error
        try:
            try:
                written = os.pwrite(fd, data, 0)
            finally:
                os.close(fd)
            if written != len(data):
                raise self._unsaved(f"short write: {written} of {len(data)} bytes")
            os.replace(tmp, path)
        except OSError as error:
            remove_file(tmp)
            raise self._unsaved(error.strerror) from error
        except StoreUnavailable:
            remove_file(tmp)
            raise
        if new and self.on_new_session is not None:
            self.on_new_session(os.path.basename(path), HEADER.unpack_from(data)[1])

    def _overwrite(self, fd, path, data, old):
        """Overwrite the file (now ``old``) in place; after a short or failed write, put it back."""
        try:
            written = os.pwrite(fd, data, 0)
        except OSError as error:
            written, problem = -1, error.strerror
        else:
            problem = f"short write: {written} of {len(data)} bytes"
        if written != len(data):
            self._restore(fd, path, old)
            raise self._unsaved(problem)
        if len(old) > len(data):
            try:  # tidiness only: the header says where the body ends
                os.ftruncate(fd, len(data))
            except OSError:
                log.warning("could not truncate session file %s", path, exc_info=True)

    def _restore(self, fd, path, old):
        """Put a session file's old bytes back (their blocks are allocated: no new space)."""
        try:
            if os.pwrite(fd, old, 0) == len(old):
                return
        except OSError:
            pass
        log.error("session file %s could not be restored after a failed write; it will be "
                  "read as damaged (a fresh session)", path)

    def _unsaved(self, reason):
        """Return the 503 of a session that could not be saved."""
        return StoreUnavailable(
            f"could not save the session in {self.folder} ({reason}): check that the "
            "folder exists, is writable by the server and the disk is not full. "
            "Nothing was changed.")


def decode_file(data, where, now=None):
    """Return the session dict in a session file's bytes, or None if expired or damaged.

    Damaged (cut short, a pickle from an older version, not msgpack of a dict) is
    logged: the client starts a fresh session, the server does not fail.
    """
    expires = read_expiry(data)
    if expires is None:
        log.warning("%s is damaged or from an older version (%d bytes); starting a fresh "
                    "session", where, len(data))
        return None
    if expires != 0 and expires < (time.time() if now is None else now):
        return None
    _, _, length = HEADER.unpack_from(data)
    if len(data) < HEADER.size + length:
        log.warning("%s is cut short (%d bytes); starting a fresh session", where, len(data))
        return None
    return codec.decode_session(data[HEADER.size:HEADER.size + length], where)


def read_expiry(data):
    """Return the expiry time from a session file's first bytes; None if not a session file.

    Needs the header only, so the sweep reads HEADER.size bytes of each file.
    """
    if len(data) < HEADER.size:
        return None
    magic, expires, length = HEADER.unpack_from(data)
    return expires if magic == MAGIC and length > 0 else None


def _seconds(timeout):
    """Return a lifetime (seconds or a timedelta) as whole seconds."""
    if isinstance(timeout, timedelta):
        return int(timeout.total_seconds())
    return int(timeout)


def remove_file(path):
    """Delete a file that may already be gone; return 1 if this call deleted it."""
    try:
        os.remove(path)
        return 1
    except FileNotFoundError:
        return 0
