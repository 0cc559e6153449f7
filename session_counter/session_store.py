"""The per-client session store: cachelib's FileSystemCache, set up to lose nothing.

cachelib's default ``threshold=500`` makes every write count the folder and, past 500
files, delete live sessions to get back under it; a write then scans the whole folder.
Here ``threshold=0``: no counting, no pruning on write, so a write costs the same
whatever the number of sessions. Expired files are removed by
``flask --app session_counter sessions prune`` instead (run it from cron).
"""

import fcntl
import logging
import os
import pickle
import struct
import time

from cachelib.file import FileSystemCache

from .errors import StoreUnavailable

log = logging.getLogger(__name__)

HEADER = struct.Struct("I")  # cachelib's header: the expiry time, 0 = never


class SessionFileCache(FileSystemCache):
    """FileSystemCache that never drops live sessions and reads damaged files safely."""

    def __init__(self, cache_dir, default_timeout):
        """Store session files (mode 0600) in ``cache_dir``, a folder of mode 0700."""
        os.makedirs(cache_dir, mode=0o700, exist_ok=True)
        super().__init__(cache_dir, threshold=0, default_timeout=default_timeout, mode=0o600)

    def get(self, key):
        """Return the stored dict, or None if absent, expired or damaged.

        A damaged file (empty, cut short, a pickle that fails in any way) is logged and
        read as an empty session. A file that exists but cannot be read raises
        StoreUnavailable: reading it as empty would reset the client's counter.
        """
        filename = self._get_filename(key)
        try:
            with open(filename, "rb") as f:
                fcntl.flock(f, fcntl.LOCK_SH)  # set() rewrites in place under LOCK_EX
                data = f.read()
        except FileNotFoundError:
            return None
        except OSError as error:
            raise StoreUnavailable(
                f"cannot read session file {filename}: {error.strerror}") from error
        expires = read_expiry(data)
        if expires is None:
            log.warning("session file %s is damaged (%d bytes); starting a fresh session",
                        filename, len(data))
            return None
        if expires != 0 and expires < time.time():
            return None
        return decode_session(pickle.loads, data[HEADER.size:], f"session file {filename}")

    def encode(self, value, timeout=None):
        """Return the bytes of one session file: cachelib's expiry header, then the pickle."""
        return HEADER.pack(self._normalize_timeout(timeout)) + self.serializer.dumps(value)

    def set(self, key, value, timeout=None, mgmt_element=False):
        """Save a session: rewrite its file in place, or create it the way cachelib does.

        cachelib writes a temp file and renames it over the old one; on ext4 creating
        and renaming a file costs more than the rest of the request. An existing file
        is overwritten with one write under an exclusive flock instead (get() takes a
        shared one, so no reader sees half a write). A new session goes cachelib's
        way, and so does every write when the folder is not writable, so that a
        read-only folder refuses all writes alike (cachelib's set fails there).
        """
        if mgmt_element or not os.access(self._path, os.W_OK):
            return super().set(key, value, timeout, mgmt_element)
        data = self.encode(value, timeout)
        filename = self._get_filename(key)
        try:
            fd = os.open(filename, os.O_WRONLY)
        except FileNotFoundError:
            return super().set(key, value, timeout, mgmt_element)
        except OSError:
            log.warning("cannot open session file %s", filename, exc_info=True)
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            size_and_links = os.fstat(fd)
            if size_and_links.st_nlink == 0:  # pruned meanwhile: create it anew
                return super().set(key, value, timeout, mgmt_element)
            os.pwrite(fd, data, 0)
            if size_and_links.st_size > len(data):
                os.ftruncate(fd, len(data))
            return True
        except OSError:
            log.warning("cannot write session file %s", filename, exc_info=True)
            return False
        finally:
            os.close(fd)


def decode_session(decode, raw, where):
    """Return ``decode(raw)`` if it is a session dict; log and return None if it is not.

    A damaged session is read as an empty one: the client starts afresh, the server
    does not fail. Used by the file store and the Redis store alike.
    """
    try:
        value = decode(raw)
    except Exception:  # a damaged value can raise almost anything
        log.warning("%s cannot be decoded; starting a fresh session", where, exc_info=True)
        return None
    if not isinstance(value, dict):
        log.warning("%s holds a %s, not a dict; starting a fresh session",
                    where, type(value).__name__)
        return None
    return value


def read_expiry(data):
    """Return the expiry time from a session file's bytes, or None if too short."""
    if len(data) < HEADER.size + 1:
        return None
    return HEADER.unpack_from(data)[0]


def prune_folder(folder, locks=None, now=None):
    """Delete expired and damaged session files; return (expired, damaged, kept).

    With ``locks``, a file is deleted only while its session lock is free, so a
    request that is saving that session at this moment keeps it.
    """
    now = time.time() if now is None else now
    counts = {"expired": 0, "damaged": 0, "kept": 0}
    for entry in os.scandir(folder):
        if not entry.is_file():
            continue
        if entry.name.endswith(FileSystemCache._fs_transaction_suffix):
            # a temp file left by a process killed mid-write; recent ones may be in use
            if entry.stat().st_mtime < now - 3600:
                _remove(entry.path)
            continue
        verdict = _judge(entry.path, now)
        if verdict == "kept":
            counts["kept"] += 1
        elif locks is None:
            counts[verdict] += _remove(entry.path)
        else:
            def remove_if_still_stale(path=entry.path, verdict=verdict):
                if _judge(path, now) == verdict:
                    counts[verdict] += _remove(path)
            if not locks.remove_if_idle(entry.name, then=remove_if_still_stale):
                counts["kept"] += 1
    if locks is not None:
        remove_orphan_locks(folder, locks)
    return counts["expired"], counts["damaged"], counts["kept"]


def remove_orphan_locks(folder, locks):
    """Delete idle lock files whose session file is gone (deleted, or never written)."""
    for entry in os.scandir(locks.folder):
        if not os.path.exists(os.path.join(folder, entry.name)):
            locks.remove_if_idle(entry.name)


def _judge(path, now):
    """Classify one session file as 'expired', 'damaged' or 'kept'."""
    try:
        with open(path, "rb") as f:
            fcntl.flock(f, fcntl.LOCK_SH)
            head = f.read(HEADER.size + 1)
    except FileNotFoundError:
        return "kept"
    expires = read_expiry(head)
    if expires is None:
        return "damaged"
    if expires != 0 and expires < now:
        return "expired"
    return "kept"


def _remove(path):
    """Delete a file that may already be gone; return 1 if this call deleted it."""
    try:
        os.remove(path)
        return 1
    except FileNotFoundError:
        return 0
