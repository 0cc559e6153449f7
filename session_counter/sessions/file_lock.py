"""One lock per client session, held from loading the session to saving it.

Without it, two simultaneous requests of one client both load counter=5, both save 6,
and one increment is lost. PHP's file session handler locks the session for the whole
request for the same reason. The lock is per session id, so other clients never wait.

``FileSessionLocks`` uses ``flock`` on one small file per session: it excludes threads
(each acquire opens its own file description) and processes on one machine. The Redis
backend has its own implementation with the same two methods.
"""

import fcntl
import os
import time

from ..errors import StoreUnavailable
from .base import SessionLockTimeout
from .ids import hashed_key


class FileSessionLocks:
    """Per-session locks as files in one folder (one machine, any number of processes)."""

    def __init__(self, folder, timeout):
        """Keep lock files in ``folder``; wait at most ``timeout`` seconds for one."""
        self.folder = folder
        self.timeout = timeout
        os.makedirs(folder, mode=0o700, exist_ok=True)

    def path_for(self, key):
        """Return the lock file of one session key (hashed: a cookie never names a path).

        The name is cachelib's file name for the same key (sha256), so the prune
        command can find a session file's lock by the file's name.
        """
        return os.path.join(self.folder, hashed_key(key))

    def acquire(self, key):
        """Lock the session stored under ``key``; return a handle with release()."""
        path = self.path_for(key)
        for _ in pauses(self.timeout):
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as error:
                raise StoreUnavailable(f"cannot create the session lock {path}: "
                                       f"{error.strerror}") from error
            try:
                got_it = try_flock(fd)
                # prune may have unlinked the file after we opened it: then our lock
                # guards a dead inode, so start again on the current file.
                if got_it and same_file(fd, path):
                    return _FileLockHandle(fd)
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)
        raise SessionLockTimeout(
            f"this session has been busy for {self.timeout:g} s "
            "(other requests of the same client hold it); try again")

    def remove_if_idle(self, hashed_key):
        """Delete the lock file named ``hashed_key`` if it exists and nobody holds it."""
        path = os.path.join(self.folder, hashed_key)
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            return False
        try:
            if not try_flock(fd) or not same_file(fd, path):
                return False
            os.unlink(path)
            return True
        finally:
            os.close(fd)


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


class _FileLockHandle:
    """A held file lock; release() is safe to call more than once."""

    def __init__(self, fd):
        self._fd = fd

    def release(self):
        """Unlock (closing the descriptor releases the flock)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def lock_folder(app):
    """Return the folder of the per-session lock files."""
    return os.path.join(app.instance_path, "session-locks")
