"""What one session sweep costs, beside what it is amortized over.

    python -m session_counter.bench.sweep

For each case (session lock on/off; SESSION_SWEEP_BATCH session files, all live or all
expired) it writes the files through the store (so the expiry index knows them), times
one sweep, and times writing SESSION_SWEEP_EVERY new session files in the same folder:
the sweep's share is its time divided by the new sessions that trigger it. Live files
cost the sweep only its walk (a tenth of a batch); expired ones are found by the index.
In-process, one thread.
"""

import argparse
import os
import shutil
import tempfile
import time

from .. import create_app


def measure(lock, expired):
    """Return (sweep seconds, seconds per new session, sweep counts, sweeper)."""
    root = tempfile.mkdtemp(prefix="session-counter-sweep-")
    try:
        app = create_app({"SESSION_LOCK": lock}, instance_path=root)
        store, sweeper = app.session_interface.cache, app.session_interface.sweeper
        for i in range(sweeper.batch):
            store.set(f"session:old-{i}", {"counter": i}, timeout=1 if expired else None)
        time.sleep(1.5 if expired else 0)
        start = time.perf_counter()
        counts = sweeper.sweep()
        swept = time.perf_counter() - start
        start = time.perf_counter()
        for i in range(sweeper.every):
            store.set(f"session:new-{i}", {"counter": 1})
        return swept, (time.perf_counter() - start) / sweeper.every, counts, sweeper
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main(argv=None):
    """Print one line per case."""
    # No options: --help (or a typo) must answer, not start a measurement.
    argparse.ArgumentParser(prog="python -m session_counter.bench.sweep",
                            description=__doc__.splitlines()[0]).parse_args(argv)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for lock in (True, False):
        for expired in (False, True):
            swept, per_new, counts, sweeper = measure(lock, expired)
            print(f"lock {'on ' if lock else 'off'}, {sweeper.batch:,} files "
                  f"{'expired' if expired else 'live   '}: one sweep {swept * 1000:6.1f} ms "
                  f"(expired, damaged, kept = {counts}); a new session file "
                  f"{per_new * 1e6:5.0f} us; the sweep per new session (1 in "
                  f"{sweeper.every}) {swept / sweeper.every * 1e6:5.0f} us")


if __name__ == "__main__":
    main()
