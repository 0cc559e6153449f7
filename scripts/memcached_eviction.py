"""Show memcached evicting sessions: a tiny memcached, many clients, who lost their counter.

    .venv/bin/python scripts/memcached_eviction.py [--clients N] [--first K] [--json]

Starts a memcached of its own on a free 127.0.0.1 port with 1 MB of item memory
(``-m 1 -I 512k -n 1000``: every item takes at least a 1 KB chunk, so about a thousand
sessions fit), builds the app with SESSION_STORE=memcached in a temporary folder, then:

1. the K first clients count to 3 each, and one more client, the active one;
2. N new clients POST /inc once each, the active client once after every 50 of them;
3. the store is read (a ``get`` of every session's key): how many sessions are gone,
   which of the first K still have theirs, and memcached's own evictions counter;
4. every first client and the active one POST /inc again, and what each got is printed
   beside what the store held for it just before.

Nothing expires (lifetime 31 days) and nothing deletes a session: every session gone is
one memcached evicted to make room. tests/sessions/test_memcached_eviction.py runs it.
"""

import argparse
import contextlib
import json
import os
import sys
import tempfile

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, PROJECT_ROOT)

from session_counter import create_app  # noqa: E402
from session_counter.servers.memcached_server import running_memcached  # noqa: E402

TINY = ("-m", "1", "-I", "512k", "-n", "1000")  # 1 MB, each item at least a 1 KB chunk
JSON = {"Accept": "application/json"}
ACTIVE_EVERY = 50


def sid_of(client):
    """Return the session id in a test client's cookie jar."""
    return client.get_cookie("session").value


def post_inc(client):
    """POST /inc as JSON; return (status, counter or None, the session id after)."""
    answer = client.post("/inc", headers=JSON)
    counter = answer.json.get("counter") if answer.is_json else None
    return answer.status_code, counter, sid_of(client)


def alive(raw, sids):
    """Return the set of ``sids`` whose session item memcached still holds."""
    found = set()
    sids = list(sids)
    for start in range(0, len(sids), 500):
        keys = [f"session:{sid}" for sid in sids[start:start + 500]]
        found |= {key[len("session:"):] for key in raw.get_many(keys)}
    return found


def evictions(raw):
    """Return memcached's count of items evicted to make room (since it started)."""
    return int(raw.stats()[b"evictions"])


def measure(memcached, clients=3000, first=20):
    """Fill ``memcached`` with sessions through the app; return what was evicted (a dict)."""
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"SESSION_STORE": "memcached", "MEMCACHED_URL": memcached.url},
                         instance_path=os.path.join(folder, "instance"))
        with contextlib.closing(memcached.client()) as raw:
            return fill_and_read(app, raw, clients, first)


def fill_and_read(app, raw, clients, first):
    """Steps 1 to 4 of the module's doc, on ``app``; ``raw`` reads memcached directly."""
    evicted_before = evictions(raw)
    firsts = [app.test_client() for _ in range(first)]
    counts = [[post_inc(c) for _ in range(3)] for c in firsts]
    assert all(c == [(200, 1, c[0][2]), (200, 2, c[0][2]), (200, 3, c[0][2])]
               for c in counts), counts  # they counted before memcached was full
    active = app.test_client()
    active_counts = [post_inc(active)[1]]
    created = {c[0][2] for c in counts} | {sid_of(active)}
    for n in range(1, clients + 1):
        status, counter, sid = post_inc(app.test_client())
        if (status, counter) != (200, 1):
            raise RuntimeError(f"new client {n} got {status} {counter}")
        created.add(sid)
        if n % ACTIVE_EVERY == 0:
            active_counts.append(post_inc(active)[1])
    kept = alive(raw, created)
    firsts_kept = [sid_of(c) in kept for c in firsts]
    evicted = evictions(raw) - evicted_before
    after = []
    for client, had_it in zip(firsts + [active], firsts_kept + [sid_of(active) in kept],
                              strict=True):
        before = sid_of(client)
        status, counter, sid = post_inc(client)
        after.append({"held": had_it, "status": status, "counter": counter,
                      "same_session": sid == before})
    return {"sessions_created": len(created), "sessions_kept": len(kept),
            "sessions_gone": len(created) - len(kept), "evictions": evicted,
            "first": first, "first_kept": sum(firsts_kept),
            "active_counts": active_counts, "after": after}


def report(found):
    """Return the figures as lines of text."""
    firsts, active = found["after"][:-1], found["after"][-1]
    restarted = sum(1 for a in firsts if a["counter"] == 1 and not a["same_session"])
    return "\n".join([
        f"sessions created {found['sessions_created']}, still in memcached "
        f"{found['sessions_kept']}, gone {found['sessions_gone']}; memcached's evictions "
        f"counter: {found['evictions']}",
        f"first {found['first']} clients (counted to 3, then idle): {found['first_kept']} "
        f"still have their session;",
        f"  next POST /inc: {restarted} got counter 1 in a new session, statuses "
        f"{sorted({a['status'] for a in firsts})}",
        f"active client (POST /inc every {ACTIVE_EVERY} new sessions): session held "
        f"{active['held']}, next counter {active['counter']}",
    ])


def main(argv=None):
    """Start a tiny memcached, measure, print the figures."""
    parser = argparse.ArgumentParser(prog="scripts/memcached_eviction.py",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=3000, help="new clients (default 3000)")
    parser.add_argument("--first", type=int, default=20, help="first clients (default 20)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder, \
            running_memcached(os.path.join(folder, "memcached"), memory=TINY) as memcached:
        found = measure(memcached, options.clients, options.first)
    print(json.dumps(found, indent=2) if options.json else report(found))
    return 0


if __name__ == "__main__":
    sys.exit(main())
