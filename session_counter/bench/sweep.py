"""What one session sweep costs, beside what it is amortized over: python -m session_counter.bench.sweep

For each case (session lock on/off; a full batch of live files, or of expired ones) it
writes SESSION_SWEEP_BATCH session files through the store, times one sweep, and times
writing SESSION_SWEEP_EVERY new session files in the same folder: the sweep's share is
its time divided by the new sessions that trigger it. In-process, one thread.
"""

import os
import shutil
import tempfile
import time

from .. import create_app
from ..sessions.file_store import HEADER, MAGIC


def expire(path):
    """Rewrite a session file's expiry to 10 s ago, keeping its body."""
    with open(path, "r+b") as f:
        length = HEADER.unpack(f.read(HEADER.size))[2]
        f.seek(0)
        f.write(HEADER.pack(MAGIC, int(time.time()) - 10, length))


def measure(lock, expired):
    """Return (sweep seconds, seconds per new session, sweep counts, new sessions per sweep)."""
    root = tempfile.mkdtemp(prefix="session-counter-sweep-")
    try:
        app = create_app({"SESSION_LOCK": lock}, instance_path=root)
        store, sweeper = app.session_interface.cache, app.session_interface.sweeper
        for i in range(sweeper.batch):
            store.set(f"session:old-{i}", {"counter": i})
        if expired:
            for entry in os.scandir(store.folder):
                expire(entry.path)
        start = time.perf_counter()
        counts = sweeper.sweep()
        swept = time.perf_counter() - start
        start = time.perf_counter()
        for i in range(sweeper.every):
            store.set(f"session:new-{i}", {"counter": 1})
        return swept, (time.perf_counter() - start) / sweeper.every, counts, sweeper.every
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main():
    """Print one line per case."""
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for lock in (True, False):
        for expired in (False, True):
            swept, per_new, counts, every = measure(lock, expired)
            print(f"lock {'on ' if lock else 'off'}, {sum(counts):,} files "
                  f"{'expired' if expired else 'live   '}: one sweep {swept * 1000:6.1f} ms "
                  f"(expired, damaged, kept = {counts}); a new session file "
                  f"{per_new * 1e6:5.0f} us; the sweep per new session (1 in {every}) "
                  f"{swept / every * 1e6:5.0f} us")


if __name__ == "__main__":
    main()
