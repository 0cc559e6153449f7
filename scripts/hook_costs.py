"""What each of the app's own request hooks costs: the route's CPU with and without it.

    .venv/bin/python scripts/hook_costs.py [--requests 2000] [--rounds 7]

In-process (the WSGI app called directly, no HTTP server, one process): for the bare
route (GET /healthz) and the per-client POST /inc (files + lock), build one app with
every hook and one app per hook with that hook taken out (and one with none), then
measure each app's CPU time per request in interleaved rounds (A B C ... A B C ...),
so a busy machine slows every variant alike. Prints the median per variant, the spread
over rounds, and the median difference to the app with every hook: what that hook
costs. A hook taken out changes what the app does (no origin check, no 503 on a
session error...): this measures, it does not suggest removing them.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from werkzeug.test import EnvironBuilder  # noqa: E402

from session_counter import create_app  # noqa: E402

# route: (method, path, the hooks it cannot run without: finish_session releases the
# session lock, so without it the next request of that session waits for the timeout)
ROUTES = {"bare GET /healthz": ("GET", "/healthz", ()),
          "POST /inc, files + lock": ("POST", "/inc", ("finish_session",))}
ALL, NONE = "every hook", "no hook at all"


def hook_names(app):
    """Return the names of the app's before, after and teardown request hooks."""
    hooks = [*app.before_request_funcs.get(None, []), *app.after_request_funcs.get(None, []),
             *app.teardown_request_funcs.get(None, [])]
    return [hook.__name__ for hook in hooks]


def build(without, needed=()):
    """Build an app (its own instance folder) without the hook named ``without`` (or NONE
    but ``needed``)."""
    app = create_app({"SECRET_KEY": "hook-costs " * 4},
                     instance_path=tempfile.mkdtemp(prefix="hook-costs-"))
    for hooks in (app.before_request_funcs, app.after_request_funcs,
                  app.teardown_request_funcs):
        for funcs in hooks.values():
            funcs[:] = [f for f in funcs if f.__name__ in needed
                        or (without != NONE and f.__name__ != without)]
    return app


def environ_for(app, method, path):
    """Return a WSGI environ for one request; POSTs carry a session's cookie."""
    headers = {"Accept": "application/json"}
    if method == "POST":
        answer = app.test_client().post(path, headers=headers)
        headers["Cookie"] = answer.headers["Set-Cookie"].split(";")[0]
    return EnvironBuilder(path=path, method=method, headers=headers).get_environ()


def cpu_per_request(app, environ, requests):
    """Call the app ``requests`` times; return its CPU microseconds per request."""
    def start_response(status, headers, exc_info=None):
        pass
    started = time.process_time()
    for _ in range(requests):
        body = app.wsgi_app(dict(environ), start_response)
        for _chunk in body:
            pass
        getattr(body, "close", lambda: None)()
    return (time.process_time() - started) / requests * 1e6


def measure(route, requests, rounds):
    """Print one table: each variant's median CPU per request and what the hook costs."""
    method, path, needed = ROUTES[route]
    names = [ALL, *(n for n in hook_names(build(None)) if n not in needed), NONE]
    apps = {name: build(None if name == ALL else name, needed) for name in names}
    environs = {name: environ_for(app, method, path) for name, app in apps.items()}
    for name, app in apps.items():  # warm up: first requests import and compile templates
        cpu_per_request(app, environs[name], 200)
    samples = {name: [] for name in names}
    for _ in range(rounds):
        for name in names:
            samples[name].append(cpu_per_request(apps[name], environs[name], requests))
    every = statistics.median(samples[ALL])
    print(f"\n{route}: CPU us per request, median of {rounds} interleaved rounds of "
          f"{requests}\n")
    print("| variant | median | rounds | the hook costs |")
    print("|---|---|---|---|")
    for name in names:
        median = statistics.median(samples[name])
        cost = "" if name == ALL else f"{every - median:.1f}"
        label = name if name in (ALL, NONE) else f"without {name}"
        if name == NONE and needed:
            label += f" but {', '.join(needed)}"
        print(f"| {label} | {median:.1f} | {min(samples[name]):.0f}-{max(samples[name]):.0f} "
              f"| {cost} |")


def main():
    """Measure both routes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    if args.requests < 1 or args.rounds < 1:
        parser.error("--requests and --rounds must be at least 1")
    for route in ROUTES:
        measure(route, args.requests, args.rounds)


if __name__ == "__main__":
    main()
