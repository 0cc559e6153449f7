"""Deleting expired and damaged session files: the `sessions prune` command's work."""

import fcntl
import logging
import os
import time

from .session_lock import try_flock
from .session_store import HEADER, TEMP_SUFFIX, remove_file, read_expiry

log = logging.getLogger(__name__)

STALE_TEMP_SECONDS = 3600  # a temp file this old was left by a process killed mid-write


def prune_folder(folder, locks=None, now=None):
    """Delete expired and damaged session files; return (expired, damaged, kept).

    With ``locks``, a file is deleted only while its session lock is free, so a
    request that is saving that session at this moment keeps it.
    """
    now = time.time() if now is None else now
    counts = {"expired": 0, "damaged": 0, "kept": 0}
    for entry in os.scandir(folder):
        if entry.is_file():
            examine(entry, locks, now, counts)
    if locks is not None:
        remove_orphan_locks(folder, locks)
    return counts["expired"], counts["damaged"], counts["kept"]


def examine(entry, locks, now, counts):
    """Delete one session file (a DirEntry) if it is expired or damaged; count what it was."""
    if entry.name.endswith(TEMP_SUFFIX):
        if entry.stat().st_mtime < now - STALE_TEMP_SECONDS:  # recent ones may be in use
            remove_file(entry.path)
        return
    verdict = _judge(entry.path, now)
    if verdict == "kept":
        counts["kept"] += 1
    elif locks is None:
        counts[verdict] += remove_file(entry.path)
    else:
        def remove_if_still_stale(path=entry.path, verdict=verdict):
            if _judge(path, now) == verdict:
                counts[verdict] += remove_file(path)
        if not locks.remove_if_idle(entry.name, then=remove_if_still_stale):
            counts["kept"] += 1


def remove_orphan_locks(folder, locks):
    """Delete idle lock files whose session file is gone (deleted, or never written)."""
    for entry in os.scandir(locks.folder):
        if not os.path.exists(os.path.join(folder, entry.name)):
            locks.remove_if_idle(entry.name)


def _judge(path, now):
    """Classify one session file as 'expired', 'damaged' or 'kept' (busy ones are kept)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return "kept"
    try:
        if not try_flock(fd, fcntl.LOCK_SH):  # being rewritten this very moment
            return "kept"
        head = os.pread(fd, HEADER.size, 0)
    finally:
        os.close(fd)
    expires = read_expiry(head)
    if expires is None:
        return "damaged"
    if expires != 0 and expires < now:
        return "expired"
    return "kept"
