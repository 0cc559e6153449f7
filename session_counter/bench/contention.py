"""Under contention: bursts of N simultaneous clients at each strategy, with the time a burst
takes and the swaps that compare-and-swap strategies lost and retried (from the answers).

Steady load (bench_load) says what one request costs; a burst says what a technique
costs when everyone arrives at once: a lock makes them queue, an atomic operation
serialises them in the store, compare-and-swap makes the losers read and try again.
"""

import statistics

from ..race.simultaneous import fire_simultaneously


def measure_contention(targets, servers, clients, bursts, say=lambda message: None):
    """Fire ``bursts`` bursts of ``clients`` simultaneous requests at every strategy target.

    Bursts rotate over the targets (A B C ... A B C ...) like the steady rounds, so the
    drift of a shared machine hits every target alike. Returns one row per target.
    """
    strategies = [t for t in targets if t.safe_against is not None]
    walls = {t.key: [] for t in strategies}
    answers = {t.key: [] for t in strategies}
    for b in range(bursts):
        for t in strategies:
            burst = fire_simultaneously([servers[t.server].url], t.path, clients)
            walls[t.key].append(max(a.elapsed for a in burst))
            answers[t.key] += burst
        say(f"contention burst {b + 1}/{bursts}: {clients} simultaneous clients per strategy")
    return [contention_row(t, walls[t.key], answers[t.key]) for t in strategies]


def contention_row(target, walls, answers):
    """Summarise one target's bursts: median burst time, answers, retries per answer."""
    ok = [a for a in answers if a.status == 200]
    retries = [a.retries for a in ok if a.retries is not None]
    return {"key": target.key, "label": target.label, "safe_against": target.safe_against,
            "bursts": len(walls), "requests": len(answers), "errors": len(answers) - len(ok),
            "burst_ms_median": statistics.median(walls) * 1000 if walls else None,
            "burst_ms_max": max(walls) * 1000 if walls else None,
            # None: the strategy does not retry (its answers carry no retries)
            "retries": sum(retries) if retries else None,
            "retries_per_request": sum(retries) / len(retries) if retries else None,
            "most_retries": max(retries) if retries else None}
