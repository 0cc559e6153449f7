"""Which manager process this server started, and the lock that lets one worker start it.

The record (``manager.json`` in the instance folder) names the server and the manager by
pid and start time. A worker that finds no manager listening reads it: a manager of this
server life that is gone took its count with it, and must not be replaced silently.
"""

import contextlib
import fcntl
import json
import os
import time

from ..errors import StoreUnavailable
from ..procfs import read_stat


def process_identity(pid):
    """Return [pid, start time] of a live process, or None once it is gone or a zombie.

    Pids are reused; the start time (in clock ticks since boot) tells two lives apart.
    """
    stat = read_stat(pid)
    if stat is None or stat.state in ("Z", "X"):
        return None
    return [pid, stat.start_ticks]


def read_record(path):
    """Return the last manager record ({"server": id, "manager": id}), or None."""
    try:
        with open(path) as f:
            record = json.load(f)
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("manager") else None


def write_record(path, record):
    """Replace the record whole (temp file and rename), or remove it for None."""
    if record is None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        return
    temp = f"{path}.{os.getpid()}.tmp"
    with open(temp, "w") as f:
        json.dump(record, f)
    os.replace(temp, path)


def same_server_life(record, watch_pid):
    """Tell whether ``record``'s manager was started for the server that runs now.

    A manager of an earlier server life (a restart) ended with it: memory only, so a
    restart starts at 0, as the strategy's label says.
    """
    return bool(record) and record.get("server") == process_identity(watch_pid)


@contextlib.contextmanager
def start_lock(path, timeout):
    """Hold the instance folder's manager start lock; wait at most ``timeout`` seconds."""
    with open(path, "a") as lock_file:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StoreUnavailable(f"another process has been starting the counter "
                                           f"manager for {timeout:g} s") from None
                time.sleep(0.01)
        yield  # closing the file releases the lock
