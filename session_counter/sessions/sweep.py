"""Deleting expired and damaged session files: without cron, a bounded batch now and then.

PHP's session GC sweeps on a fraction of requests; here a process sweeps after every
``every`` new sessions it wrote, or ``seconds`` after its last sweep, when a request that
used a session ends: in a thread of its own (``background``), so that request answers
without waiting for it. Only one process sweeps at a time (a non-blocking flock: a
worker that finds it taken goes on at once), one thread of it, and a sweep examines at
most ``batch`` files, reading each one's header only.

Nine tenths of a batch are the files the expiry index (``expiry.py``) says are
due, oldest first, however many files the folder holds. The last tenth walks the
folder with a directory iterator each process keeps between sweeps (no full listing
per sweep), for files the index does not know: an older version's, or one whose
entry was lost. The `sessions prune` command examines the whole folder at once.
"""

import fcntl
import logging
import os
import sqlite3
import threading
import time

from .file_lock import same_file, try_flock
from .file_store import HEADER, TEMP_SUFFIX, read_expiry, remove_file

log = logging.getLogger(__name__)

STALE_TEMP_SECONDS = 3600  # a temp file this old was left by a process killed mid-write


class SessionSweeper:
    """Deletes expired and damaged session files, a bounded batch at a time, one process at once."""

    def __init__(self, folder, lock_path, index=None, every=100, seconds=60.0, batch=1000,
                 background=True):
        """Sweep ``folder``; ``lock_path`` is the file whose flock makes sweeps take turns."""
        self.folder = folder
        self.lock_path = lock_path
        self.index = index
        self.every = every
        self.seconds = seconds
        self.batch = batch
        self.new_sessions = 0
        self.due = time.monotonic()  # a (re)started process sweeps at its first session
        self._entries = None  # this process's walk through the folder: (pid, iterator)
        self._walk_lock = threading.Lock()
        self.background = background
        self._built_in = os.getpid()
        self._thread = None  # this process's background sweep: (pid, Thread)
        self._thread_lock = threading.Lock()

    def note_new_session(self, name, expires):
        """Count one new session file written by this process, and index its expiry."""
        self.new_sessions += 1
        if self.index is not None and expires:
            self.index.add(name, expires)

    def maybe_sweep(self):
        """Sweep if this process wrote ``every`` new sessions or ``seconds`` went by.

        Costs a comparison when no sweep is due, and starting a thread when one is (with
        ``background``; else the sweep itself). Never raises: a sweep that fails is
        logged, and the request that made it due is not affected.
        """
        if self.new_sessions < self.every and time.monotonic() < self.due:
            return
        self.new_sessions = 0
        self.due = time.monotonic() + self.seconds
        if not self.background or os.getpid() != self._built_in:
            # A process forked from the one that built the app may live for one request
            # only (Flask's dev server with processes=N), and a thread dies with it.
            self._sweep_logged()
            return
        with self._thread_lock:
            if self._running_here():
                return  # this process's last sweep is still going: one at a time
            thread = threading.Thread(target=self._sweep_logged, name="session-sweep",
                                      daemon=True)
            self._thread = (os.getpid(), thread)
            thread.start()

    def join(self, timeout=None):
        """Wait until this process's background sweep (if any) is over; tell whether it is."""
        if self._running_here():
            self._thread[1].join(timeout)
        return not self._running_here()

    def _running_here(self):
        """Tell whether a background sweep of this process is running (not one of a
        parent's, inherited through fork: that thread does not exist here)."""
        pid, thread = self._thread or (None, None)
        return pid == os.getpid() and thread.is_alive()

    def _sweep_logged(self):
        """Sweep; log a failure instead of raising it (a sweep is housekeeping)."""
        try:
            self.sweep()
        except Exception:
            log.warning("sweeping the session folder %s failed", self.folder, exc_info=True)

    def sweep(self, now=None):
        """Examine up to ``batch`` files; return (expired, damaged, kept), or None if busy."""
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if not try_flock(fd) or not self._walk_lock.acquire(blocking=False):
                return None  # another process (or thread) is sweeping right now
            try:
                counts = {"expired": 0, "damaged": 0, "kept": 0}
                now = time.time() if now is None else now
                walk = self.batch if self.index is None else max(1, self.batch // 10)
                if self.index is not None:
                    self._sweep_due(self.batch - walk, now, counts)
                for entry in self._next_entries(walk):
                    examine(entry, now, counts)
                return counts["expired"], counts["damaged"], counts["kept"]
            finally:
                self._walk_lock.release()
        finally:
            os.close(fd)

    def _sweep_due(self, limit, now, counts):
        """Examine up to ``limit`` files the index says are due; settle their entries."""
        try:
            names = self.index.due(now, limit)
        except sqlite3.Error as error:
            log.warning("the session expiry index is unavailable (%s); walking only", error)
            return
        gone, refile = [], {}
        for name in names:
            verdict, expires = remove_if_stale(os.path.join(self.folder, name), now)
            if verdict in (None, "expired", "damaged"):
                gone.append(name)  # deleted now, or before
                if verdict is not None:
                    counts[verdict] += 1
                continue
            counts["kept"] += 1
            if expires == 0:
                gone.append(name)  # never expires: nothing to sweep
            elif expires is not None:  # extended since it was indexed (None: busy, retry)
                refile[name] = expires
        try:
            self.index.settle(gone, refile)
        except sqlite3.Error as error:
            log.warning("could not update the session expiry index (%s)", error)

    def _next_entries(self, count):
        """Yield up to ``count`` files, going on from the last sweep; wrap around once."""
        restarts = 0
        while count > 0:
            pid, entries = self._entries or (None, None)
            if pid != os.getpid():  # none yet, or inherited through fork: start afresh
                if restarts:
                    return  # this sweep has seen the whole folder
                restarts += 1
                entries = os.scandir(self.folder)
                self._entries = (os.getpid(), entries)
            entry = next(entries, None)
            if entry is None:
                entries.close()
                self._entries = None
            elif entry.is_file():
                count -= 1
                yield entry


def prune_folder(folder, old_lock_folder=None, now=None):
    """Delete expired and damaged session files (and an older version's idle lock files).

    Returns (expired, damaged, kept).
    """
    now = time.time() if now is None else now
    counts = {"expired": 0, "damaged": 0, "kept": 0}
    for entry in os.scandir(folder):
        if entry.is_file():
            examine(entry, now, counts)
    if old_lock_folder is not None and os.path.isdir(old_lock_folder):
        remove_old_lock_files(old_lock_folder)
    return counts["expired"], counts["damaged"], counts["kept"]


def examine(entry, now, counts):
    """Delete one session file (a DirEntry) if it is expired or damaged; count what it was."""
    if entry.name.endswith(TEMP_SUFFIX):
        try:
            if entry.stat().st_mtime < now - STALE_TEMP_SECONDS:  # recent ones: in use
                remove_file(entry.path)
        except FileNotFoundError:  # renamed into place meanwhile
            pass
        return
    verdict, _ = remove_if_stale(entry.path, now)
    if verdict is not None:
        counts[verdict] += 1


def remove_old_lock_files(folder):
    """Delete the idle lock files older versions kept per session (this one locks the file).

    A file a worker of the older version still holds (a rolling upgrade) is kept.
    """
    for entry in os.scandir(folder):
        try:
            fd = os.open(entry.path, os.O_RDWR)
        except FileNotFoundError:
            continue
        try:
            if try_flock(fd) and same_file(fd, entry.path):
                remove_file(entry.path)
        finally:
            os.close(fd)


def remove_if_stale(path, now):
    """Delete the file at ``path`` if expired or damaged; return (verdict, expiry).

    The verdict is 'expired', 'damaged', 'kept', or None if the file was gone; the
    expiry is the header's, for a kept file that could be read (else None).

    Judged and deleted under the file's own exclusive flock, the one set() writes
    under: a file being written is kept, and a write that waited for us finds its file
    unlinked and writes the session anew (set() checks st_nlink), so nothing is lost.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None, None
    try:
        if not try_flock(fd, fcntl.LOCK_EX) or not same_file(fd, path):
            return "kept", None  # being written this very moment, or replaced meanwhile
        expires = read_expiry(os.pread(fd, HEADER.size, 0))
        if expires is None:
            verdict = "damaged"
        elif expires != 0 and expires < now:
            verdict = "expired"
        else:
            return "kept", expires
        return (verdict if remove_file(path) else None), None
    finally:
        os.close(fd)


def sweep_lock_path(app):
    """Return the file whose flock lets one process at a time sweep the session folder."""
    return os.path.join(app.instance_path, "session-sweep.lock")
