"""Per-client POST /inc CPU per request, in-process, per store: this checkout beside others.

    .venv/bin/python scripts/inc_cpu_inprocess.py [--tree before=/tmp/before]
        [--requests 2000] [--rounds 7]

The bench (``python -m session_counter.bench``) measures over HTTP, where a loaded
machine moves server CPU per request by a third between rounds. This calls the WSGI
app directly (no server, no network: the part of a request the app's code decides),
for the filesystem store with the lock, the cookie store and the dict store. Each
round runs one fresh process per checkout (``--tree LABEL=FOLDER``: another checkout's
code, e.g. ``git worktree add /tmp/before <commit>``), one after the other, so drift
hits every checkout alike. Prints per checkout and store the median CPU microseconds
per request with the spread over rounds, and files + lock vs the cookie store per
round (cookie CPU / files CPU; >= 1.00 is the issue's target).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STORES = {"files + lock": {"SESSION_LOCK": True}, "cookie": {"SESSION_STORE": "cookie"},
          "dict": {"SESSION_STORE": "dict"}}

# Run by each round's process, inside the checkout measured (its cwd and sys.path[0]).
CHILD = r"""
import json, os, sys, tempfile, time
sys.path.insert(0, os.getcwd())
from werkzeug.test import EnvironBuilder
from session_counter import create_app
requests, stores = int(sys.argv[1]), json.loads(sys.argv[2])
def start_response(status, headers, exc_info=None):
    pass
result = {}
for name, config in stores.items():
    app = create_app({"SECRET_KEY": "inc-cpu " * 4, **config},
                     instance_path=tempfile.mkdtemp(prefix="inc-cpu-"))
    headers = {"Accept": "application/json"}
    answer = app.test_client().post("/inc", headers=headers)
    headers["Cookie"] = answer.headers["Set-Cookie"].split(";")[0]
    environ = EnvironBuilder(path="/inc", method="POST", headers=headers).get_environ()
    for n in range(requests + 200):  # 200 to warm up, not counted
        if n == 200:
            started = time.process_time()
        body = app.wsgi_app(dict(environ), start_response)
        for _chunk in body:
            pass
        getattr(body, "close", lambda: None)()
    result[name] = (time.process_time() - started) / requests * 1e6
print(json.dumps(result))
"""


def one_round(folder, requests):
    """Measure every store once in a fresh process running ``folder``'s code."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("SESSION_COUNTER_", "FLASK_"))}
    env["PYTHONPATH"] = folder
    done = subprocess.run([sys.executable, "-c", CHILD, str(requests), json.dumps(STORES)],
                          cwd=folder, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    """Measure this checkout and every --tree, in interleaved rounds; print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", default=[], metavar="LABEL=FOLDER")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    trees = {"this checkout": ROOT}
    for tree in args.tree:
        label, _, folder = tree.partition("=")
        if not label or not folder or not os.path.isdir(os.path.join(folder, "session_counter")):
            parser.error("--tree wants LABEL=FOLDER, a checkout of session-counter")
        trees[label] = os.path.abspath(folder)
    if args.requests < 1 or args.rounds < 1:
        parser.error("--requests and --rounds must be at least 1")
    samples = {label: [] for label in trees}
    for _ in range(args.rounds):
        for label, folder in trees.items():
            samples[label].append(one_round(folder, args.requests))
    print(f"CPU us per POST /inc, in-process, median of {args.rounds} interleaved rounds of "
          f"{args.requests} (spread)\n")
    print("| checkout | " + " | ".join(STORES) + " | files + lock vs cookie |")
    print("|---|" + "---|" * (len(STORES) + 1))
    for label, rounds in samples.items():
        cells = []
        for store in STORES:
            values = [r[store] for r in rounds]
            cells.append(f"{statistics.median(values):.0f} ({min(values):.0f}-{max(values):.0f})")
        ratios = [r["cookie"] / r["files + lock"] for r in rounds]
        cells.append(f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})")
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
