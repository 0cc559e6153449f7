"""The story of a race, told from measured traces: who read what, who wrote what, when.

Pure functions, no I/O. A trace is a dict with ``value`` (the number the client was
answered), ``read_at``, ``read_value``, ``wrote_at``, ``wrote_value``, ``answered_at``
(``time.monotonic()`` seconds, one clock for every process of a machine), ``pid`` and
``thread``; a client is its 1-based position in the round's list of traces. The
terminal (``race --trace``) and the page (POST /api/race/analyse) show the same text.
"""
from __future__ import annotations

TRACE_FIELDS = ("value", "read_at", "read_value", "wrote_at", "wrote_value", "answered_at",
                "pid", "thread")


def _ms(at: float, t0: float) -> str:
    return f"t=+{(at - t0) * 1000:.1f} ms"


def events_of(client: int, trace: dict) -> list[tuple[float, str]]:
    """Return [(time, what)] of one client: its read, its write (one step if atomic), answer."""
    events = []
    read_at, wrote_at = trace.get("read_at"), trace.get("wrote_at")
    read = "read ?" if trace.get("read_value") is None else f"read {trace['read_value']}"
    if read_at is not None and read_at == wrote_at:
        events.append((read_at, f"client {client} {read} and wrote {trace['wrote_value']} "
                                "in one step"))
    else:
        if read_at is not None:
            events.append((read_at, f"client {client} {read}"))
        if wrote_at is not None:
            events.append((wrote_at, f"client {client} wrote {trace['wrote_value']}"))
    if trace.get("answered_at") is not None:
        events.append((trace["answered_at"], f"client {client} answered {trace.get('value')}"))
    return events


def tell(clients: list[int], traces: list[dict], t0: float, ending: str) -> dict:
    """Return {"clients", "events": [{at_ms, pid, thread, client, text}], "text"} in time order."""
    timed = []
    for client in clients:
        trace = traces[client - 1]
        timed += [(at, client, what) for at, what in events_of(client, trace)]
    timed.sort(key=lambda e: (e[0], e[1]))
    shown_pid, events, parts = set(), [], []
    for n, (at, client, what) in enumerate(timed, 1):
        trace = traces[client - 1]
        where = _ms(at, t0)
        if client not in shown_pid:  # say the process once, at the client's first event
            shown_pid.add(client)
            where = f"pid {trace.get('pid')}, {where}"
        parts.append(f"{n}. {what} ({where})")
        events.append({"at_ms": round((at - t0) * 1000, 3), "client": client,
                       "pid": trace.get("pid"), "thread": trace.get("thread"), "text": what})
    return {"clients": clients, "events": events, "text": "; ".join(parts) + "; " + ending}


def _start(traces: list[dict]) -> float:
    times = [t[k] for t in traces for k in ("read_at", "wrote_at", "answered_at")
             if t.get(k) is not None]
    return min(times) if times else 0.0


def first_duplicate(traces: list[dict], t0: float) -> dict | None:
    """Return the story of the first number handed out twice (the earliest second answer)."""
    first_holder, found = {}, None
    order = sorted(range(len(traces)), key=lambda i: traces[i].get("answered_at") or 0.0)
    for i in order:
        value = traces[i].get("value")
        if value is None:
            continue
        if value in first_holder:
            found = (first_holder[value], i)
            break
        first_holder[value] = i
    if found is None:
        return None
    a, b = (traces[i] for i in found)
    value = a["value"]
    if a.get("wrote_value") == b.get("wrote_value") == value:
        why = f"both wrote {value}"
        if a.get("read_value") == b.get("read_value") is not None:
            why = f"both read {a['read_value']} and both wrote {value}"
    else:
        wrote = [t.get("wrote_value") for t in (a, b)]
        why = (f"they wrote {wrote[0]} and {wrote[1]}, and each answer re-read the shared "
               f"value after both writes")
    ending = f"{why}; both answered {value}: one number handed out twice"
    if why.startswith("both read"):
        ending += ", one increment lost."
    else:
        ending += "."
    return {**tell([i + 1 for i in found], traces, t0, ending), "value": value}


def first_lost_update(traces: list[dict], t0: float) -> dict | None:
    """Return the story of the first two writes built on the same read (one increment lost)."""
    by_read = {}
    for i, t in enumerate(traces):
        if t.get("read_value") is None or t.get("wrote_at") is None:
            continue
        if t.get("read_at") == t.get("wrote_at"):  # one indivisible step loses nothing
            continue
        by_read.setdefault(t["read_value"], []).append(i)
    pairs = []
    for clients in by_read.values():
        if len(clients) > 1:
            clients.sort(key=lambda i: traces[i]["wrote_at"])
            pairs.append((traces[clients[1]]["wrote_at"], clients[0], clients[1]))
    if not pairs:
        return None
    _, i, j = min(pairs)
    a, b = traces[i], traces[j]
    read = a["read_value"]
    ending = (f"both read {read}, so the second write ({b['wrote_value']}) overwrote the "
              f"first ({a['wrote_value']}) instead of adding to it: one increment lost")
    if a.get("value") == b.get("value") is not None:
        ending += f"; both answered {a['value']}: one number handed out twice."
    else:
        ending += "."
    return {**tell([i + 1, j + 1], traces, t0, ending), "read_value": read}


def stories(traces: list[dict]) -> dict:
    """Return {"duplicate": story or None, "lost_update": story or None} of one round."""
    t0 = _start(traces)
    return {"duplicate": first_duplicate(traces, t0), "lost_update": first_lost_update(traces, t0)}


def duplicate_stories(traces: list[dict], values: list[int]) -> dict:
    """Return {str(value): story} of each number in ``values`` handed out twice (the page's
    timeline opens one per duplicate); the same telling as first_duplicate, same t0."""
    t0 = _start(traces)
    told = {}
    for value in values:
        only = [t if t.get("value") == value else {**t, "value": None} for t in traces]
        story = first_duplicate(only, t0)
        if story:
            told[str(value)] = story
    return told
