"""The race lab's --same-session: one client's counter on each per-client session store.

Two ways to send one client's N requests: all at once (the last write wins unless the
session is locked), or one after another, spread over the worker processes and the
instances (does the counter follow the client from process to process?). Each store
runs on fresh servers; every run says which store and lock the server used.
"""

import secrets
import time
from http.cookies import SimpleCookie

from .lab import wall_time
from .model import Answer
from .report import LabReport, StrategyRun, analyse
from .servers import LabError, Servers, request_json
from .simultaneous import fire_simultaneously, loopback_target

LOCKABLE = ("filesystem", "redis", "memcached")  # raced with the session lock on, then off
NEEDS = {"redis": ("redis_url", "--redis-url"), "memcached": ("memcached_url", "--memcached-url")}


def default_stores(settings):
    """Return every store this configuration can run (Redis and memcached need their URL)."""
    return tuple(store for store in ("filesystem", "redis", "memcached", "cookie", "dict")
                 if store not in NEEDS or getattr(settings, NEEDS[store][0]))


def cookie_header(headers, previous=None):
    """Return the Cookie header a browser would send next, given an answer's Set-Cookie."""
    found = SimpleCookie()
    for value in headers.get_all("Set-Cookie") or []:
        found.load(value)
    if not found:
        return previous
    return {"Cookie": "; ".join(f"{k}={m.value}" for k, m in found.items())}


def start_session(url):
    """POST /inc once with no cookie; return (its counter, the Cookie header to send next)."""
    status, data, headers = request_json("POST", url + "/inc")
    if status != 200 or not isinstance(data, dict) or "counter" not in data:
        raise LabError(f"POST /inc answered {status}; cannot start a session")
    header = cookie_header(headers)
    if header is None:
        raise LabError("POST /inc set no session cookie")
    return data["counter"], header


def simultaneous_round(urls, label, clients, store):
    """One client's cookie on N simultaneous POST /inc; return the analysed round."""
    counter, header = start_session(urls[0])
    answers = fire_simultaneously(urls, "/inc", clients, headers=header,
                                  timeout=30.0)
    if store == "cookie":  # the client keeps the cookie that arrives last
        last = max((a for a in answers if a.status == 200), key=lambda a: a.elapsed,
                   default=None)
        final = None if last is None else last.value
    else:  # the server's copy: one more POST with the same cookie, minus one
        status, data, _ = request_json("POST", urls[0] + "/inc", headers=header)
        final = data["counter"] - 1 if status == 200 and isinstance(data, dict) else None
    return analyse(label, answers, final_value=final, wall_time=wall_time(answers),
                   start=counter + 1)


def one_at_a_time_round(urls, label, clients):
    """One client's N POST /inc one after another; return the analysed round."""
    counter, answers = one_at_a_time_answers(urls, clients)
    final = answers[-1].value if answers else counter
    return analyse(label, answers, final_value=final, wall_time=wall_time(answers),
                   start=counter + 1)


def one_at_a_time_answers(urls, clients):
    """Send one client's N POST /inc one after another; return (first counter, answers).

    Each request is a new connection (so any worker process may take it) to the next
    instance in turn, with the cookie of the answer before, as a browser keeps it.
    """
    counter, header = start_session(urls[0])
    answers, began = [], time.perf_counter()
    for i in range(clients):
        url = urls[(i + 1) % len(urls)]
        status, data, headers = request_json("POST", url + "/inc", headers=header)
        ok = status == 200 and isinstance(data, dict)
        answers.append(Answer(status, data.get("counter") if ok else None,
                              data.get("pid") if ok else None,
                              data.get("thread") if ok else None, url,
                              None if ok else f"answered {status}",
                              time.perf_counter() - began))
        header = cookie_header(headers, header)
    return counter, answers


def served_store(url):
    """Return (session_store, session_lock) as the server's /healthz says."""
    status, data, _ = request_json("GET", url + "/healthz")
    if status != 200 or not isinstance(data, dict) or "session_store" not in data:
        raise LabError(f"{url}/healthz answered {status} without its session store")
    return data["session_store"], data["session_lock"]


def runs_to_make(settings):
    """Return (label, config) of every run: each store, lockable ones with the lock on and off."""
    if settings.url:
        return [("as configured", None)]
    key = secrets.token_hex(32)  # one SECRET_KEY for every instance, as production needs
    runs = []
    for store in settings.session_stores or default_stores(settings):
        config = {"SESSION_STORE": store, "SECRET_KEY": key}
        if store in LOCKABLE:
            runs += [(f"{store}, lock {word}", {**config, "SESSION_LOCK": word == "on"})
                     for word in ("on", "off") if settings.session_lock in (word, "both")]
        else:
            runs.append((store, config))
    return runs


def run_same_session(settings, report, on_step):
    """Race one client's session on every chosen store (or as --url has it)."""
    runs = runs_to_make(settings)
    for store, (setting, option) in NEEDS.items():
        if store in settings.session_stores and not getattr(settings, setting):
            raise LabError(f"--session-store {store} needs {option}")
    steps, done = settings.rounds * len(runs), 0
    for label, config in runs:
        servers = Servers(settings, settings.server_config(**(config or {})))
        try:
            urls = servers.urls()
            store, lock = served_store(urls[0])
            run = StrategyRun(label, "session", session_store=store, session_lock=lock)
            report.runs.append(run)
            for round_no in range(1, settings.rounds + 1):
                on_step(f"round {round_no}/{settings.rounds}: {label}", done, steps)
                if settings.one_at_a_time:
                    result = one_at_a_time_round(urls, label, settings.clients)
                else:
                    result = simultaneous_round(urls, label, settings.clients, store)
                run.results.append(result)
                done += 1
        finally:
            servers.stop()
            report.servers += servers.started
    report.notes.append(
        "final value: one after another, the last answer's counter; simultaneous, the "
        "cookie store's last cookie to arrive, the other stores' one more POST /inc with "
        "the same cookie, minus one. The session's first POST /inc (the one that got its "
        f"cookie) already counted 1, so N requests should hand out 2..N+1 and leave N+1 "
        f"({settings.clients + 1} here)")
    on_step("done", done, steps)


def run_session_lab(settings, on_step=lambda description, done, total: None):
    """Run --same-session as ``settings`` say; return a LabReport (LabError if it failed)."""
    if settings.url:
        loopback_target(settings.url)
    report = LabReport("same-session", settings.describe())
    run_same_session(settings, report, on_step)
    return report
