"""Helpers that count what a strategy hands out."""

import threading


def hand_out_from_threads(strategy, threads=8, each=25):
    """Call ``strategy.increment()`` from several threads at once; return every number."""
    handed_out, lock = [], threading.Lock()
    start = threading.Barrier(threads)

    def work():
        start.wait()
        for _ in range(each):
            value = strategy.increment()
            with lock:
                handed_out.append(value)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    return handed_out
