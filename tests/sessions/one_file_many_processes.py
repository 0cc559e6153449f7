"""Several processes reading and writing one session file through the store's get() and set().

Every value written says what it must look like (its length and its one repeated
letter), so a reader can tell a whole session from a torn or cut one. Used by
tests/sessions/test_one_file_many_processes.py; run it as a command for longer runs:

    .venv/bin/python -m tests.sessions.one_file_many_processes --ops 20000 [--without-flocks]
"""

import argparse
import logging
import multiprocessing
import random
import tempfile

from session_counter.sessions import file_store

KEY = "session:one"
MAX_PAD = 3000  # sizes grow and shrink: in-place rewrites and new files both happen


def value(number, size):
    """Return a session whose contents can be checked: ``size`` times one letter."""
    return {"counter": number, "pad": chr(ord("a") + number % 26) * size}


def is_whole(session):
    """Tell whether a session read back is one that some process wrote, whole."""
    if not isinstance(session, dict) or not isinstance(session.get("counter"), int):
        return False
    return session == value(session["counter"], len(session.get("pad", "")))


def read_and_write(folder, seed, ops, flocks):
    """One process: ``ops`` random gets and sets of KEY; return (reads, writes, damaged)."""
    logging.disable(logging.WARNING)  # each damaged read is logged by the store
    if not flocks:
        file_store.flock_within = lambda *args, **kwargs: None
    store = file_store.SessionFileStore(folder, default_timeout=3600)
    rng = random.Random(seed)
    reads = writes = damaged = 0
    for _ in range(ops):
        if rng.random() < 0.5:
            store.set(KEY, value(rng.randrange(10**6), rng.randrange(MAX_PAD)))
            writes += 1
        else:
            reads += 1
            damaged += not is_whole(store.get(KEY))  # the file exists: None is damage
    return reads, writes, damaged


def run(processes=4, ops=2000, flocks=True, folder=None):
    """Run ``processes`` processes of ``ops`` operations each; return [(reads, writes, damaged)]."""
    folder = folder or tempfile.mkdtemp(prefix="session-counter-one-file-")
    file_store.SessionFileStore(folder, default_timeout=3600).set(KEY, value(0, 10))
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        return pool.starmap(read_and_write,
                            [(folder, seed, ops, flocks) for seed in range(processes)])


def main():
    """Print what a run saw: reads, writes and damaged reads per process and in all."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--ops", type=int, default=2000, help="operations per process")
    parser.add_argument("--without-flocks", action="store_true")
    args = parser.parse_args()
    results = run(args.processes, args.ops, not args.without_flocks)
    print(f"{args.processes} processes x {args.ops:,} reads and writes of one session file, "
          f"{'without' if args.without_flocks else 'with'} the flocks: "
          f"{sum(r[2] for r in results)} damaged of {sum(r[0] for r in results):,} reads "
          f"(per process {[r[2] for r in results]})")


if __name__ == "__main__":
    main()
