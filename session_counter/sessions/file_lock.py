"""One lock per client session, held from loading the session to saving it.

Without it, two simultaneous requests of one client both load counter=5, both save 6,
and one increment is lost. PHP's file session handler locks the session for the whole
request for the same reason. The lock is per session id, so other clients never wait.

``SessionFileLocks`` takes an exclusive ``flock`` on the session's own file and keeps
that file open until the request ends: one open serves the lock, the read and the
in-place write. It excludes threads (each acquire opens its own file description)
and processes on one machine. A lock on a file that is replaced by a rename is no
lock, so whoever gets it checks that its file is still the one in the folder (a
session that grew is written anew and renamed into place; the sweep unlinks expired
files) and else starts again on the file there now. The Redis backend has its own
implementation with the same two methods.
"""

import fcntl
import os
import time

from ..errors import StoreUnavailable
from .base import SessionLockTimeout


class SessionFileLocks:
    """Per-session locks: the session file's own flock (one machine, any number of processes)."""

    def __init__(self, store, timeout):
        """Lock the files of ``store`` (a SessionFileStore); wait at most ``timeout`` s for one."""
        self.store = store
        self.timeout = timeout

    def acquire(self, key):
        """Lock and read the session file of ``key``; return it held, or None if it has none.

        No file means a new session (a client's cookie arrives only after its file was
        written), and a new session needs no lock: a made-up cookie leaves nothing behind.
        """
        path = self.store.path_for(key)
        for _ in pauses(self.timeout):
            try:
                fd = os.open(path, os.O_RDWR)
            except FileNotFoundError:
                return None
            except OSError as error:
                raise StoreUnavailable(
                    f"cannot read session file {path}: {error.strerror}") from error
            try:
                if try_flock(fd):
                    size = os.fstat(fd)
                    if size.st_nlink:  # 0: replaced or swept since we opened it
                        return HeldSessionFile(key, path, fd, os.pread(fd, size.st_size, 0))
            except OSError as error:
                os.close(fd)
                raise StoreUnavailable(
                    f"cannot read session file {path}: {error.strerror}") from error
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)
        raise SessionLockTimeout.after(self.timeout)


class HeldSessionFile:
    """A session file this request holds locked: its descriptor and the bytes read at open.

    Nobody else writes the file while it is held, so ``data`` stays what is on disk
    until this request rewrites it. release() is safe to call more than once.
    """

    def __init__(self, key, path, fd, data):
        self.key = key
        self.path = path
        self.fd = fd
        self.data = data

    def release(self):
        """Unlock (closing the descriptor releases the flock)."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def pauses(timeout):
    """Yield at once, then again after growing pauses, until ``timeout`` seconds are over.

    Every wait for a lock is a loop of non-blocking tries over this: a holder that
    stopped (SIGSTOP, a hung disk) costs the waiter ``timeout`` and then a 503, never
    a hung worker.
    """
    deadline = time.monotonic() + timeout
    pause = 0.0005
    while True:
        yield
        left = deadline - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(pause, left))
        pause = min(pause * 2, 0.02)


def flock_within(fd, operation, timeout, path, what="the session file"):
    """Take ``operation`` (LOCK_SH or LOCK_EX) on ``fd`` within ``timeout`` s, or raise 503."""
    for _ in pauses(timeout):
        if try_flock(fd, operation):
            return
    raise StoreUnavailable(f"{what} {path} stayed locked for {timeout:g} s (a request "
                           "writing it has stalled); nothing was changed, try again")


def try_flock(fd, operation=fcntl.LOCK_EX):
    """Take a flock without waiting; tell whether we got it."""
    try:
        fcntl.flock(fd, operation | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def same_file(fd, path):
    """Tell whether the open ``fd`` is still the file at ``path``."""
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False


def lock_folder(app):
    """Return the folder where older versions kept a lock file per session (prune empties it)."""
    return os.path.join(app.instance_path, "session-locks")
